"""``model.kind: btcvae``: beta-TCVAE (Chen et al., 2018), a VAE whose loss weighs the total correlation of q(z)
by ``train.beta`` and the rest of the KL by 1.

The network, the prior and every figure are the VAE's; the loss adds the total
correlation, estimated by minibatch-weighted sampling over the batch
(``vae_cli.model.total_correlation``), and reports it as ``tc_loss``. An epoch is
judged by ``reconstruction + KL + (beta - 1) x TC``, the -ELBO at beta 1.
"""

from __future__ import annotations

import math
from typing import Any

from vae_cli.errors import ConfigError
from vae_cli.kinds.objectives import Objective, column
from vae_cli.kinds.vae import VAE
from vae_cli.names import TC_LOSS

MAX_PAIR_VALUES = 2**26  # the estimator holds batch x batch x latent_dim densities: 256 MB in float32


class BetaTCVAE(VAE):
    name = "btcvae"
    help = "btcvae: beta-TCVAE, train.beta weighs the total correlation"
    loss_columns = ("reconstruction_loss", "kl_loss", TC_LOSS)

    def check_config(self, model: Any, train: Any, objective: Objective) -> None:
        if objective.importance_weighted or train.samples != 1:
            raise ConfigError(
                f"model.kind {self.name} estimates the total correlation from one z per image: use "
                "train.objective: elbo and train.samples: 1"
            )
        if train.kl_warmup_epochs:
            raise ConfigError(
                f"train.kl_warmup_epochs: model.kind {self.name} weighs the total correlation by train.beta and "
                "the KL by 1, which a warm-up would not ramp together; leave it at 0"
            )
        pairs = train.batch_size**2 * model.latent_dim
        if pairs > MAX_PAIR_VALUES:
            most = math.isqrt(MAX_PAIR_VALUES // model.latent_dim)
            raise ConfigError(
                f"train.batch_size: model.kind {self.name} compares every pair of a batch's images in each of "
                f"model.latent_dim {model.latent_dim} dimensions, {pairs:,} values over the {MAX_PAIR_VALUES:,} "
                f"allowed; use a batch of at most {most}"
            )

    def score(self, row: dict, objective: Objective, beta: float, prefix: str = "val_") -> float:
        elbo = objective.score(row, 1.0, prefix)
        return elbo if beta == 1 else elbo + (beta - 1) * column(row, f"{prefix}{TC_LOSS}")

    def score_name(self, objective: Objective, beta: float) -> str:
        return "-ELBO" if beta == 1 else f"-ELBO + {beta - 1:g} x TC"

    def score_terms(self, row: dict, beta: float, prefix: str = "val_") -> str:
        terms = f"reconstruction {column(row, f'{prefix}reconstruction_loss'):.2f} + KL {column(row, f'{prefix}kl_loss'):.2f}"
        return terms if beta == 1 else f"{terms} + {beta - 1:g} x TC {column(row, f'{prefix}{TC_LOSS}'):.2f}"

    def assemble(self, encoder: Any, decoder_logits: Any, loss: Any) -> Any:
        from vae_cli.model.total_correlation import assemble

        return assemble(encoder, decoder_logits, loss)


KIND = BetaTCVAE()
