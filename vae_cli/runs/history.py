"""The one reader of a run's ``history.csv``: one row of numbers per epoch, and its best epoch by the run's score."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from vae_cli.errors import RunError, cut
from vae_cli.kinds import Score
from vae_cli.limits import MAX_HISTORY_BYTES


def _number(text: str | None) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return math.nan


def read_history(path: str | Path) -> list[dict[str, float]]:
    """history.csv as rows of floats, NaN where a cell is empty or not a number; a missing, unreadable or
    oversized file, or one that is not a regular file (a pipe would block), is a ``RunError`` that callers
    which list many runs may pass over."""
    path = Path(path)
    try:
        if not path.is_file():
            raise RunError(f"{path} is missing or not a regular file; the run folder is damaged")
        if path.stat().st_size > MAX_HISTORY_BYTES:
            raise RunError(f"{path} is over {MAX_HISTORY_BYTES:,} bytes; the run folder is damaged")
        with path.open(encoding="utf-8", newline="") as f:
            return [{key: _number(value) for key, value in row.items() if key} for row in csv.DictReader(f)]
    except (OSError, ValueError, csv.Error) as exc:
        raise RunError(f"cannot read {path}: {cut(str(exc))}; the run folder is damaged") from None


def columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    """The rows as columns (the first row's keys), NaN where a row lacks a key."""
    keys = list(rows[0]) if rows else []
    return {key: [row.get(key, math.nan) for row in rows] for key in keys}


def best_row(rows: list[dict[str, float]], score: Score) -> tuple[dict[str, float] | None, float]:
    """The row of a numbered epoch with the lowest score, and that score; ``(None, nan)`` when none has one."""
    return score.best([r for r in rows if math.isfinite(r.get("epoch", math.nan))])


def best_epoch(rows: list[dict[str, float]], score: Score) -> tuple[int | None, float | None]:
    """The epoch (its ``epoch`` column) with the lowest score, and that score; ``(None, None)`` when no epoch
    has a finite one."""
    row, value = best_row(rows, score)
    return (None, None) if row is None else (int(row["epoch"]), value)
