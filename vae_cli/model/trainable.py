"""The trainable wholes that kinds are assembled from: encoder, sampling, decoder and the loss layer in one graph.

- ``stochastic``: one sample and the ELBO: ``Sampling`` and ``VAELoss`` (the classic
  model); with ``samples`` > 1 or an importance-weighted objective, ``MultiSampling``
  draws k codes per image, the decoder decodes all of them in one batch, and
  ``MultiSampleLoss`` averages them (ELBO) or takes their log-mean-exp weights (IWAE);
- ``deterministic``: the code straight into the decoder, ``ReconstructionLoss``, no sampling.

An encoder with two inputs (a conditional kind's) makes a graph that takes
``[image, label]``; the label goes to the encoder and, repeated once per sample,
to the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from vae_cli.kinds import OBJECTIVES
from vae_cli.model.layers import Sampling, VAELoss
from vae_cli.model.objectives import MultiSampleLoss, MultiSampling, ReconstructionLoss, RepeatSamples
from vae_cli.names import LABEL, VAE_LOSS, Z


@dataclass(frozen=True)
class LossSettings:
    """What the loss layer is built with: ``train.beta``, ``train.seed``, ``model.likelihood`` and
    ``model.gaussian_sigma``, ``train.objective`` and ``train.samples``."""

    beta: float = 1.0
    seed: int | None = None
    likelihood: str = "bernoulli"
    gaussian_sigma: float | None = None
    objective: str = "elbo"
    samples: int = 1
    dataset_size: int = 1  # training images: the N of an estimator over the whole dataset (a btcvae's)

    @classmethod
    def of(cls, model_cfg: Any, train_cfg: Any = None, dataset_size: int = 1) -> LossSettings:
        """The settings of a run's ``model`` and ``train`` config sections (no ``train``: the ELBO at beta 1, unseeded)."""
        if train_cfg is None:
            return cls(likelihood=model_cfg.likelihood, gaussian_sigma=model_cfg.gaussian_sigma)
        return cls(
            train_cfg.beta,
            train_cfg.seed,
            model_cfg.likelihood,
            model_cfg.gaussian_sigma,
            train_cfg.objective,
            train_cfg.samples,
            max(1, dataset_size),
        )


def graph_inputs(encoder: keras.Model) -> tuple[Any, Any, Any]:
    """The graph's image input, its label input (None without one), and both as the model takes them."""
    x = keras.Input(shape=encoder.inputs[0].shape[1:], name="image")
    label = keras.Input(shape=encoder.inputs[1].shape[1:], name=LABEL) if len(encoder.inputs) > 1 else None
    return x, label, (x if label is None else [x, label])


def deterministic(encoder: keras.Model, decoder_logits: keras.Model, loss: LossSettings) -> keras.Model:
    """An autoencoder's graph: its loss, added by its loss layer named ``vae_loss``, is the reconstruction."""
    x, _, inputs = graph_inputs(encoder)
    logits = decoder_logits(encoder(inputs))
    reconstruction = ReconstructionLoss(likelihood=loss.likelihood, sigma=loss.gaussian_sigma, name=VAE_LOSS)
    return keras.Model(inputs, reconstruction([x, logits]), name="vae")


def stochastic(encoder: keras.Model, decoder_logits: keras.Model, loss: LossSettings) -> keras.Model:
    """A VAE's graph: its loss, added by its loss layer named ``vae_loss``, is the objective's bound."""
    x, label, inputs = graph_inputs(encoder)
    z_mean, z_log_var = encoder(inputs)
    weighted = OBJECTIVES.get(loss.objective).importance_weighted
    if loss.samples == 1 and not weighted:
        z = Sampling(seed=loss.seed, name=Z)([z_mean, z_log_var])
        logits = decoder_logits(z if label is None else [z, label])
        layer = VAELoss(beta=loss.beta, likelihood=loss.likelihood, sigma=loss.gaussian_sigma, name=VAE_LOSS)
        return keras.Model(inputs, layer([x, logits, z_mean, z_log_var]), name="vae")
    z = MultiSampling(samples=loss.samples, seed=loss.seed, name=Z)([z_mean, z_log_var])
    condition = None if label is None else RepeatSamples(samples=loss.samples, name="label_samples")(label)
    logits = decoder_logits(z if condition is None else [z, condition])
    layer = MultiSampleLoss(
        samples=loss.samples,
        objective=loss.objective,
        beta=loss.beta,
        likelihood=loss.likelihood,
        sigma=loss.gaussian_sigma,
        name=VAE_LOSS,
    )
    return keras.Model(inputs, layer([x, logits, z_mean, z_log_var, z]), name="vae")
