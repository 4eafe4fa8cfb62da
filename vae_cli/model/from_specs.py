"""Keras layers from the checked lists of ``model.architecture: layers`` (see ``vae_cli.layer_specs``).

Only built-in layers: Conv2D, Conv2DTranspose, Dense, MaxPooling2D, UpSampling2D,
Reshape, and the Flatten a Dense layer on a feature map implies. A conditional
encoder gets its one-hot class just before its first Dense layer (or before
z_mean and z_log_var when it has none), as the fixed architectures do.
"""

from __future__ import annotations

import math
from typing import Any

from keras import layers

from vae_cli.config import ModelConfig
from vae_cli.layer_specs import LayerSpec, parse
from vae_cli.names import X_LOGITS


def flat_with_label(x: Any, label: Any, prefix: str) -> Any:
    """``x`` flattened (if it is a feature map), with the one-hot ``label`` appended when there is one."""
    if len(x.shape) > 2:
        x = layers.Flatten(name=f"{prefix}_flatten")(x)
    if label is not None:
        x = layers.Concatenate(name=f"{prefix}_condition")([x, label])
    return x


def _layer(spec: LayerSpec, name: str, activation: str, kernel: int) -> Any:
    if spec.kind in ("conv", "conv_transpose"):
        cls = layers.Conv2D if spec.kind == "conv" else layers.Conv2DTranspose
        return cls(
            spec.value,
            spec.option("kernel", kernel),
            strides=spec.option("stride", 1),
            padding=spec.option("padding", "same"),
            activation=activation,
            name=name,
        )
    if spec.kind == "dense":
        return layers.Dense(spec.value, activation=activation, name=name)
    if spec.kind == "pool":
        return layers.MaxPooling2D(spec.value, padding=spec.option("padding", "same"), name=name)
    if spec.kind == "upsample":
        return layers.UpSampling2D(spec.value, name=name)
    return layers.Reshape(tuple(spec.value), name=name)


def encoder_features(cfg: ModelConfig, x: Any, label: Any = None) -> Any:
    """Image -> the flat features that z_mean and z_log_var (or an autoencoder's code) are read from."""
    for i, spec in enumerate(parse("model.encoder_layers", cfg.encoder_layers)):
        if spec.kind == "dense":
            x = flat_with_label(x, label, "encoder")
            label = None  # given once
        x = _layer(spec, f"encoder_{i}_{spec.kind}", spec.option("activation", cfg.activation), cfg.kernel_size)(x)
    return flat_with_label(x, label, "encoder") if label is not None or len(x.shape) > 2 else x


def decoder_logits(cfg: ModelConfig, x: Any, image_shape: tuple[int, int, int]) -> Any:
    """z (with the class appended, for a cvae) -> logits of the image's shape; the last layer is linear."""
    specs = parse("model.decoder_layers", cfg.decoder_layers)
    for i, spec in enumerate(specs):
        last = i == len(specs) - 1
        activation = spec.option("activation", "linear" if last else cfg.activation)
        flat = spec.kind == "dense" or (spec.kind == "reshape" and len(spec.value) == 1)
        name = X_LOGITS if last and not flat else f"decoder_{i}_{spec.kind}"
        x = _layer(spec, name, activation, cfg.kernel_size)(x)
    if tuple(x.shape[1:]) == (math.prod(image_shape),):
        x = layers.Reshape(image_shape, name=X_LOGITS)(x)
    return x
