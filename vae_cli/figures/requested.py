"""What every figure command shares: the run's title, its models as a codec, file names, and the size check.

Each figure is written into the run folder unless an ``out`` file is given. The
default request keeps the plain name (``grid.png``); any other request gets a
name that says what it shows, so asking for a different figure never replaces
another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_cli.errors import RequestError
from vae_cli.figures.codec import Codec
from vae_cli.figures.draw import title_prefix
from vae_cli.limits import MAX_FIGURE_PIXELS
from vae_cli.runs.view import RunView


def title(view: RunView, what: str) -> str:
    return f"{title_prefix(view.dataset_title, view.cfg.model.latent_dim, view.epochs)}: {what}"


def codec_of(view: RunView) -> Codec:
    """The run's models behind one interface for its kind (vae, ae or cvae)."""
    return Codec(view.figure_models, view.kind, len(view.class_names))


def out_path(view: RunView, out: Path | None, name: str) -> Path:
    """``out`` if given, else ``name`` in the run folder."""
    return out if out else view.dir / name


def suffix(*parts: object) -> str:
    """``-a-b`` from the parts that are set: what a non-default request adds to a file name."""
    return "".join(f"-{p}" for p in parts if p)


def check_size(view: RunView, parameter: str, value: int, images: int, least: int = 1) -> None:
    """Refuses ``value`` below ``least`` (no images, a line of one point), or a figure whose decoded pixels would pass ``MAX_FIGURE_PIXELS``, before anything
    is decoded (the command line's flags refuse these too; the Python API comes here directly)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise RequestError(parameter, value, f": must be a whole number of at least {least}")
    h, w, c = view.figure_decoder.output.shape[1:]
    values = images * h * w * c
    if values > MAX_FIGURE_PIXELS:
        raise RequestError(
            parameter,
            value,
            f": {images:,} images of {h}x{w}x{c} are {values:,} pixel values, over the {MAX_FIGURE_PIXELS:,} "
            f"one figure may hold; ask for fewer (at most {MAX_FIGURE_PIXELS // (h * w * c):,} images fit)",
        )


def check_index(parameter: str, index: int | None, count: int) -> None:
    if index is not None and not 0 <= index < count:
        raise RequestError(parameter, index, f": the test set has images 0 to {count - 1}")
