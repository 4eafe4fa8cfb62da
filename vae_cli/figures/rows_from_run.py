"""The row figures of a run: reconstructions, the interpolation between two test images, and traversals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli import defaults
from vae_cli.data.types import Split
from vae_cli.errors import RequestError
from vae_cli.figures import latents, plots, writer
from vae_cli.figures.codec import Codec
from vae_cli.figures.requested import check_index, check_size, codec_of, out_path, suffix, title
from vae_cli.runs.view import RunView

GIF_SIDE = 112  # pixels on the frames' shorter side: 28-pixel frames are enlarged 4 times, 8-pixel ones 14
PAIR_COLUMNS = 10  # the most test images side by side in reconstructions.png
PAIR_CANDIDATES = 2000  # test images encoded to choose an interpolation's ends: every class many times over


def reconstruct(
    view: RunView, n: int = defaults.RECONSTRUCT_COUNT, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """Test images covering every class above their reconstructions from z_mean (an ae: its code)."""
    check_size(view, "n", n, 2 * n)
    test = view.split("test")
    picked = latents.pick_covering_classes(test.labels, n, seed)
    originals = test.images[picked]
    recon = codec_of(view).reconstruct(originals, test.labels[picked])
    cols = pair_columns(len(picked))
    rows, labels = [], []
    for start in range(0, len(picked), cols):
        block = slice(start, start + cols)
        rows += [plots.pad_to(originals[block], cols), plots.pad_to(recon[block], cols)]
        labels += ["test", "reconstructed"]
    default = (n, seed) == (defaults.RECONSTRUCT_COUNT, defaults.SEED)
    path = out_path(view, out, "reconstructions.png" if default else f"reconstructions-{n}-seed{seed}.png")
    code = view.kind.code_name
    what = f"{len(picked)} test images (seed {seed}) and their reconstructions from {code}"
    plots.save_rows(path, rows, labels, title(view, what))
    return [path]


def pair_columns(n: int, most: int = PAIR_COLUMNS) -> int:
    """How many of ``n`` image pairs (an image above its reconstruction) go side by side, at most ``most``.

    The grid that wastes the least: blank cells in a short last row, plus the cells by which its height
    (two images per row of pairs) would exceed its width. Ties go to fewer blanks, then to fewer rows, so
    12 pairs make two rows of 6 rather than 10 and 2, and up to ``most`` pairs make one row.
    """

    def waste(cols: int) -> tuple[int, int, int]:
        rows = math.ceil(n / cols)
        blank = rows * cols - n
        return blank + max(0, 2 * rows - cols), blank, rows

    return min(range(1, min(n, most) + 1), key=waste)


def interpolate(
    view: RunView,
    start: int | None = None,
    end: int | None = None,
    steps: int = defaults.INTERPOLATE_STEPS,
    out: Path | None = None,
) -> list[Path]:
    """The straight line between two test images' latent means, decoded: a PNG strip and a GIF.

    An image not given is chosen so that the line shows a change (``latents.distant_pair``).
    A cvae's class weights move from one image's class to the other's, along with z.
    """
    scale = _gif_scale(view.figure_decoder.output.shape[1:3])
    check_size(view, "steps", steps, steps + 2 + 2 * steps * scale**2, least=2)  # the strip, then the GIF's frames
    test = view.split("test")
    codec = codec_of(view)
    start, end = _pair(codec, test, start, end)
    originals = test.images[[start, end]]
    z = codec.encode(originals, test.labels[[start, end]])
    classes = None
    if codec.conditional:
        ends = codec.weights(test.labels[[start, end]], 2)
        classes = latents.interpolation_latents(ends[0], ends[1], steps)
    frames = codec.decode(latents.interpolation_latents(z[0], z[1], steps), classes)
    more = suffix(steps != defaults.INTERPOLATE_STEPS and f"{steps}steps")
    png = out_path(view, out, f"interpolation-{start}-{end}{more}.png")
    row = np.concatenate([originals[:1], frames, originals[1:]])
    labels = [f"#{start}"] + [f"t={t:.2f}" for t in np.linspace(0, 1, steps)] + [f"#{end}"]
    what = f"straight line from z_mean of test image #{start} to #{end} ({steps} steps)"
    if codec.conditional:
        what += ", the class weights moved along with z"
    plots.save_rows(png, [row], ["decoded"], title(view, what), labels, highlight_cols=(0, steps + 1))
    big = np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)
    there_and_back = np.concatenate([big, big[-2:0:-1]])
    durations = [700 if i in (0, steps - 1) else 120 for i in range(steps)] + [120] * (steps - 2)
    gif = png.with_suffix(".gif")
    writer.save_gif(gif, there_and_back, durations)
    return [png, gif]


def _gif_scale(image_size: tuple[int, int]) -> int:
    """How many times the GIF enlarges each frame, so that its shorter side is about ``GIF_SIDE``."""
    return max(1, round(GIF_SIDE / min(image_size)))


def _pair(codec: Codec, test: Split, start: int | None, end: int | None) -> tuple[int, int]:
    """``start`` and ``end``, either one not given chosen among the first ``PAIR_CANDIDATES`` test images."""
    check_index("start", start, len(test))
    check_index("end", end, len(test))
    if start is not None and end is not None:
        return start, end
    given = [i for i in (start, end) if i is not None]
    pool = np.union1d(np.arange(min(len(test), PAIR_CANDIDATES)), given).astype(int)
    z = codec.encode(test.images[pool], test.labels[pool])
    where = {int(i): n for n, i in enumerate(pool)}
    first, second = latents.distant_pair(z, test.labels[pool], where.get(start), where.get(end))
    return int(pool[first]), int(pool[second])


@dataclass(frozen=True)
class Traversal:
    """Which dimensions a traversal moves (``dim``, or up to ``max_dims`` of them), in how many ``steps`` over
    -``span``..+``span``."""

    dim: int | None = None
    steps: int = defaults.TRAVERSE_STEPS
    span: float = defaults.TRAVERSE_SPAN
    max_dims: int = defaults.TRAVERSE_MAX_DIMS


def traverse(
    view: RunView,
    how: Traversal = Traversal(),
    index: int | None = None,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """One row per latent dimension, moved -span..+span around a test image's z_mean (``index``: which; None:
    one drawn with ``seed``)."""
    dim, steps, span, max_dims = how.dim, how.steps, how.span, how.max_dims
    latent_dim = view.cfg.model.latent_dim
    if dim is not None and not 0 <= dim < latent_dim:
        raise RequestError("dim", dim, f": this run's latent dimensions are 0 to {latent_dim - 1}")
    check_size(view, "steps", steps, steps * (1 if dim is not None else min(latent_dim, max_dims)), least=2)
    test = view.split("test")
    check_index("index", index, len(test.labels))
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
        + suffix(
            dim is not None and f"dim{dim}",
            steps != defaults.TRAVERSE_STEPS and f"{steps}steps",
            span != defaults.TRAVERSE_SPAN and f"span{span:g}",
        )
        + ".png"
    )
    path = out_path(view, out, name)
    what = f"one latent dimension at a time around z_mean of test image #{index}{note}"
    labels = [f"z[{d}]" for d in dims]
    informs = _factor_held(view, codec, test)
    if informs is not None:
        labels = [f"{label}\n{informs[d]}" for label, d in zip(labels, dims, strict=True)]
        what += "\neach row labelled with the known factor that its dimension holds most of (MI / H(factor))"
    plots.save_rows(path, rows, labels, title(view, what), [f"{o:+.1f}" for o in offsets])
    return [path]


def _factor_held(view: RunView, codec: Codec, test: Split) -> list[str] | None:
    """For data with known factors, the factor each latent dimension holds the largest share of; else None
    (and where the codes are not finite)."""
    if test.factors is None:
        return None
    from vae_cli.model.estimate import ACTIVE_THRESHOLD
    from vae_cli.runs.disentanglement import SAMPLES, mig, unscorable

    names = view.load(("test",)).factor_names  # the data source's own, not what run.json says
    codes = codec.encode(test.images[:SAMPLES], test.labels[:SAMPLES])
    if not names or unscorable(codes):
        return None
    active = codes.astype(np.float64).var(axis=0) > ACTIVE_THRESHOLD  # as evaluate counts active units
    return mig(codes, test.factors[:SAMPLES], names).most_informed(active)
