"""The figures a training run draws: each epoch's frame (samples and reconstructions), and at the end
the loss curves, the latent grid, the latent scatter, the progress GIF (and a cvae's class figure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.defaults import GRID, SEED
from vae_cli.figures import charts, kind_figures, latents, plots, writer
from vae_cli.figures.codec import Codec
from vae_cli.figures.draw import GridRequest, LabelledImages, draw_latent, draw_manifold, title_prefix
from vae_cli.limits import MAX_FIGURE_PIXELS
from vae_cli.runs.folder import SAMPLES, writable_subfolder

LOSS, GRID_PNG, LATENT, PROGRESS = "loss.png", "grid.png", "latent.png", "progress.gif"
CLASSES = "classes.png"  # a cvae's samples, one row per class


def epoch_samples_path(run_dir: Path, epoch: int) -> Path:
    """Where epoch ``epoch``'s frame goes; a ``samples`` that is a link is refused, never followed."""
    return writable_subfolder(run_dir, SAMPLES) / f"epoch_{epoch:03d}.png"


def epoch_images(labels: np.ndarray, sample_points: int, seed: int) -> np.ndarray:
    """Indices of the images whose reconstructions every epoch's frame shows: one row of the
    sample grid's width, covering the classes."""
    return latents.pick_covering_classes(labels, int(np.ceil(np.sqrt(sample_points))), seed)


class EpochSamples:
    """What every epoch's frame of ``progress.gif`` decodes: the same points each time.

    A kind with a prior decodes fixed draws of z ~ N(0, I); a conditional one decodes
    the first columns of them once per class, a row per class; a kind without a
    prior (an autoencoder) reconstructs fixed validation images instead. Under them, every kind's frame
    shows fixed test images (``originals``, with their ``labels``) above their reconstructions.
    """

    def __init__(
        self,
        kind: Any,
        z: np.ndarray,
        originals: np.ndarray,
        labels: np.ndarray,
        classes: int = 0,
        images: np.ndarray | None = None,
    ) -> None:
        self.kind, self.cols = kind, int(np.ceil(np.sqrt(len(z))))
        self.z, self.z_labels, self.images = z, None, images
        self.originals, self.labels = originals, labels
        if kind.conditional:
            rows = len(z) // self.cols
            self.z = np.tile(z[: self.cols], (rows, 1))
            self.z_labels = np.repeat(np.arange(rows) % classes, self.cols)
        self.what = kind.epoch_samples_note(0 if images is None else len(images))

    def decode(self, codec: Codec) -> np.ndarray:
        if not self.kind.has_prior:
            return codec.reconstruct(self.images)
        return codec.decode(self.z, self.z_labels)


def save_epoch_samples(codec: Codec, samples: EpochSamples, path: Path, title: str) -> Path:
    """One frame of ``progress.gif``: ``samples`` decoded by this epoch's models, and the strip of
    test images above their reconstructions."""
    images = samples.decode(codec)
    reconstructions = codec.reconstruct(samples.originals, samples.labels)
    title = f"{title}: {samples.what}" if samples.what else title
    return plots.save_epoch_frame(path, images, samples.cols, samples.originals, reconstructions, title)


@dataclass(frozen=True)
class TestImages:
    """The test images a finished run's figures encode, their labels, and what the dataset and classes are called."""

    dataset_title: str
    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]


@dataclass(frozen=True)
class BestEpoch:
    """The epoch whose weights a run kept (None: the last), and the words the loss curves mark it with."""

    epoch: int | None = None
    note: str = ""


def save_final_figures(
    run_dir: Path, codec: Codec, history: dict, beta: float, test: TestImages, best: BestEpoch = BestEpoch()
) -> None:
    """Loss curves, latent grid, latent scatter and progress GIF of a finished run (a conditional kind: the
    class figure too).

    With more than two latent dimensions the grid varies the two the model uses most.
    """
    dataset_title, test_images, test_labels, class_names = (
        test.dataset_title,
        test.images,
        test.labels,
        test.class_names,
    )
    best_epoch, best_note = best.epoch, best.note
    latent_dim = codec.latent_dim
    prefix = title_prefix(dataset_title, latent_dim, len(history["epoch"]))
    charts.save_loss_curves(run_dir / LOSS, history, prefix, beta, best_epoch, best_note)
    z_means = codec.encode(test_images, test_labels)
    dims, why = ((0, 1), "") if latent_dim <= 2 else (tuple(latents.most_varied(z_means, 2)), "the two most active")
    rng = kind_figures.grid_range(codec, None)
    center = z_means.mean(axis=0) if rng.kind == "data" else None  # an autoencoder: around its codes' mean
    # Large images get a smaller grid, so that the figure stays within what `vae sample` would draw.
    grid = min(GRID, max(1, math.isqrt(MAX_FIGURE_PIXELS // math.prod(codec.decoder.output.shape[1:]))))
    title = f"{prefix}: decoded latent grid{kind_figures.class_note(codec, None, class_names)}"
    draw_manifold(codec, GridRequest(grid, rng, dims, why, label=0), title, run_dir / GRID_PNG, z_means, center)
    title = f"{prefix}: test-set latent means"
    labelled = LabelledImages(test_images, test_labels, class_names)
    draw_latent(codec, labelled, title, run_dir / LATENT, z_mean=z_means)
    if codec.conditional:
        title = f"{prefix}: samples by class"
        kind_figures.draw_classes(codec, class_names, kind_figures.CLASS_COLUMNS, SEED, title, run_dir / CLASSES)
    progress_gif(run_dir)


def progress_gif(run_dir: Path, hold_last_ms: int = 2000, frame_ms: int = 400) -> Path | None:
    """``progress.gif`` from the per-epoch frames, ending on the last epoch held longer."""
    files = sorted((Path(run_dir) / SAMPLES).glob("epoch_*.png"))
    if not files:
        return None
    frames = [plots.read_png(f) for f in files]
    shape = frames[-1].shape  # a run resumed by a newer version may have changed the frame's layout
    frames = [f for f in frames if f.shape == shape]
    return writer.save_gif(Path(run_dir) / PROGRESS, frames, [frame_ms] * (len(frames) - 1) + [hold_last_ms])
