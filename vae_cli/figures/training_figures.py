"""The figures a training run draws: each epoch's samples, and at the end the loss curves,
the latent grid, the latent scatter and the progress GIF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_cli.defaults import GRID, SEED
from vae_cli.figures import kind_figures, plots
from vae_cli.figures.codec import Codec
from vae_cli.figures.draw import draw_latent, draw_manifold, title_prefix

SAMPLES = "samples"  # the run folder's sub-folder of per-epoch sample images
LOSS, GRID_PNG, LATENT, PROGRESS = "loss.png", "grid.png", "latent.png", "progress.gif"
CLASSES = "classes.png"  # a cvae's samples, one row per class


def epoch_samples_path(run_dir: Path, epoch: int) -> Path:
    return run_dir / SAMPLES / f"epoch_{epoch:03d}.png"


class EpochSamples:
    """The same points decoded after every epoch: the frames of ``progress.gif``.

    A vae decodes fixed draws of z ~ N(0, I); a cvae decodes the first columns of
    them once per class, a row per class; an autoencoder, which has no prior,
    reconstructs fixed validation images instead.
    """

    def __init__(self, kind: str, z: np.ndarray, classes: int = 0, images: np.ndarray | None = None) -> None:
        self.kind, self.cols = kind, int(np.ceil(np.sqrt(len(z))))
        self.z, self.labels, self.images = z, None, images
        if kind == "cvae":
            rows = len(z) // self.cols
            self.z = np.tile(z[: self.cols], (rows, 1))
            self.labels = np.repeat(np.arange(rows) % classes, self.cols)
        self.what = {
            "ae": f"reconstructions of {0 if images is None else len(images)} validation images",
            "cvae": "one class per row, the same z per column",
        }.get(kind, "")

    def decode(self, codec: Codec) -> np.ndarray:
        if self.kind == "ae":
            return codec.reconstruct(self.images)
        return codec.decode(self.z, self.labels)


def save_epoch_samples(codec: Codec, samples: EpochSamples, path: Path, title: str) -> Path:
    """One frame of ``progress.gif``: ``samples`` decoded by this epoch's models."""
    images = samples.decode(codec)
    title = f"{title}: {samples.what}" if samples.what else title
    # Unwrapped: every epoch's image must have the same size to become a frame of progress.gif.
    return plots.save_image_grid(path, images, samples.cols, title, wrap=False)


def save_final_figures(
    run_dir: Path,
    codec: Codec,
    history: dict,
    beta: float,
    dataset_title: str,
    latent_dim: int,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    class_names: list[str],
) -> None:
    """Loss curves, latent grid, latent scatter and progress GIF of a finished run (a cvae: the class figure too)."""
    prefix = title_prefix(dataset_title, latent_dim, len(history["epoch"]))
    plots.save_loss_curves(run_dir / LOSS, history, prefix, beta)
    rng = kind_figures.grid_range(codec, None)
    z_means = center = None
    if rng.kind == "data":  # an autoencoder: the grid spans its codes, the other dimensions at their mean
        z_means = codec.encode(test_images, test_labels)
        center = z_means.mean(axis=0)
    grid_title = f"{prefix}: decoded latent grid{kind_figures.class_note(codec, None, class_names)}"
    draw_manifold(codec, GRID, grid_title, run_dir / GRID_PNG, rng, z_means=z_means, label=0, center=center)
    title = f"{prefix}: test-set latent means"
    draw_latent(codec, test_images, test_labels, class_names, title, run_dir / LATENT)
    if codec.conditional:
        kind_figures.draw_classes(
            codec, class_names, kind_figures.CLASS_COLUMNS, SEED, f"{prefix}: samples by class", run_dir / CLASSES
        )
    progress_gif(run_dir)


def progress_gif(run_dir: Path, hold_last_ms: int = 2000, frame_ms: int = 400) -> Path | None:
    """``progress.gif`` from the per-epoch sample images, ending on the last epoch held longer."""
    files = sorted((Path(run_dir) / SAMPLES).glob("epoch_*.png"))
    if not files:
        return None
    frames = [plots.read_png(f) for f in files]
    shape = frames[0].shape
    frames = [f for f in frames if f.shape == shape]
    return plots.save_gif(Path(run_dir) / PROGRESS, frames, [frame_ms] * (len(frames) - 1) + [hold_last_ms])
