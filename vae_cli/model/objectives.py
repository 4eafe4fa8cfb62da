"""The layers of the other training objectives: several samples of z, the IWAE bound, the autoencoder's loss.

- ``MultiSampling``: k draws of z per image, image-major, for the multi-sample
  ELBO and the importance-weighted bound;
- ``RepeatSamples``: repeats a conditional model's one-hot class k times to match;
- ``MultiSampleLoss``: the k-sample ELBO, or the IWAE bound of Burda et al. (2016),
  ``log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)``, as the loss;
- ``ReconstructionLoss``: an autoencoder's loss, the reconstruction alone.

All are registered serializables built from ``keras.ops`` and the terms of
``model/likelihood``, so the loss trained on and the one measured cannot drift.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from vae_cli.kinds import IWAE_LOSS, OBJECTIVES
from vae_cli.model.layers import PACKAGE, PixelLikelihood, Sampling, VAELoss
from vae_cli.model.likelihood import (
    gaussian_kl,
    importance_log_weights,
    log_mean_exp,
)


def _check_samples(samples: Any) -> None:
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ValueError(f"`samples` must be an int >= 1. Received: samples={samples!r}")


@keras.saving.register_keras_serializable(package=PACKAGE)
class MultiSampling(Sampling):
    """``samples`` draws of ``z = z_mean + exp(0.5 * z_log_var) * eps`` per image: (B, D) -> (B * k, D).

    Image-major: rows ``b * k .. b * k + k - 1`` are image b's draws.
    """

    def __init__(self, samples: int = 2, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        _check_samples(samples)
        self.samples = samples

    def call(self, inputs: list[Any]) -> Any:
        z_mean, z_log_var = (ops.repeat(t, self.samples, axis=0) for t in inputs)
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return (None, input_shape[0][-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "samples": self.samples}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RepeatSamples(keras.layers.Layer):
    """Each row repeated ``samples`` times, image-major like ``MultiSampling``: (B, K) -> (B * k, K)."""

    def __init__(self, samples: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_samples(samples)
        self.samples = samples

    def call(self, inputs: Any) -> Any:
        return ops.repeat(inputs, self.samples, axis=0)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (None, *input_shape[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "samples": self.samples}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MultiSampleLoss(VAELoss):
    """The loss over k samples of z per image, in nats per image, added with ``add_loss``.

    Inputs are ``[x, logits, z_mean, z_log_var, z]`` with ``logits`` and ``z``
    image-major over the k samples. ``objective="elbo"``: the mean over the samples
    of the reconstruction, plus ``kl_weight`` x the analytic KL. ``objective="iwae"``:
    minus the log-mean-exp over the samples of ``log p(x|z) + kl_weight * (log p(z) -
    log q(z|x))``, which is the IWAE bound when the weight is 1; ``iwae_loss``
    reports it at the target ``beta`` (unaffected by a KL warm-up). The
    reconstruction (mean over the samples) and the KL are reported as by ``VAELoss``;
    the output is the first sample's ``sigmoid(logits)``.
    """

    def __init__(self, samples: int = 2, objective: str = "elbo", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_samples(samples)
        if objective not in OBJECTIVES:
            raise ValueError(f"`objective` must be one of {OBJECTIVES.names()}. Received: objective={objective!r}")
        self.samples, self.objective = samples, objective
        self.importance_weighted = OBJECTIVES.get(objective).importance_weighted
        if self.importance_weighted:
            self.iwae_tracker = keras.metrics.Mean(name=IWAE_LOSS)

    def call(self, inputs: list[Any]) -> Any:
        x, logits, z_mean, z_log_var, z = inputs
        k = self.samples
        logits = ops.reshape(logits, (-1, k, *x.shape[1:]))
        x_k = ops.expand_dims(x, 1)
        nll = self.nll(x_k, logits, batch_dims=2)  # (B, k)
        reconstruction, kl = ops.mean(nll, axis=1), gaussian_kl(z_mean, z_log_var)
        if self.importance_weighted:
            z_k = ops.reshape(z, (-1, k, z.shape[-1]))
            log_w = importance_log_weights(-nll, z_k, z_mean, z_log_var, self.kl_weight)
            self.add_loss(-ops.mean(log_mean_exp(log_w, axis=1)))
            at_target = importance_log_weights(-nll, z_k, z_mean, z_log_var, self.beta)
            self.iwae_tracker.update_state(-log_mean_exp(at_target, axis=1))
        else:
            self.add_loss(ops.mean(reconstruction) + self.kl_weight * ops.mean(kl))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.sigmoid(logits[:, 0])

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "samples": self.samples, "objective": self.objective}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ReconstructionLoss(PixelLikelihood):
    """An autoencoder's loss: -log p(x | decoder(code)) summed over pixels, averaged over the batch.

    Inputs are ``[x, logits]``; the output is ``sigmoid(logits)``. Bernoulli from
    logits, or Gaussian around the sigmoid with ``sigma`` or a learned one per
    channel, as in ``VAELoss``; no KL and no sampling: the code is deterministic.
    """

    def __init__(self, likelihood: str = "bernoulli", sigma: float | None = None, **kwargs: Any) -> None:
        super().__init__(likelihood, sigma, **kwargs)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")

    def call(self, inputs: list[Any]) -> Any:
        x, logits = inputs
        reconstruction = self.nll(x, logits)
        self.add_loss(ops.mean(reconstruction))
        self.reconstruction_tracker.update_state(reconstruction)
        return ops.sigmoid(logits)
