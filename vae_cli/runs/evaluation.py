"""A run's test-set measurements (the estimator's) recorded in its ``metrics.json`` beside earlier ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli import backend
from vae_cli.data.types import prepare
from vae_cli.defaults import EVALUATE_K, EVALUATE_SAMPLES, SEED
from vae_cli.model.estimate import Metrics
from vae_cli.names import VAE_LOSS
from vae_cli.runs import folder, records
from vae_cli.runs.atomic import write_json
from vae_cli.runs.modelfile import load_model
from vae_cli.runs.view import RunView


@dataclass
class Evaluation:
    metrics: Metrics
    binarize: str  # the test data's treatment
    trained_with_binarize: str
    likelihood: str
    path: Path  # the metrics.json it was recorded in
    z_mean_variance: list[float]  # per dimension, over the images: above ACTIVE_THRESHOLD means active


def decode_precision(manifest: dict) -> str:
    """The run's training precision where this machine would train in it too (bfloat16 elsewhere is emulated), else float32."""
    trained = manifest.get("precision", "float32")
    return trained if trained == "float32" or backend.resolve_precision("auto") == trained else "float32"


def evaluate_run(
    view: RunView,
    k: int = EVALUATE_K,
    samples: int = EVALUATE_SAMPLES,
    binarize: str | None = None,
    limit: int | None = None,
    seed: int = SEED,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Test-set -ELBO, IWAE NLL, KL per dimension and active units; recorded in ``metrics.json``."""
    import keras

    from vae_cli.model.build import logits_of
    from vae_cli.model.estimate import evaluate

    # Read the earlier record first: a damaged one must stop us before an hour of evaluation,
    # and is never overwritten, which would drop the earlier evaluations.
    recorded = records.read_metrics(view.dir)
    path = view.dir / records.METRICS
    binarize = binarize or view.cfg.data.binarize
    raw = view.load(("test",)).test
    images = prepare(raw.images[:limit] if limit else raw.images, binarize)
    log_sigma = None
    if view.cfg.model.likelihood == "gaussian":
        loss_layer = load_model(view.dir / folder.VAE).get_layer(VAE_LOSS)
        log_sigma = keras.ops.convert_to_numpy(loss_layer.log_sigma_value()) * np.ones(images.shape[-1])
    metrics = evaluate(
        view.encoder,
        logits_of(view.decoder),
        images,
        k,
        samples,
        seed,
        progress=progress,
        log_sigma=log_sigma,
        precision=decode_precision(view.manifest),
    )
    variance = _z_mean_variance(view.encoder, images)
    entry = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "images": metrics.images,
        "k": k,
        "samples": samples,
        "binarize": binarize,
        "trained_with_binarize": view.cfg.data.binarize,
        "likelihood": view.cfg.model.likelihood,
        "negative_elbo": metrics.negative_elbo,
        "reconstruction": metrics.reconstruction,
        "kl": metrics.kl,
        "nll": metrics.nll,
        "active_units": metrics.active_units,
        "kl_per_dim": metrics.kl_per_dim,
        "z_mean_variance": variance,
        "seconds": metrics.seconds,
        "precision": metrics.precision,
        "seed": seed,
        "versions": backend.versions(),
    }
    everything = metrics.images >= len(raw.images)
    key = f"k{k}-samples{samples}-{binarize}" + ("" if everything else f"-first{metrics.images}")
    recorded[key] = entry  # other evaluations of the run stay
    write_json(path, recorded)
    return Evaluation(metrics, binarize, view.cfg.data.binarize, view.cfg.model.likelihood, path, variance)


def _z_mean_variance(encoder: Any, images: np.ndarray, batch: int = 1000) -> list[float]:
    """Each latent dimension's variance of z_mean over ``images``: the active-unit criterion, per unit."""
    import keras

    means = [
        keras.ops.convert_to_numpy(encoder(images[i : i + batch], training=False)[0])
        for i in range(0, len(images), batch)
    ]
    return [float(v) for v in np.concatenate(means).astype(np.float64).var(axis=0)]
