"""Functional-API encoder, decoder and the trainable VAE built from them.

Three families, chosen by ``model.architecture``:
- ``conv``: the classic one: stride-2 Conv2D blocks, a Dense layer, z; Dense,
  Reshape, stride-2 Conv2DTranspose blocks, an output Conv2D;
- ``conv_deep``: the same with a stride-1 Conv2D after every resampling layer;
- ``mlp``: Dense layers on the flattened image, as in Kingma & Welling and Burda et al.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
from keras import layers

from vae_cli.config import ModelConfig
from vae_cli.model.layers import Sampling, VAELoss
from vae_cli.model.size import ConvSizes, conv_sizes, halvings  # noqa: F401  (halvings: imported from here too)
from vae_cli.names import DECODER, ENCODER, VAE_LOSS, X_LOGITS, Z_LOG_VAR, Z_MEAN, Z


@dataclass
class Models:
    encoder: keras.Model  # image -> [z_mean, z_log_var]
    decoder: keras.Model  # z -> pixel probabilities
    vae: keras.Model  # image -> reconstruction, carrying the loss


def build_models(
    model_cfg: ModelConfig, image_shape: tuple[int, int, int], beta: float = 1.0, seed: int | None = None
) -> Models:
    """Builds the three models from a ``ModelConfig`` for images of ``image_shape``."""
    sizes = conv_sizes(model_cfg, image_shape)
    encoder = build_encoder(model_cfg, image_shape, sizes)
    decoder_logits = build_decoder_logits(model_cfg, image_shape, sizes)
    vae = assemble_vae(encoder, decoder_logits, beta, seed, model_cfg.likelihood, model_cfg.gaussian_sigma)
    return Models(encoder, probabilities(decoder_logits), vae)


def build_encoder(cfg: ModelConfig, image_shape: tuple[int, int, int], sizes: ConvSizes | None = None) -> keras.Model:
    sizes = sizes or conv_sizes(cfg, image_shape)
    x = inputs = keras.Input(shape=image_shape, name="image")
    act = cfg.activation
    if cfg.architecture == "mlp":
        x = layers.Flatten(name="encoder_flatten")(x)
        for i, units in enumerate(cfg.hidden_units):
            x = layers.Dense(units, activation=act, name=f"encoder_dense_{i}")(x)
    else:
        for i, filters in enumerate(sizes.encoder_filters):
            if cfg.architecture == "conv_deep":
                x = layers.Conv2D(filters, cfg.kernel_size, padding="same", activation=act, name=f"encoder_conv_{i}a")(
                    x
                )
            x = layers.Conv2D(
                filters, cfg.kernel_size, strides=2, padding="same", activation=act, name=f"encoder_conv_{i}"
            )(x)
        x = layers.Flatten(name="encoder_flatten")(x)
        x = layers.Dense(cfg.encoder_dense, activation=act, name="encoder_dense")(x)
    z_mean = layers.Dense(cfg.latent_dim, name=Z_MEAN)(x)
    z_log_var = layers.Dense(cfg.latent_dim, name=Z_LOG_VAR)(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=ENCODER)


def build_decoder_logits(
    cfg: ModelConfig, image_shape: tuple[int, int, int], sizes: ConvSizes | None = None
) -> keras.Model:
    """z -> per-pixel logits; the loss needs logits, users want probabilities (or Gaussian means)."""
    sizes = sizes or conv_sizes(cfg, image_shape)
    height, width, channels = image_shape
    z = keras.Input(shape=(cfg.latent_dim,), name=Z)
    act = cfg.activation
    if cfg.architecture == "mlp":
        x = z
        for i, units in enumerate(reversed(cfg.hidden_units)):
            x = layers.Dense(units, activation=act, name=f"decoder_dense_{i}")(x)
        x = layers.Dense(height * width * channels, name="decoder_pixels")(x)
        logits = layers.Reshape(image_shape, name=X_LOGITS)(x)
        return keras.Model(z, logits, name=DECODER)
    scale = 2 ** len(sizes.decoder_filters)
    start = (math.ceil(height / scale), math.ceil(width / scale), sizes.decoder_channels)
    x = layers.Dense(start[0] * start[1] * start[2], activation=act, name="decoder_dense")(z)
    x = layers.Reshape(start, name="decoder_reshape")(x)
    for i, filters in enumerate(sizes.decoder_filters):
        x = layers.Conv2DTranspose(
            filters, cfg.kernel_size, strides=2, padding="same", activation=act, name=f"decoder_deconv_{i}"
        )(x)
        if cfg.architecture == "conv_deep":
            x = layers.Conv2D(filters, cfg.kernel_size, padding="same", activation=act, name=f"decoder_conv_{i}")(x)
    extra_h, extra_w = start[0] * scale - height, start[1] * scale - width
    if extra_h or extra_w:  # sizes that do not halve evenly: decode a little larger, then crop
        crop = ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2))
        x = layers.Cropping2D(crop, name="decoder_crop")(x)
    logits = layers.Conv2D(channels, cfg.output_kernel_size, padding="same", name=X_LOGITS)(x)
    return keras.Model(z, logits, name=DECODER)


def probabilities(decoder_logits: keras.Model) -> keras.Model:
    """The user-facing decoder: the same layers (shared weights) plus a sigmoid."""
    probs = layers.Activation("sigmoid", name="x_prob")(decoder_logits.output)
    return keras.Model(decoder_logits.input, probs, name=DECODER)


def logits_of(decoder: keras.Model) -> keras.Model:
    """The z -> logits part of a saved probability decoder (shares its weights)."""
    return keras.Model(decoder.input, decoder.get_layer(X_LOGITS).output, name="decoder_logits")


def assemble_vae(
    encoder: keras.Model,
    decoder_logits: keras.Model,
    beta: float = 1.0,
    seed: int | None = None,
    likelihood: str = "bernoulli",
    gaussian_sigma: float | None = None,
) -> keras.Model:
    x = keras.Input(shape=encoder.input.shape[1:], name="image")
    z_mean, z_log_var = encoder(x)
    z = Sampling(seed=seed, name=Z)([z_mean, z_log_var])
    logits = decoder_logits(z)
    loss = VAELoss(beta=beta, likelihood=likelihood, sigma=gaussian_sigma, name=VAE_LOSS)
    reconstruction = loss([x, logits, z_mean, z_log_var])
    return keras.Model(x, reconstruction, name="vae")


def split_vae(vae: keras.Model) -> Models:
    """Recovers encoder and probability decoder (sharing weights) from a loaded VAE."""
    return Models(vae.get_layer(ENCODER), probabilities(vae.get_layer(DECODER)), vae)
