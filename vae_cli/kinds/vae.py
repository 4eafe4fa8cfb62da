"""``model.kind: vae``: q(z|x) gives z_mean and z_log_var, z ~ N(0, I) is the prior, trained on the ELBO or the IWAE bound."""

from __future__ import annotations

from typing import Any

from vae_cli.kinds.base import ModelKind


class VAE(ModelKind):
    name = "vae"
    help = "vae"

    def encoder_outputs(self, features: Any, latent_dim: int) -> list[Any]:
        from keras import layers

        from vae_cli.names import Z_LOG_VAR, Z_MEAN

        return [layers.Dense(latent_dim, name=Z_MEAN)(features), layers.Dense(latent_dim, name=Z_LOG_VAR)(features)]

    def assemble(self, encoder: Any, decoder_logits: Any, loss: Any) -> Any:
        from vae_cli.model.trainable import stochastic

        return stochastic(encoder, decoder_logits, loss)

    def default_grid_range(self) -> Any:
        from vae_cli.figures.latents import DEFAULT_GRID_RANGE

        return DEFAULT_GRID_RANGE

    def random_codes(self, latent_dim: int, n: int, seed: int, test_codes: Any) -> tuple[Any, str]:
        import numpy as np

        z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
        return z, f"{n} samples of z ~ N(0, I), seed {seed}"


KIND = VAE()
