"""A run's test-set measurements (the estimator's) recorded in its ``metrics.json`` beside earlier ones.

A cvae is measured given each test image's true class: -ELBO and NLL of log p(x|y).
An autoencoder has no likelihood bound: its measurement is the reconstruction
error through its code, which every kind's record carries (through z_mean).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from vae_cli import backend
from vae_cli.data.types import prepare
from vae_cli.defaults import EVALUATE_K, EVALUATE_SAMPLES, SEED
from vae_cli.errors import RunError
from vae_cli.model.estimate import Metrics
from vae_cli.model.reconstruction import Reconstruction
from vae_cli.names import VAE_LOSS
from vae_cli.runs import folder
from vae_cli.runs.atomic import write_json
from vae_cli.runs.modelfile import load_model
from vae_cli.runs.view import RunView


@dataclass
class Evaluation:
    metrics: Metrics | None  # None for an autoencoder: it has no ELBO or NLL
    reconstruction: Reconstruction  # through the mean code, for every kind
    kind: str  # model.kind
    binarize: str  # the test data's treatment
    trained_with_binarize: str
    likelihood: str
    path: Path  # the metrics.json it was recorded in


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
    from vae_cli.model.reconstruction import reconstruction_error

    # Read the earlier record first: a damaged one must stop us before an hour of evaluation.
    path = view.dir / folder.METRICS
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        recorded = str(exc)
    if not isinstance(recorded, dict):  # never drop earlier evaluations by overwriting a damaged record
        why = recorded if isinstance(recorded, str) else "not a JSON object"
        raise RunError(f"{path} is not a metrics record written by vae ({why}); move it aside and evaluate again")
    binarize = binarize or view.cfg.data.binarize
    raw = view.load(("test",)).test
    images = prepare(raw.images[:limit] if limit else raw.images, binarize)
    kind = view.cfg.model.kind
    onehot = None
    if kind == "cvae":
        onehot = np.eye(len(view.class_names), dtype=np.float32)[raw.labels[: len(images)]]
    log_sigma = None
    if view.cfg.model.likelihood == "gaussian":
        loss_layer = load_model(view.dir / folder.VAE).get_layer(VAE_LOSS)
        log_sigma = keras.ops.convert_to_numpy(loss_layer.log_sigma_value()) * np.ones(images.shape[-1])
    decoder_logits = logits_of(view.decoder)
    recon = reconstruction_error(view.encoder, decoder_logits, images, onehot, log_sigma)
    metrics = None
    if kind != "ae":
        metrics = evaluate(
            view.encoder,
            decoder_logits,
            images,
            k,
            samples,
            seed,
            progress=progress,
            log_sigma=log_sigma,
            labels=onehot,
        )
    elif progress:
        progress(len(images), len(images))
    entry = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kind": kind,
        "conditional": kind == "cvae",  # every number given the image's true class: log p(x|y)
        "images": len(images),
        "binarize": binarize,
        "trained_with_binarize": view.cfg.data.binarize,
        "likelihood": view.cfg.model.likelihood,
        "reconstruction_from_mean": recon.nats,
        "squared_error": recon.squared_error,
        "seed": seed,
        "versions": backend.versions(),
    }
    if metrics is not None:
        entry |= {
            "k": k,
            "samples": samples,
            "negative_elbo": metrics.negative_elbo,
            "reconstruction": metrics.reconstruction,
            "kl": metrics.kl,
            "nll": metrics.nll,
            "active_units": metrics.active_units,
            "kl_per_dim": metrics.kl_per_dim,
            "seconds": metrics.seconds,
        }
    key = f"k{k}-samples{samples}-{binarize}" if metrics is not None else f"reconstruction-{binarize}"
    key += f"-first{len(images)}" if limit else ""
    recorded[key] = entry  # other evaluations of the run stay
    write_json(path, recorded)
    return Evaluation(metrics, recon, kind, binarize, view.cfg.data.binarize, view.cfg.model.likelihood, path)
