"""Functional-API encoder, decoder and the trainable VAE built from them."""

from dataclasses import dataclass

import keras
from keras import layers

from vae_cli.layers import Sampling, VAELoss


@dataclass
class Models:
    encoder: keras.Model  # image -> [z_mean, z_log_var]
    decoder: keras.Model  # z -> pixel probabilities
    vae: keras.Model  # image -> reconstruction, carrying the loss


def build_models(model_cfg, image_shape, beta=1.0, seed=None):
    """Builds the three models from a ``ModelConfig`` for images of ``image_shape``."""
    encoder = build_encoder(model_cfg, image_shape)
    decoder_logits = build_decoder_logits(model_cfg, image_shape)
    return Models(encoder, probabilities(decoder_logits), assemble_vae(encoder, decoder_logits, beta, seed))


def build_encoder(cfg, image_shape):
    x = inputs = keras.Input(shape=image_shape, name="image")
    for i, filters in enumerate(cfg.encoder_filters):
        x = layers.Conv2D(
            filters, cfg.kernel_size, strides=2, padding="same", activation="relu", name=f"encoder_conv_{i}"
        )(x)
    x = layers.Flatten(name="encoder_flatten")(x)
    x = layers.Dense(cfg.encoder_dense, activation="relu", name="encoder_dense")(x)
    z_mean = layers.Dense(cfg.latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(cfg.latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder_logits(cfg, image_shape):
    """z -> per-pixel Bernoulli logits; the loss needs logits, users want probabilities."""
    height, width, channels = image_shape
    scale = 2 ** len(cfg.decoder_filters)
    if height % scale or width % scale:
        raise ValueError(
            f"Image size {height}x{width} is not divisible by 2**{len(cfg.decoder_filters)} "
            f"(one halving per decoder layer). Received: decoder_filters={cfg.decoder_filters}"
        )
    z = keras.Input(shape=(cfg.latent_dim,), name="z")
    start = (height // scale, width // scale, cfg.decoder_channels)
    x = layers.Dense(start[0] * start[1] * start[2], activation="relu", name="decoder_dense")(z)
    x = layers.Reshape(start, name="decoder_reshape")(x)
    for i, filters in enumerate(cfg.decoder_filters):
        x = layers.Conv2DTranspose(
            filters, cfg.kernel_size, strides=2, padding="same", activation="relu", name=f"decoder_deconv_{i}"
        )(x)
    logits = layers.Conv2D(channels, cfg.output_kernel_size, padding="same", name="x_logits")(x)
    return keras.Model(z, logits, name="decoder")


def probabilities(decoder_logits):
    """The user-facing decoder: the same layers (shared weights) plus a sigmoid."""
    probs = layers.Activation("sigmoid", name="x_prob")(decoder_logits.output)
    return keras.Model(decoder_logits.input, probs, name="decoder")


def assemble_vae(encoder, decoder_logits, beta=1.0, seed=None):
    x = keras.Input(shape=encoder.input.shape[1:], name="image")
    z_mean, z_log_var = encoder(x)
    z = Sampling(seed=seed, name="z")([z_mean, z_log_var])
    logits = decoder_logits(z)
    reconstruction = VAELoss(beta=beta, name="vae_loss")([x, logits, z_mean, z_log_var])
    return keras.Model(x, reconstruction, name="vae")


def split_vae(vae):
    """Recovers encoder and probability decoder (sharing weights) from a loaded VAE."""
    return Models(vae.get_layer("encoder"), probabilities(vae.get_layer("decoder")), vae)
