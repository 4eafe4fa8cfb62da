"""``vae evaluate`` for a run folder: the measurements of ``evaluate.py`` on the run's test data,
recorded in the run's ``metrics.json`` beside earlier evaluations."""

import json
from datetime import datetime, timezone

import numpy as np

from vae_cli import backend, runs
from vae_cli.data import prepare


def evaluate_run(view, k=5000, samples=10, binarize=None, limit=None, seed=0, progress=None):
    """Test-set -ELBO, IWAE NLL, KL per dimension and active units; recorded in ``metrics.json``."""
    import keras

    from vae_cli import evaluate as ev
    from vae_cli.model import logits_of

    # Read the earlier record first: a damaged one must stop us before an hour of evaluation.
    path = view.dir / "metrics.json"
    try:
        recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        recorded = str(exc)
    if not isinstance(recorded, dict):  # never drop earlier evaluations by overwriting a damaged record
        why = recorded if isinstance(recorded, str) else "not a JSON object"
        raise runs.RunError(f"{path} is not a metrics record written by vae ({why}); move it aside and "
                            "evaluate again")
    binarize = binarize or view.cfg.data.binarize
    raw = view.load(("test",)).test
    images = prepare(raw.images[:limit] if limit else raw.images, binarize)
    log_sigma = None
    if view.cfg.model.likelihood == "gaussian":
        loss_layer = runs.load_model(view.dir / runs.VAE).get_layer("vae_loss")
        log_sigma = keras.ops.convert_to_numpy(loss_layer.log_sigma_value()) * np.ones(images.shape[-1])
    metrics = ev.evaluate(view.encoder, logits_of(view.decoder), images, k, samples, seed, progress=progress,
                          log_sigma=log_sigma)
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
        "seconds": metrics.seconds,
        "seed": seed,
        "versions": backend.versions(),
    }
    key = f"k{k}-samples{samples}-{binarize}" + (f"-first{metrics.images}" if limit else "")
    recorded[key] = entry  # other evaluations of the run stay
    runs.write_json(path, recorded)
    return metrics, entry, path
