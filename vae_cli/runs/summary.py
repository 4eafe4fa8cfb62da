"""A run's summary as lines of text (what ``show`` prints), read from its files without TensorFlow."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from vae_cli import kinds
from vae_cli.config import dump_yaml
from vae_cli.defaults import OUTPUT_DIR
from vae_cli.runs import folder

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


def _best_row(run_dir, beta, kind="vae", objective="elbo"):
    """The epoch with the lowest validation loss at the target beta (``val_loss`` is lower during KL warm-up)."""
    try:
        with (run_dir / folder.HISTORY).open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError, csv.Error):  # missing or damaged: show the rest of the run
        return None, 0
    for row in rows:
        try:
            row["score"] = kinds.epoch_score(row, kind, objective, beta)
        except (KeyError, TypeError, ValueError):
            row["score"] = math.nan
    scored = [r for r in rows if math.isfinite(r["score"])]
    return (min(scored, key=lambda r: r["score"]) if scored else None), len(rows)


def _splits(dataset: dict) -> str:
    splits = dataset.get("splits")
    if not splits:  # runs made before the validation split was recorded
        return f"{dataset.get('train_images', '?')} train / {dataset.get('test_images', '?')} test images"
    return f"{splits['train']} train / {splits['validation']} validation / {splits['test']} test images"


def summary(run: str | Path | None = None, output_dir: str | Path = OUTPUT_DIR) -> list[str]:
    """The summary's lines: status, data, best epoch's losses, model sizes, files, config."""
    run_dir = folder.resolve_run(run, output_dir) if run is None else folder.existing_folder(run)
    manifest = folder.read_manifest(run_dir)
    cfg = folder.read_config(run_dir)
    dataset = manifest.get("dataset", {})
    lines = [
        f"run        {run_dir}",
        f"status     {manifest.get('status', '?')}  (created {manifest.get('created', '?')})",
        f"dataset    {dataset.get('name', '?')} from {dataset.get('source', '?')}: "
        f"{_splits(dataset)}, "
        f"sha256 {str(dataset.get('sha256', '?'))[:12]}...",
        f"training   seed {manifest.get('seed', '?')}, precision {manifest.get('precision', '?')}, "
        f"config hash {manifest.get('config_hash', '?')}",
    ]
    best, epochs = _best_row(run_dir, cfg.train.beta, cfg.model.kind, cfg.train.objective)
    lines.append(
        f"model      {cfg.model.kind}, {cfg.model.architecture}, latent {cfg.model.latent_dim}, "
        f"objective {cfg.train.objective} (k = {cfg.train.samples})"
    )
    lines.append(f"epochs     {epochs} of {cfg.train.epochs} run")
    if best:
        name = kinds.score_name(cfg.model.kind, cfg.train.objective, cfg.train.beta)
        parts = f"reconstruction {float(best['val_reconstruction_loss']):.2f}"
        if cfg.model.kind != "ae":
            parts += f" + KL {float(best['val_kl_loss']):.2f}" + (
                "" if cfg.train.beta == 1 else f" x beta {cfg.train.beta:g}"
            )
        lines.append(
            f"best       epoch {best['epoch']}: validation {name} {best['score']:.2f} nats per image ({parts})"
        )
    test = manifest.get("test")
    if test:
        measured = "-ELBO" if "negative_elbo" in test else "reconstruction loss"
        value = test.get("negative_elbo", test.get("reconstruction_loss", math.nan))
        bound = f", -IWAE bound {test['iwae_loss']:.2f}" if "iwae_loss" in test else ""
        lines.append(f"final test {measured} {value:.2f}{bound} nats per image (the saved models)")
    lines.append("models")
    for name in (folder.ENCODER, folder.DECODER, folder.VAE):
        count = parameter_count(run_dir / name)
        lines.append(f"  {name:<12} {'unreadable' if count is None else f'{count:,} parameters'}")
    lines.append("files")
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        lines.append(f"  {str(path.relative_to(run_dir)):<28} {_size(path.stat().st_size):>10}")
    lines.append("config")
    lines += [f"  {line}" for line in dump_yaml(cfg).splitlines()]
    return lines
