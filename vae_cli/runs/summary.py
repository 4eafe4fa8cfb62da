"""A run's summary as lines of text (what ``show`` prints), read from its files without TensorFlow."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from vae_cli.config import dump_yaml
from vae_cli.runs import folder, records

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


def _best_row(run_dir, beta):
    """The epoch with the lowest test loss at the target beta (``val_loss`` is lower during KL warm-up)."""
    try:
        with (run_dir / folder.HISTORY).open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError, csv.Error):  # missing or damaged: show the rest of the run
        return None, 0
    for row in rows:
        try:
            row["score"] = float(row["val_reconstruction_loss"]) + beta * float(row["val_kl_loss"])
        except (KeyError, TypeError, ValueError):
            row["score"] = math.nan
    scored = [r for r in rows if math.isfinite(r["score"])]
    return (min(scored, key=lambda r: r["score"]) if scored else None), len(rows)


def summary(run_dir: Path) -> list[str]:
    """The summary's lines: status, data, best epoch's losses, model sizes, files, config."""
    manifest = records.read_manifest(run_dir)
    cfg = folder.read_config(run_dir)
    dataset = manifest["dataset"]
    lines = [
        f"run        {run_dir}",
        f"status     {manifest.get('status', '?')}  (created {manifest.get('created', '?')})",
        f"dataset    {dataset.get('name', '?')} from {dataset.get('source', '?')}: "
        f"{dataset.get('train_images', '?')} train / {dataset.get('test_images', '?')} test images, "
        f"sha256 {str(dataset.get('sha256', '?'))[:12]}...",
        f"training   seed {manifest.get('seed', '?')}, precision {manifest.get('precision', '?')}, "
        f"config hash {manifest.get('config_hash', '?')}",
    ]
    if manifest.get("reason"):  # why a failed run stopped
        lines.insert(2, f"reason     {manifest['reason']}")
    best, epochs = _best_row(run_dir, cfg.train.beta)
    lines.append(f"epochs     {epochs} of {cfg.train.epochs} run")
    if best:
        lines.append(
            f"best       epoch {best['epoch']}: test loss {best['score']:.2f} nats per image = "
            f"reconstruction {float(best['val_reconstruction_loss']):.2f} + KL {float(best['val_kl_loss']):.2f}"
            + ("" if cfg.train.beta == 1 else f" x beta {cfg.train.beta:g}")
        )
    if "negative_elbo" in manifest.get("test", {}):
        lines.append(f"final test -ELBO {manifest['test']['negative_elbo']:.2f} nats per image (the saved models)")

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
