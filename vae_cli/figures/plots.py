"""Every figure of the tool, drawn with matplotlib's Agg backend and saved atomically.

Functions take arrays, not models: the callers decode each figure's images in
one batched pass and hand them over.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from vae_cli.runs.atomic import atomic_write  # noqa: E402

DPI = 100


def tile(images: np.ndarray, rows: int, cols: int, pad: int = 0) -> np.ndarray:
    """(rows*cols, H, W, C) images -> one (rows*H, cols*W[, C]) canvas, row-major."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    if n != rows * cols:
        raise ValueError(f"tile needs rows*cols={rows * cols} images. Received: {n}")
    canvas = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad, c), dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, cols)
        canvas[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return canvas[..., 0] if c == 1 else canvas


def pad_to(images: np.ndarray, count: int) -> np.ndarray:
    """``images`` followed by blank (white) ones up to ``count``, to fill a grid's last row."""
    missing = count - len(images)
    return images if missing <= 0 else np.concatenate([images, np.ones((missing, *images.shape[1:]), images.dtype)])


def _show(ax, canvas):
    grey = canvas.ndim == 2
    ax.imshow(canvas, cmap="gray" if grey else None, vmin=0.0, vmax=1.0, interpolation="nearest")


def _save(fig, path, tight=True):
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight" if tight else None))
    finally:
        plt.close(fig)
    return path


def save_plain(path: Path, canvas: np.ndarray) -> Path:
    """The pixels alone, one image pixel per PNG pixel: for papers and slides."""
    import matplotlib.image

    cmap = "gray" if canvas.ndim == 2 else None
    atomic_write(path, lambda tmp: matplotlib.image.imsave(tmp, np.clip(canvas, 0, 1), cmap=cmap, vmin=0, vmax=1))
    return path


def save_manifold(
    path: Path,
    images: np.ndarray,
    x_values: np.ndarray,
    y_values: np.ndarray,
    title: str,
    xlabel: str = "z[0]",
    ylabel: str = "z[1]",
    axes: bool = True,
) -> Path:
    """The latent-space grid: ``images[r * n + c]`` decoded at (x_values[c], y_values[r])."""
    rows, cols = len(y_values), len(x_values)
    h, w = images.shape[1:3]
    canvas = tile(images, rows, cols)
    if not axes:
        return save_plain(path, canvas)
    size = max(4.0, min(12.0, cols * w / 45))
    fig, ax = plt.subplots(figsize=(size + 0.8, size + 0.8))
    _show(ax, canvas)
    step = max(1, cols // 8)
    ax.set_xticks(np.arange(cols)[::step] * w + (w - 1) / 2, _tick_labels(x_values[::step]))
    ax.set_yticks(np.arange(rows)[::step] * h + (h - 1) / 2, _tick_labels(y_values[::step]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _tick_labels(values):
    return [f"{round(float(v), 2) + 0.0:.2f}" for v in values]  # + 0.0 turns -0.0 into 0.0


def save_image_grid(path: Path, images: np.ndarray, cols: int, title: str | None = None, wrap: bool = True) -> Path:
    """Images in a grid without axes (epoch samples, random samples).

    The figure size depends only on the grid's shape, so the per-epoch sample
    images share one size and stack into the progress GIF.
    """
    rows = int(np.ceil(len(images) / cols))
    images = pad_to(images, rows * cols)
    canvas = tile(images, rows, cols, pad=1)
    width = max(3.0, cols * 0.45)
    image_height = width * canvas.shape[0] / canvas.shape[1]
    if title and wrap:  # narrow grids would crop a one-line title; about 5.5 points per character at size 9
        title = _wrap(title, int(width * 72 / 5.5))
    band = 0.2 + 0.15 * title.count("\n") + 0.15 if title else 0.0
    fig = plt.figure(figsize=(width, image_height + band))
    ax = fig.add_axes((0.0, 0.0, 1.0, image_height / (image_height + band)))
    _show(ax, canvas)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9, y=0.995, va="top")
    return _save(fig, path, tight=False)


def _wrap(title, chars):
    """``title`` in lines of at most ``chars``, breaking first after the "dataset · latent · epochs:" part."""
    if len(title) <= chars:
        return title
    parts = title.replace(": ", ":\n", 1).split("\n")
    return "\n".join(line for part in parts for line in textwrap.wrap(part, chars, break_long_words=False))


def save_rows(
    path: Path,
    rows: list[np.ndarray],
    row_labels: list[str],
    title: str,
    col_labels: list[str] | None = None,
    highlight_cols: tuple[int, ...] = (),
) -> Path:
    """Rows of images with a label per row (reconstructions, traversals, interpolations).

    ``rows`` is a list of (N, H, W, C) arrays of equal N; ``highlight_cols`` frames
    columns that show real data rather than decodings.
    """
    n_rows, n_cols = len(rows), len(rows[0])
    h, w = rows[0].shape[1:3]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(0.9 * n_cols + 1.2, 0.9 * n_rows + 0.7), squeeze=False)
    for r, images in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            image = images[c][..., 0] if images.shape[-1] == 1 else images[c]
            ax.imshow(
                np.clip(image, 0, 1), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest"
            )
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(c in highlight_cols)
                spine.set_color("tab:orange")
                spine.set_linewidth(2)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
            if col_labels is not None and r == n_rows - 1:
                ax.set_xlabel(col_labels[c], fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def save_gif(path: Path, frames: Any, durations_ms: list[int]) -> Path:
    """An animated GIF from equally sized RGB(A) or grey frames (float in [0, 1] or uint8)."""
    from PIL import Image

    def to_image(frame):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            frame = (np.clip(frame, 0, 1) * 255).round().astype(np.uint8)
        if frame.ndim == 3 and frame.shape[-1] == 1:
            frame = frame[..., 0]
        return Image.fromarray(frame).convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)

    images = [to_image(f) for f in frames]

    def write(tmp):
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=list(durations_ms), loop=0)

    atomic_write(path, write)
    return path


def read_png(path: Path) -> np.ndarray:
    """A PNG as a float array in [0, 1] (RGBA), for assembling GIF frames."""
    import matplotlib.image

    return matplotlib.image.imread(path)


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
        s=3,
        alpha=0.7,
        linewidths=0,
    )
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", markersize=6, color=cmap(i), label=name)
        for i, name in enumerate(class_names)
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.2)
    return _save(fig, path)


def save_loss_curves(path: Path, history: dict, title: str, beta: float = 1.0) -> Path:
    """Objective, reconstruction and KL per epoch, train and validation, one panel each.

    Panels without numbers are left out (an autoencoder has no KL); an iwae run
    gets a panel for its bound.
    """
    epochs = np.asarray(history["epoch"])
    objective = "-ELBO = reconstruction + KL" if beta == 1 else f"reconstruction + {beta:g} x KL"
    parts = [("objective", objective), ("reconstruction_loss", "reconstruction"), ("kl_loss", "KL")]
    parts.insert(0, ("iwae_loss", "-IWAE bound (training samples k)" if beta == 1 else f"-IWAE bound, beta {beta:g}"))
    parts = [(key, label) for key, label in parts if np.isfinite(np.asarray(history.get(key, []), float)).any()]
    fig, axes = plt.subplots(1, len(parts), figsize=(4.4 * len(parts), 3.8), squeeze=False)
    for ax, (key, label) in zip(axes[0], parts, strict=True):
        ax.plot(epochs, history[key], marker="o", markersize=3, label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], marker="o", markersize=3, label="validation")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("nats per image")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
