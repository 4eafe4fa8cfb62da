"""Figures drawn from models: the latent grid and the latent scatter, with titles that say what they show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli.defaults import SEED
from vae_cli.figures import charts, latents, plots
from vae_cli.figures.codec import Codec
from vae_cli.figures.latents import DEFAULT_GRID_RANGE, GridRange


def title_prefix(dataset_title: str, latent_dim: int, epochs: int) -> str:
    """ "MNIST · latent 2 · 8 epochs": what every figure's title starts with."""
    return f"{dataset_title} · latent {latent_dim} · {epochs} epoch{'' if epochs == 1 else 's'}"


@dataclass(frozen=True)
class GridRequest:
    """A latent grid to decode: ``n`` x ``n`` points over ``rng`` in the two dimensions ``dims``.

    ``why_dims`` says in the title why these two dimensions ("the two most active");
    ``axes`` False: the pixels alone; ``label``: the class a cvae decodes the grid as.
    """

    n: int
    rng: GridRange = DEFAULT_GRID_RANGE
    dims: tuple[int, int] = (0, 1)
    why_dims: str = ""
    axes: bool = True
    label: int | None = None


@dataclass(frozen=True)
class LabelledImages:
    """Images with their class labels, and the names of the classes."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]


@dataclass(frozen=True)
class Projection:
    """How latent means of more than two dimensions are brought to a plane: ``pca`` or ``tsne`` (seeded)."""

    method: str = "pca"
    seed: int = SEED


PCA = Projection()


def draw_manifold(
    codec: Codec,
    grid: GridRequest,
    title: str,
    path: Path,
    z_means: np.ndarray | None = None,
    center: np.ndarray | None = None,
) -> np.ndarray:
    """Decodes the requested grid; ``z_means`` (test-set means) are needed for the ``data`` range.

    ``center``: where the other dimensions are held (0 when None; an autoencoder's is the codes' mean).
    """
    latent_dim, n, dims = codec.latent_dim, grid.n, grid.dims
    kind, low, high = grid.rng
    xs = latents.axis_values(n, kind, low, high, None if z_means is None else z_means[:, dims[0]])
    ys = (
        xs
        if latent_dim < 2
        else latents.axis_values(n, kind, low, high, None if z_means is None else z_means[:, dims[1]])
    )
    images = codec.decode(latents.manifold_latents(xs, ys, latent_dim, dims, center), grid.label)
    title += f"\n{latents.describe_range(kind, low, high)}"
    if latent_dim > 2:
        why = f" ({grid.why_dims})" if grid.why_dims else ""
        held = "0" if center is None else "the test-set codes' mean"
        title += f"; z[{dims[0]}], z[{dims[1]}] varied{why}, the other {latent_dim - 2} held at {held}"
    elif latent_dim == 1:
        title += "; the latent is 1-D, so every row is the same"
    coordinates = plots.GridCoordinates(xs, ys[::-1], f"z[{dims[0]}]", f"z[{dims[1]}]")
    plots.save_manifold(path, images, coordinates, title, axes=grid.axes)
    return images


def draw_latent(
    codec: Codec,
    data: LabelledImages,
    title: str,
    path: Path,
    projection: Projection = PCA,
    z_mean: np.ndarray | None = None,
) -> np.ndarray:
    """The latent means of ``data.images`` (or the given ``z_mean``) coloured by label; larger latents
    projected by PCA or t-SNE, a 2-D latent space drawn as it is whatever the method.

    A cvae's encoder is given each image's label, so its z holds what the class does not say.
    """
    method = projection.method
    if z_mean is None:
        z_mean = codec.encode(data.images, data.labels)
    if z_mean.shape[1] <= 2 and method == "tsne":
        title += f"\nthe latent space is already {z_mean.shape[1]}-D: drawn as it is, without t-SNE"
    if z_mean.shape[1] == 2:
        points, axis_labels = z_mean, ("z_mean[0]", "z_mean[1]")
    elif z_mean.shape[1] == 1:
        points = np.stack([z_mean[:, 0], np.random.default_rng(0).uniform(-0.5, 0.5, len(z_mean))], axis=1)
        axis_labels = ("z_mean[0]", "random jitter (latent is 1-D)")
    elif method == "tsne":
        points = latents.tsne_2d(z_mean, seed=projection.seed)
        axis_labels = ("t-SNE 1", "t-SNE 2")
        title += f"\nt-SNE of the {z_mean.shape[1]}-D latent means (distances between clusters mean little)"
    else:
        points, var = latents.pca_2d(z_mean)
        axis_labels = tuple(f"PC {i + 1} of z_mean ({100 * v:.0f}% of variance)" for i, v in enumerate(var))
        title += f"\nPCA projection of the {z_mean.shape[1]}-D latent means"
    charts.save_latent_scatter(path, points, data.labels, data.class_names, title, axis_labels)
    return z_mean
