"""The run folder: its file names, creating it, finding it again, and reading its config.

Its JSON records are read, shape-checked, by ``runs.records``; ``read_manifest`` is that reader.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from vae_cli import config as config_mod
from vae_cli.config import Config, DataConfig, OutputConfig
from vae_cli.defaults import OUTPUT_DIR
from vae_cli.errors import ConfigError, Fix, RunError, shown
from vae_cli.runs import lock
from vae_cli.runs.atomic import write_json
from vae_cli.runs.records import COMPLETE, MANIFEST, METRICS, RUNNING, read_manifest  # noqa: F401 (METRICS: a name of the folder)
from vae_cli.sources import SOURCES

CONFIG = "config.yaml"
ENCODER, DECODER, VAE = "encoder.h5", "decoder.h5", "vae.h5"
KERAS_FILES = ("encoder.keras", "decoder.keras", "vae.keras")  # the same models in Keras 3's own format
HISTORY = "history.csv"
SAMPLES = "samples"  # the per-epoch sample images
TENSORBOARD = "tensorboard"  # the TensorBoard log
STOPPED = "stopped"  # shown for a run.json that says running while no process holds the run's lock
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


def config_hash(cfg: Config, absent: Iterable[str] = ()) -> str:
    """Hash of the settings that decide the trained weights: not where data and runs live.

    ``absent``: dotted keys left out, as a version that did not have them yet hashed the config.
    """
    settings = config_mod.to_dict(cfg)
    del settings["output"]
    del settings["data"]["data_dir"]
    del settings["data"]["path"]  # image_folder / npz location; the data's checksum identifies the content
    for key in absent:
        section, _, name = key.partition(".")
        settings.get(section, {}).pop(name, None)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def config_hashes(cfg: Config, absent: Iterable[str]) -> set[str]:
    """The hashes a run or study started from ``cfg`` may have recorded: ``config_hash(cfg)``, and,
    where the config as written lacked the ``absent`` keys, the hash without them. The version keeps
    its number when it adds a key, and a config written before the key existed takes its default,
    which keeps the earlier behaviour; any other key's change still shows."""
    return {config_hash(cfg), config_hash(cfg, absent)}


def keys_absent_from(written: object) -> list[str]:
    """The dotted config keys that ``written`` (a config as nested dicts, e.g. as a study recorded it) lacks."""
    written = written if isinstance(written, dict) else {}
    return [
        key
        for key, _, _ in config_mod.describe_keys()
        if key.partition(".")[2] not in (written.get(key.partition(".")[0]) or {})
    ]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def read_config(run_dir: str | Path) -> Config:
    return read_config_as_written(run_dir)[0]


def read_config_as_written(run_dir: str | Path) -> tuple[Config, list[str]]:
    """The run's config, and the keys its config.yaml does not set (those a version without them wrote)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise RunError(f"{run_dir} has no {CONFIG}; the run folder is damaged: train a new run")
    try:
        cfg, sources = config_mod.resolve_config(path)
    except ConfigError as exc:
        raise RunError(f"{run_dir}'s {CONFIG} is damaged or from another version ({exc}); train a new run") from None
    return cfg, [key for key, source in sources.items() if source == config_mod.DEFAULT_SOURCE]


@dataclass(frozen=True)
class Found:
    """The run folder a command works on, with a note for each folder passed over on the way."""

    dir: Path
    notes: tuple[str, ...] = ()


def list_runs(output_dir: str | Path) -> tuple[list[Path], dict[Path, str]]:
    """Run folders under ``output_dir`` that hold a trained decoder, least preferred first (complete
    runs after the others, each group oldest first), and the damaged ones skipped, with why."""
    parent = Path(output_dir)
    if not parent.is_dir():
        return [], {}
    found, damaged = [], {}
    for child in sorted(parent.iterdir()):
        if not ((child / MANIFEST).is_file() and (child / DECODER).is_file()):
            continue  # not a run, or one that never finished an epoch
        try:
            manifest = read_manifest(child)
        except RunError as exc:
            damaged[child] = " ".join(str(exc).split())[:300]
            continue
        found.append((manifest["status"] == COMPLETE, manifest.get("created", ""), child.name, child))
    return [child for *_, child in sorted(found)], damaged


def resolve_run(run: str | Path | None = None, output_dir: str | Path = OUTPUT_DIR, trained: bool = True) -> Found:
    """The folder given with ``--run``, checked, or else the latest complete run under ``output_dir``
    (the latest of any status when none is complete); damaged folders are skipped with a note.
    ``trained``: the run must hold a decoder."""
    if run is not None:
        run_dir = existing_folder(run)
        read_manifest(run_dir)
        if trained and not (run_dir / DECODER).is_file():
            raise RunError(f"{run_dir} has no {DECODER} yet (training did not finish an epoch); train it first")
        return Found(run_dir)
    runs, damaged = list_runs(output_dir)
    for run_dir in reversed(runs):
        try:
            read_config(run_dir)
        except RunError as exc:
            damaged[run_dir] = " ".join(str(exc).split())[:300]
            continue
        notes = [f"skipped the damaged run folder {path}: {why}" for path, why in damaged.items()]
        status = current_status(run_dir, read_manifest(run_dir)["status"])
        if status != COMPLETE:
            notes.append(f"no complete run under {output_dir}; using {run_dir}, whose status is {status!r}")
        return Found(run_dir, tuple(notes))
    names = ", ".join(str(path) for path in list(damaged)[:3]) + (", ..." if len(damaged) > 3 else "")
    skipped = f" (damaged, so skipped: {names})" if damaged else ""
    raise RunError(f"no trained run found under {output_dir}/{skipped}", Fix("train_first"))


def existing_folder(run: str | Path) -> Path:
    """``run`` as a Path, if it is a folder; whether it is a run is for ``read_manifest`` to say."""
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} does not exist", Fix("pass_run_folder"))
    return run_dir


def writable_subfolder(run_dir: str | Path, name: str) -> Path:
    """``run_dir/name`` to write into; refused if it is a symbolic link, which would carry the
    run's files elsewhere (a link in the place of a file is replaced on writing, never followed), or
    if something else than a folder holds its place (TensorBoard would fail mid-epoch on it)."""
    path = Path(run_dir) / name
    if path.is_symlink():
        raise RunError(
            f"{path} is a symbolic link; vae writes nothing through links in a run folder: replace it with a folder"
        )
    if path.exists() and not path.is_dir():
        raise RunError(f"{path} is not a folder; vae writes its {name} there: move the file aside and try again")
    return path


def mark_ended(run_dir: str | Path, status: str, **extra: object) -> bool:
    """Records how a run ended in its run.json, unless something already did (``status`` no longer
    running); best effort: the failure being reported matters more than this record of it.
    False when run.json still says running (it could not be written: a full disk)."""
    try:
        manifest = read_manifest(run_dir)
        if manifest["status"] == RUNNING:
            write_json(Path(run_dir) / MANIFEST, {**manifest, "status": status, **extra})
    except RunError:
        return True  # no run record to say anything
    except OSError:
        return False
    return True


def current_status(run_dir: str | Path, recorded: str | None) -> str | None:
    """The status run.json records, except that a run it calls running whose lock no live process
    holds is ``stopped``: its process ended without recording how (killed, or its disk was full)."""
    if recorded == RUNNING and lock.held(run_dir) is False:
        return STOPPED
    return recorded


def data_config_for_run(cfg: Config, manifest: dict, data_dir: str | None = None) -> DataConfig:
    """The run's data settings; with no folder given anywhere, the folder it was trained from."""
    if data_dir:
        return dataclasses.replace(cfg.data, data_dir=data_dir)
    recorded = manifest["dataset"].get("source", "keras")
    if SOURCES.get(cfg.data.dataset).local_folder(cfg.data) is None and recorded != "keras" and Path(recorded).is_dir():
        return dataclasses.replace(cfg.data, data_dir=recorded)
    return cfg.data
