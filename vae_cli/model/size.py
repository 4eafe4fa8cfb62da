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


def parameter_count(cfg: ModelConfig, image_shape: tuple[int, int, int]) -> int:
    """Weights of the encoder and decoder that ``build_models`` would make (Python integers: no overflow)."""
    h, w, c = image_shape
    latent = cfg.latent_dim
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
    strides = 0 if cfg.architecture == "mlp" else len(conv_sizes(cfg, image_shape).encoder_filters)
    if min(h, w) < 2**strides:
        raise ConfigError(
            f"images of {h}x{w} pixels are too small for {strides} stride-2 convolutions (each side needs "
            f"{2**strides}); set data.image_size larger, fewer model.encoder_filters, or model.architecture: mlp"
        )
    scale = 1 if cfg.architecture == "mlp" else 2 ** len(conv_sizes(cfg, image_shape).decoder_filters)
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
