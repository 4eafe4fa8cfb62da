"""The work of each figure command on a run folder: from its models to PNG and GIF files.

Each figure is written into the run folder unless an ``out`` file is given. The
default request keeps the plain name (``grid.png``); any other request gets a
name that says what it shows, so asking for a different figure never replaces
another. TensorFlow is imported by the run view, never at module import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_cli import defaults
from vae_cli.errors import RequestError
from vae_cli.figures import charts, latents, plots
from vae_cli.figures.draw import draw_latent, draw_manifold, title_prefix
from vae_cli.figures.latents import DEFAULT_GRID_RANGE, GridRange
from vae_cli.limits import MAX_FIGURE_PIXELS
from vae_cli.runs.view import RunView

if TYPE_CHECKING:  # the evaluation module loads Keras
    from vae_cli.runs.evaluation import Evaluation

GIF_SIDE = 112  # pixels on the frames' shorter side: 28-pixel frames are enlarged 4 times, 8-pixel ones 14
ACTIVE = "active"  # the grid's dimensions: the two whose z_mean varies most


def _title(view: RunView, what: str) -> str:
    return f"{title_prefix(view.dataset_title, view.cfg.model.latent_dim, view.epochs)}: {what}"


def _path(view: RunView, out: Path | None, name: str) -> Path:
    return out if out else view.dir / name


def _suffix(*parts: object) -> str:
    return "".join(f"-{p}" for p in parts if p)


def _check_size(view: RunView, parameter: str, value: int, images: int) -> None:
    """Refuses a figure whose decoded pixels would pass ``MAX_FIGURE_PIXELS``, before anything is decoded."""
    h, w, c = view.decoder.output.shape[1:]
    values = images * h * w * c
    if values > MAX_FIGURE_PIXELS:
        raise RequestError(
            parameter,
            value,
            f": {images:,} images of {h}x{w}x{c} are {values:,} pixel values, over the {MAX_FIGURE_PIXELS:,} "
            f"one figure may hold; ask for fewer (at most {MAX_FIGURE_PIXELS // (h * w * c):,} images fit)",
        )


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


def sample_grid(
    view: RunView,
    n: int = defaults.GRID,
    rng: GridRange = DEFAULT_GRID_RANGE,
    dims: tuple[int, int] | str | None = None,
    axes: bool = True,
    out: Path | None = None,
) -> list[Path]:
    """The decoded latent grid over two dimensions (``dims``: a pair, ``"active"``, or None for 0 and 1)."""
    _check_dims(dims, view.cfg.model.latent_dim)
    _check_size(view, "grid", n, n * n)
    active = dims == ACTIVE  # the first two dimensions may be ones the model does not use
    dims = (0, 1) if active or dims is None else dims
    z_means = None
    if rng.kind == "data" or active:
        z_means = latents.encode_means(view.encoder, view.split("test").images)
    if active:
        dims = tuple(latents.most_varied(z_means, 2))
    default_rng = rng == DEFAULT_GRID_RANGE
    default = n == defaults.GRID and default_rng and dims == (0, 1) and axes
    label = "" if default_rng else f"{rng.kind}{rng.low:g}_{rng.high:g}"
    name = (
        "grid.png"
        if default
        else "grid"
        + _suffix(str(n), label, "" if dims == (0, 1) else f"dims{dims[0]}_{dims[1]}", "" if axes else "plain")
        + ".png"
    )
    path = _path(view, out, name)
    why = "the two most active" if active else ""
    draw_manifold(view.decoder, n, _title(view, "decoded latent grid"), path, rng, dims, z_means, axes, why)
    return [path]


def sample_random(view: RunView, n: int, seed: int = defaults.SEED, out: Path | None = None) -> list[Path]:
    """``n`` images decoded from z ~ N(0, I)."""
    _check_size(view, "random", n, n)
    images = latents.random_samples(view.decoder, n, seed)
    path = _path(view, out, f"random-{n}-seed{seed}.png")
    cols = int(np.ceil(np.sqrt(n)))
    plots.save_image_grid(path, images, cols, _title(view, f"{n} samples of z ~ N(0, I), seed {seed}"))
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
        else "latent" + _suffix(shown_as, split, limit and str(limit), seeded and seed and f"seed{seed}") + ".png"
    )
    path = _path(view, out, name)
    shown, total = len(data.labels), view.manifest["dataset"].get(f"{split}_images", len(data.labels))
    what = f"{split}-set latent means" + (f" ({shown} of {total} images)" if shown < total else "")
    draw_latent(view.encoder, data.images, data.labels, view.class_names, _title(view, what), path, method, seed)
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
    images = "" if limit == defaults.EVALUATE_LIMIT else "all" if limit is None else f"first{limit}"
    other = evaluation.binarize != evaluation.trained_with_binarize and evaluation.binarize
    path = _path(view, out, "kl-per-dim" + _suffix(images, other) + ".png")
    active = [v > ACTIVE_THRESHOLD for v in evaluation.z_mean_variance]
    what = (
        f"KL per latent dimension over {metrics.images} test images, {sum(active)} of {len(active)} active "
        f"(variance of z_mean > {ACTIVE_THRESHOLD:g})"
    )
    charts.save_kl_per_dim(path, metrics.kl_per_dim, active, _title(view, what))
    return [path]


def reconstruct(
    view: RunView, n: int = defaults.RECONSTRUCT_COUNT, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """Test images covering every class above their reconstructions from z_mean."""
    _check_size(view, "n", n, 2 * n)
    test = view.split("test")
    picked = latents.pick_covering_classes(test.labels, n, seed)
    originals = test.images[picked]
    recon = latents.reconstruct(view.encoder, view.decoder, originals)
    cols = min(len(picked), 10)
    rows, labels = [], []
    for start in range(0, len(picked), cols):
        block = slice(start, start + cols)
        rows += [plots.pad_to(originals[block], cols), plots.pad_to(recon[block], cols)]
        labels += ["test", "reconstructed"]
    default = (n, seed) == (defaults.RECONSTRUCT_COUNT, defaults.SEED)
    path = _path(view, out, "reconstructions.png" if default else f"reconstructions-{n}-seed{seed}.png")
    title = _title(view, f"{len(picked)} test images (seed {seed}) and their reconstructions from z_mean")
    plots.save_rows(path, rows, labels, title)
    return [path]


def interpolate(
    view: RunView,
    start: int | None = None,
    end: int | None = None,
    steps: int = defaults.INTERPOLATE_STEPS,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """The straight line between two test images' latent means, decoded: a PNG strip and a GIF."""
    scale = _gif_scale(view.decoder.output.shape[1:3])
    _check_size(view, "steps", steps, steps + 2 + 2 * steps * scale**2)  # the strip, then the GIF's frames
    test = view.split("test")
    start, end = _pair(test.labels, start, end, seed)
    originals = test.images[[start, end]]
    z = latents.encode_means(view.encoder, originals)
    frames = latents.batched(view.decoder, latents.interpolation_latents(z[0], z[1], steps))
    more = _suffix(steps != defaults.INTERPOLATE_STEPS and f"{steps}steps")
    png = _path(view, out, f"interpolation-{start}-{end}{more}.png")
    row = np.concatenate([originals[:1], frames, originals[1:]])
    labels = [f"#{start}"] + [f"t={t:.2f}" for t in np.linspace(0, 1, steps)] + [f"#{end}"]
    what = f"straight line from z_mean of test image #{start} to #{end} ({steps} steps)"
    plots.save_rows(png, [row], ["decoded"], _title(view, what), labels, highlight_cols=(0, steps + 1))
    big = np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)
    there_and_back = np.concatenate([big, big[-2:0:-1]])
    durations = [700 if i in (0, steps - 1) else 120 for i in range(steps)] + [120] * (steps - 2)
    gif = png.with_suffix(".gif")
    plots.save_gif(gif, there_and_back, durations)
    return [png, gif]


def _gif_scale(image_size: tuple[int, int]) -> int:
    """How many times the GIF enlarges each frame, so that its shorter side is about ``GIF_SIDE``."""
    return max(1, round(GIF_SIDE / min(image_size)))


def _check_index(parameter: str, index: int | None, count: int) -> None:
    if index is not None and not 0 <= index < count:
        raise RequestError(parameter, index, f": the test set has images 0 to {count - 1}")


def _pair(labels: np.ndarray, start: int | None, end: int | None, seed: int) -> tuple[int, int]:
    count = len(labels)
    _check_index("start", start, count)
    _check_index("end", end, count)
    rng = np.random.default_rng(seed)
    if start is None:
        start = int(rng.integers(count))
    if end is None:  # a different class makes the more telling path
        others = np.flatnonzero(labels != labels[start])
        end = int(rng.choice(others if len(others) else np.arange(count)))
    return start, end


def traverse(
    view: RunView,
    dim: int | None = None,
    index: int | None = None,
    steps: int = defaults.TRAVERSE_STEPS,
    span: float = defaults.TRAVERSE_SPAN,
    max_dims: int = defaults.TRAVERSE_MAX_DIMS,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """One row per latent dimension, moved -span..+span around a test image's z_mean."""
    latent_dim = view.cfg.model.latent_dim
    if dim is not None and not 0 <= dim < latent_dim:
        raise RequestError("dim", dim, f": this run's latent dimensions are 0 to {latent_dim - 1}")
    _check_size(view, "steps", steps, steps * (1 if dim is not None else min(latent_dim, max_dims)))
    test = view.split("test")
    _check_index("index", index, len(test.labels))
    if index is None:
        index = int(np.random.default_rng(seed).integers(len(test.labels)))
    z_center = latents.encode_means(view.encoder, test.images[[index]])[0]
    if dim is not None:
        dims, note = [dim], ""
    elif latent_dim <= max_dims:
        dims, note = list(range(latent_dim)), ""
    else:
        dims = latents.most_varied(latents.encode_means(view.encoder, test.images[:2000]), max_dims)
        note = f"\nthe {max_dims} of {latent_dim} dimensions whose z_mean varies most over test images"
    offsets = np.linspace(-span, span, steps)
    images = latents.batched(view.decoder, latents.traversal_latents(z_center, dims, offsets))
    rows = [images[r * steps : (r + 1) * steps] for r in range(len(dims))]
    name = (
        f"traverse-{index}"
        + _suffix(
            dim is not None and f"dim{dim}",
            steps != defaults.TRAVERSE_STEPS and f"{steps}steps",
            span != defaults.TRAVERSE_SPAN and f"span{span:g}",
        )
        + ".png"
    )
    path = _path(view, out, name)
    what = f"one latent dimension at a time around z_mean of test image #{index}{note}"
    plots.save_rows(path, rows, [f"z[{d}]" for d in dims], _title(view, what), [f"{o:+.1f}" for o in offsets])
    return [path]
