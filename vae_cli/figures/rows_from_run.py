"""The row figures of a run: reconstructions, the interpolation between two test images, and traversals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli import defaults
from vae_cli.errors import RequestError
from vae_cli.figures import latents, plots, writer
from vae_cli.figures.requested import check_index, check_size, codec_of, out_path, suffix, title
from vae_cli.runs.view import RunView

GIF_SIDE = 112  # pixels on the frames' shorter side: 28-pixel frames are enlarged 4 times, 8-pixel ones 14


def reconstruct(
    view: RunView, n: int = defaults.RECONSTRUCT_COUNT, seed: int = defaults.SEED, out: Path | None = None
) -> list[Path]:
    """Test images covering every class above their reconstructions from z_mean (an ae: its code)."""
    check_size(view, "n", n, 2 * n)
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
    path = out_path(view, out, "reconstructions.png" if default else f"reconstructions-{n}-seed{seed}.png")
    code = view.kind.code_name
    what = f"{len(picked)} test images (seed {seed}) and their reconstructions from {code}"
    plots.save_rows(path, rows, labels, title(view, what))
    return [path]


def interpolate(
    view: RunView,
    start: int | None = None,
    end: int | None = None,
    steps: int = defaults.INTERPOLATE_STEPS,
    seed: int = defaults.SEED,
    out: Path | None = None,
) -> list[Path]:
    """The straight line between two test images' latent means, decoded: a PNG strip and a GIF.

    A cvae's class weights move from one image's class to the other's, along with z.
    """
    scale = _gif_scale(view.decoder.output.shape[1:3])
    check_size(view, "steps", steps, steps + 2 + 2 * steps * scale**2, least=2)  # the strip, then the GIF's frames
    test = view.split("test")
    start, end = _pair(test.labels, start, end, seed)
    originals = test.images[[start, end]]
    codec = codec_of(view)
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


def _pair(labels: np.ndarray, start: int | None, end: int | None, seed: int) -> tuple[int, int]:
    count = len(labels)
    check_index("start", start, count)
    check_index("end", end, count)
    rng = np.random.default_rng(seed)
    if start is None:
        start = int(rng.integers(count))
    if end is None:  # a different class makes the more telling path
        others = np.flatnonzero(labels != labels[start])
        end = int(rng.choice(others if len(others) else np.arange(count)))
    return start, end


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
    plots.save_rows(path, rows, [f"z[{d}]" for d in dims], title(view, what), [f"{o:+.1f}" for o in offsets])
    return [path]
