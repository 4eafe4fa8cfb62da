"""How a trial can end besides completing, and the number each epoch is judged by; no Keras here."""

from __future__ import annotations

import math


class TrialFailed(Exception):
    """The trial's parameters made it fail (training diverged, or the settings do not go together)."""


class Surplus(Exception):
    """Another worker filled the study's last place first; this trial is closed without running."""


class GivenUp(Exception):
    """Other workers declared this trial dead (no heartbeat within the grace period) and queued it again."""


def epoch_objective(row: dict) -> float:
    """The validation -ELBO of one epoch: reconstruction + KL at beta 1, whatever the training beta.

    An autoencoder's epoch has no KL at all (no column, not a missing value): its reconstruction alone.
    """
    kl = row.get("val_kl_loss", math.nan) if "val_kl_loss" in row or "kl_loss" in row else 0.0
    return float(row.get("val_reconstruction_loss", math.nan)) + float(kl)
