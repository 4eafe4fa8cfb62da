"""Exact t-SNE (van der Maaten & Hinton, 2008) in NumPy, for a few thousand points.

Quadratic in time and memory, so callers cap the number of points; it spares
the project a heavy dependency for one optional projection.
"""

from __future__ import annotations

import numpy as np

EXAGGERATION, EXAGGERATION_ITERATIONS = 12.0, 250


def _squared_distances(x):
    sq = np.sum(x * x, axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)


def affinities(x: np.ndarray, perplexity: float, steps: int = 64) -> np.ndarray:
    """Symmetric P with each row's Gaussian bandwidth bisected to the target perplexity."""
    d = _squared_distances(x)
    d /= max(np.median(d), 1e-12)  # a scale where beta = 1 is a sensible start
    n = len(d)
    target = np.log(perplexity)
    beta, low, high = np.ones(n), np.zeros(n), np.full(n, np.inf)
    for _ in range(steps):
        p = np.exp(-d * beta[:, None])
        np.fill_diagonal(p, 0.0)
        total = np.maximum(p.sum(axis=1), 1e-300)
        entropy = np.log(total) + beta * (d * p).sum(axis=1) / total
        too_flat = entropy > target  # bandwidth too wide: sharpen it
        low = np.where(too_flat, beta, low)
        high = np.where(too_flat, high, beta)
        beta = np.where(np.isinf(high), beta * 2.0, (low + high) / 2.0)
    p /= total[:, None]
    p = p + p.T
    return np.maximum(p / p.sum(), 1e-12)


def tsne(x: np.ndarray, perplexity: float = 30.0, iterations: int = 750, seed: int = 0) -> np.ndarray:
    """2-D embedding of ``x`` (N, D); deterministic for a given ``seed``."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points. Received: {n}")
    p = affinities(x, min(perplexity, (n - 1) / 3.0))
    y = np.random.default_rng(seed).standard_normal((n, 2)) * 1e-4
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    rate = max(n / EXAGGERATION / 4.0, 50.0)
    for it in range(iterations):
        early = it < EXAGGERATION_ITERATIONS
        num = 1.0 / (1.0 + _squared_distances(y))
        np.fill_diagonal(num, 0.0)
        q = np.maximum(num / num.sum(), 1e-12)
        pq = ((EXAGGERATION if early else 1.0) * p - q) * num
        grad = 4.0 * (pq.sum(axis=1)[:, None] * y - pq @ y)
        gains = np.clip(np.where(np.sign(grad) != np.sign(velocity), gains + 0.2, gains * 0.8), 0.01, None)
        velocity = (0.5 if early else 0.8) * velocity - rate * gains * grad
        y += velocity
        y -= y.mean(axis=0)
    return y
