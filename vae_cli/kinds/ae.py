"""``model.kind: ae``: a plain autoencoder: a deterministic code and the reconstruction loss alone, no prior, no KL.

With no prior to sample, random codes come from a Gaussian fitted to the codes of
real images, and the latent grid spans those codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_cli.errors import ConfigError, RequestError
from vae_cli.kinds.base import ModelKind
from vae_cli.kinds.objectives import Objective, column


class AE(ModelKind):
    name = "ae"
    help = "ae: deterministic code, reconstruction loss only"
    has_prior = False
    code_name = "the code"
    loss_columns = ("reconstruction_loss",)
    curve_note = "reconstruction alone: an ae"

    def check_config(self, model: Any, train: Any, objective: Objective) -> None:
        if objective.importance_weighted:
            raise ConfigError(
                f"train.objective: {objective.name} needs a stochastic encoder; "
                f"model.kind {self.name} has a deterministic code"
            )
        if train.samples != 1:
            raise ConfigError(
                f"train.samples: {train.samples}, but model.kind {self.name} draws no samples; leave it at 1"
            )
        if train.kl_warmup_epochs:
            raise ConfigError(
                f"train.kl_warmup_epochs: model.kind {self.name} has no KL term to warm up; leave it at 0"
            )

    def score(self, row: dict, objective: Objective, beta: float, prefix: str = "val_") -> float:
        return column(row, f"{prefix}reconstruction_loss")

    def score_name(self, objective: Objective, beta: float) -> str:
        return "reconstruction loss"

    def epoch_samples_note(self, images: int) -> str:
        return f"reconstructions of {images} validation images"

    def encoder_outputs(self, features: Any, latent_dim: int) -> list[Any]:
        from keras import layers

        from vae_cli.names import Z

        return layers.Dense(latent_dim, name=Z)(features)  # one deterministic code, no variance

    def assemble(self, encoder: Any, decoder_logits: Any, loss: Any) -> Any:
        from vae_cli.model.trainable import deterministic

        return deterministic(encoder, decoder_logits, loss)

    def default_grid_range(self) -> Any:
        from vae_cli.figures.latents import DEFAULT_GRID_RANGE, GridRange

        return GridRange("data", DEFAULT_GRID_RANGE.low, DEFAULT_GRID_RANGE.high)

    def check_grid_range(self, rng: Any) -> None:
        if rng.kind == "ppf":
            raise RequestError(
                "range",
                f"ppf:{rng.low:g}:{rng.high:g}",
                ": an autoencoder has no prior to take quantiles of; span its codes with data[:LOW:HIGH] or "
                "linear:MIN:MAX",
            )

    def random_codes(self, latent_dim: int, n: int, seed: int, test_codes: Any) -> tuple[Any, str]:
        return (
            fitted_gaussian_draws(test_codes, n, seed),
            f"{n} codes from a Gaussian fitted to the test-set codes (an autoencoder has no prior), seed {seed}",
        )


KIND = AE()


def fitted_gaussian_draws(codes: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` draws from the Gaussian with the mean and covariance of ``codes``: an autoencoder's stand-in prior."""
    rng = np.random.default_rng(seed)
    mean = codes.mean(axis=0)
    cov = np.atleast_2d(np.cov(codes, rowvar=False)) if len(codes) > 1 else np.eye(codes.shape[1])
    return rng.multivariate_normal(mean, cov, size=n, method="eigh").astype("float32")
