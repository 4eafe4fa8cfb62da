"""Typed run configuration: dataclass defaults, YAML files and dotted-key overrides.

Unknown keys, wrong types and out-of-range values are errors that name the
full dotted key, because a silently ignored typo costs a whole training run.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from vae_cli import builtin_configs, kinds, limits
from vae_cli.errors import ConfigError, Fix, cut, shown
from vae_cli.sources import SOURCES
from vae_cli.typed_sections import build_sections
from vae_cli.yamlfile import parse_yaml, read_text_capped


def _opt(default=None, *, min=None, max=None, choices=None, help=""):
    """A config key; ``choices``: a callable giving the names a string key may take (a registry's)."""
    return field(default=default, metadata={"min": min, "max": max, "choices": choices, "help": help})


def _described(registry):
    """The help of a key naming an entry of ``registry``: each built-in entry's own phrase."""
    return " | ".join(registry.get(name).help for name in registry.names())


def _list(default, *, min=None, max=None, help=""):
    return field(default_factory=lambda: list(default), metadata={"min": min, "max": max, "help": help})


@dataclass
class DataConfig:
    dataset: str = _opt(
        "mnist",
        choices=SOURCES.names,
        help="mnist | fashion_mnist | image_folder (data.path: a folder) | npz (data.path: a file) | sprites "
        "(rendered shapes with known factors)",
    )
    data_dir: str | None = _opt(help="folder with the IDX files; else $VAE_DATA_DIR; else download")
    path: str | None = _opt(help="image_folder: folder of images (class sub-folders = labels); npz: the file")
    image_size: list[int] | None = _opt(
        min=4, help="image_folder: [height, width] to resize to; null: the images' own size"
    )
    color: Literal["auto", "grey", "rgb"] = _opt(
        "auto", help="image_folder: channels; auto: rgb if any image has colour"
    )
    validation_split: float = _opt(
        0.1, min=0.0, max=0.9, help="image_folder, and npz without x_test: fraction held out for validation and testing"
    )
    validation_size: int = _opt(
        5000,
        min=0,
        help="mnist, fashion_mnist, sprites: training images held out for validation (at most a fifth of them); "
        "0: none, every training image trains, each epoch's val_ columns are the test set's, and no early stopping",
    )
    limit: int | None = _opt(min=1, help="use only the first N training images")
    binarize: Literal["none", "static", "dynamic"] = _opt(
        "none", help="none: grey levels; static: threshold 0.5; dynamic: Bernoulli redraw each epoch"
    )


@dataclass
class ModelConfig:
    kind: str = _opt("vae", choices=kinds.KINDS.names, help=_described(kinds.KINDS))
    architecture: Literal["conv", "conv_deep", "mlp", "layers"] = _opt(
        "conv",
        help="conv: the classic; conv_deep: a stride-1 conv before each resampling; mlp: Dense layers; "
        "layers: model.encoder_layers and model.decoder_layers",
    )
    encoder_layers: list[dict] | None = _opt(
        help="layers: image -> features, e.g. [{conv: 32, stride: 2}, {dense: 64}]; z_mean/z_log_var follow"
    )
    decoder_layers: list[dict] | None = _opt(
        help="layers: z -> logits, ending at the image shape, e.g. [{dense: 1568}, {reshape: [7, 7, 32]}, ...]"
    )
    latent_dim: int = _opt(2, min=1, max=limits.MAX_LATENT_DIM, help="size of z")
    encoder_filters: list[int] | None = _opt(
        min=1,
        max=limits.MAX_LAYER_SIZE,
        help="one stride-2 Conv2D per entry; null: 32, 64, 128 ... one per halving to about 7 pixels",
    )
    encoder_dense: int = _opt(64, min=1, max=limits.MAX_LAYER_SIZE, help="units of the encoder's hidden Dense layer")
    decoder_channels: int | None = _opt(
        min=1, max=limits.MAX_LAYER_SIZE, help="channels of the decoder's first feature map; null: the encoder's last"
    )
    decoder_filters: list[int] | None = _opt(
        min=1,
        max=limits.MAX_LAYER_SIZE,
        help="one stride-2 Conv2DTranspose per entry; null: one fewer than the encoder's, mirrored",
    )
    kernel_size: int = _opt(3, min=1, max=limits.MAX_KERNEL_SIZE, help="kernel of the (transposed) convolutions")
    output_kernel_size: int = _opt(5, min=1, max=limits.MAX_KERNEL_SIZE, help="kernel of the decoder's output Conv2D")
    hidden_units: list[int] = _list(
        [500, 500], min=1, max=limits.MAX_LAYER_SIZE, help="mlp: Dense layers of the encoder (mirrored in the decoder)"
    )
    activation: Literal["relu", "elu", "tanh", "softplus", "swish"] = _opt("relu", help="hidden-layer activation")
    likelihood: Literal["bernoulli", "gaussian"] = _opt(
        "bernoulli", help="p(x|z): bernoulli on [0, 1] pixels, or gaussian with mean sigmoid(decoder)"
    )
    gaussian_sigma: float | None = _opt(
        min=1e-4, help="gaussian: a fixed standard deviation; null: one learned per channel"
    )


@dataclass
class TrainConfig:
    epochs: int = _opt(8, min=1, max=limits.MAX_EPOCHS, help="maximum number of epochs")
    batch_size: int = _opt(64, min=1, max=limits.MAX_BATCH_SIZE, help="images per training step")
    learning_rate: float = _opt(1.4e-3, min=0.0, help="Adam learning rate (the peak, with a schedule)")
    beta: float = _opt(
        1.0,
        min=0.0,
        max=limits.MAX_BETA,
        help="weight of the KL term (1.0 = the true ELBO); btcvae: of the total correlation alone",
    )
    objective: str = _opt("elbo", choices=kinds.OBJECTIVES.names, help=_described(kinds.OBJECTIVES))
    samples: int = _opt(
        1, min=1, max=limits.MAX_TRAIN_SAMPLES, help="samples of z per image in training; iwae needs k >= 2"
    )
    kl_warmup_epochs: int = _opt(
        0, min=0, max=limits.MAX_EPOCHS, help="raise the KL weight linearly from 0 to beta over these epochs"
    )
    distribute: Literal["none", "mirrored"] = _opt(
        "none", help="mirrored: tf.distribute.MirroredStrategy over train.devices (the global batch is split)"
    )
    devices: list[str] | None = _opt(
        help="mirrored: devices such as ['/gpu:0', '/gpu:1']; null: all GPUs; '/cpu:N' entries split the CPU"
    )
    early_stopping_patience: int | None = _opt(
        3,
        min=0,
        max=limits.MAX_EPOCHS,
        help="epochs without a better validation loss (at the target beta) before stopping; null: never",
    )
    seed: int = _opt(0, min=0, max=limits.MAX_SEED, help="seeds weights, shuffling and sampling")
    lr_schedule: Literal["constant", "cosine", "one_cycle"] = _opt(
        "cosine",
        help="cosine: decay the learning rate to 5% of its value over the epochs; one_cycle: rise linearly"
        " from 4% of it over train.warmup_fraction of the steps, then the cosine decay",
    )
    warmup_fraction: float = _opt(
        0.15, min=0.0, max=0.9, help="one_cycle: the share of all training steps spent rising to the peak rate"
    )
    precision: Literal["auto", "float32", "mixed_bfloat16"] = _opt(
        "auto", help="auto: mixed_bfloat16 on CPUs with native bfloat16, else float32; the loss stays float32"
    )


@dataclass
class OutputConfig:
    dir: str = _opt("outputs", help="parent folder of the run folders")
    name: str | None = _opt(help="run folder prefix; default: the dataset, image folder or npz file name")
    tensorboard: bool = _opt(
        True, help="write per-epoch losses, learning rate, KL weight and samples to RUN/tensorboard/"
    )


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


DEFAULT_SOURCE, OVERRIDE_SOURCE = "default", "override"  # where a key's value came from, besides a file


def load_config(
    paths: str | Path | Sequence[str | Path] | None = None, overrides: Iterable[tuple[Any, ...]] = ()
) -> Config:
    """Defaults <- YAML files in order <- ``(dotted key, value)`` overrides, validated."""
    return resolve_config(paths, overrides)[0]


def resolve_config(
    paths: str | Path | Sequence[str | Path] | None = None, overrides: Iterable[tuple[Any, ...]] = ()
) -> tuple[Config, dict[str, str]]:
    """The validated config and where each key's value came from.

    Files merge key by key, later files winning; overrides win over files. The
    source of a key is the last file that set it, the override's third item
    (``"override"`` without one), or ``"default"``.
    """
    if paths is None:
        paths = []
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    raw: dict = {}
    sources: dict[str, str] = {}
    for given in paths:
        path = builtin_configs.resolve(given)
        for section, values in _read_file(path).items():
            if isinstance(values, dict) and isinstance(raw.get(section), dict):
                raw[section].update(values)
            elif values is not None or section not in raw:  # an empty section keeps the earlier files' keys
                raw[section] = dict(values) if isinstance(values, dict) else values
            for key in values if isinstance(values, dict) else ():
                sources[f"{section}.{key}"] = str(path)
    for key, value, *source in overrides:
        set_dotted(raw, key, value)
        sources[key] = source[0] if source else OVERRIDE_SOURCE
    cfg = from_dict(raw)
    return cfg, {key: sources.get(key, DEFAULT_SOURCE) for key, _, _ in describe_keys()}


def _read_file(path: Path) -> dict:
    try:
        text = read_text_capped(path)
    except FileNotFoundError:
        there = builtin_configs.suggestion(path)
        raise ConfigError(
            f"config file {path} does not exist and is no built-in config ({there})", Fix("config_file")
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {cut(str(exc))}") from None
    raw = parse_yaml(text, path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections (data, model, train, output)")
    return raw


def set_dotted(raw: dict, key: str, value: Any) -> None:
    """Sets ``SECTION.NAME`` in nested dicts; the key's shape is checked by the caller."""
    section, _, name = key.partition(".")
    target = raw.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"{section}: must be a mapping, got {type(target).__name__}")
    target[name] = value


def from_dict(raw: dict) -> Config:
    """Builds a validated ``Config`` from nested dicts."""
    cfg = Config(**build_sections(Config, raw))
    _check_together(cfg)
    return cfg


def _check_together(cfg):
    """Rules that involve more than one key."""
    data, train = cfg.data, cfg.train
    if SOURCES.get(data.dataset).user_images and not data.path:
        raise ConfigError(f"data.path: required with data.dataset: {data.dataset} (the folder or .npz file to read)")
    if data.image_size is not None and len(data.image_size) != 2:
        raise ConfigError(f"data.image_size: must be [height, width], got {shown(data.image_size)}")
    if data.image_size is not None and math.prod(data.image_size) > limits.MAX_IMAGE_PIXELS:
        raise ConfigError(f"data.image_size: at most {limits.MAX_IMAGE_PIXELS:,} pixels, got {shown(data.image_size)}")
    held_out = not SOURCES.get(data.dataset).user_images  # the user's own images split by validation_split
    if data.validation_size == 0 and train.early_stopping_patience is not None and held_out:
        raise ConfigError(
            "train.early_stopping_patience: with data.validation_size 0 there is no validation split, and the test "
            "set must choose nothing; set train.early_stopping_patience: null, or hold out validation images"
        )
    if train.devices is not None and train.distribute == "none":
        raise ConfigError("train.devices: only used with train.distribute: mirrored")
    _check_devices(train.devices or [])
    kinds.check_config(cfg.model, train)


_DEVICE_INDEX = re.compile(r"(?:^|[/:])(?:cpu|gpu):(\d+)$", re.IGNORECASE)


def _check_devices(devices):
    """Device indices below the cap: each /cpu:N is split into N + 1 logical devices before training."""
    for i, name in enumerate(devices):
        index = _DEVICE_INDEX.search(name)
        if index and int(index.group(1)) >= limits.MAX_DEVICES:  # the digits fit: strings are capped at MAX_TEXT
            raise ConfigError(
                f"train.devices[{i}]: device indices run from 0 to {limits.MAX_DEVICES - 1}, got {shown(name)}; "
                "name fewer devices"
            )


def to_dict(cfg: Config) -> dict:
    return dataclasses.asdict(cfg)


def dump_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def describe_keys() -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every key, for the docs reference and ``--help``."""
    rows = []
    for section in dataclasses.fields(Config):
        for f in dataclasses.fields(section.default_factory):
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            rows.append((f"{section.name}.{f.name}", default, f.metadata.get("help", "")))
    return rows
