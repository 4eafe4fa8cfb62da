"""A run's test-set measurements (the estimator's) recorded in its ``metrics.json`` beside earlier ones.

A conditional kind is measured given each test image's true class: -ELBO and NLL of
log p(x|y). A kind without a prior (an autoencoder) has no likelihood bound: its
measurement is the reconstruction error through its code, which every kind's record
carries (through z_mean).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli import backend
from vae_cli.data.types import prepare
from vae_cli.defaults import EVALUATE_K, EVALUATE_SAMPLES, SEED
from vae_cli.errors import RunError
from vae_cli.model.estimate import Metrics
from vae_cli.model.reconstruction import Reconstruction
from vae_cli.names import VAE_LOSS
from vae_cli.runs import folder, records
from vae_cli.runs.atomic import check_writable, write_json
from vae_cli.runs.disentanglement import SAMPLES, MutualInformationGap, mig, unscorable
from vae_cli.runs.modelfile import load_model
from vae_cli.runs.view import RunView


@dataclass
class Evaluation:
    metrics: Metrics | None  # None for an autoencoder: it has no ELBO or NLL
    reconstruction: Reconstruction  # through the mean code, for every kind
    kind: str  # model.kind
    conditional: bool  # every number is given the image's true class: log p(x|y)
    binarize: str  # the test data's treatment
    trained_with_binarize: str
    likelihood: str
    path: Path  # the metrics.json it was recorded in
    z_mean_variance: list[float]  # per dimension, over the images: above ACTIVE_THRESHOLD means active
    whole_test_set: bool = False  # every test image was evaluated, whatever the limit asked for
    not_recorded: str | None = None  # why ``path`` could not be written (the numbers are still here)
    disentanglement: MutualInformationGap | None = None  # data with known factors: the MIG of the codes
    grey_levels: bool = True  # some test pixel lies strictly between 0 and 1
    disentanglement_note: str | None = None  # what the MIG leaves out, or why there is none


def decode_precision(manifest: dict) -> str:
    """The run's training precision where this machine would train in it too (bfloat16 elsewhere is emulated), else float32."""
    trained = manifest.get("precision", "float32")
    return trained if trained == "float32" or backend.resolve_precision("auto") == trained else "float32"


@dataclass(frozen=True)
class Request:
    """What ``vae evaluate`` was asked: ``k`` importance samples (0: no NLL), ``samples`` draws for the ELBO, the
    test data's ``binarize`` (None: as trained), the first ``limit`` test images (None: all), and the ``seed``."""

    k: int = EVALUATE_K
    samples: int = EVALUATE_SAMPLES
    binarize: str | None = None
    limit: int | None = None
    seed: int = SEED


def evaluate_run(
    view: RunView, request: Request = Request(), progress: Callable[[int, int], None] | None = None
) -> Evaluation:
    """Test-set -ELBO, IWAE NLL, KL per dimension and active units; recorded in ``metrics.json``."""
    k, samples, limit, seed = request.k, request.samples, request.limit, request.seed
    import keras

    from vae_cli.model.build import logits_of
    from vae_cli.model.estimate import Estimate, evaluate
    from vae_cli.model.reconstruction import reconstruction_error

    # Read the earlier record first: a damaged one must stop us before an hour of evaluation,
    # and is never overwritten, which would drop the earlier evaluations.
    recorded = records.read_metrics(view.dir)
    path = view.dir / records.METRICS
    try:  # and a folder where it could not be recorded
        check_writable(path)
    except OSError as exc:
        mend = "free space on its disk" if exc.errno == errno.ENOSPC else f"make {view.dir} writable"
        raise RunError(
            f"cannot write {path}: {exc.strerror or exc}; an evaluation is recorded there: {mend}, or evaluate a "
            "copy of the run folder"
        ) from None
    binarize = request.binarize or view.cfg.data.binarize
    encoder, decoder = view.encoder, view.decoder  # checked against the run's records before the data is read
    data = view.load(("test",))
    raw = data.test
    images = prepare(raw.images[:limit] if limit else raw.images, binarize)
    kind = view.kind
    onehot = None
    if kind.conditional:
        onehot = np.eye(len(view.class_names), dtype=np.float32)[raw.labels[: len(images)]]
    log_sigma = None
    if view.cfg.model.likelihood == "gaussian":
        loss_layer = load_model(view.dir / folder.VAE).get_layer(VAE_LOSS)
        log_sigma = keras.ops.convert_to_numpy(loss_layer.log_sigma_value()) * np.ones(images.shape[-1])
    decoder_logits = logits_of(decoder)
    recon = reconstruction_error(encoder, decoder_logits, images, onehot, log_sigma)
    metrics = None
    if kind.has_prior:
        how = Estimate(k, samples, seed, decode_precision(view.manifest), log_sigma=log_sigma)
        metrics = evaluate(encoder, decoder_logits, images, how, onehot, progress)
    elif progress:
        progress(len(images), len(images))
    variance = [float(v) for v in _codes(encoder, images, onehot).astype(np.float64).var(axis=0)]
    gap, gap_note = None, None
    if raw.factors is not None and data.factor_names:  # scored on its own sample, whatever --limit asked
        gap, gap_note = _disentanglement(encoder, data, binarize, view.class_names if kind.conditional else None)
    entry = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "images": len(images),
        "kind": kind.name,
        "conditional": kind.conditional,  # every number given the image's true class: log p(x|y)
        "binarize": binarize,
        "trained_with_binarize": view.cfg.data.binarize,
        "likelihood": view.cfg.model.likelihood,
        "reconstruction_from_mean": recon.nats,
        "squared_error": recon.squared_error,
        "z_mean_variance": variance,
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
            "precision": metrics.precision,
        }
    if gap is not None:
        entry["mig"] = gap.record()
    if gap_note is not None:
        entry["mig_note"] = gap_note
    everything = len(images) >= len(raw.images)
    key = f"k{k}-samples{samples}-{binarize}" if metrics is not None else f"reconstruction-{binarize}"
    key += "" if everything else f"-first{len(images)}"
    # Read again: another evaluation of this run may have recorded its entry while this one ran.
    recorded = records.read_metrics(view.dir)
    recorded[key] = entry  # other evaluations of the run stay
    not_recorded = None
    try:
        write_json(path, recorded)
    except OSError as exc:  # the folder changed meanwhile: the numbers are returned all the same
        not_recorded = exc.strerror or str(exc)
    return Evaluation(
        metrics,
        recon,
        kind.name,
        kind.conditional,
        binarize,
        view.cfg.data.binarize,
        view.cfg.model.likelihood,
        path,
        variance,
        everything,
        not_recorded,
        gap,
        bool(np.any((images > 0) & (images < 1))),
        gap_note,
    )


def _disentanglement(
    encoder: Any, data: Any, binarize: str, class_names: list[str] | None
) -> tuple[MutualInformationGap | None, str | None]:
    """The MIG of the first ``SAMPLES`` test images' codes, and a note on what it leaves out (or why there is none).

    A conditional model (``class_names`` given) is handed each image's class, so the factor that is the class
    is no part of its code and is left out.
    """
    test = data.test.head(SAMPLES)
    keep, note = list(range(test.factors.shape[1])), None
    given = None
    if class_names is not None:
        given = np.eye(len(class_names), dtype=np.float32)[test.labels]
        keep = [j for j in keep if not np.array_equal(test.factors[:, j], test.labels)]
        left = [data.factor_names[j] for j in range(test.factors.shape[1]) if j not in keep]
        note = f"{', '.join(left)} left out: the model is given it as its class" if left else None
    codes = _codes(encoder, prepare(test.images, binarize), given)
    reason = unscorable(codes)
    if reason is not None:
        return None, f"not scored: {reason}"
    return mig(codes, test.factors[:, keep], [data.factor_names[j] for j in keep]), note


def _codes(encoder: Any, images: np.ndarray, onehot: np.ndarray | None, batch: int = 1000) -> np.ndarray:
    """z_mean (an autoencoder: its code) of each image, in batches."""
    import keras

    means = []
    for i in range(0, len(images), batch):
        x = images[i : i + batch] if onehot is None else [images[i : i + batch], onehot[i : i + batch]]
        outputs = encoder(x, training=False)
        code = outputs[0] if isinstance(outputs, (list, tuple)) else outputs  # an autoencoder has one output
        means.append(keras.ops.convert_to_numpy(code))
    return np.concatenate(means)
