"""The Mutual Information Gap (MIG; Chen et al., 2018) of a run's codes against data with known factors.

Computed as disentanglement_lib does (Locatello et al., 2019): each latent
dimension's mean over the images is discretised into ``BINS`` equal-width bins over
its own range; the mutual information between every binned dimension and every
factor is the plug-in estimate from their joint histogram, in nats; for each
factor, the gap between the two dimensions that inform it most is divided by the
factor's entropy; MIG is the mean of these gaps over the factors. 1 means each
factor is captured by one dimension alone, 0 that none is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 20  # disentanglement_lib's num_bins
SAMPLES = 10_000  # disentanglement_lib's num_train: images whose codes are scored
NOTHING_HELD = 0.05  # a dimension holding less of every factor's entropy than this is said to hold none


def discretize(codes: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each column of ``codes`` (N, D) as bin indices 0 .. bins - 1 over its own range."""
    out = np.zeros(codes.shape, np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram(codes[:, d], bins)[1]
        out[:, d] = np.digitize(codes[:, d], edges[:-1]) - 1
    return out


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """The plug-in mutual information of two integer sequences, in nats."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= len(a)
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    seen = joint > 0
    return float(max(0.0, np.sum(joint[seen] * np.log(joint[seen] / outer[seen]))))


def entropy(values: np.ndarray) -> float:
    """The plug-in entropy of an integer sequence, in nats."""
    return mutual_information(values, values)


@dataclass
class MutualInformationGap:
    score: float  # the mean of the per-factor gaps
    per_factor: list[float]  # (top MI - second MI) / H(factor), factor by factor
    information: np.ndarray  # (factors, latent dimensions): MI in nats
    entropies: list[float]  # H(factor), nats
    factor_names: list[str]
    samples: int
    bins: int

    def normalized(self) -> np.ndarray:
        """MI / H(factor): the share of each factor's entropy that each dimension holds."""
        return self.information / np.maximum(np.asarray(self.entropies)[:, None], 1e-12)

    def most_informed(self, active: np.ndarray | None = None) -> list[str]:
        """For each latent dimension, the factor it holds the largest share of: "none" below ``NOTHING_HELD``,
        "inactive" where ``active`` (a flag per dimension) says its code hardly moves, whatever its bins hold."""
        shares = self.normalized()
        return [
            "inactive"
            if active is not None and not active[d]
            else f"{self.factor_names[i]} {shares[i, d]:.2f}"
            if shares[i, d] >= NOTHING_HELD
            else "none"
            for d, i in enumerate(np.argmax(shares, axis=0))
        ]

    def record(self) -> dict:
        """The numbers for ``metrics.json``."""
        return {
            "score": self.score,
            "per_factor": dict(zip(self.factor_names, self.per_factor, strict=True)),
            "mutual_information": self.information.round(6).tolist(),
            "factor_entropy": dict(zip(self.factor_names, self.entropies, strict=True)),
            "samples": self.samples,
            "bins": self.bins,
        }


def unscorable(codes: np.ndarray) -> str | None:
    """Why ``codes`` cannot be scored (a diverged model's NaN or infinite codes), or None."""
    bad = int(np.count_nonzero(~np.isfinite(codes).all(axis=1)))
    return f"z_mean is not finite for {bad:,} of the {len(codes):,} images" if bad else None


def mig(codes: np.ndarray, factors: np.ndarray, factor_names: list[str], bins: int = BINS) -> MutualInformationGap:
    """MIG of ``codes`` (N, D), latent means, against ``factors`` (N, F), integer factor values.

    A factor with one value carries no information to capture and is left out; a
    single latent dimension has no second one, whose information counts as 0.
    """
    binned = discretize(np.asarray(codes, np.float64), bins)
    kept = [j for j in range(factors.shape[1]) if len(np.unique(factors[:, j])) > 1]
    information = np.array(
        [[mutual_information(binned[:, d], factors[:, j]) for d in range(binned.shape[1])] for j in kept]
    ).reshape(len(kept), binned.shape[1])
    entropies = [entropy(factors[:, j]) for j in kept]
    top = -np.sort(-information, axis=1)
    second = top[:, 1] if top.shape[1] > 1 else np.zeros(len(kept))
    gaps = [float(g) for g in (top[:, 0] - second) / np.asarray(entropies)] if kept else []
    return MutualInformationGap(
        float(np.mean(gaps)) if gaps else float("nan"),
        gaps,
        information,
        entropies,
        [factor_names[j] for j in kept],
        len(codes),
        bins,
    )
