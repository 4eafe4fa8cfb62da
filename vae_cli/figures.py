"""Turns trained models into the arrays each figure shows, one batched pass per figure."""

import re
from pathlib import Path

import numpy as np

from vae_cli import plots
from vae_cli.errors import ConfigError


def batched(model, inputs, batch_size=2048):
    """``model`` applied to ``inputs`` in large batches: one pass per figure, never one call per image.

    A direct call rather than ``predict``: ``predict`` traces a graph first, which
    costs more than the whole figure's arithmetic (about a second here).
    """
    import keras

    inputs = np.asarray(inputs, dtype="float32")
    outputs = [model(inputs[i : i + batch_size], training=False) for i in range(0, len(inputs), batch_size)]
    if isinstance(outputs[0], (list, tuple)):
        return [np.concatenate([keras.ops.convert_to_numpy(o[k]) for o in outputs]) for k in range(len(outputs[0]))]
    return np.concatenate([keras.ops.convert_to_numpy(o) for o in outputs])


def title_prefix(dataset_title, latent_dim, epochs):
    """"MNIST · latent 2 · 8 epochs": what every figure's title starts with."""
    return f"{dataset_title} · latent {latent_dim} · {epochs} epoch{'' if epochs == 1 else 's'}"


# ----------------------------------------------------------------- latent grids
RANGE_FORMS = "ppf:LOW:HIGH (prior quantiles), linear:MIN:MAX, or data[:LOW:HIGH] (test-set percentiles)"


def parse_range(text):
    """``--range`` text -> (kind, low, high); kinds: ppf, linear, data."""
    match = re.fullmatch(r"(ppf|linear|data)(?::(-?[\d.]+(?:e-?\d+)?):(-?[\d.]+(?:e-?\d+)?))?", text.strip())
    if not match:
        raise ConfigError(f"--range {text!r}: expected {RANGE_FORMS}")
    kind, low, high = match.group(1), match.group(2), match.group(3)
    if low is None:
        if kind == "linear":
            raise ConfigError(f"--range {text!r}: linear needs its span, for example linear:-4:4")
        low, high = 0.05, 0.95
    low, high = float(low), float(high)
    if not low < high:
        raise ConfigError(f"--range {text!r}: the low end must be below the high end")
    if kind in ("ppf", "data") and not (0 < low and high < 1):
        raise ConfigError(f"--range {text!r}: {kind} takes probability levels strictly between 0 and 1")
    return kind, low, high


def describe_range(kind, low, high):
    return {
        "ppf": f"prior quantiles {low:.0%}-{high:.0%}",
        "linear": f"linear {low:g} to {high:g}",
        "data": f"test-set z_mean percentiles {low:.0%}-{high:.0%}",
    }[kind]


def axis_values(n, kind, low, high, z_means=None):
    """The n coordinates along one grid axis (``z_means``: that dimension's test-set means)."""
    if kind == "linear":
        return np.linspace(low, high, n)
    if kind == "data":
        return np.quantile(z_means, np.linspace(low, high, n))
    from scipy.special import ndtri  # = scipy.stats.norm.ppf, without a second of scipy.stats imports

    return ndtri(np.linspace(low, high, n))


def parse_dims(text, latent_dim):
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        dims = ()
    if len(dims) != 2 or dims[0] == dims[1]:
        raise ConfigError(f"--dims {text!r}: expected two different dimensions, for example --dims 0,1")
    if latent_dim < 2:
        raise ConfigError("--dims: this run has a 1-D latent space; there is only dimension 0")
    for d in dims:
        if not 0 <= d < latent_dim:
            raise ConfigError(f"--dims {text!r}: dimensions run from 0 to {latent_dim - 1} in this run")
    return dims


def manifold_latents(xs, ys, latent_dim, dims=(0, 1)):
    """Grid points: column c varies dims[0] over xs, row r dims[1] over ys[::-1] (top = largest); others 0."""
    n_rows, n_cols = len(ys), len(xs)
    z = np.zeros((n_rows * n_cols, latent_dim), dtype="float32")
    z[:, dims[0]] = np.tile(xs, n_rows)
    if latent_dim > 1:
        z[:, dims[1]] = np.repeat(np.asarray(ys)[::-1], n_cols)
    return z


def draw_manifold(decoder, n, title, path, rng=("ppf", 0.05, 0.95), dims=(0, 1), z_means=None, axes=True):
    """Decodes an n x n grid; ``z_means`` (test-set means) are needed for the ``data`` range."""
    latent_dim = decoder.input.shape[-1]
    kind, low, high = rng
    xs = axis_values(n, kind, low, high, None if z_means is None else z_means[:, dims[0]])
    ys = xs if latent_dim < 2 else axis_values(n, kind, low, high, None if z_means is None else z_means[:, dims[1]])
    images = batched(decoder, manifold_latents(xs, ys, latent_dim, dims))
    title += f"\n{describe_range(kind, low, high)}"
    if latent_dim > 2:
        title += f"; z[{dims[0]}], z[{dims[1]}] varied, the other {latent_dim - 2} held at 0"
    elif latent_dim == 1:
        title += "; the latent is 1-D, so every row is the same"
    plots.save_manifold(path, images, xs, ys[::-1], title, f"z[{dims[0]}]", f"z[{dims[1]}]", axes=axes)
    return images


def random_samples(decoder, n, seed):
    z = np.random.default_rng(seed).standard_normal((n, decoder.input.shape[-1])).astype("float32")
    return batched(decoder, z)


# ------------------------------------------------------------ latent scatter
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


def draw_latent(encoder, images, labels, class_names, title, path, method="pca", seed=0):
    z_mean = encode_means(encoder, images)
    if z_mean.shape[1] == 2:
        points, axis_labels = z_mean, ("z_mean[0]", "z_mean[1]")
    elif z_mean.shape[1] == 1:
        points = np.stack([z_mean[:, 0], np.random.default_rng(0).uniform(-0.5, 0.5, len(z_mean))], axis=1)
        axis_labels = ("z_mean[0]", "random jitter (latent is 1-D)")
    elif method == "tsne":
        from vae_cli.tsne import tsne

        points = tsne(z_mean, seed=seed)
        axis_labels = ("t-SNE 1", "t-SNE 2")
        title += f"\nt-SNE of the {z_mean.shape[1]}-D latent means (distances between clusters mean little)"
    else:
        points, var = pca_2d(z_mean)
        axis_labels = tuple(f"PC {i + 1} of z_mean ({100 * v:.0f}% of variance)" for i, v in enumerate(var))
        title += f"\nPCA projection of the {z_mean.shape[1]}-D latent means"
    plots.save_latent_scatter(path, points, labels, class_names, title, axis_labels)
    return z_mean


# ---------------------------------------------------- picking test images
def pick_covering_classes(labels, n, seed):
    """n indices chosen with ``seed``, round-robin over the classes so each appears when n allows."""
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    picked = []
    while len(picked) < min(n, len(labels)):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(int(pool.pop()))
    return np.array(picked)


def reconstruct(encoder, decoder, images):
    """Reconstructions through the mean code: what the model keeps of each image."""
    return batched(decoder, encode_means(encoder, images))


def interpolation_latents(z_from, z_to, steps):
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return (1 - t) * z_from[None] + t * z_to[None]


def traversal_latents(z_center, dims, offsets):
    """A row per dimension in ``dims``: z_center with that one dimension moved by each offset."""
    z = np.repeat(z_center[None], len(dims) * len(offsets), axis=0).astype("float32")
    for row, d in enumerate(dims):
        z[row * len(offsets) : (row + 1) * len(offsets), d] += offsets
    return z


def progress_gif(run_dir, hold_last_ms=2000, frame_ms=400):
    """``progress.gif`` from the per-epoch sample images, ending on the last epoch held longer."""
    files = sorted((Path(run_dir) / "samples").glob("epoch_*.png"))
    if not files:
        return None
    frames = [plots.read_png(f) for f in files]
    shape = frames[0].shape
    frames = [f for f in frames if f.shape == shape]
    return plots.save_gif(Path(run_dir) / "progress.gif", frames, [frame_ms] * (len(frames) - 1) + [hold_last_ms])
