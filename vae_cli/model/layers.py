"""The two custom layers of the VAE: reparameterised sampling and the loss.

Both are registered serializables built only from ``keras.ops`` and
``keras.random``, so a saved ``vae.h5`` reloads under ``safe_mode=True`` once
this module is imported, with no ``custom_objects`` and no ``Lambda`` layer.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from vae_cli.model.likelihood import bernoulli_nll, gaussian_kl, gaussian_nll

PACKAGE = "vae_cli"  # the registered names ("vae_cli>Sampling") that saved files refer to
MIN_SIGMA = 1e-3  # a learned sigma may not collapse onto pixels the decoder fits exactly


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(keras.layers.Layer):
    """Draws ``z = z_mean + exp(0.5 * z_log_var) * eps`` with ``eps ~ N(0, I)``.

    It samples in inference too: a test ELBO must be computed with sampled
    ``z``, and deterministic codes are what ``z_mean`` is for.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: list[Any]) -> Any:
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


class PixelLikelihood(keras.layers.Layer):
    """The base of the loss layers: -log p(x | logits) per image, in float32 under mixed precision.

    Bernoulli from the logits, never from clipped probabilities, so it stays exact
    where the sigmoid saturates; or Gaussian around ``sigmoid(logits)`` with
    ``sigma``, or a standard deviation per channel learned with the model when
    ``sigma`` is None. Inputs start ``[x, logits, ...]``; the output is
    ``sigmoid(logits)``, the pixel probabilities (Bernoulli) or means (Gaussian).
    """

    def __init__(self, likelihood: str = "bernoulli", sigma: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")  # keep the loss in float32 under mixed precision
        super().__init__(**kwargs)
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"`likelihood` must be 'bernoulli' or 'gaussian'. Received: likelihood={likelihood!r}")
        if sigma is not None and not sigma > 0:
            raise ValueError(f"`sigma` must be > 0 or None. Received: sigma={sigma!r}")
        self.likelihood, self.sigma = likelihood, sigma

    def build(self, input_shape: list[tuple]) -> None:
        if self.likelihood == "gaussian" and self.sigma is None:
            self.log_sigma = self.add_weight(
                shape=(input_shape[0][-1],), initializer=keras.initializers.Constant(math.log(0.2)), name="log_sigma"
            )

    def log_sigma_value(self) -> Any:
        if self.sigma is not None:
            return ops.convert_to_tensor(math.log(self.sigma), dtype=self.compute_dtype)
        return ops.maximum(self.log_sigma, math.log(MIN_SIGMA))

    def nll(self, x: Any, logits: Any, batch_dims: int = 1) -> Any:
        """-log p(x | logits), summed over the pixels after the first ``batch_dims`` axes."""
        if self.likelihood == "gaussian":
            return gaussian_nll(x, ops.sigmoid(logits), self.log_sigma_value(), batch_dims=batch_dims)
        return bernoulli_nll(x, logits, batch_dims=batch_dims)

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return input_shape[1]

    def get_config(self) -> dict:
        return {**super().get_config(), "likelihood": self.likelihood, "sigma": self.sigma}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAELoss(PixelLikelihood):
    """Adds the beta-weighted negative ELBO, in nats per image, as the model loss.

    Inputs are ``[x, logits, z_mean, z_log_var]``. Reconstruction and KL are summed
    per image, averaged over the batch, and reported unweighted as
    ``reconstruction_loss`` and ``kl_loss``; ``beta`` weighs only the KL inside the
    loss. ``kl_weight`` is a variable so that a KL warm-up can change it without retracing.
    """

    def __init__(
        self, beta: float = 1.0, likelihood: str = "bernoulli", sigma: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(likelihood, sigma, **kwargs)
        if not beta >= 0:
            raise ValueError(f"`beta` must be >= 0. Received: beta={beta!r}")
        self.beta = float(beta)
        self.kl_weight = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.beta),
            trainable=False,
            name="kl_weight",
        )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def call(self, inputs: list[Any]) -> Any:
        x, logits, z_mean, z_log_var = inputs
        reconstruction = self.nll(x, logits)
        kl = gaussian_kl(z_mean, z_log_var)
        self.add_loss(ops.mean(reconstruction) + self.kl_weight * ops.mean(kl))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.sigmoid(logits)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta}
