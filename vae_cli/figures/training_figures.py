"""The figures a training run draws: each epoch's frame (prior samples and reconstructions), and at
the end the loss curves, the latent grid, the latent scatter and the progress GIF."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.defaults import GRID
from vae_cli.figures import charts, latents, plots
from vae_cli.figures.draw import draw_latent, draw_manifold, title_prefix
from vae_cli.limits import MAX_FIGURE_PIXELS
from vae_cli.runs.folder import SAMPLES, writable_subfolder

LOSS, GRID_PNG, LATENT, PROGRESS = "loss.png", "grid.png", "latent.png", "progress.gif"


def epoch_samples_path(run_dir: Path, epoch: int) -> Path:
    """Where epoch ``epoch``'s samples go; a ``samples`` that is a link is refused, never followed."""
    return writable_subfolder(run_dir, SAMPLES) / f"epoch_{epoch:03d}.png"


def epoch_images(labels: np.ndarray, sample_points: int, seed: int) -> np.ndarray:
    """Indices of the test images whose reconstructions every epoch's frame shows: one row of the
    sample grid's width, covering the classes."""
    return latents.pick_covering_classes(labels, int(np.ceil(np.sqrt(sample_points))), seed)


def save_epoch_samples(
    encoder: Any, decoder: Any, z: np.ndarray, originals: np.ndarray, path: Path, title: str
) -> Path:
    """The same latent points decoded after every epoch, and the same test images reconstructed:
    the frames of ``progress.gif``."""
    samples = latents.batched(decoder, z)
    reconstructions = latents.reconstruct(encoder, decoder, originals)
    return plots.save_epoch_frame(path, samples, int(np.ceil(np.sqrt(len(z)))), originals, reconstructions, title)


def save_final_figures(
    run_dir: Path,
    encoder: Any,
    decoder: Any,
    history: dict,
    beta: float,
    dataset_title: str,
    latent_dim: int,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    class_names: list[str],
    best_epoch: int | None = None,
    best_note: str = "",
) -> None:
    """Loss curves, latent grid, latent scatter and progress GIF of a finished run.

    With more than two latent dimensions the grid varies the two the model uses most.
    """
    prefix = title_prefix(dataset_title, latent_dim, len(history["epoch"]))
    charts.save_loss_curves(run_dir / LOSS, history, prefix, beta, best_epoch, best_note)
    z_means = latents.encode_means(encoder, test_images)
    dims, why = ((0, 1), "") if latent_dim <= 2 else (tuple(latents.most_varied(z_means, 2)), "the two most active")
    # Large images get a smaller grid, so that the figure stays within what `vae sample` would draw.
    grid = min(GRID, max(1, math.isqrt(MAX_FIGURE_PIXELS // math.prod(decoder.output.shape[1:]))))
    title = f"{prefix}: decoded latent grid"
    draw_manifold(decoder, grid, title, run_dir / GRID_PNG, dims=dims, why_dims=why)
    title = f"{prefix}: test-set latent means"
    draw_latent(encoder, test_images, test_labels, class_names, title, run_dir / LATENT, z_mean=z_means)
    progress_gif(run_dir)


def progress_gif(run_dir: Path, hold_last_ms: int = 2000, frame_ms: int = 400) -> Path | None:
    """``progress.gif`` from the per-epoch sample images, ending on the last epoch held longer."""
    files = sorted((Path(run_dir) / SAMPLES).glob("epoch_*.png"))
    if not files:
        return None
    frames = [plots.read_png(f) for f in files]
    shape = frames[-1].shape  # a run resumed by a newer version may have changed the frame's layout
    frames = [f for f in frames if f.shape == shape]
    return plots.save_gif(Path(run_dir) / PROGRESS, frames, [frame_ms] * (len(frames) - 1) + [hold_last_ms])
