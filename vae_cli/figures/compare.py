"""The comparison figure: several runs' validation -ELBO per epoch on one chart, each line labelled
with the run and the settings in which it differs from the others."""

from __future__ import annotations

import hashlib
import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.ticker
import numpy as np

from vae_cli.figures import writer
from vae_cli.figures.writer import plt
from vae_cli.kinds import KINDS
from vae_cli.runs.catalog import RunInfo, setting_text

MAX_NAME = 100  # characters of run names in the default file name


def default_path(runs: list[RunInfo]) -> Path:
    """``compare-A_vs_B.png`` beside the first run (shortened with a hash when the names are long)."""
    names = "_vs_".join(run.name for run in runs)
    if len(names) > MAX_NAME:
        digest = hashlib.sha256(names.encode()).hexdigest()[:8]
        names = f"{runs[0].name}-and-{len(runs) - 1}-more-{digest}"
    return runs[0].path.parent / f"compare-{names}.png"


def label(run: RunInfo, differing: dict[str, list[Any]], index: int) -> str:
    """The run's name, and below it the settings in which it differs, wrapped."""
    settings = ", ".join(f"{key}={_short(values[index])}" for key, values in differing.items())
    note = KINDS.get(run.kind).curve_note if run.kind in KINDS else ""
    name = f"{run.name} ({note})" if note else run.name
    lines = [name] + textwrap.wrap(settings, 60)
    return "\n".join(lines[:4] + (["..."] if len(lines) > 4 else []))


def _short(value):
    text = setting_text(value)
    return text if len(text) <= 24 else text[:21] + "..."


def save_comparison(path: Path, runs: list[RunInfo], differing: dict[str, list[Any]]) -> Path:
    """Each run's validation score at beta 1 per epoch (-ELBO = reconstruction + KL, nats per image; an iwae
    run's -IWAE bound, an ae's reconstruction), one line per run, best epochs starred."""
    fig, ax = plt.subplots(figsize=(10, 5.5))
    cmap = plt.get_cmap("tab10" if len(runs) <= 10 else "tab20")
    markers = "osD^v<>ph*"
    curves = []
    for i, run in enumerate(runs):
        epochs = np.asarray(run.history.get("epoch", []), dtype=float)
        values = np.asarray(run.comparable, dtype=float)
        # A damaged history.csv may lack a column: draw the epochs both columns have.
        epochs, values = epochs[: len(values)], values[: len(epochs)]
        color = cmap(i % cmap.N)
        ax.plot(
            epochs, values, marker=markers[i % len(markers)], markersize=4, color=color, label=label(run, differing, i)
        )
        finite = np.isfinite(values)
        if finite.any():
            best = int(np.nanargmin(np.where(finite, values, np.inf)))
            ax.plot(
                epochs[best],
                values[best],
                marker="*",
                markersize=14,
                color=color,
                markeredgecolor="black",
                linestyle="",
            )
            curves.append(values[finite])
    limits = y_limits(curves)
    if limits is not None:
        ax.set_ylim(*limits)
        ax.annotate("first epochs above the chart", (0.01, 0.98), xycoords="axes fraction", va="top", color="0.4")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation -ELBO (nats per image)")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    datasets = sorted({run.dataset for run in runs if run.dataset})
    title = "validation -ELBO = reconstruction + KL per epoch; star: each run's lowest"
    if len(datasets) == 1:
        title = f"{datasets[0]}: {title}"
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8, labelspacing=1.0)
    return writer.save_figure(fig, path)


def y_limits(curves: list[np.ndarray]) -> tuple[float, float] | None:
    """Limits that leave out first epochs far above the rest (None: show everything).

    The first epoch's loss can be several times the later ones; drawn to scale it
    would squash the differences between runs into a flat band.
    """
    later = [c[1:] for c in curves if len(c) > 1]
    if not later:
        return None
    low = min(float(c.min()) for c in curves)
    high = max(float(c.max()) for c in later)
    first = max(float(c[0]) for c in curves)
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or first <= high + (high - low):
        return None
    margin = 0.08 * (high - low)
    return low - margin, high + margin
