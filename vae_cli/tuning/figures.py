"""A study's figures: the optimisation history, the parameters' importances, the objective against each parameter.

Drawn here rather than with Optuna's matplotlib plots, which leave pruned trials
out, label the axes "Objective Value", set a global style, and crowd log-scale
tick labels; the importances are Optuna's own numbers (PED-ANOVA).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import matplotlib.cm
import matplotlib.colors
import matplotlib.ticker

from vae_cli.figures import writer
from vae_cli.figures.writer import plt
from vae_cli.tuning.space import Dimension

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
    low, top = _limits(points)
    complete = [r for r in points if r.state == "complete"]
    _scatter(ax, [r.number for r in points], points, top, None)
    if complete:
        best, xs, ys = math.inf, [], []
        for r in sorted(complete, key=lambda r: r.number):
            best = min(best, r.value)
            xs.append(r.number)
            ys.append(best)
        ax.step(xs, ys, where="post", color=_BEST, label="best so far")
    ax.set_ylim(low, top)
    ax.set_xlabel("trial")
    ax.set_ylabel(OBJECTIVE)
    ax.set_title(f"study {found.name}: {len(complete)} complete, {len(points) - len(complete)} pruned")
    ax.legend(loc="best", fontsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    return writer.save_figure(fig, found.folder / HISTORY)


def parameters(found: Any, points: list, dims: tuple[Dimension, ...]) -> Path:
    """One panel per searched key: the objective of each trial against its value; the best ringed."""
    dims = tuple(d for d in dims if any(d.key in r.params for r in points)) or (Dimension("(none)", "choice", ()),)
    cols = min(3, len(dims))
    rows = math.ceil(len(dims) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 0.8, 3.4 * rows), sharey=True, squeeze=False)
    low, top = _limits(points)
    colour = matplotlib.colors.Normalize(min(r.number for r in points), max(r.number for r in points) + 1e-9)
    for ax, d in zip(axes.flat, dims, strict=False):
        shown = [r for r in points if d.key in r.params]
        labels = d.labels() if d.kind == "choice" else None
        xs = [labels.index(r.params[d.key]) if labels else r.params[d.key] for r in shown]
        _scatter(ax, xs, shown, top, colour)
        best = found.best
        if best is not None and d.key in best.params and best.value <= top:
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
    axes[0, 0].set_ylim(low, top)
    for ax in axes[:, 0]:
        ax.set_ylabel(OBJECTIVE)
    fig.subplots_adjust(hspace=0.4)
    fig.colorbar(matplotlib.cm.ScalarMappable(colour, "viridis"), ax=axes, label="trial", fraction=0.03)
    fig.suptitle(
        f"study {found.name}: the objective against each parameter (o complete, x pruned, ^ above the plot; "
        "red ring: the best)",
        fontsize=9,
    )
    return writer.save_figure(fig, found.folder / PARAMS)


def _limits(points: list) -> tuple[float, float]:
    """The y range of the complete trials (a far outlier aside); what lies above is drawn on the top edge."""
    values = sorted(r.value for r in points if r.state == "complete") or sorted(r.value for r in points)
    low, high = values[0], values[-1]
    typical = values[int(0.75 * (len(values) - 1))]
    top = min(high, typical + 3 * max(typical - low, 1e-9))
    margin = 0.08 * max(top - low, 1e-6)
    return low - margin, top + margin


def _scatter(ax: Any, xs: list, rows: list, top: float, colour: Any) -> None:
    """Complete trials as dots, pruned ones as crosses; either above ``top`` as a triangle on the edge."""
    for state, marker, label in (("complete", "o", "complete"), ("pruned", "x", "pruned (its last epoch)")):
        for above in (False, True):
            keep = [i for i, r in enumerate(rows) if r.state == state and (r.value > top) == above]
            if not keep:
                continue
            style = {"c": [rows[i].number for i in keep], "cmap": "viridis", "norm": colour} if colour else {}
            if not colour:
                style = {"color": _COMPLETE if state == "complete" else _PRUNED}
                style["label"] = label + (", above the plot" if above else "")
            ys = [top if above else rows[i].value for i in keep]
            ax.scatter([xs[i] for i in keep], ys, marker="^" if above else marker, s=28, clip_on=False, **style)


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
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            values = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        return f"parameter importances not drawn: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if said:  # "too few trials", "... importances will be equal": nothing worth a figure
        return f"parameter importances not drawn: Optuna says: {str(said[0].message).split('. ')[0]}"
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
    return writer.save_figure(fig, found.folder / IMPORTANCE)


def _complete(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)
