"""Reconstruction error through the mean code: the one measurement an autoencoder has, and a VAE's counterpart.

For an ``ae`` the code is deterministic and this is its whole loss; for a VAE it
is the reconstruction from ``z_mean`` (no sampling), the number to set beside an
autoencoder's. In nats per image under the run's likelihood, and as the mean
squared error per pixel of the decoded means, which needs no likelihood at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from keras import ops

from vae_cli.model import likelihood


@dataclass
class Reconstruction:
    images: int
    nats: float  # -log p(x | decoder(mean code)), per image
    squared_error: float  # mean over pixels of (x - decoded mean)^2


def reconstruction_error(
    encoder: Any,
    decoder_logits: Any,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    log_sigma: np.ndarray | None = None,
    batch: int = 500,
) -> Reconstruction:
    """Measures ``images`` (float32, N x H x W x C); ``labels``: a cvae's one-hot rows; ``log_sigma``: Gaussian."""
    nats, squared = 0.0, 0.0
    for start in range(0, len(images), batch):
        x = images[start : start + batch]
        y = None if labels is None else ops.convert_to_tensor(labels[start : start + batch])
        codes = encoder(ops.convert_to_tensor(x) if y is None else [ops.convert_to_tensor(x), y], training=False)
        code = codes[0] if isinstance(codes, (list, tuple)) else codes
        logits = decoder_logits(code if y is None else [code, y], training=False)
        mean = ops.sigmoid(logits)
        if log_sigma is None:
            per_image = likelihood.bernoulli_nll(x, logits)
        else:
            per_image = likelihood.gaussian_nll(x, mean, np.asarray(log_sigma, np.float32))
        nats += float(np.sum(ops.convert_to_numpy(per_image), dtype=np.float64))
        squared += float(np.sum((ops.convert_to_numpy(mean).astype(np.float64) - x) ** 2))
    n = len(images)
    return Reconstruction(n, nats / n, squared / max(1, images.size))
