"""``import vae_cli.layers`` registers the custom layers, so a saved ``vae.h5`` loads in plain Keras.

A stable public path that users' scripts rely on; the layers live in ``vae_cli.model.layers``.
"""

from vae_cli.model.layers import Sampling, VAELoss

__all__ = ["Sampling", "VAELoss"]
