"""The sizes a model config gives for an image shape, and its parameter count, worked out without building it.

Keras allocates a layer's weights as it builds it, so a model too large for memory
(``model.latent_dim: 1000000000``, a Dense layer fed by a 100,000-pixel-wide image)
must be refused from this arithmetic alone, before anything is built or written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vae_cli.config import ModelConfig
from vae_cli.errors import ConfigError
from vae_cli.layer_specs import output_shape, parse
from vae_cli.limits import MAX_PARAMETERS


@dataclass
class ConvSizes:
    encoder_filters: list[int]
    decoder_filters: list[int]
    decoder_channels: int


def halvings(image_shape: tuple[int, ...]) -> int:
    """Stride-2 blocks that bring the smaller side to about 7 pixels: 28 -> 2, 32 -> 2, 64 -> 3, 128 -> 4."""
    return max(1, round(math.log2(max(1, min(image_shape[:2])) / 7)))


def conv_sizes(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> ConvSizes:
    """The configured layer sizes, with each ``null`` derived from the image size.

    For 28x28 images the derived sizes are the classic ones: encoder [32, 64],
    decoder [32], decoder_channels 64.
    """
    n = halvings(image_shape)
    encoder = cfg.encoder_filters or [min(32 * 2**i, 256) for i in range(n)]
    decoder = cfg.decoder_filters or [min(32 * 2**i, 256) for i in reversed(range(max(1, len(encoder) - 1)))]
    return ConvSizes(encoder, decoder, cfg.decoder_channels or encoder[-1])


def _dense(inputs: int, units: int) -> int:
    return inputs * units + units


def _conv(kernel: int, inputs: int, filters: int) -> int:
    return kernel * kernel * inputs * filters + filters  # Conv2D and Conv2DTranspose alike


def _spec_parameters(specs: list, shape: tuple[int, ...], kernel: int) -> tuple[int, tuple[int, ...]]:
    """Weights of a ``model.*_layers`` list on inputs of ``shape``, and the shape it ends at."""
    total = 0
    for spec in specs:
        after = output_shape(spec, shape, kernel)
        if spec.kind == "dense":
            total += _dense(math.prod(shape), spec.value)
        elif spec.kind in ("conv", "conv_transpose"):
            total += _conv(spec.option("kernel", kernel), shape[-1], spec.value)
        shape = after
    return total, shape


def parameter_count(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> int:
    """Weights of the encoder and decoder that ``build_models`` would make (Python integers: no overflow).

    A conditional model's label inputs add a few weights per class; they are left out.
    """
    h, w, c = image_shape
    latent = cfg.latent_dim
    if cfg.architecture == "layers":
        encoder, features = _spec_parameters(
            parse("model.encoder_layers", cfg.encoder_layers), image_shape, cfg.kernel_size
        )
        decoder, _ = _spec_parameters(parse("model.decoder_layers", cfg.decoder_layers), (latent,), cfg.kernel_size)
        return encoder + 2 * _dense(math.prod(features), latent) + decoder
    if cfg.architecture == "mlp":
        total, width = 0, h * w * c
        for units in cfg.hidden_units:
            total, width = total + _dense(width, units), units
        total += 2 * _dense(width, latent)
        width = latent
        for units in reversed(cfg.hidden_units):
            total, width = total + _dense(width, units), units
        return total + _dense(width, h * w * c)
    sizes, deep, k = conv_sizes(cfg, image_shape), cfg.architecture == "conv_deep", cfg.kernel_size
    total, channels, fh, fw = 0, c, h, w
    for filters in sizes.encoder_filters:
        if deep:
            total, channels = total + _conv(k, channels, filters), filters
        total, channels = total + _conv(k, channels, filters), filters
        fh, fw = math.ceil(fh / 2), math.ceil(fw / 2)
    total += _dense(fh * fw * channels, cfg.encoder_dense) + 2 * _dense(cfg.encoder_dense, latent)
    scale = 2 ** len(sizes.decoder_filters)
    channels = sizes.decoder_channels
    total += _dense(latent, math.ceil(h / scale) * math.ceil(w / scale) * channels)
    for filters in sizes.decoder_filters:
        total, channels = total + _conv(k, channels, filters), filters
        if deep:
            total += _conv(k, filters, filters)
    return total + _conv(cfg.output_kernel_size, channels, c)


def check_buildable(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> int:
    """Refuses images too small for the encoder's strides and models over ``MAX_PARAMETERS``; the count."""
    h, w, c = image_shape
    # A layer list's shapes are checked layer by layer when it is read (layer_specs); the strides of the
    # built-in families are checked here.
    strides = 0 if cfg.architecture in ("mlp", "layers") else len(conv_sizes(cfg, image_shape).encoder_filters)
    if min(h, w) < 2**strides:
        raise ConfigError(
            f"images of {h}x{w} pixels are too small for {strides} stride-2 convolutions (each side needs "
            f"{2**strides}); set data.image_size larger, fewer model.encoder_filters, or model.architecture: mlp"
        )
    scale = 1 if cfg.architecture in ("mlp", "layers") else 2 ** len(conv_sizes(cfg, image_shape).decoder_filters)
    if scale >= 2 * min(h, w):  # the decoder would grow a 1-pixel map past twice the image, then crop it away
        raise ConfigError(
            f"images of {h}x{w} pixels are too small for {scale.bit_length() - 1} stride-2 decoder layers "
            f"(they decode at least {scale} pixels per side); set fewer model.decoder_filters"
        )
    count = parameter_count(cfg, image_shape)
    if count > MAX_PARAMETERS:
        raise ConfigError(
            f"the model would have {count:,} parameters for {h}x{w}x{c} images, over the {MAX_PARAMETERS:,} allowed; "
            "make model.latent_dim and the layers (model.*) smaller, or the images (data.image_size)"
        )
    return count
