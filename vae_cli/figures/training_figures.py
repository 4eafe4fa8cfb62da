"""The figures a training run draws: each epoch's samples, and at the end the loss curves,
the latent grid, the latent scatter and the progress GIF."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.defaults import GRID
from vae_cli.figures import latents, plots
from vae_cli.figures.draw import draw_latent, draw_manifold, title_prefix
from vae_cli.limits import MAX_FIGURE_PIXELS
from vae_cli.runs.folder import SAMPLES, writable_subfolder

LOSS, GRID_PNG, LATENT, PROGRESS = "loss.png", "grid.png", "latent.png", "progress.gif"


def epoch_samples_path(run_dir: Path, epoch: int) -> Path:
    """Where epoch ``epoch``'s samples go; a ``samples`` that is a link is refused, never followed."""
    return writable_subfolder(run_dir, SAMPLES) / f"epoch_{epoch:03d}.png"


def save_epoch_samples(decoder: Any, z: np.ndarray, path: Path, title: str) -> Path:
    """The same latent points decoded after every epoch: the frames of ``progress.gif``."""
    images = latents.batched(decoder, z)
    # Unwrapped: every epoch's image must have the same size to become a frame of progress.gif.
    return plots.save_image_grid(path, images, int(np.ceil(np.sqrt(len(z)))), title, wrap=False)


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
) -> None:
    """Loss curves, latent grid, latent scatter and progress GIF of a finished run."""
    prefix = title_prefix(dataset_title, latent_dim, len(history["epoch"]))
    plots.save_loss_curves(run_dir / LOSS, history, prefix, beta)
    # Large images get a smaller grid, so that the figure stays within what `vae sample` would draw.
    grid = min(GRID, max(1, math.isqrt(MAX_FIGURE_PIXELS // math.prod(decoder.output.shape[1:]))))
    draw_manifold(decoder, grid, f"{prefix}: decoded latent grid", run_dir / GRID_PNG)
    draw_latent(encoder, test_images, test_labels, class_names, f"{prefix}: test-set latent means", run_dir / LATENT)
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
