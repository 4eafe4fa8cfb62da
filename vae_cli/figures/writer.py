"""Writing figures to files: matplotlib's Agg backend, the figures' DPI, and an atomic save in the format
the file name's suffix asks for (PNG, PDF or SVG; an animation as GIF).

Every figure file of the package is written here, so a crash mid-save leaves the
previous file or the new one, never a truncated mix, and every figure gets the
same resolution.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import matplotlib

if "inline" not in os.environ.get("MPLBACKEND", ""):  # a Jupyter kernel keeps its inline backend
    matplotlib.use("Agg")  # files only: no window, and no display needed

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vae_cli.runs.atomic import atomic_write  # noqa: E402

__all__ = ["DPI", "FORMATS", "keeping_figures", "plt", "save_figure", "save_gif", "save_pixels"]

DPI = 100  # screen pixels per inch of figure size
FORMATS = (".png", ".pdf", ".svg")  # matplotlib writes each format its suffix names


_kept: ContextVar[list | None] = ContextVar("kept figures", default=None)


@contextmanager
def keeping_figures() -> Iterator[list]:
    """Within it, each figure saved is also appended to the list it gives: the Python API hands them back."""
    kept: list = []
    token = _kept.set(kept)
    try:
        yield kept
    finally:
        _kept.reset(token)


def save_figure(fig: Any, path: Path, tight: bool = True) -> Path:
    """Writes ``fig`` atomically in the format of ``path``'s suffix, then closes it (pyplot lets it go; a kept
    figure can still be drawn and displayed).

    ``tight``: the saved area shrinks or grows to what is drawn, rather than the figure's size.
    """
    try:
        _check_format(path)
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight" if tight else None))
    finally:
        plt.close(fig)
    kept = _kept.get()
    if kept is not None:
        kept.append(fig)
    return path


def save_pixels(path: Path, canvas: np.ndarray) -> Path:
    """The pixels alone, one image pixel per file pixel (a 2-D canvas in grey), in the format of ``path``'s suffix."""
    _check_format(path)
    cmap = "gray" if canvas.ndim == 2 else None
    atomic_write(path, lambda tmp: matplotlib.image.imsave(tmp, np.clip(canvas, 0, 1), cmap=cmap, vmin=0, vmax=1))
    return path


def save_gif(path: Path, frames: Any, durations_ms: list[int]) -> Path:
    """An animated GIF from equally sized RGB(A) or grey frames (float in [0, 1] or uint8)."""
    from PIL import Image

    def to_image(frame):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            frame = (np.clip(frame, 0, 1) * 255).round().astype(np.uint8)
        if frame.ndim == 3 and frame.shape[-1] == 1:
            frame = frame[..., 0]
        return _paletted(Image.fromarray(frame).convert("RGB"))

    images = [to_image(f) for f in frames]

    def write(tmp):
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=list(durations_ms), loop=0)

    atomic_write(path, write)
    return path


def _paletted(image: Any) -> Any:
    """``image`` with a 256-colour palette of its own: exact when it has no more colours than that (every grey
    frame), else octree's. Median cut, Pillow's adaptive default, gives its colours to the most populous
    regions, so a small saturated shape among many greys comes out grey; octree keeps it."""
    from PIL import Image

    exact = image.getcolors(256) is not None
    return image.quantize(256, method=Image.Quantize.MEDIANCUT if exact else Image.Quantize.FASTOCTREE)


def _check_format(path: Path) -> None:
    """Refuses a suffix other than PNG, PDF or SVG before anything is written: matplotlib would write
    other formats it knows, and add ``.png`` to a name without a suffix (leaving the file itself empty)."""
    if Path(path).suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: a figure is written as PNG, PDF or SVG; its name must end in .png, .pdf or .svg")
