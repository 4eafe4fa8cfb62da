"""Turns trained models into the arrays each figure shows, one batched call per figure."""

import numpy as np

from vae_cli import plots
from vae_cli.data import DATASETS


def batched(model, inputs, batch_size=2048):
    """``model`` applied to ``inputs`` in large batches: one pass per figure, never one call per image.

    A direct call rather than ``predict``: ``predict`` traces a graph first, which
    costs more than the whole figure's arithmetic (about a second here).
    """
    import keras

    outputs = [model(inputs[i : i + batch_size], training=False) for i in range(0, len(inputs), batch_size)]
    if isinstance(outputs[0], (list, tuple)):
        return [np.concatenate([keras.ops.convert_to_numpy(o[k]) for o in outputs]) for k in range(len(outputs[0]))]
    return np.concatenate([keras.ops.convert_to_numpy(o) for o in outputs])


def title_prefix(cfg, epochs):
    """"MNIST · latent 2 · 8 epochs": what every figure's title starts with."""
    return f"{DATASETS[cfg.data.dataset].title} · latent {cfg.model.latent_dim} · {epochs} epoch{'' if epochs == 1 else 's'}"


def prior_quantiles(n, low=0.05, high=0.95):
    """Evenly spaced quantiles of N(0, 1): equal prior mass between neighbouring cells."""
    from scipy.special import ndtri  # = scipy.stats.norm.ppf, without a second of scipy.stats imports

    return ndtri(np.linspace(low, high, n))


def manifold_latents(n, latent_dim, values=None):
    """Latent points of an n x n grid over z[0] (columns) and z[1] (rows, top = largest); others 0."""
    values = prior_quantiles(n) if values is None else np.asarray(values)
    ys = values[::-1]  # the top row shows the largest z[1], as on a plot's y axis
    z = np.zeros((n * n, latent_dim), dtype="float32")
    z[:, 0] = np.tile(values, n)
    if latent_dim > 1:
        z[:, 1] = np.repeat(ys, n)
    return z, values, ys


def draw_manifold(decoder, n, title, path):
    latent_dim = decoder.input.shape[-1]
    z, xs, ys = manifold_latents(n, latent_dim)
    images = batched(decoder, z)
    if latent_dim > 2:
        title += f"\nz[0], z[1] varied; z[2:{latent_dim}] held at 0"
    elif latent_dim == 1:
        title += "\nz[0] varied along each row (latent is 1-D)"
    plots.save_manifold(path, images, xs, ys, title)
    return images


def encode_means(encoder, images, batch_size=1000):
    z_mean, _ = batched(encoder, images, batch_size)
    return z_mean


def pca_2d(points):
    """Projects onto the two leading principal components; returns points and variance fractions."""
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2 / max(np.sum(s**2), 1e-12)
    projected = centred @ vt[:2].T
    if projected.shape[1] < 2:
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
        var = np.pad(var, (0, 2))
    return projected, var[:2]


def draw_latent(encoder, images, labels, class_names, title, path):
    z_mean = encode_means(encoder, images)
    if z_mean.shape[1] == 2:
        points, axis_labels = z_mean, ("z_mean[0]", "z_mean[1]")
    elif z_mean.shape[1] == 1:
        points = np.stack([z_mean[:, 0], np.random.default_rng(0).uniform(-0.5, 0.5, len(z_mean))], axis=1)
        axis_labels = ("z_mean[0]", "random jitter (latent is 1-D)")
    else:
        points, var = pca_2d(z_mean)
        axis_labels = tuple(f"PC {i + 1} of z_mean ({100 * v:.0f}% of variance)" for i, v in enumerate(var))
        title += f"\nPCA projection of the {z_mean.shape[1]}-D latent means"
    plots.save_latent_scatter(path, points, labels, class_names, title, axis_labels)
    return z_mean
