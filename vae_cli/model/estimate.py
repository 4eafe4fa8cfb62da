"""The field's standard measurements of a trained VAE, in nats per image.

- negative ELBO: Monte Carlo over ``samples`` draws of z per image, beta = 1
  whatever the training beta, split into reconstruction and KL (analytic);
- NLL by importance weighting (the IWAE bound of Burda et al. 2016) with k
  samples per image, log-sum-exp accumulated in float64, streamed over chunks
  of samples so memory stays bounded for k = 5000;
- KL per latent dimension and active units (variance over the data of the
  posterior mean above 0.01, Burda et al.'s criterion).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from vae_cli.model import likelihood

ACTIVE_THRESHOLD = 0.01


@dataclass
class Metrics:
    images: int
    samples: int
    k: int
    negative_elbo: float
    reconstruction: float
    kl: float
    nll: float | None  # None when k = 0 (not estimated)
    kl_per_dim: list[float]
    active_units: int
    seconds: float


def _log_weights_fn(
    decoder_logits_model: keras.Model, log_sigma: np.ndarray | None = None, conditional: bool = False
) -> Callable:
    """A graph function: (x, z_mean, z_log_var, eps, y) -> (log p(x|z), log p(z) - log q(z|x)) per sample.

    Bernoulli on the logits, or, with ``log_sigma`` (per channel), Gaussian around sigmoid(logits).
    ``conditional``: the decoder also takes ``y``, the images' one-hot labels, so log p(x|z, y).
    """
    import tensorflow as tf

    if log_sigma is not None:
        log_sigma = tf.constant(np.asarray(log_sigma, dtype=np.float32))

    @tf.function(reduce_retracing=True)
    def log_weights(x, z_mean, z_log_var, eps, y):
        # x: (B, H, W, C); z_mean, z_log_var: (B, D); eps: (S, B, D); y: (B, K) -> (S, B)
        s, b, d = tf.shape(eps)[0], tf.shape(eps)[1], tf.shape(eps)[2]
        z = z_mean[None] + tf.exp(0.5 * z_log_var)[None] * eps
        z_flat = tf.reshape(z, (s * b, d))  # sample-major, so the labels are tiled
        logits = decoder_logits_model([z_flat, tf.tile(y, [s, 1])] if conditional else z_flat, training=False)
        logits = tf.reshape(logits, tf.concat([[s, b], tf.shape(x)[1:]], axis=0))
        x_ = tf.broadcast_to(x[None], tf.shape(logits))
        if log_sigma is None:
            nll = likelihood.bernoulli_nll(x_, logits, batch_dims=2)
        else:
            nll = likelihood.gaussian_nll(x_, tf.sigmoid(logits), log_sigma, batch_dims=2)
        log_pz = likelihood.standard_normal_log_density(z)
        log_qz = likelihood.posterior_log_density(eps, z_log_var[None])
        return -nll, log_pz - log_qz

    return log_weights


def evaluate(
    encoder: keras.Model,
    decoder_logits: keras.Model,
    images: np.ndarray,
    k: int = 5000,
    samples: int = 10,
    seed: int = 0,
    batch_points: int = 8192,
    progress: Callable[[int, int], None] | None = None,
    log_sigma: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> Metrics:
    """Measures the model on float32 ``images`` (N, H, W, C); ``progress(done, total)`` is called as it goes.

    ``log_sigma`` (per channel) switches the likelihood from Bernoulli to Gaussian. ``labels``
    (one-hot rows) make it a conditional model's measurement: -ELBO and NLL of p(x|y).
    """
    import tensorflow as tf

    started = time.perf_counter()
    n, latent_dim = len(images), encoder.output[0].shape[-1]
    log_weights = _log_weights_fn(decoder_logits, log_sigma, labels is not None)
    rng = np.random.default_rng(seed)
    recon_sum, kl_sum, nll_sum = 0.0, np.zeros(latent_dim), 0.0
    means = []
    batch = max(1, min(n, batch_points // max(1, min(max(k, samples), batch_points))))
    per_call = max(1, batch_points // batch)  # samples per decoder call for one image batch
    for start in range(0, n, batch):
        x = tf.constant(images[start : start + batch])
        y = tf.zeros((len(x), 0)) if labels is None else tf.constant(labels[start : start + batch], tf.float32)
        z_mean, z_log_var = (
            t.numpy().astype(np.float64) for t in encoder(x if labels is None else [x, y], training=False)
        )
        means.append(z_mean)
        kl_sum += np.sum(keras.ops.convert_to_numpy(likelihood.gaussian_kl_per_dim(z_mean, z_log_var)), axis=0)
        zm, zv = tf.constant(z_mean, tf.float32), tf.constant(z_log_var, tf.float32)
        b = len(z_mean)
        done = 0
        while done < samples:  # the ELBO's reconstruction term
            s = min(per_call, samples - done)
            log_px, _ = log_weights(x, zm, zv, tf.constant(rng.standard_normal((s, b, latent_dim)), tf.float32), y)
            recon_sum -= float(np.sum(log_px.numpy(), dtype=np.float64))
            done += s
        if k:
            running = np.full(b, -np.inf)  # log-sum-exp over the k samples, per image
            done = 0
            while done < k:
                s = min(per_call, k - done)
                eps = tf.constant(rng.standard_normal((s, b, latent_dim)), tf.float32)
                log_px, log_prior_ratio = log_weights(x, zm, zv, eps, y)
                w = log_px.numpy().astype(np.float64) + log_prior_ratio.numpy().astype(np.float64)
                running = np.logaddexp(running, _logsumexp(w, axis=0))
                done += s
            nll_sum -= float(np.sum(running - math.log(k)))
        if progress:
            progress(min(start + batch, n), n)
    z_means = np.concatenate(means)
    kl_per_dim = kl_sum / n
    recon = recon_sum / (n * samples)
    return Metrics(
        images=n,
        samples=samples,
        k=k,
        negative_elbo=recon + float(kl_per_dim.sum()),
        reconstruction=recon,
        kl=float(kl_per_dim.sum()),
        nll=nll_sum / n if k else None,
        kl_per_dim=[float(v) for v in kl_per_dim],
        active_units=int(np.sum(z_means.var(axis=0) > ACTIVE_THRESHOLD)),
        seconds=time.perf_counter() - started,
    )


def _logsumexp(a: np.ndarray, axis: int) -> Any:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))
