"""The vocabulary of ``model.architecture: layers``: checked lists of built-in Keras layers, no code.

``model.encoder_layers`` and ``model.decoder_layers`` are lists of one-key
mappings with options, such as ``{conv: 32, kernel: 3, stride: 2}``. This module
checks each entry's form when the config is read, and walks the shapes once the
image size is known, so a list that does not come back to the image size is a
one-line config error naming the layer before anything is built or written.
It imports no TensorFlow; ``model/from_specs`` builds the Keras layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from vae_cli.errors import ConfigError, cut, shown
from vae_cli.limits import MAX_FEATURE_VALUES, MAX_KERNEL_SIZE, MAX_LAYER_SIZE, MAX_STRIDE, SHOWN_CHARS

ACTIVATIONS = ("relu", "elu", "selu", "gelu", "tanh", "softplus", "swish", "leaky_relu", "sigmoid", "linear")
PADDINGS = ("same", "valid")
SPATIAL = ("conv", "conv_transpose", "pool", "upsample")  # need a (height, width, channels) feature map
# Each kind: what its value is, its range, and the options it takes.
KINDS = {
    "conv": ("filters", (1, MAX_LAYER_SIZE), ("kernel", "stride", "padding", "activation")),
    "conv_transpose": ("filters", (1, MAX_LAYER_SIZE), ("kernel", "stride", "padding", "activation")),
    "dense": ("units", (1, MAX_LAYER_SIZE), ("activation",)),
    "pool": ("pool size", (2, MAX_STRIDE), ("padding",)),
    "upsample": ("factor", (2, MAX_STRIDE), ()),
    "reshape": ("target shape", None, ()),
}
OPTION_RANGES = {"kernel": (1, MAX_KERNEL_SIZE), "stride": (1, MAX_STRIDE)}
VOCABULARY = "conv, conv_transpose, dense, pool, upsample, reshape"


@dataclass(frozen=True)
class LayerSpec:
    """One checked entry: its kind, its value (filters, units, size or shape) and its options."""

    kind: str
    value: Any
    options: dict = field(default_factory=dict)
    text: str = ""  # the entry as the user wrote it, for error messages

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def describe(entry: Any) -> str:
    """An entry as YAML flow text on one short line: ``{conv: 32, kernel: 3}``."""
    if not isinstance(entry, dict):
        return shown(entry)
    return cut("{" + ", ".join(f"{_text(k)}: {_text(v)}" for k, v in entry.items()) + "}", 2 * SHOWN_CHARS)


def _text(value):
    """A key or value of an entry: a plain string as it is, anything else (a line break, a list) as its repr, cut."""
    return cut(value) if isinstance(value, str) and value.isprintable() else shown(value)


def parse(key: str, entries: list) -> list[LayerSpec]:
    """Checks every entry's form; ``key`` (``model.encoder_layers``) names the list in errors."""
    return [_parse_one(f"{key}[{i}] {describe(entry)}", entry) for i, entry in enumerate(entries)]


def _parse_one(where, entry):
    kinds = [k for k in entry if k in KINDS]
    if len(kinds) != 1:
        found = "no layer kind" if not kinds else f"two layer kinds ({', '.join(kinds)})"
        raise ConfigError(f"{where}: {found}; each entry is one of {VOCABULARY}, with its options")
    kind = kinds[0]
    what, span, allowed = KINDS[kind]
    unknown = [k for k in entry if k != kind and k not in allowed]
    if unknown:
        takes = f"takes {', '.join(allowed)}" if allowed else "takes no options"
        raise ConfigError(f"{where}: unknown option {_text(unknown[0])}; {kind} {takes}")
    value = entry[kind]
    if kind == "reshape":
        if not (isinstance(value, list) and len(value) in (1, 3) and all(_within(v, 1, None) for v in value)):
            raise ConfigError(f"{where}: reshape takes [height, width, channels] or [units] of positive integers")
    elif not _within(value, *span):
        raise ConfigError(f"{where}: the {what} must be an integer from {span[0]} to {span[1]}, got {shown(value)}")
    options = {k: v for k, v in entry.items() if k != kind}
    for name, (low, high) in OPTION_RANGES.items():
        if name in options and not _within(options[name], low, high):
            raise ConfigError(f"{where}: {name} must be an integer from {low} to {high}, got {shown(options[name])}")
    if options.get("padding", "same") not in PADDINGS:
        raise ConfigError(f"{where}: padding must be same or valid, got {shown(options['padding'])}")
    if options.get("activation", "linear") not in ACTIVATIONS:
        raise ConfigError(
            f"{where}: activation must be one of {', '.join(ACTIVATIONS)}, got {shown(options['activation'])}"
        )
    return LayerSpec(kind, value, options, where)


def _within(value, low, high):
    """An integer (not a bool) from ``low`` to ``high`` (None: no upper end)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value and (high is None or value <= high)


def output_shape(spec: LayerSpec, shape: tuple[int, ...], kernel: int) -> tuple[int, ...]:
    """The shape after ``spec`` (batch axis left out); ``kernel`` is model.kernel_size, the default."""
    if spec.kind in SPATIAL and len(shape) != 3:
        raise ConfigError(
            f"{spec.text}: needs a feature map (height, width, channels) but gets a flat vector of {shape[0]} values; "
            "put {reshape: [height, width, channels]} before it"
        )
    if spec.kind == "dense":
        return (spec.value,)
    if spec.kind == "reshape":
        size, target = math.prod(shape), tuple(spec.value)
        if math.prod(target) != size:
            raise ConfigError(
                f"{spec.text}: cannot reshape {_shape_text(shape)} ({size} values) into {list(target)} "
                f"({math.prod(target)} values)"
            )
        return target
    height, width, channels = shape
    if spec.kind == "upsample":
        return _checked(spec, shape, (height * spec.value, width * spec.value, channels))
    valid = spec.option("padding", "same") == "valid"
    if spec.kind == "pool":
        size = spec.value
        out = [(d - size) // size + 1 if valid else -(-d // size) for d in (height, width)]
        return _checked(spec, shape, (*out, channels))
    k, s = spec.option("kernel", kernel), spec.option("stride", 1)
    if spec.kind == "conv":
        out = [(d - k) // s + 1 if valid else -(-d // s) for d in (height, width)]
    else:  # conv_transpose, as Keras computes it
        out = [d * s + max(k - s, 0) if valid else d * s for d in (height, width)]
    return _checked(spec, shape, (*out, spec.value))


def _checked(spec, before, after):
    if min(after[:2]) < 1:
        raise ConfigError(f"{spec.text}: shrinks the {_shape_text(before)} feature map to nothing")
    values = math.prod(after)
    if values > MAX_FEATURE_VALUES:  # its activations, times the batch, times their gradients, in memory
        raise ConfigError(
            f"{spec.text}: gives a {_shape_text(after)} feature map ({values:,} values per image), over the "
            f"{MAX_FEATURE_VALUES:,} a layer may give; use fewer filters, a smaller upsampling or stride, or pool"
        )
    return after


def _shape_text(shape):
    return "x".join(str(d) for d in shape)


def walk(specs: list[LayerSpec], shape: tuple[int, ...], kernel: int) -> list[tuple[int, ...]]:
    """The shape after each layer, starting from ``shape``."""
    shapes = []
    for spec in specs:
        shape = output_shape(spec, shape, kernel)
        shapes.append(shape)
    return shapes


def check_decoder(
    key: str, specs: list[LayerSpec], latent_size: int, image_shape: tuple[int, int, int], kernel: int
) -> None:
    """The decoder must end at the image: ``(H, W, C)``, or ``H*W*C`` values reshaped to it."""
    shapes = walk(specs, (latent_size,), kernel)
    last, end = specs[-1], shapes[-1]
    if end != tuple(image_shape) and end != (math.prod(image_shape),):
        raise ConfigError(
            f"{last.text}: the decoder ends at {_shape_text(end)}, but the images are {_shape_text(image_shape)}; "
            f"{key} must come back to the image size (its last layer gives the image, or "
            f"{math.prod(image_shape)} values)"
        )
    if last.option("activation", "linear") != "linear":
        raise ConfigError(
            f"{last.text}: the decoder's last layer gives logits, so its activation must be linear "
            "(the sigmoid is added by the model)"
        )
