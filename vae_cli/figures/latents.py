"""The latent points each figure decodes, and models applied to them in one batched pass per figure."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from vae_cli.defaults import GRID_RANGE
from vae_cli.errors import Fix, RequestError, VaeError


class GridRange(NamedTuple):
    """Where a latent grid's coordinates come from: ``ppf``, ``linear`` or ``data``, and its two ends."""

    kind: str
    low: float
    high: float


DEFAULT_GRID_RANGE = GridRange(*GRID_RANGE)


def batched(model: Any, inputs: np.ndarray, batch_size: int = 2048) -> Any:
    """``model`` applied to ``inputs`` (an array, or a list of arrays) in large batches: one pass per figure.

    A direct call rather than ``predict``: ``predict`` traces a graph first, which
    costs more than the whole figure's arithmetic (about a second here).
    """
    many = isinstance(inputs, list)  # a conditional model's [images or z, one-hot labels]
    parts = [np.asarray(a, dtype="float32") for a in (inputs if many else [inputs])]

    def chunk(i):
        pieces = [p[i : i + batch_size] for p in parts]
        return pieces if many else pieces[0]

    outputs = [model(chunk(i), training=False) for i in range(0, len(parts[0]), batch_size)]
    if isinstance(outputs[0], (list, tuple)):
        return [np.concatenate([np.asarray(o[k]) for o in outputs]) for k in range(len(outputs[0]))]
    return np.concatenate([np.asarray(o) for o in outputs])


# ----------------------------------------------------------------- latent grids
def describe_range(kind: str, low: float, high: float) -> str:
    return {
        "ppf": f"prior quantiles {low:.0%}-{high:.0%}",
        "linear": f"linear {low:g} to {high:g}",
        "data": f"test-set z_mean percentiles {low:.0%}-{high:.0%}",
    }[kind]


def axis_values(n: int, kind: str, low: float, high: float, z_means: np.ndarray | None = None) -> np.ndarray:
    """The n coordinates along one grid axis (``z_means``: that dimension's test-set means)."""
    if kind == "linear":
        return np.linspace(low, high, n)
    if kind == "data":
        return np.quantile(z_means, np.linspace(low, high, n))
    from scipy.special import ndtri  # = scipy.stats.norm.ppf, without a second of scipy.stats imports

    return ndtri(np.linspace(low, high, n))


def manifold_latents(
    xs: np.ndarray,
    ys: np.ndarray,
    latent_dim: int,
    dims: tuple[int, int] = (0, 1),
    center: np.ndarray | None = None,
) -> np.ndarray:
    """Grid points: column c varies dims[0] over xs, row r dims[1] over ys[::-1] (top = largest).

    The other dimensions are held at ``center`` (0, the prior's mean, when None).
    """
    n_rows, n_cols = len(ys), len(xs)
    z = np.zeros((n_rows * n_cols, latent_dim), dtype="float32")
    if center is not None:
        z[:] = center
    z[:, dims[0]] = np.tile(xs, n_rows)
    if latent_dim > 1:
        z[:, dims[1]] = np.repeat(np.asarray(ys)[::-1], n_cols)
    return z


# ------------------------------------------------------------ latent scatter
def encode_means(encoder: Any, images: Any, batch_size: int = 1000) -> np.ndarray:
    """z_mean of each image (an autoencoder's code); ``images`` may be a cvae's ``[images, one-hot labels]``."""
    out = batched(encoder, images, batch_size)
    return out[0] if isinstance(out, list) else out


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projects onto the two leading principal components; returns points and variance fractions."""
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2 / max(np.sum(s**2), 1e-12)
    projected = centred @ vt[:2].T
    if projected.shape[1] < 2:
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
        var = np.pad(var, (0, 2))
    return projected, var[:2]


def require_tsne() -> None:
    """Stops before any work when openTSNE, an optional dependency, is not installed."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        raise VaeError("t-SNE needs the openTSNE package, which is not installed", Fix("install_tsne")) from None


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE map of ``points`` by openTSNE (FFT-accelerated, n log n), on every core."""
    from openTSNE import TSNE

    if len(points) < 4:
        raise RequestError("limit", len(points), ": t-SNE needs at least 4 points")
    perplexity = min(30.0, (len(points) - 1) / 3)  # openTSNE warns and lowers it for small sets anyway
    return np.asarray(TSNE(perplexity=perplexity, n_jobs=-1, random_state=seed).fit(points.astype(np.float64)))


# ---------------------------------------------------- picking test images
def pick_covering_classes(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n indices chosen with ``seed``, round-robin over the classes so each appears when n allows."""
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    picked = []
    while len(picked) < min(n, len(labels)):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(int(pool.pop()))
    return np.array(picked)


def interpolation_latents(z_from: np.ndarray, z_to: np.ndarray, steps: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return (1 - t) * z_from[None] + t * z_to[None]


def traversal_latents(z_center: np.ndarray, dims: list[int], offsets: np.ndarray) -> np.ndarray:
    """A row per dimension in ``dims``: z_center with that one dimension moved by each offset."""
    z = np.repeat(z_center[None], len(dims) * len(offsets), axis=0).astype("float32")
    for row, d in enumerate(dims):
        z[row * len(offsets) : (row + 1) * len(offsets), d] += offsets
    return z


def most_varied(z_means: np.ndarray, count: int) -> list[int]:
    """The ``count`` latent dimensions whose posterior means vary most over the images, in index order."""
    return sorted(np.argsort(z_means.var(axis=0))[::-1][:count].tolist())


def distant_pair(
    z_means: np.ndarray, labels: np.ndarray, start: int | None = None, end: int | None = None
) -> tuple[int, int]:
    """Two images (indices into ``z_means``) whose latent line crosses the most: the typical image (the one
    nearest its group's mean) of each of the two groups whose means lie farthest apart. The groups are the
    classes; with a single class, the lowest and the highest tenth along the means' leading principal axis.
    A given ``start`` or ``end`` stays, and its partner is the typical image of the other group farthest from it.
    """
    groups = labels if len(np.unique(labels)) > 1 else _tails(z_means)
    names = [g for g in np.unique(groups) if g >= 0]
    members = [np.flatnonzero(groups == g) for g in names]
    centres = np.array([z_means[m].mean(axis=0) for m in members])
    typical = [int(m[np.argmin(np.linalg.norm(z_means[m] - c, axis=1))]) for m, c in zip(members, centres, strict=True)]
    if start is None and end is None:
        apart = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
        first, second = sorted(np.unravel_index(np.argmax(apart), apart.shape))
        return typical[first], typical[second]
    given = start if start is not None else end
    apart = np.linalg.norm(centres - z_means[given], axis=1)
    if groups[given] in names and len(names) > 1:
        apart[names.index(groups[given])] = -np.inf  # another group: the same class decodes the same image
    partner = typical[int(np.argmax(apart))]
    return (given, partner) if start is not None else (partner, given)


def _tails(z_means: np.ndarray) -> np.ndarray:
    """0 for the lowest tenth of the means along their leading principal axis, 1 for the highest, -1 between."""
    centred = z_means - z_means.mean(axis=0)
    position = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
    groups = np.full(len(z_means), -1)
    groups[position <= np.quantile(position, 0.1)] = 0
    groups[position >= np.quantile(position, 0.9)] = 1
    return groups
