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
from vae_cli.limits import MAX_TC_PAIR_VALUES
from vae_cli.names import TC_LOSS


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
        if train.batch_size < 2 or model.latent_dim < 2:
            too_small = (
                f"train.batch_size: {train.batch_size}"
                if train.batch_size < 2
                else f"model.latent_dim: {model.latent_dim}"
            )
            raise ConfigError(
                f"{too_small}: model.kind {self.name} estimates the total correlation between latent dimensions "
                "from the other images of a batch; it needs a batch of at least 2 and at least 2 dimensions"
            )
        pairs = train.batch_size**2 * model.latent_dim
        if pairs > MAX_TC_PAIR_VALUES:
            most = math.isqrt(MAX_TC_PAIR_VALUES // model.latent_dim)
            raise ConfigError(
                f"train.batch_size: model.kind {self.name} compares every pair of a batch's images in each of "
                f"model.latent_dim {model.latent_dim} dimensions, {pairs:,} values over the {MAX_TC_PAIR_VALUES:,} "
                f"allowed; use a batch of at most {most}"
            )

    def score(self, row: dict, objective: Objective, beta: float, prefix: str = "val_") -> float:
        elbo = objective.score(row, 1.0, prefix)
        return elbo if beta == 1 else elbo + (beta - 1) * column(row, f"{prefix}{TC_LOSS}")

    def score_name(self, objective: Objective, beta: float) -> str:
        return "-ELBO" + _tc_weight(beta)

    def score_terms(self, row: dict, beta: float, prefix: str = "val_") -> str:
        terms = f"reconstruction {column(row, f'{prefix}reconstruction_loss'):.2f}"
        terms += f" + KL {column(row, f'{prefix}kl_loss'):.2f}"
        return terms + (f"{_tc_weight(beta)} {column(row, f'{prefix}{TC_LOSS}'):.2f}" if beta != 1 else "")

    def evaluation_batch(self, train: Any, batch: int, images: int) -> int:
        # The estimate depends on the batch's size: validation is scored in batches of at most the training size
        # (the memory cap holds), split evenly so that no last batch of a few images skews it.
        batches = max(1, math.ceil(images / train.batch_size))
        return max(1, math.ceil(images / batches))

    def assemble(self, encoder: Any, decoder_logits: Any, loss: Any) -> Any:
        from vae_cli.model.total_correlation import assemble

        return assemble(encoder, decoder_logits, loss)


def _tc_weight(beta: float) -> str:
    """`` + 5 x TC`` for beta 6, `` - 0.5 x TC`` for beta 0.5, nothing at beta 1."""
    if beta == 1:
        return ""
    return f" {'+' if beta > 1 else '-'} {abs(beta - 1):g} x TC"


KIND = BetaTCVAE()
