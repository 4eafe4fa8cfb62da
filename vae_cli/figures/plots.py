"""The image figures (grids, rows of images, a training epoch's frame), laid out for ``writer`` to save.

Functions take arrays, not models: the callers decode each figure's images in
one batched pass and hand them over. Sizes follow the images: small images
(8x8) are enlarged until a cell can be seen, large ones (128x128) are shown
smaller so that a figure stays on a screen, and tick labels are thinned so
that they never run into each other.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli.figures import writer
from vae_cli.figures.writer import DPI, plt

MIN_CELL_PX = 56  # the smaller side of an image cell on screen: an 8x8 image is enlarged 7 times
MAX_FIGURE_PX = 1400  # the longest run of cells on screen: larger images are shown smaller
CHAR_WIDTH, LINE_HEIGHT = 0.6, 1.5  # a label's width per character and its line height, in font sizes


def cell_scale(h: int, w: int, rows: int, cols: int, upscale: float = 2.0) -> float:
    """Screen pixels per image pixel for a rows x cols grid of h x w images."""
    scale = max(upscale, MIN_CELL_PX / min(h, w))
    return min(scale, MAX_FIGURE_PX / (cols * w), MAX_FIGURE_PX / (rows * h))


def label_step(label_chars: int, spacing_in: float, fontsize: float, vertical: bool = False) -> int:
    """Show every how-many-th of evenly spaced labels (``spacing_in`` inches apart) so none overlap."""
    size = fontsize * (LINE_HEIGHT if vertical else CHAR_WIDTH * label_chars) / 72 + 0.1
    return max(1, math.ceil(size / max(spacing_in, 1e-6)))


def wrap_title(title: str, width_in: float, fontsize: float = 10) -> str:
    """Each line of ``title`` wrapped to ``width_in`` inches of text at ``fontsize``."""
    chars = max(20, int(width_in * 72 / (fontsize * 0.55)))
    return "\n".join(_wrap(line, chars) for line in title.split("\n"))


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


def _show(ax, canvas, scale=1.0):
    """Sharp pixels when enlarged; smoothed when shown smaller, where nearest-neighbour would alias."""
    grey = canvas.ndim == 2
    how = "nearest" if scale >= 1 else "antialiased"
    ax.imshow(np.clip(canvas, 0, 1), cmap="gray" if grey else None, vmin=0.0, vmax=1.0, interpolation=how)


@dataclass(frozen=True)
class GridCoordinates:
    """Where a latent grid's images were decoded: the values across its columns (left to right) and
    down its rows (top to bottom), and the names of the two axes."""

    x_values: np.ndarray
    y_values: np.ndarray
    x_label: str = "z[0]"
    y_label: str = "z[1]"


def save_manifold(path: Path, images: np.ndarray, grid: GridCoordinates, title: str, axes: bool = True) -> Path:
    """The latent-space grid: ``images[r * n + c]`` decoded at (grid.x_values[c], grid.y_values[r]).

    ``axes`` False: the pixels alone, one image pixel per file pixel, for papers and slides.
    """
    x_values, y_values = grid.x_values, grid.y_values
    rows, cols = len(y_values), len(x_values)
    h, w = images.shape[1:3]
    canvas = tile(images, rows, cols)
    if not axes:
        return writer.save_pixels(path, canvas)
    scale = cell_scale(h, w, rows, cols)
    cell_w, cell_h = w * scale / DPI, h * scale / DPI
    width, height = cols * cell_w, rows * cell_h
    title = wrap_title(title, max(width, 4.0))
    top = 0.3 + 0.2 * (title.count("\n") + 1)
    fig_w, fig_h = width + 1.2, height + 0.8 + top  # room for the ticks, the labels and the title
    ax = plt.figure(figsize=(fig_w, fig_h)).add_axes((1.0 / fig_w, 0.7 / fig_h, width / fig_w, height / fig_h))
    fig = ax.figure
    _show(ax, canvas, scale)
    x_labels, y_labels = _tick_labels(x_values), _tick_labels(y_values)
    sx = label_step(max(map(len, x_labels)), cell_w, 9)
    sy = label_step(1, cell_h, 9, vertical=True)
    ax.set_xticks(np.arange(cols)[::sx] * w + (w - 1) / 2, x_labels[::sx], fontsize=9)
    ax.set_yticks(np.arange(rows)[::sy] * h + (h - 1) / 2, y_labels[::sy], fontsize=9)
    ax.set_xlabel(grid.x_label)
    ax.set_ylabel(grid.y_label)
    ax.set_title(title, fontsize=10)
    return writer.save_figure(fig, path)


def _tick_labels(values):
    return [f"{round(float(v), 2) + 0.0:.2f}" for v in values]  # + 0.0 turns -0.0 into 0.0


def save_image_grid(path: Path, images: np.ndarray, cols: int, title: str | None = None, wrap: bool = True) -> Path:
    """Images in a grid without axes (random samples)."""
    rows = int(np.ceil(len(images) / cols))
    h, w = images.shape[1:3]
    canvas = tile(pad_to(images, rows * cols), rows, cols, pad=1)
    return _save_canvas(path, canvas, cell_scale(h, w, rows, cols), title, wrap)


def save_epoch_frame(
    path: Path, samples: np.ndarray, cols: int, originals: np.ndarray, reconstructions: np.ndarray, title: str
) -> Path:
    """One epoch's frame of the progress GIF: the fixed prior samples, and under them fixed validation images
    above their reconstructions. Its size depends only on the images' shape and count, so every
    epoch's frame has the same size."""
    rows = int(np.ceil(len(samples) / cols))
    h, w = samples.shape[1:3]
    top = tile(pad_to(samples, rows * cols), rows, cols, pad=1)
    strip = tile(np.concatenate([pad_to(originals[:cols], cols), pad_to(reconstructions[:cols], cols)]), 2, cols, 1)
    scale = cell_scale(h, w, rows + 2, cols)
    gap = math.ceil(0.22 * DPI / scale)  # canvas rows that show as 0.22 inches: room for the caption
    canvas = np.concatenate([top, np.ones((gap, *top.shape[1:]), top.dtype), strip])
    caption = (top.shape[1] / 2, top.shape[0] + gap / 2, "validation images and their reconstructions")
    return _save_canvas(path, canvas, scale, title, wrap=False, caption=caption)


def _save_canvas(path, canvas, scale, title, wrap, caption=None):
    width = max(3.0, canvas.shape[1] * scale / DPI)
    image_height = width * canvas.shape[0] / canvas.shape[1]
    if title and wrap:  # narrow grids would crop a one-line title
        title = wrap_title(title, width, fontsize=9)
    band = 0.2 + 0.15 * title.count("\n") + 0.15 if title else 0.0
    fig = plt.figure(figsize=(width, image_height + band))
    ax = fig.add_axes((0.0, 0.0, 1.0, image_height / (image_height + band)))
    _show(ax, canvas, scale)
    ax.set_axis_off()
    if caption:
        ax.text(*caption, ha="center", va="center", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9, y=0.995, va="top")
    return writer.save_figure(fig, path, tight=False)


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
    scale = cell_scale(h, w, n_rows, n_cols, upscale=3.0)
    cell_w, cell_h = w * scale / DPI + 0.06, h * scale / DPI + 0.06  # a little space between cells
    title = wrap_title(title, n_cols * cell_w + 1.0)
    label_every = 1 if col_labels is None else label_step(max(map(len, col_labels)), cell_w, 7)
    size = (n_cols * cell_w + 1.2, n_rows * cell_h + 0.5 + 0.2 * (title.count("\n") + 1))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=size, squeeze=False)
    for r, images in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            _show(ax, images[c][..., 0] if images.shape[-1] == 1 else images[c], scale)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(c in highlight_cols)
                spine.set_color("tab:orange")
                spine.set_linewidth(2)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
            if col_labels is not None and r == n_rows - 1 and c % label_every == 0:
                ax.set_xlabel(col_labels[c], fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return writer.save_figure(fig, path)


def read_png(path: Path) -> np.ndarray:
    """A PNG as a float array in [0, 1] (RGBA), for assembling GIF frames."""
    import matplotlib.image

    return matplotlib.image.imread(path)
