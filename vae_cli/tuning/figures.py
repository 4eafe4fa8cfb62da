"""A study's figures: the optimisation history, the parameters' importances, the objective against each parameter.

Drawn here rather than with Optuna's matplotlib plots, which leave pruned trials
out, label the axes "Objective Value", set a global style, and crowd log-scale
tick labels; the importances are Optuna's own numbers (PED-ANOVA).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from vae_cli.runs.atomic import atomic_write  # noqa: E402
from vae_cli.tuning.space import Dimension  # noqa: E402

HISTORY, IMPORTANCE, PARAMS = "history.png", "importance.png", "params.png"
OBJECTIVE = "validation -ELBO (nats per image)"
_COMPLETE, _PRUNED, _BEST = "tab:blue", "0.6", "tab:red"


def draw_all(study: Any, found: Any, dims: tuple[Dimension, ...]) -> tuple[list[Path], list[str]]:
    """The three figures into ``found.folder``; returns the files written and notes on those that were not."""
    points = [r for r in found.rows if r.state in ("complete", "pruned") and _finite(r.value)]
    if not points:
        return [], ["no trial has finished yet, so there are no figures"]
    paths, notes = [history(found, points), parameters(found, points, dims)], []
    drawn = importance(study, found)
    if isinstance(drawn, Path):
        paths.append(drawn)
    else:
        notes.append(drawn)
    return paths, notes


def history(found: Any, points: list) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    complete = [r for r in points if r.state == "complete"]
    pruned = [r for r in points if r.state == "pruned"]
    if complete:
        ax.scatter(
            [r.number for r in complete], [r.value for r in complete], color=_COMPLETE, label="complete", zorder=3
        )
        best, xs, ys = math.inf, [], []
        for r in sorted(complete, key=lambda r: r.number):
            best = min(best, r.value)
            xs.append(r.number)
            ys.append(best)
        ax.step(xs, ys, where="post", color=_BEST, label="best so far")
    if pruned:
        ax.scatter(
            [r.number for r in pruned],
            [r.value for r in pruned],
            marker="x",
            color=_PRUNED,
            label="pruned (last epoch)",
        )
    _clip(ax, [r.value for r in points])
    ax.set_xlabel("trial")
    ax.set_ylabel(OBJECTIVE)
    ax.set_title(f"study {found.name}: {len(complete)} complete, {len(pruned)} pruned")
    ax.legend(loc="best", fontsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    return _save(fig, found.folder / HISTORY)


def parameters(found: Any, points: list, dims: tuple[Dimension, ...]) -> Path:
    """One panel per searched key: the objective of each trial against its value; the best ringed."""
    dims = tuple(d for d in dims if any(d.key in r.params for r in points)) or (Dimension("(none)", "choice", ()),)
    cols = min(3, len(dims))
    rows = math.ceil(len(dims) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), sharey=True, squeeze=False)
    numbers = [r.number for r in points]
    for ax, d in zip(axes.flat, dims, strict=False):
        shown = [r for r in points if d.key in r.params]
        labels = d.labels() if d.kind == "choice" else None
        xs = [labels.index(r.params[d.key]) if labels else r.params[d.key] for r in shown]
        colours = [r.number for r in shown]
        for state, marker in (("complete", "o"), ("pruned", "x")):
            keep = [i for i, r in enumerate(shown) if r.state == state]
            if keep:
                ax.scatter(
                    [xs[i] for i in keep],
                    [shown[i].value for i in keep],
                    c=[colours[i] for i in keep],
                    cmap="viridis",
                    vmin=min(numbers),
                    vmax=max(numbers) + 1e-9,
                    marker=marker,
                    s=28,
                )
        best = found.best
        if best is not None and d.key in best.params:
            x = labels.index(best.params[d.key]) if labels else best.params[d.key]
            ax.scatter([x], [best.value], s=140, facecolors="none", edgecolors=_BEST, linewidths=1.5)
        if labels:
            ax.set_xticks(range(len(labels)), [str(v) for v in labels])
            ax.set_xlim(-0.5, len(labels) - 0.5)
        else:
            _range_axis(ax, d)
        ax.set_xlabel(d.key)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(dims) :]:
        ax.set_visible(False)
    _clip(axes[0, 0], [r.value for r in points])
    for ax in axes[:, 0]:
        ax.set_ylabel(OBJECTIVE)
    fig.suptitle(
        f"study {found.name}: objective against each parameter (o complete, x pruned; colour: trial number; "
        "red ring: best)",
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, found.folder / PARAMS)


def _range_axis(ax: Any, d: Dimension) -> None:
    """The whole searched range on the axis, so the panel also shows what was left unexplored."""
    low, high = (float(v) for v in d.values)
    if d.kind == "log_uniform":
        ax.set_xscale("log")
        ax.set_xlim(low / (high / low) ** 0.04, high * (high / low) ** 0.04)
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    else:
        margin = 0.04 * (high - low)
        ax.set_xlim(low - margin, high + margin)


def importance(study: Any, found: Any) -> Path | str:
    """Optuna's parameter importances as bars; a note instead when the study cannot yet say."""
    import optuna

    try:
        values = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        return f"parameter importances not drawn: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if not values:
        return "parameter importances not drawn: no complete trial varies a parameter yet"
    keys = list(values)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(keys) + 1.4))
    ax.barh(keys, [values[k] for k in keys], color=_COMPLETE)
    for y, k in enumerate(keys):
        ax.text(values[k], y, f" {values[k]:.2f}", va="center", fontsize=8)
    ax.set_xlabel("importance (PED-ANOVA: share of what sets the best trials apart)")
    ax.set_xlim(0, max(values.values()) * 1.15 or 1)
    ax.set_title(f"study {found.name}: parameter importances over {_complete(study)} complete trials")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, found.folder / IMPORTANCE)


def _complete(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _clip(ax: Any, values: list[float]) -> None:
    """A diverged-looking trial far above the rest would squash them into a line: keep the rest readable."""
    values = np.sort(np.asarray(values, dtype=float))
    low, high = values[0], values[-1]
    typical = values[min(len(values) - 1, int(0.75 * len(values)))]
    top = min(high, typical + 3 * max(typical - low, 1e-9))
    margin = 0.05 * max(top - low, 1e-6)
    ax.set_ylim(low - margin, top + margin)
    if top < high:
        ax.text(0.01, 0.99, f"{int(np.sum(values > top))} above the top", transform=ax.transAxes, va="top", fontsize=8)


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)


def _save(fig: Any, path: Path) -> Path:
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path
