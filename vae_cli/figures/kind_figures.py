"""What the figures ask a run's kind, and what they do for a conditional one.

- the kind gives the grid's default span and the random codes: a kind without a
  prior (an autoencoder) spans the test-set codes' percentiles (the other dimensions
  held at their mean) and draws from a Gaussian fitted to the codes, and refuses the
  prior's quantiles;
- a conditional kind's every decoding is given a class: ``label`` for one class, the
  classes in turn for random samples, and the class figure: one row per class, one
  column per z, so each column holds the style and each row changes the class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_cli import defaults
from vae_cli.errors import RequestError
from vae_cli.figures import plots
from vae_cli.figures.codec import Codec
from vae_cli.figures.latents import GridRange
from vae_cli.kinds import KINDS

CLASS_COLUMNS = defaults.CLASS_COLUMNS


def grid_range(codec: Codec, rng: GridRange | None) -> GridRange:
    """The grid's span: the one asked for, if the kind can draw it (an ae has no prior quantiles to span), or
    the kind's default."""
    if rng is None:
        return codec.kind.default_grid_range()
    codec.kind.check_grid_range(rng)
    return rng


def check_label(codec: Codec, label: int | None, class_names: list[str], parameter: str = "label") -> None:
    """A class may be asked of a cvae only, and only one it knows."""
    if label is None and parameter == "label":
        return
    if not codec.conditional:
        raise RequestError(
            parameter,
            label,
            f": this run's model.kind is {codec.kind.name}, which is not given a class; "
            f"train one with model.kind: {' or '.join(k.name for k in KINDS.find(lambda k: k.conditional))}",
        )
    if label is not None and not 0 <= label < codec.classes:
        shown = ", ".join(f"{i} {name}" for i, name in enumerate(class_names[:12]))
        raise RequestError(parameter, label, f": this run's classes are 0 to {codec.classes - 1} ({shown})")


def class_note(codec: Codec, label: int | None, class_names: list[str]) -> str:
    """How a figure's decodings were conditioned, for its title."""
    if not codec.conditional:
        return ""
    if label is None:
        return f"; decoded as class {class_names[0]!r}, the first"
    return f"; decoded as class {class_names[label]!r}"


def random_codes(codec: Codec, n: int, seed: int, test_codes: np.ndarray | None) -> tuple[np.ndarray, str]:
    """``n`` codes to decode, and the words saying where they come from (``test_codes``: a kind without a
    prior fits its draws to them)."""
    return codec.kind.random_codes(codec.latent_dim, n, seed, test_codes)


def random_labels(codec: Codec, n: int, label: int | None, class_names: list[str]) -> tuple[np.ndarray | None, str]:
    """A cvae's class for each random sample: ``label`` for all, else the classes in turn."""
    if not codec.conditional:
        return None, ""
    if label is not None:
        return np.full(n, label), f", all of class {class_names[label]!r}"
    return np.arange(n) % codec.classes, ", the classes in turn (row-major)"


def class_rows(codec: Codec, columns: int, seed: int) -> list[np.ndarray]:
    """One row per class, decoding the same ``columns`` draws of z ~ N(0, I) in every row."""
    z = np.random.default_rng(seed).standard_normal((columns, codec.latent_dim)).astype("float32")
    z_all = np.tile(z, (codec.classes, 1))
    images = codec.decode(z_all, np.repeat(np.arange(codec.classes), columns))
    return [images[c * columns : (c + 1) * columns] for c in range(codec.classes)]


def draw_classes(
    codec: Codec, class_names: list[str], columns: int, seed: int, title: str, path: Path
) -> list[np.ndarray]:
    """The class figure: style held along each column, class changed along each row."""
    rows = class_rows(codec, columns, seed)
    what = f"{title}\none row per class, one z ~ N(0, I) per column (seed {seed}): style held, class changed"
    plots.save_rows(path, rows, [str(name) for name in class_names[: codec.classes]], what)
    return rows
