"""``import vae_cli.layers`` registers the custom layers, so a saved ``vae.h5`` loads in plain Keras.

A stable public path that users' scripts rely on; the layers live in ``vae_cli.model.layers``
(the VAE's), ``vae_cli.model.objectives`` (several samples, the IWAE bound, the autoencoder's loss)
and ``vae_cli.model.total_correlation`` (beta-TCVAE's loss).
"""

from vae_cli.model.layers import Sampling, VAELoss
from vae_cli.model.objectives import MultiSampleLoss, MultiSampling, ReconstructionLoss, RepeatSamples
from vae_cli.model.total_correlation import TotalCorrelationLoss

__all__ = [
    "Sampling",
    "VAELoss",
    "MultiSampling",
    "RepeatSamples",
    "MultiSampleLoss",
    "ReconstructionLoss",
    "TotalCorrelationLoss",
]
