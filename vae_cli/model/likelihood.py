"""The log-likelihood and KL terms of a VAE, written once in ``keras.ops``.

Used by the loss layer during training and by the estimator at evaluation, so
the two cannot drift apart. Each function sums over the event axes (pixels or
latent dimensions) after the first ``batch_dims`` axes, giving nats per item.
"""

from __future__ import annotations

import math
from typing import Any

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_event(per_element: Any, batch_dims: int) -> Any:
    return ops.sum(per_element, axis=tuple(range(batch_dims, len(per_element.shape))))


def bernoulli_nll(x: Any, logits: Any, batch_dims: int = 1) -> Any:
    """-log p(x | logits) per image, summed over all pixels, in nats."""
    # Stable form of BCE from logits: max(l, 0) - l * x + log(1 + exp(-|l|)).
    per_pixel = ops.relu(logits) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return _sum_event(per_pixel, batch_dims)


def gaussian_nll(x: Any, mean: Any, log_sigma: Any, batch_dims: int = 1) -> Any:
    """-log N(x; mean, exp(log_sigma)^2) per image, summed over all pixels, in nats (a density)."""
    per_pixel = 0.5 * LOG_2PI + log_sigma + 0.5 * ops.square((x - mean) * ops.exp(-log_sigma))
    return _sum_event(per_pixel, batch_dims)


def gaussian_kl_per_dim(z_mean: Any, z_log_var: Any) -> Any:
    """KL(N(z_mean, exp(z_log_var)) || N(0, 1)) for each latent dimension."""
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def gaussian_kl(z_mean: Any, z_log_var: Any) -> Any:
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per image, summed over dimensions."""
    return ops.sum(gaussian_kl_per_dim(z_mean, z_log_var), axis=-1)


def standard_normal_log_density(z: Any) -> Any:
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)


def posterior_log_density(eps: Any, z_log_var: Any) -> Any:
    """log q(z | x) for z = z_mean + exp(z_log_var / 2) * eps, summed over the last axis."""
    return -0.5 * ops.sum(ops.square(eps) + LOG_2PI + z_log_var, axis=-1)


def gaussian_log_density(z: Any, z_mean: Any, z_log_var: Any) -> Any:
    """log N(z; z_mean, exp(z_log_var)) with a diagonal covariance, summed over the last axis."""
    return -0.5 * ops.sum(ops.square(z - z_mean) * ops.exp(-z_log_var) + z_log_var + LOG_2PI, axis=-1)


def log_mean_exp(log_w: Any, axis: int = -1) -> Any:
    """log (1/k) sum_i exp(log_w_i) over ``axis``, stably: the IWAE bound from its k log-weights."""
    return ops.logsumexp(log_w, axis=axis) - math.log(log_w.shape[axis])


def importance_log_weights(log_px: Any, z: Any, z_mean: Any, z_log_var: Any, prior_weight: Any = 1.0) -> Any:
    """log p(x|z) + w * (log p(z) - log q(z|x)) per sample: w = 1 gives the importance weights of Burda et al.

    ``z`` has one more axis than ``z_mean`` (the samples), before the latent axis.
    """
    log_pz = standard_normal_log_density(z)
    log_qz = gaussian_log_density(z, ops.expand_dims(z_mean, -2), ops.expand_dims(z_log_var, -2))
    return log_px + prior_weight * (log_pz - log_qz)
