"""The field's standard measurements of a trained VAE, in nats per image.

- negative ELBO: Monte Carlo over ``samples`` draws of z per image, beta = 1
  whatever the training beta, split into reconstruction and KL (analytic);
- NLL by importance weighting (the IWAE bound of Burda et al. 2016) with k
  samples per image, log-sum-exp accumulated in float64, streamed over chunks
  of samples so memory stays bounded for k = 5000; the ELBO's draws are the
  first of the k, so an image costs max(k, samples) decoded samples, and its
  encoder pass is made once;
- KL per latent dimension and active units (variance over the data of the
  posterior mean above 0.01, Burda et al.'s criterion).

Decoding, nearly all of the cost, runs through ``fast_decode``: in the
training precision where it agrees with float32 to ``MIXED_TOLERANCE``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from vae_cli.limits import EVALUATE_CHUNK_VALUES
from vae_cli.model import likelihood
from vae_cli.model.fast_decode import decoder_for_evaluation

ACTIVE_THRESHOLD = 0.01
BATCH_POINTS = 2048  # latent points per decoder call: larger calls spill the feature maps out of the caches
MIXED_TOLERANCE = 0.05  # nats per image by which a mixed-precision estimate may differ from float32's
GUARD_IMAGES = 16  # images decoded both ways before a mixed precision is trusted
ENCODE_BATCH = 256  # images per encoder call: bounds the encoder's feature maps for large images


@dataclass(frozen=True)
class Estimate:
    """How a model is measured: ``k`` importance samples for the NLL (0: none), ``samples`` draws of z for the
    ELBO, their ``seed``, the decoding ``precision`` asked for, the latent points per decoder call, and the
    Gaussian likelihood's ``log_sigma`` per channel (None: Bernoulli)."""

    k: int = 5000
    samples: int = 10
    seed: int = 0
    precision: str = "float32"
    batch_points: int = BATCH_POINTS
    log_sigma: np.ndarray | None = None


@dataclass(frozen=True)
class _Block:
    """One block of images: the images, their posterior parameters, and their one-hot labels (no columns:
    an unconditional model)."""

    x: Any
    z_mean: Any
    z_log_var: Any
    y: Any


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
    precision: str = "float32"  # the Keras policy the decoder ran in


def _log_weights_fn(logits_fn: Callable[[Any], Any], log_sigma: np.ndarray | None = None) -> Callable:
    """A graph function: (x, z_mean, z_log_var, eps, y) -> (log p(x|z), log p(z) - log q(z|x)) per sample.

    ``y`` holds the block's one-hot labels for a conditional decoder (``logits_fn([z, y])``), or
    has no columns for an unconditional one (``logits_fn(z)``).

    Bernoulli on the logits, or, with ``log_sigma`` (per channel), Gaussian around sigmoid(logits).
    """
    import tensorflow as tf

    if log_sigma is not None:
        log_sigma = tf.constant(np.asarray(log_sigma, dtype=np.float32))

    @tf.function(reduce_retracing=True)
    def log_weights(x, z_mean, z_log_var, eps, y):
        # x: (B, H, W, C); z_mean, z_log_var: (B, D); eps: (S, B, D) -> (S, B)
        s, b, d = tf.shape(eps)[0], tf.shape(eps)[1], tf.shape(eps)[2]
        z = z_mean[None] + tf.exp(0.5 * z_log_var)[None] * eps
        z_flat = tf.reshape(z, (s * b, d))  # sample-major, so the labels are tiled
        logits = logits_fn([z_flat, tf.tile(y, [s, 1])]) if y.shape[-1] else logits_fn(z_flat)
        logits = tf.reshape(logits, tf.concat([[s, b], tf.shape(x)[1:]], axis=0))
        if log_sigma is None:  # x[None] broadcasts over the samples without being copied
            nll = likelihood.bernoulli_nll(x[None], logits, batch_dims=2)
        else:
            nll = likelihood.gaussian_nll(x[None], tf.sigmoid(logits), log_sigma, batch_dims=2)
        log_pz = likelihood.standard_normal_log_density(z)
        log_qz = likelihood.posterior_log_density(eps, z_log_var[None])
        return -nll, log_pz - log_qz

    return log_weights


def _block(log_weights: Callable, block: _Block, eps: list[Any], samples: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per image of one block: (sum of log p(x|z) over the first ``samples`` draws, log-sum-exp of the first k weights).

    ``eps`` holds the block's draws in chunks of (s, B, D); each chunk is one decoder call.
    """
    size = len(block.z_mean)
    recon, running, done = np.zeros(size), np.full(size, -np.inf), 0
    for chunk in eps:
        weights = log_weights(block.x, block.z_mean, block.z_log_var, chunk, block.y)
        log_px, log_prior_ratio = (t.numpy().astype(np.float64) for t in weights)
        s = len(chunk)
        recon += log_px[: max(0, min(s, samples - done))].sum(axis=0)
        in_k = max(0, min(s, k - done))
        if in_k:
            running = np.logaddexp(running, _logsumexp(log_px[:in_k] + log_prior_ratio[:in_k], axis=0))
        done += s
    return recon, running


def evaluate(
    encoder: keras.Model,
    decoder_logits: keras.Model,
    images: np.ndarray,
    how: Estimate = Estimate(),
    labels: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Metrics:
    """Measures the model on float32 ``images`` (N, H, W, C) as ``how`` says; ``progress(done, total)`` is
    called as it goes.

    ``how.log_sigma`` (per channel) switches the likelihood from Bernoulli to Gaussian. ``how.precision``
    other than float32 decodes in that Keras policy where, on the first ``GUARD_IMAGES`` images
    decoded both ways from the same draws, every image's ELBO and NLL estimates stay within
    ``MIXED_TOLERANCE`` nats of float32's; otherwise, and on fewer than 4 x ``GUARD_IMAGES``
    images, in float32 (``Metrics.precision`` says which).
    ``labels`` (one-hot rows) make it a conditional model's measurement: -ELBO and NLL of
    p(x|y), decoded in float32. Each image is encoded once; its ``max(k, samples)`` draws of z serve both estimates: the
    first ``samples`` the ELBO, the first k the NLL.
    """
    import tensorflow as tf

    k, samples, precision, log_sigma = how.k, how.samples, how.precision, how.log_sigma
    started = time.perf_counter()
    n = len(images)
    z_means, z_log_vars = _encode(encoder, images, ENCODE_BATCH, labels)
    latent_dim = z_means.shape[1]
    kl_per_dim = np.sum(keras.ops.convert_to_numpy(likelihood.gaussian_kl_per_dim(z_means, z_log_vars)), axis=0) / n
    if labels is None:
        fns = {"float32": _log_weights_fn(decoder_for_evaluation(decoder_logits), log_sigma)}
    else:  # a decoder of [z, y]: called as it is
        fns = {"float32": _log_weights_fn(lambda inputs: decoder_logits(inputs, training=False), log_sigma)}
    guard = None
    if (
        labels is None and precision != "float32" and n >= 4 * GUARD_IMAGES
    ):  # on fewer images the check would cost more than it saves
        fns[precision] = _log_weights_fn(decoder_for_evaluation(decoder_logits, precision), log_sigma)
        guard = {name: ([], []) for name in fns}  # per-image (recon, lse) of the guarded images
    used = precision if guard is not None else "float32"
    rng = np.random.default_rng(how.seed)
    draws = max(k, samples)
    # One decoder call decodes at most EVALUATE_CHUNK_VALUES pixel values, whatever k and the image size.
    batch_points = max(1, min(how.batch_points, EVALUATE_CHUNK_VALUES // max(1, int(np.prod(images.shape[1:])))))
    batch = max(1, min(n, batch_points // min(draws, batch_points)))  # images per block
    per_call = max(1, batch_points // batch)  # draws per decoder call
    recon_sum, nll_sum = 0.0, 0.0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        x = tf.constant(images[start:stop])
        zm, zv = tf.constant(z_means[start:stop], tf.float32), tf.constant(z_log_vars[start:stop], tf.float32)
        y = tf.zeros((stop - start, 0)) if labels is None else tf.constant(labels[start:stop], tf.float32)
        block = _Block(x, zm, zv, y)
        sizes = [min(per_call, draws - d) for d in range(0, draws, per_call)]
        eps = [tf.constant(rng.standard_normal((s, stop - start, latent_dim)), tf.float32) for s in sizes]
        if guard is not None:  # the same draws both ways; the verdict after GUARD_IMAGES images
            for name, fn in fns.items():
                for kept, value in zip(guard[name], _block(fn, block, eps, samples, k), strict=True):
                    kept.append(value)
            if stop >= GUARD_IMAGES:  # n >= 4 x GUARD_IMAGES here
                used = precision if _agrees(guard, precision, samples, k) else "float32"
                recon, running = (np.concatenate(v) for v in guard[used])
                guard = None
            else:
                recon, running = np.zeros(0), np.zeros(0)  # counted once the verdict is in
        else:
            recon, running = _block(fns[used], block, eps, samples, k)
        recon_sum -= float(np.sum(recon))
        nll_sum -= float(np.sum(running - math.log(k))) if k else 0.0
        if progress and guard is None:  # not while guarding: those blocks decode twice and would skew an estimate
            progress(stop, n)
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
        precision=used,
    )


def _encode(
    encoder: keras.Model, images: np.ndarray, batch: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every image's posterior parameters, float64, from one encoder pass over the data (and labels)."""
    parts = [
        encoder(
            images[i : i + batch] if labels is None else [images[i : i + batch], labels[i : i + batch]], training=False
        )
        for i in range(0, len(images), batch)
    ]
    return tuple(np.concatenate([np.asarray(p[j], dtype=np.float64) for p in parts]) for j in (0, 1))


def _agrees(guard: dict, precision: str, samples: int, k: int) -> bool:
    """True when every guarded image's ELBO term and NLL in ``precision`` are within MIXED_TOLERANCE of float32's."""
    (ref_recon, ref_lse), (recon, lse) = ((np.concatenate(v) for v in guard[name]) for name in ("float32", precision))
    close = np.abs(recon - ref_recon) / samples <= MIXED_TOLERANCE
    if k:
        close &= np.abs(lse - ref_lse) <= MIXED_TOLERANCE
    return bool(np.all(close))


def _logsumexp(a: np.ndarray, axis: int) -> Any:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))
