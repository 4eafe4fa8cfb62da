"""The sample and scatter figures of a run: the latent grid, random samples, a cvae's class figure,
the latent scatter, and the KL-per-dimension and MIG charts of an evaluation. (The row figures are in
``rows_from_run``.) TensorFlow is imported by the run view, never at module import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_cli import defaults
from vae_cli.errors import RequestError
from vae_cli.figures import charts, kind_figures, latents, plots
from vae_cli.figures.draw import GridRequest, LabelledImages, Projection, draw_latent, draw_manifold
from vae_cli.figures.latents import GridRange
from vae_cli.figures.requested import check_size, codec_of, out_path, suffix, title
from vae_cli.runs.view import RunView

if TYPE_CHECKING:  # the evaluation module loads Keras
    from vae_cli.runs.evaluation import Evaluation

ACTIVE = "active"  # the grid's dimensions: the two whose z_mean varies most


def _check_dims(dims: tuple[int, int] | str | None, latent_dim: int) -> None:
    if dims is None:
        return
    if latent_dim < 2:
        raise RequestError(
            "dims", ACTIVE if dims == ACTIVE else None, ": this run has a 1-D latent space; there is only dimension 0"
        )
    if dims != ACTIVE and not all(0 <= d < latent_dim for d in dims):
        raise RequestError(
            "dims", repr(f"{dims[0]},{dims[1]}"), f": dimensions run from 0 to {latent_dim - 1} in this run"
        )


@dataclass(frozen=True)
class GridAsked:
    """A latent grid as a command asks for it: ``n`` x ``n`` points; ``rng`` None: the kind's default span
    (the prior's quantiles; an ae's codes); ``dims``: a pair, ``"active"``, or None for 0 and 1; ``axes`` False:
    the pixels alone; ``label``: the class a conditional kind decodes the grid as (None: the first)."""

    n: int = defaults.GRID
    rng: GridRange | None = None
    dims: tuple[int, int] | str | None = None
    axes: bool = True
    label: int | None = None


def sample_grid(view: RunView, asked: GridAsked = GridAsked(), out: Path | None = None) -> list[Path]:
    """The decoded latent grid over two dimensions."""
    n, rng, dims, axes, label = asked.n, asked.rng, asked.dims, asked.axes, asked.label
    _check_dims(dims, view.cfg.model.latent_dim)
    check_size(view, "grid", n, n * n)
    codec = codec_of(view)
    kind_figures.check_label(codec, label, view.class_names)
    default_rng = rng is None or rng == kind_figures.grid_range(codec, None)
    rng = kind_figures.grid_range(codec, rng)
    active = dims == ACTIVE  # the first two dimensions may be ones the model does not use
    dims = (0, 1) if active or dims is None else dims
    z_means = center = None
    if rng.kind == "data" or active or not codec.kind.has_prior:
        test = view.split("test")
        z_means = codec.encode(test.images, test.labels)
        center = None if codec.kind.has_prior else z_means.mean(axis=0)
    if active:
        dims = tuple(latents.most_varied(z_means, 2))
    default = n == defaults.GRID and default_rng and dims == (0, 1) and axes and label is None
    span = "" if default_rng else f"{rng.kind}{rng.low:g}_{rng.high:g}"
    name = (
        "grid.png"
        if default
        else "grid"
        + suffix(
            str(n),
            span,
            "" if dims == (0, 1) else f"dims{dims[0]}_{dims[1]}",
            "" if axes else "plain",
            label is not None and f"label{label}",
        )
        + ".png"
    )
    path = out_path(view, out, name)
    what = title(view, "decoded latent grid" + kind_figures.class_note(codec, label, view.class_names))
    why = "the two most active" if active else ""
    grid = GridRequest(n, rng, dims, why, axes, 0 if label is None else label)
    draw_manifold(codec, grid, what, path, z_means, center)
    return [path]


def sample_random(
    view: RunView, n: int, seed: int = defaults.SEED, out: Path | None = None, label: int | None = None
) -> list[Path]:
    """``n`` images decoded from z ~ N(0, I) (an ae: from a Gaussian fitted to its codes; a cvae: as ``label``)."""
    check_size(view, "random", n, n)
    codec = codec_of(view)
    kind_figures.check_label(codec, label, view.class_names)
    test_codes = None
    if not codec.kind.has_prior:
        test_codes = codec.encode(view.split("test").images)
    z, what = kind_figures.random_codes(codec, n, seed, test_codes)
    labels, which = kind_figures.random_labels(codec, n, label, view.class_names)
    images = codec.decode(z, labels)
    path = out_path(view, out, f"random-{n}-seed{seed}" + suffix(label is not None and f"label{label}") + ".png")
    cols = int(np.ceil(np.sqrt(n)))
    plots.save_image_grid(path, images, cols, title(view, what + which))
    return [path]


def sample_classes(
    view: RunView, columns: int = kind_figures.CLASS_COLUMNS, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """A cvae's class figure: one row per class, the same z in each column (style held, class changed)."""
    codec = codec_of(view)
    kind_figures.check_label(codec, None, view.class_names, parameter="classes")
    check_size(view, "classes", columns, columns * len(view.class_names))
    default = (columns, seed) == (kind_figures.CLASS_COLUMNS, defaults.SEED)
    path = out_path(view, out, "classes.png" if default else f"classes-{columns}-seed{seed}.png")
    kind_figures.draw_classes(codec, view.class_names, columns, seed, title(view, "samples by class"), path)
    return [path]


def plot_latent(
    view: RunView,
    method: str = "pca",
    split: str = "test",
    limit: int | None = None,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """A split's latent means coloured by class (a random ``limit`` of them, if given).

    t-SNE (openTSNE, an optional dependency) maps every point unless ``limit`` says otherwise; a latent
    space of 2 dimensions or fewer is drawn as it is, under a name that says so.
    """
    flat = view.cfg.model.latent_dim <= 2
    if method == "tsne" and not flat:
        latents.require_tsne()

    def pick(count: int) -> np.ndarray:
        if limit is None or limit >= count:
            return np.arange(count)
        return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))

    data = view.split(split, pick)
    shown_as = f"{view.cfg.model.latent_dim}d" if method == "tsne" and flat else method
    default = method == "pca" and split == "test" and limit is None
    seeded = limit is not None or shown_as == "tsne"  # the seed picks the subset and the t-SNE start
    name = (
        "latent.png"
        if default
        else "latent" + suffix(shown_as, split, limit and str(limit), seeded and seed and f"seed{seed}") + ".png"
    )
    path = out_path(view, out, name)
    shown, total = len(data.labels), view.manifest["dataset"].get(f"{split}_images", len(data.labels))
    what = f"{split}-set latent means" + (f" ({shown} of {total} images)" if shown < total else "")
    codec = codec_of(view)
    if codec.conditional:
        what += " given each image's class (z holds what the class does not say)"
    labelled = LabelledImages(data.images, data.labels, view.class_names)
    draw_latent(codec, labelled, title(view, what), path, Projection(method, seed))
    return [path]


def kl_per_dim(
    view: RunView, evaluation: Evaluation, limit: int | None = defaults.EVALUATE_LIMIT, out: Path | None = None
) -> list[Path]:
    """A bar chart of an evaluation's KL per latent dimension, the active dimensions marked.

    ``limit`` is the evaluation's request (None: all test images); other requests than the default get
    their own file name.
    """
    from vae_cli.model.estimate import ACTIVE_THRESHOLD

    metrics = evaluation.metrics
    # A limit past the test set is the whole set, as metrics.json keys it.
    images = "" if limit == defaults.EVALUATE_LIMIT else "all" if evaluation.whole_test_set else f"first{limit}"
    other = evaluation.binarize != evaluation.trained_with_binarize and evaluation.binarize
    path = out_path(view, out, "kl-per-dim" + suffix(images, other) + ".png")
    active = [v > ACTIVE_THRESHOLD for v in evaluation.z_mean_variance]
    what = (
        f"KL per latent dimension over {metrics.images} test images, {sum(active)} of {len(active)} active "
        f"(variance of z_mean > {ACTIVE_THRESHOLD:g})"
    )
    charts.save_kl_per_dim(path, metrics.kl_per_dim, active, title(view, what))
    return [path]


def information_matrix(view: RunView, evaluation: Evaluation, out: Path | None = None) -> list[Path]:
    """``mig.png`` in the run folder (``mig-<binarize>.png`` for test data treated otherwise than in training;
    with ``out``, the KL chart's name ending in ``-mig``): how much of each known factor each latent dimension
    holds, and the MIG."""
    gap = evaluation.disentanglement
    if gap is None:
        return []
    other = evaluation.binarize != evaluation.trained_with_binarize and evaluation.binarize
    name = "mig" + suffix(other) + ".png"
    gaps = ", ".join(f"{factor} {value:.2f}" for factor, value in zip(gap.factor_names, gap.per_factor, strict=True))
    what = (
        f"mutual information gap {gap.score:.3f} over {gap.samples:,} test images, z_mean in {gap.bins} bins\n"
        f"gap per factor: {gaps}"
    )
    path = view.dir / name if out is None else out.with_name(f"{out.stem}-mig{out.suffix}")
    charts.save_information_matrix(path, gap.normalized(), gap.factor_names, title(view, what))
    return [path]
