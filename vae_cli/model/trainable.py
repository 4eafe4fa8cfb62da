"""The trainable whole of each model kind: encoder, sampling, decoder and the loss layer in one graph.

- ``vae`` / ``cvae``, one sample, ELBO: ``Sampling`` and ``VAELoss`` (the classic model);
- ``vae`` / ``cvae`` with ``samples`` > 1 or the ``iwae`` objective: ``MultiSampling``
  draws k codes per image, the decoder decodes all of them in one batch, and
  ``MultiSampleLoss`` averages them (ELBO) or takes their log-mean-exp weights (IWAE);
- ``ae``: the code straight into the decoder, ``ReconstructionLoss``, no sampling.

A cvae's graph takes ``[image, label]``; its label goes to the encoder and, repeated
once per sample, to the decoder.
"""

from __future__ import annotations

from typing import Any

import keras

from vae_cli.model.layers import Sampling, VAELoss
from vae_cli.model.objectives import MultiSampleLoss, MultiSampling, ReconstructionLoss, RepeatSamples
from vae_cli.names import LABEL, VAE_LOSS, Z


def assemble(
    kind: str,
    encoder: keras.Model,
    decoder_logits: keras.Model,
    beta: float = 1.0,
    seed: int | None = None,
    likelihood: str = "bernoulli",
    gaussian_sigma: float | None = None,
    objective: str = "elbo",
    samples: int = 1,
) -> keras.Model:
    """The model that ``fit`` trains: its loss is added by its loss layer, named ``vae_loss``."""
    x = keras.Input(shape=encoder.inputs[0].shape[1:], name="image")
    label = keras.Input(shape=encoder.inputs[1].shape[1:], name=LABEL) if len(encoder.inputs) > 1 else None
    inputs: Any = x if label is None else [x, label]
    if kind == "ae":
        logits = decoder_logits(encoder(x))
        reconstruction = ReconstructionLoss(likelihood=likelihood, sigma=gaussian_sigma, name=VAE_LOSS)([x, logits])
        return keras.Model(inputs, reconstruction, name="vae")
    z_mean, z_log_var = encoder(inputs)
    if samples == 1 and objective == "elbo":
        z = Sampling(seed=seed, name=Z)([z_mean, z_log_var])
        logits = decoder_logits(z if label is None else [z, label])
        loss = VAELoss(beta=beta, likelihood=likelihood, sigma=gaussian_sigma, name=VAE_LOSS)
        return keras.Model(inputs, loss([x, logits, z_mean, z_log_var]), name="vae")
    z = MultiSampling(samples=samples, seed=seed, name=Z)([z_mean, z_log_var])
    condition = None if label is None else RepeatSamples(samples=samples, name="label_samples")(label)
    logits = decoder_logits(z if condition is None else [z, condition])
    loss = MultiSampleLoss(
        samples=samples, objective=objective, beta=beta, likelihood=likelihood, sigma=gaussian_sigma, name=VAE_LOSS
    )
    return keras.Model(inputs, loss([x, logits, z_mean, z_log_var, z]), name="vae")
