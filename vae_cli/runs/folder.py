"""The run folder: its file names, creating it, finding it again, and reading its records."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from vae_cli import config as config_mod
from vae_cli.config import Config, DataConfig, OutputConfig
from vae_cli.data.mnist import local_folder
from vae_cli.defaults import OUTPUT_DIR
from vae_cli.errors import ConfigError, Fix, RunError, shown

MANIFEST = "run.json"
CONFIG = "config.yaml"
ENCODER, DECODER, VAE = "encoder.h5", "decoder.h5", "vae.h5"
KERAS_FILES = ("encoder.keras", "decoder.keras", "vae.keras")  # the same models in Keras 3's own format
HISTORY = "history.csv"
METRICS = "metrics.json"
SAMPLES = "samples"  # the per-epoch sample images
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def plain_name(text: str) -> str:
    """``text`` made safe as a run-folder prefix."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return name or "run"


def create_run_dir(output_cfg: OutputConfig, default_name: str) -> Path:
    """Makes ``<output.dir>/<name>-<timestamp>`` (never an existing folder)."""
    name = output_cfg.name or default_name
    if not _NAME.match(name) or ".." in name:
        raise RunError(
            f"output.name {shown(name)} is not a plain folder name; use letters, digits, '.', '_' and '-' only"
        )
    parent = Path(output_cfg.dir)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(
            f"cannot create output folder {parent}: {exc.strerror}; set output.dir to a writable folder"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunError(f"output folder {parent} is not writable; set output.dir to a writable folder")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1, 1000):
        run_dir = parent / (f"{name}-{stamp}" if i == 1 else f"{name}-{stamp}-{i}")
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunError(f"cannot create run folder {run_dir}: {exc.strerror}") from None
    raise RunError(f"too many runs named {name}-{stamp} in {parent}")


def config_hash(cfg: Config) -> str:
    """Hash of the settings that decide the trained weights: not where data and runs live."""
    settings = config_mod.to_dict(cfg)
    del settings["output"]
    del settings["data"]["data_dir"]
    del settings["data"]["path"]  # image_folder / npz location; the data's checksum identifies the content
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def read_manifest(run_dir: str | Path) -> dict:
    path = Path(run_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a vae run folder (no {MANIFEST})", Fix("pass_run_folder")) from None
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot read {path}: {exc}; the run folder is damaged") from None


def read_config(run_dir: str | Path) -> Config:
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise RunError(f"{run_dir} has no {CONFIG}; the run folder is damaged: train a new run")
    try:
        return config_mod.load_config(path)
    except ConfigError as exc:
        raise RunError(f"{run_dir}'s {CONFIG} is damaged or from another version ({exc}); train a new run") from None


def list_runs(output_dir: str | Path) -> list[Path]:
    """Run folders under ``output_dir`` that hold a trained decoder, oldest first."""
    parent = Path(output_dir)
    if not parent.is_dir():
        return []
    found = []
    for child in parent.iterdir():
        if (child / MANIFEST).is_file() and (child / DECODER).is_file():
            try:
                created = json.loads((child / MANIFEST).read_text(encoding="utf-8")).get("created", "")
            except (OSError, ValueError):
                continue
            found.append((str(created), child.name, child))
    return [child for _, _, child in sorted(found)]


def resolve_run(run: str | Path | None = None, output_dir: str | Path = OUTPUT_DIR) -> Path:
    """The folder given with ``--run``, checked, or else the latest run under ``output_dir``."""
    if run is None:
        runs = list_runs(output_dir)
        if not runs:
            raise RunError(f"no trained run found under {output_dir}/", Fix("train_first"))
        return runs[-1]
    run_dir = existing_folder(run)
    read_manifest(run_dir)
    if not (run_dir / DECODER).is_file():
        raise RunError(f"{run_dir} has no {DECODER} yet (training did not finish an epoch); train it first")
    return run_dir


def existing_folder(run: str | Path) -> Path:
    """``run`` as a Path, if it is a folder; whether it is a run is for ``read_manifest`` to say."""
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} does not exist", Fix("pass_run_folder"))
    return run_dir


def remove_stale_temporaries(run_dir: str | Path) -> None:
    """Deletes temporary files a killed save left behind (never a finished file)."""
    for path in Path(run_dir).rglob(".*.tmp*"):
        if path.is_file():
            path.unlink()


def data_config_for_run(cfg: Config, manifest: dict, data_dir: str | None = None) -> DataConfig:
    """The run's data settings; with no folder given anywhere, the folder it was trained from."""
    if data_dir:
        return dataclasses.replace(cfg.data, data_dir=data_dir)
    recorded = manifest.get("dataset", {}).get("source", "keras")
    if local_folder(cfg.data) is None and recorded != "keras" and Path(recorded).is_dir():
        return dataclasses.replace(cfg.data, data_dir=recorded)
    return cfg.data
