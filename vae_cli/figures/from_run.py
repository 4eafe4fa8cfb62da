"""The work of each figure command on a run folder: from its models to PNG and GIF files.

Each figure is written into the run folder unless an ``out`` file is given. The
default request keeps the plain name (``grid.png``); any other request gets a
name that says what it shows, so asking for a different figure never replaces
another. TensorFlow is imported by the run view, never at module import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_cli import defaults
from vae_cli.errors import RequestError
from vae_cli.figures import kind_figures, latents, plots
from vae_cli.figures.codec import Codec
from vae_cli.figures.draw import draw_latent, draw_manifold, title_prefix
from vae_cli.figures.latents import GridRange
from vae_cli.runs.view import RunView

GIF_SCALE = 4  # 28-pixel frames are too small to watch
ACTIVE = "active"  # the grid's dimensions: the two whose z_mean varies most


def _title(view: RunView, what: str) -> str:
    return f"{title_prefix(view.dataset_title, view.cfg.model.latent_dim, view.epochs)}: {what}"


def codec_of(view: RunView) -> Codec:
    """The run's models behind one interface for its kind (vae, ae or cvae)."""
    return Codec(view.encoder, view.decoder, view.cfg.model.kind, len(view.class_names))


def _path(view: RunView, out: Path | None, name: str) -> Path:
    return out if out else view.dir / name


def _suffix(*parts: object) -> str:
    return "".join(f"-{p}" for p in parts if p)


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
    rng: GridRange | None = None,
    dims: tuple[int, int] | str | None = None,
    axes: bool = True,
    out: Path | None = None,
    label: int | None = None,
) -> list[Path]:
    """The decoded latent grid over two dimensions (``dims``: a pair, ``"active"``, or None for 0 and 1).

    ``rng`` None: the kind's default span (the prior's quantiles; an ae's codes);
    ``label``: the class a cvae decodes the grid as (None: the first).
    """
    _check_dims(dims, view.cfg.model.latent_dim)
    codec = codec_of(view)
    kind_figures.check_label(codec, label, view.class_names)
    default_rng = rng is None or rng == kind_figures.grid_range(codec, None)
    rng = kind_figures.grid_range(codec, rng)
    active = dims == ACTIVE  # the first two dimensions may be ones the model does not use
    dims = (0, 1) if active or dims is None else dims
    z_means = center = None
    if rng.kind == "data" or active or codec.kind == "ae":
        test = view.split("test")
        z_means = codec.encode(test.images, test.labels)
        center = z_means.mean(axis=0) if codec.kind == "ae" else None
    if active:
        dims = tuple(latents.most_varied(z_means, 2))
    default = n == defaults.GRID and default_rng and dims == (0, 1) and axes and label is None
    span = "" if default_rng else f"{rng.kind}{rng.low:g}_{rng.high:g}"
    name = (
        "grid.png"
        if default
        else "grid"
        + _suffix(
            str(n),
            span,
            "" if dims == (0, 1) else f"dims{dims[0]}_{dims[1]}",
            "" if axes else "plain",
            label is not None and f"label{label}",
        )
        + ".png"
    )
    path = _path(view, out, name)
    title = _title(view, "decoded latent grid" + kind_figures.class_note(codec, label, view.class_names))
    draw_manifold(codec, n, title, path, rng, dims, z_means, axes, 0 if label is None else label, center)
    return [path]


def sample_random(
    view: RunView, n: int, seed: int = defaults.SEED, out: Path | None = None, label: int | None = None
) -> list[Path]:
    """``n`` images decoded from z ~ N(0, I) (an ae: from a Gaussian fitted to its codes; a cvae: as ``label``)."""
    codec = codec_of(view)
    kind_figures.check_label(codec, label, view.class_names)
    test_codes = None
    if codec.kind == "ae":
        test = view.split("test")
        test_codes = codec.encode(test.images)
    z, what = kind_figures.random_codes(codec, n, seed, test_codes)
    labels, which = kind_figures.random_labels(codec, n, label, view.class_names)
    images = codec.decode(z, labels)
    path = _path(view, out, f"random-{n}-seed{seed}" + _suffix(label is not None and f"label{label}") + ".png")
    cols = int(np.ceil(np.sqrt(n)))
    plots.save_image_grid(path, images, cols, _title(view, what + which))
    return [path]


def sample_classes(
    view: RunView, columns: int = kind_figures.CLASS_COLUMNS, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """A cvae's class figure: one row per class, the same z in each column (style held, class changed)."""
    codec = codec_of(view)
    kind_figures.check_label(codec, None, view.class_names, parameter="classes")
    default = (columns, seed) == (kind_figures.CLASS_COLUMNS, defaults.SEED)
    path = _path(view, out, "classes.png" if default else f"classes-{columns}-seed{seed}.png")
    kind_figures.draw_classes(codec, view.class_names, columns, seed, _title(view, "samples by class"), path)
    return [path]


def plot_latent(
    view: RunView,
    method: str = "pca",
    split: str = "test",
    limit: int | None = None,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """A split's latent means coloured by class (a random ``limit`` of them, if given)."""
    if method == "tsne" and limit is None:
        limit = defaults.TSNE_LIMIT

    def pick(count: int) -> np.ndarray:
        if limit is None or limit >= count:
            return np.arange(count)
        return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))

    data = view.split(split, pick)
    default = method == "pca" and split == "test" and limit is None
    seeded = limit is not None or method == "tsne"  # the seed picks the subset and the t-SNE start
    name = (
        "latent.png"
        if default
        else "latent" + _suffix(method, split, limit and str(limit), seeded and seed and f"seed{seed}") + ".png"
    )
    path = _path(view, out, name)
    shown, total = len(data.labels), view.manifest["dataset"].get(f"{split}_images", len(data.labels))
    what = f"{split}-set latent means" + (f" ({shown} of {total} images)" if shown < total else "")
    codec = codec_of(view)
    if codec.conditional:
        what += " given each image's class (z holds what the class does not say)"
    draw_latent(codec, data.images, data.labels, view.class_names, _title(view, what), path, method, seed)
    return [path]


def reconstruct(
    view: RunView, n: int = defaults.RECONSTRUCT_COUNT, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """Test images covering every class above their reconstructions from z_mean."""
    test = view.split("test")
    picked = latents.pick_covering_classes(test.labels, n, seed)
    originals = test.images[picked]
    recon = codec_of(view).reconstruct(originals, test.labels[picked])
    cols = min(len(picked), 10)
    rows, labels = [], []
    for start in range(0, len(picked), cols):
        block = slice(start, start + cols)
        rows += [plots.pad_to(originals[block], cols), plots.pad_to(recon[block], cols)]
        labels += ["test", "reconstructed"]
    default = (n, seed) == (defaults.RECONSTRUCT_COUNT, defaults.SEED)
    path = _path(view, out, "reconstructions.png" if default else f"reconstructions-{n}-seed{seed}.png")
    code = "the code" if view.cfg.model.kind == "ae" else "z_mean"
    title = _title(view, f"{len(picked)} test images (seed {seed}) and their reconstructions from {code}")
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
    test = view.split("test")
    start, end = _pair(test.labels, start, end, seed)
    originals = test.images[[start, end]]
    codec = codec_of(view)
    z = codec.encode(originals, test.labels[[start, end]])
    classes = None
    if codec.conditional:  # the class weights move from one image's class to the other's, with z
        ends = codec.weights(test.labels[[start, end]], 2)
        classes = latents.interpolation_latents(ends[0], ends[1], steps)
    frames = codec.decode(latents.interpolation_latents(z[0], z[1], steps), classes)
    more = _suffix(steps != defaults.INTERPOLATE_STEPS and f"{steps}steps")
    png = _path(view, out, f"interpolation-{start}-{end}{more}.png")
    row = np.concatenate([originals[:1], frames, originals[1:]])
    labels = [f"#{start}"] + [f"t={t:.2f}" for t in np.linspace(0, 1, steps)] + [f"#{end}"]
    what = f"straight line from z_mean of test image #{start} to #{end} ({steps} steps)"
    if codec.conditional:
        what += ", the class weights moved along with z"
    plots.save_rows(png, [row], ["decoded"], _title(view, what), labels, highlight_cols=(0, steps + 1))
    big = np.repeat(np.repeat(frames, GIF_SCALE, axis=1), GIF_SCALE, axis=2)
    there_and_back = np.concatenate([big, big[-2:0:-1]])
    durations = [700 if i in (0, steps - 1) else 120 for i in range(steps)] + [120] * (steps - 2)
    gif = png.with_suffix(".gif")
    plots.save_gif(gif, there_and_back, durations)
    return [png, gif]


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
    test = view.split("test")
    _check_index("index", index, len(test.labels))
    if index is None:
        index = int(np.random.default_rng(seed).integers(len(test.labels)))
    codec = codec_of(view)
    z_center = codec.encode(test.images[[index]], test.labels[[index]])[0]
    if dim is not None:
        dims, note = [dim], ""
    elif latent_dim <= max_dims:
        dims, note = list(range(latent_dim)), ""
    else:
        dims = latents.most_varied(codec.encode(test.images[:2000], test.labels[:2000]), max_dims)
        note = f"\nthe {max_dims} of {latent_dim} dimensions whose z_mean varies most over test images"
    offsets = np.linspace(-span, span, steps)
    images = codec.decode(latents.traversal_latents(z_center, dims, offsets), test.labels[index])
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
