"""The charts of a run (the latent scatter, the loss curves, the KL of each latent dimension, the
information each latent dimension holds about each known factor),
sized for any number of points, epochs or dimensions, and saved like the image figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib.ticker
import numpy as np

from vae_cli.figures import writer
from vae_cli.figures.plots import label_step, wrap_title
from vae_cli.figures.writer import plt


def marker_size(count: int) -> float:
    """Scatter marker area (points squared): dots for 10,000 points, discs for a few hundred."""
    return float(np.clip(8000 / max(count, 1), 2.0, 40.0))


def save_latent_scatter(
    path: Path,
    points: np.ndarray,
    labels: np.ndarray,
    class_names: list[str],
    title: str,
    axis_labels: tuple[str, str] = ("z[0]", "z[1]"),
) -> Path:
    """2-D latent points coloured by class, with a legend of class names."""
    fig, ax = plt.subplots(figsize=(8.5, 7))
    cmap = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    order = np.random.default_rng(0).permutation(len(points))  # no class painted over the others
    ax.scatter(
        points[order, 0],
        points[order, 1],
        c=labels[order],
        cmap=cmap,
        vmin=-0.5,
        vmax=cmap.N - 0.5,
        s=marker_size(len(points)),
        alpha=0.7 if len(points) > 1000 else 0.9,
        linewidths=0,
    )
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", markersize=6, color=cmap(i % cmap.N), label=name)
        for i, name in enumerate(class_names)
    ]
    ax.legend(
        handles=handles,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        frameon=False,
        fontsize=9,
        ncol=max(1, int(np.ceil(len(class_names) / 25))),
    )
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(wrap_title(title, 8.0), fontsize=10)
    ax.grid(alpha=0.2)
    return writer.save_figure(fig, path)


def save_loss_curves(
    path: Path, history: dict, title: str, beta: float = 1.0, best_epoch: int | None = None, best_note: str = ""
) -> Path:
    """Objective, reconstruction and KL per epoch, train and validation, one panel each; ``best_epoch``
    (the lowest validation objective at the target beta) marked in each panel, ``best_note`` beside it.

    Panels without numbers are left out (an autoencoder has no KL); an iwae run gets a panel for its bound.
    """
    epochs = np.asarray(history["epoch"])
    objective = "-ELBO = reconstruction + KL" if beta == 1 else f"reconstruction + {beta:g} x KL"
    iwae = "-IWAE bound (training samples k)" if beta == 1 else f"-IWAE bound, beta {beta:g}"
    parts = [
        ("iwae_loss", iwae),
        ("objective", objective),
        ("reconstruction_loss", "reconstruction"),
        ("kl_loss", "KL"),
    ]
    parts = [(key, label) for key, label in parts if np.isfinite(np.asarray(history.get(key, []), float)).any()]
    fig, axes = plt.subplots(1, len(parts), figsize=(4.4 * len(parts), 3.8), squeeze=False)
    dots = {"marker": "o", "markersize": 3} if len(epochs) <= 40 else {}  # hundreds of dots would hide the line
    for ax, (key, label) in zip(axes[0], parts, strict=True):
        ax.plot(epochs, history[key], label="train", **dots)
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="validation", **dots)
        if best_epoch is not None:
            ax.axvline(
                best_epoch,
                color="tab:green",
                linestyle="--",
                linewidth=1,
                label=f"best epoch {best_epoch}: {best_note}".rstrip(": "),
            )
            if key == "objective" and "val_objective" in history and best_epoch in epochs:
                best = history["val_objective"][int(np.flatnonzero(epochs == best_epoch)[0])]
                ax.plot([best_epoch], [best], marker="*", markersize=12, color="tab:green", linestyle="")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)  # one epoch would get an axis of fractions
        ax.set_ylabel("nats per image")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return writer.save_figure(fig, path)


def save_kl_per_dim(path: Path, kl_per_dim: list[float], active: list[bool], title: str) -> Path:
    """A bar per latent dimension: its KL in nats per image, active dimensions in colour."""
    dims = len(kl_per_dim)
    width = float(np.clip(1.5 + 0.22 * dims, 5.0, 14.0))
    fig, ax = plt.subplots(figsize=(width, 4.0))
    colours = ["tab:blue" if a else "lightgrey" for a in active]
    ax.bar(np.arange(dims), kl_per_dim, color=colours, width=0.8)
    step = label_step(len(str(dims - 1)), (width - 1.5) / max(dims, 1), 8)
    ax.set_xticks(np.arange(0, dims, step))
    ax.tick_params(axis="x", labelsize=8)
    side = max(0.0, (5 - dims) / 2)  # a few bars stay bar-shaped rather than filling the width
    ax.set_xlim(-0.6 - side, dims - 0.4 + side)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL (nats per image)")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colour, label=f"{what} ({count})")
        for colour, what, count in (("tab:blue", "active", sum(active)), ("lightgrey", "inactive", dims - sum(active)))
        if count
    ]
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(wrap_title(title, width), fontsize=10)
    return writer.save_figure(fig, path)


def save_information_matrix(path: Path, shares: np.ndarray, factor_names: list[str], title: str) -> Path:
    """A factor-by-latent heat map of the share of each factor's entropy that each latent dimension holds."""
    factors, dims = shares.shape
    width = float(np.clip(2.5 + 0.55 * dims, 5.0, 16.0))
    fig, ax = plt.subplots(figsize=(width, 1.4 + 0.5 * factors))
    image = ax.imshow(shares, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    if dims <= 32:  # the values themselves, while they fit their cells
        for (r, c), share in np.ndenumerate(shares):
            ax.text(
                c, r, f"{share:.2f}", ha="center", va="center", fontsize=7, color="white" if share < 0.6 else "black"
            )
    step = label_step(len(str(dims - 1)), (width - 2.5) / max(dims, 1), 8)
    ax.set_xticks(np.arange(0, dims, step))
    ax.set_yticks(np.arange(factors), factor_names)
    ax.set_xlabel("latent dimension")
    fig.colorbar(image, ax=ax, label="MI / H(factor)", fraction=0.04, pad=0.02)
    ax.set_title(wrap_title(title, width), fontsize=10)
    return writer.save_figure(fig, path)
