"""Functional-API encoder, decoder and the trainable model built from them.

Four families, chosen by ``model.architecture``:
- ``conv``: the classic one: stride-2 Conv2D blocks, a Dense layer, z; Dense,
  Reshape, stride-2 Conv2DTranspose blocks, an output Conv2D;
- ``conv_deep``: the same with a stride-1 Conv2D after every resampling layer;
- ``mlp``: Dense layers on the flattened image, as in Kingma & Welling and Burda et al.;
- ``layers``: the lists ``model.encoder_layers`` and ``model.decoder_layers`` (``model/from_specs``).

The kind of ``model.kind`` (``vae_cli.kinds``) decides the heads and the trainable
whole: a stochastic encoder gives z_mean and z_log_var, a deterministic one a code.
A conditional kind's encoder and decoder take the one-hot class as a second input
(``[image, label]``, ``[z, label]``): ``classes`` > 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras
from keras import layers

from vae_cli.config import ModelConfig, TrainConfig
from vae_cli.kinds import kind_of
from vae_cli.model import from_specs
from vae_cli.model.from_specs import flat_with_label
from vae_cli.model.size import ConvSizes, conv_sizes, halvings  # noqa: F401  (halvings: imported from here too)
from vae_cli.model.trainable import LossSettings
from vae_cli.names import DECODER, ENCODER, LABEL, X_LOGITS, Z


@dataclass
class Models:
    encoder: keras.Model  # image [, label] -> [z_mean, z_log_var], or an autoencoder's code
    decoder: keras.Model  # z [, label] -> pixel probabilities
    vae: keras.Model  # image [, label] -> reconstruction, carrying the loss


def build_models(
    model_cfg: ModelConfig,
    image_shape: tuple[int, int, int],
    train_cfg: TrainConfig | None = None,
    classes: int = 0,
    dataset_size: int = 1,
) -> Models:
    """Builds the three models from a ``ModelConfig`` for images of ``image_shape``.

    ``train_cfg``: the loss's settings (beta, seed, objective, samples; default: the ELBO at beta 1, unseeded);
    ``classes``: the size of a conditional kind's one-hot label (ignored by the other kinds);
    ``dataset_size``: the training images, for a loss that estimates over the whole dataset.
    """
    kind = kind_of(model_cfg)
    classes = classes if kind.conditional else 0
    sizes = None if model_cfg.architecture == "layers" else conv_sizes(model_cfg, image_shape)
    encoder = build_encoder(model_cfg, image_shape, sizes, classes)
    decoder_logits = build_decoder_logits(model_cfg, image_shape, sizes, classes)
    vae = kind.assemble(encoder, decoder_logits, LossSettings.of(model_cfg, train_cfg, dataset_size))
    return Models(encoder, probabilities(decoder_logits), vae)


def _label_input(classes: int) -> Any:
    return keras.Input(shape=(classes,), name=LABEL) if classes else None


def build_encoder(
    cfg: ModelConfig, image_shape: tuple[int, int, int], sizes: ConvSizes | None = None, classes: int = 0
) -> keras.Model:
    x = image = keras.Input(shape=image_shape, name="image")
    label = _label_input(classes)
    act = cfg.activation
    if cfg.architecture == "layers":
        x = from_specs.encoder_features(cfg, x, label)
    elif cfg.architecture == "mlp":
        x = flat_with_label(x, label, "encoder")
        for i, units in enumerate(cfg.hidden_units):
            x = layers.Dense(units, activation=act, name=f"encoder_dense_{i}")(x)
    else:
        sizes = sizes or conv_sizes(cfg, image_shape)
        for i, filters in enumerate(sizes.encoder_filters):
            if cfg.architecture == "conv_deep":
                x = layers.Conv2D(filters, cfg.kernel_size, padding="same", activation=act, name=f"encoder_conv_{i}a")(
                    x
                )
            x = layers.Conv2D(
                filters, cfg.kernel_size, strides=2, padding="same", activation=act, name=f"encoder_conv_{i}"
            )(x)
        x = flat_with_label(x, label, "encoder")
        x = layers.Dense(cfg.encoder_dense, activation=act, name="encoder_dense")(x)
    inputs = image if label is None else [image, label]
    return keras.Model(inputs, kind_of(cfg).encoder_outputs(x, cfg.latent_dim), name=ENCODER)


def build_decoder_logits(
    cfg: ModelConfig, image_shape: tuple[int, int, int], sizes: ConvSizes | None = None, classes: int = 0
) -> keras.Model:
    """z [, label] -> per-pixel logits; the loss needs logits, users want probabilities (or Gaussian means)."""
    height, width, channels = image_shape
    z = keras.Input(shape=(cfg.latent_dim,), name=Z)
    label = _label_input(classes)
    inputs = z if label is None else [z, label]
    x = z if label is None else layers.Concatenate(name="decoder_condition")([z, label])
    act = cfg.activation
    if cfg.architecture == "layers":
        return keras.Model(inputs, from_specs.decoder_logits(cfg, x, image_shape), name=DECODER)
    if cfg.architecture == "mlp":
        for i, units in enumerate(reversed(cfg.hidden_units)):
            x = layers.Dense(units, activation=act, name=f"decoder_dense_{i}")(x)
        x = layers.Dense(height * width * channels, name="decoder_pixels")(x)
        logits = layers.Reshape(image_shape, name=X_LOGITS)(x)
        return keras.Model(inputs, logits, name=DECODER)
    sizes = sizes or conv_sizes(cfg, image_shape)
    scale = 2 ** len(sizes.decoder_filters)
    start = (math.ceil(height / scale), math.ceil(width / scale), sizes.decoder_channels)
    x = layers.Dense(start[0] * start[1] * start[2], activation=act, name="decoder_dense")(x)
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
    return keras.Model(inputs, logits, name=DECODER)


def probabilities(decoder_logits: keras.Model) -> keras.Model:
    """The user-facing decoder: the same layers (shared weights) plus a sigmoid."""
    probs = layers.Activation("sigmoid", name="x_prob")(decoder_logits.output)
    return keras.Model(decoder_logits.input, probs, name=DECODER)


def logits_of(decoder: keras.Model) -> keras.Model:
    """The z -> logits part of a saved probability decoder (shares its weights)."""
    return keras.Model(decoder.input, decoder.get_layer(X_LOGITS).output, name="decoder_logits")


def split_vae(vae: keras.Model) -> Models:
    """Recovers encoder and probability decoder (sharing weights) from a loaded VAE."""
    return Models(vae.get_layer(ENCODER), probabilities(vae.get_layer(DECODER)), vae)
