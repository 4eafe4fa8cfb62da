"""Training objectives as objects: the ELBO and the importance-weighted bound (IWAE), each registered once.

An objective says what a stochastic kind's loss layer optimises, which number
judges an epoch, and which ``train.*`` settings it needs. No Keras here.
"""

from __future__ import annotations

import math
from typing import Any

from vae_cli.errors import ConfigError
from vae_cli.registry import Registry

IWAE_LOSS = "iwae_loss"  # the metric of the importance-weighted bound at the target beta


def column(row: dict, key: str) -> float:
    """``row[key]`` as a float; NaN where it is missing or not a number, so it is never the best."""
    try:
        return float(row.get(key, math.nan))
    except (TypeError, ValueError):
        return math.nan


class Objective:
    """The ELBO (``reconstruction + beta x KL``, averaged over ``train.samples`` draws of z)."""

    name = "elbo"
    help = "elbo"
    importance_weighted = False  # the loss layer takes the log-mean-exp of the samples' weights
    extra_columns: tuple[str, ...] = ()  # history columns beyond the reconstruction and the KL

    def check(self, train: Any) -> None:
        """Rules of ``train.*`` that this objective adds."""

    def score(self, row: dict, beta: float, prefix: str = "val_") -> float:
        """The epoch's number at the target ``beta`` (Keras's ``loss`` carries the warm-up's weight instead)."""
        return column(row, f"{prefix}reconstruction_loss") + beta * column(row, f"{prefix}kl_loss")

    def score_name(self, beta: float) -> str:
        return "-ELBO" if beta == 1 else f"reconstruction + {beta:g} x KL"


class ImportanceWeighted(Objective):
    """The k-sample importance-weighted bound of Burda et al. (2016); k = ``train.samples`` >= 2."""

    name = "iwae"
    help = "iwae: the k-sample importance-weighted bound of Burda et al. (train.samples = k)"
    importance_weighted = True
    extra_columns = (IWAE_LOSS,)

    def check(self, train: Any) -> None:
        if train.samples < 2:
            raise ConfigError(
                f"train.samples: the iwae objective needs k >= 2 importance samples, got {train.samples} "
                "(with k = 1 it is the ELBO)"
            )

    def score(self, row: dict, beta: float, prefix: str = "val_") -> float:
        return column(row, f"{prefix}{IWAE_LOSS}")

    def score_name(self, beta: float) -> str:
        return "-IWAE bound"


ELBO = Objective()
IWAE = ImportanceWeighted()

OBJECTIVES: Registry[Objective] = Registry(
    "objective", {"elbo": "vae_cli.kinds.objectives:ELBO", "iwae": "vae_cli.kinds.objectives:IWAE"}
)
