"""The per-epoch history table: CSV for the run folder, columns for the loss plot."""

from __future__ import annotations

import csv
import io

import numpy as np

from vae_cli.kinds import KINDS, OBJECTIVES

KEYS = ["loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"]


def extra_columns() -> list[str]:
    """The metrics that objectives and kinds add (an iwae run's bound at the target beta, a btcvae's total
    correlation), in training and validation."""
    extra = [column for objective in OBJECTIVES for column in objective.extra_columns]
    extra += [column for kind in KINDS for column in kind.loss_columns if column not in KEYS + extra]
    return extra + [f"val_{column}" for column in extra]


def _keys(rows: list[dict]) -> list[str]:
    """The columns the rows have (an autoencoder has no KL), or all the usual ones before the first epoch."""
    present = {key for row in rows for key in row}
    return [key for key in KEYS + extra_columns() if key in present] if rows else KEYS


def history_csv(rows: list[dict]) -> str:
    """``val_`` columns are measured on the validation split (the test split only where it serves as such)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["epoch", *_keys(rows), "seconds"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def history_columns(rows: list[dict], beta: float = 1.0) -> dict[str, list]:
    """Columns for the loss plot, with ``objective`` = reconstruction + beta x KL.

    Keras's ``loss`` carries the KL weight of the moment, which KL warm-up lowers;
    the objective at the target beta is what the run is judged by.
    """
    columns = {key: [row.get(key, np.nan) for row in rows] for key in ["epoch", *KEYS, *_keys(rows)]}
    for prefix in ("", "val_"):
        recon = np.asarray(columns[f"{prefix}reconstruction_loss"], dtype=float)
        kl = np.asarray(columns[f"{prefix}kl_loss"], dtype=float)
        columns[f"{prefix}objective"] = list(recon + beta * kl)
    return columns
