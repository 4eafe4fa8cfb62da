"""A run's summary as lines of text (what ``show`` prints), read from its files without TensorFlow."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from vae_cli import config as config_mod
from vae_cli.data.validation import NO_VALIDATION
from vae_cli.errors import RunError
from vae_cli.kinds import Score
from vae_cli.runs import folder, records
from vae_cli.runs.catalog import evaluated_mig, evaluated_nll
from vae_cli.runs.history import best_row, read_history

KIB = 1024


def parameter_count(path: str | Path) -> int | None:
    """Numbers stored in a Keras .h5 model file's weights (None if unreadable)."""
    import h5py

    sizes = []
    try:
        with h5py.File(path, "r") as f:
            f["model_weights"].visititems(
                lambda _, obj: sizes.append(obj.size) if isinstance(obj, h5py.Dataset) else None
            )
    except (OSError, KeyError):
        return None
    return sum(sizes)


def _size(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < KIB or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= KIB


def _best_row(run_dir: Path, score: Score) -> tuple[dict | None, float, int]:
    """The epoch with the lowest validation score (``val_loss`` is lower during KL warm-up), its score, and the
    number of epochs."""
    try:
        rows = read_history(run_dir / folder.HISTORY)
    except RunError:  # missing or damaged: show the rest of the run
        return None, math.nan, 0
    best, value = best_row(rows, score)
    return best, value, len(rows)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _splits(dataset: dict) -> str:
    splits = dataset.get("splits")
    if not isinstance(splits, dict) or not all(k in splits for k in ("train", "validation", "test")):
        return f"{dataset.get('train_images', '?')} train / {dataset.get('test_images', '?')} test images"
    if dataset.get("split_rule") == NO_VALIDATION:  # data.validation_size 0
        return f"{splits['train']} train / no validation (the test set's losses in its place) / {splits['test']} test images"
    return f"{splits['train']} train / {splits['validation']} validation / {splits['test']} test images"


def summary_record(run_dir: Path) -> dict[str, Any]:
    """The summary as plain JSON values: status, data, model, best epoch's losses, model sizes, files, config."""
    manifest = records.read_manifest(run_dir)
    cfg = folder.read_config(run_dir)
    model, train = cfg.model, cfg.train
    score = Score.of_run(model, train)
    best, value, epochs = _best_row(run_dir, score)
    if best:
        kl = best.get("val_kl_loss", math.nan)
        best = {
            "epoch": int(best["epoch"]),
            "score": value,
            "score_name": score.name,
            "reconstruction_loss": _finite(best.get("val_reconstruction_loss", math.nan)),
            "kl_loss": float(kl) if "kl_loss" in score.kind.loss_columns and math.isfinite(kl) else None,
            "terms": score.kind.score_terms(best, score.beta),
        }
    files = sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    nll, nll_k = evaluated_nll(run_dir)
    status = folder.current_status(run_dir, manifest.get("status"))
    stopped = "run.json says running, but no process is training it: it ended without recording how"
    return {
        "run": str(run_dir),
        "status": status,
        "reason": manifest.get("reason") or (stopped if status == folder.STOPPED else None),  # why it stopped
        "created": manifest.get("created"),
        "dataset": manifest["dataset"],
        "seed": manifest.get("seed"),
        "precision": manifest.get("precision"),
        "config_hash": manifest.get("config_hash"),
        "model": {"kind": model.kind, "architecture": model.architecture, "latent_dim": model.latent_dim},
        "objective": {"name": train.objective, "samples": train.samples},
        "epochs": epochs,
        "planned_epochs": train.epochs,
        "beta": train.beta,
        "best": best,
        "test": manifest.get("test") or None,
        "nll": nll,  # importance-weighted, once `vae evaluate` has measured it: what `list` shows
        "nll_k": nll_k,
        "mig": evaluated_mig(run_dir),  # on data with known factors, once `vae evaluate` has scored it
        "parameters": {name: parameter_count(run_dir / name) for name in (folder.ENCODER, folder.DECODER, folder.VAE)},
        "files": {str(p.relative_to(run_dir)): p.stat().st_size for p in files},
        "config": config_mod.to_dict(cfg),
    }


def summary(run_dir: Path) -> list[str]:
    """The summary's lines: status, data, best epoch's losses, model sizes, files, config."""
    return summary_lines(summary_record(run_dir))


def summary_lines(record: dict[str, Any]) -> list[str]:
    """What ``show`` prints for a ``summary_record``."""
    dataset, best, model = record["dataset"], record["best"], record["model"]
    lines = [
        f"run        {record['run']}",
        f"status     {record['status'] or '?'}  (created {record['created'] or '?'})",
        f"dataset    {dataset.get('name', '?')} from {dataset.get('source', '?')}: {_splits(dataset)}, "
        f"sha256 {str(dataset.get('sha256', '?'))[:12]}...",
        f"training   seed {record['seed']}, precision {record['precision'] or '?'}, "
        f"config hash {record['config_hash'] or '?'}",
        f"model      {model['kind']}, {model['architecture']}, latent {model['latent_dim']}, "
        f"objective {record['objective']['name']} (k = {record['objective']['samples']})",
        f"epochs     {record['epochs']} of {record['planned_epochs']} run",
    ]
    if record["reason"]:
        lines.insert(2, f"reason     {record['reason']}")
    if best:
        lines.append(
            f"best       epoch {best['epoch']}: validation {best['score_name']} {best['score']:.2f} "
            f"nats per image ({best['terms']})"
        )
    test = record["test"]
    if test and ("negative_elbo" in test or "reconstruction_loss" in test):
        measured = "-ELBO" if "negative_elbo" in test else "reconstruction loss"
        value = test.get("negative_elbo", test.get("reconstruction_loss", math.nan))
        bound = f", -IWAE bound {test['iwae_loss']:.2f}" if "iwae_loss" in test else ""
        lines.append(f"final test {measured} {value:.2f}{bound} nats per image (the saved models)")
    if record["nll"] is not None:
        lines.append(f"evaluated  NLL {record['nll']:.2f} nats per image (importance-weighted, k = {record['nll_k']})")
    if record["mig"] is not None:
        lines.append(f"evaluated  MIG {record['mig']:.3f} (mutual information gap of z_mean, known factors)")
    lines.append("models")
    for name, count in record["parameters"].items():
        lines.append(f"  {name:<12} {'unreadable' if count is None else f'{count:,} parameters'}")
    lines.append("files")
    for name, size in record["files"].items():
        lines.append(f"  {name:<28} {_size(size):>10}")
    lines.append("config")
    lines += [f"  {line}" for line in yaml.safe_dump(record["config"], sort_keys=False).splitlines()]
    return lines
