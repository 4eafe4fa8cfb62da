"""The run folder: create it, write into it atomically, find it again, load from it.

Every file is written to a temporary name in its final folder, flushed to
disk and renamed into place, so a crash mid-save leaves the previous file or
the new one, never a truncated mix.
"""

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from vae_cli import config as config_mod
from vae_cli.errors import ConfigError, VaeError

MANIFEST = "run.json"
CONFIG = "config.yaml"
ENCODER, DECODER, VAE = "encoder.h5", "decoder.h5", "vae.h5"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RunError(VaeError):
    pass


def plain_name(text):
    """``text`` made safe as a run-folder prefix."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return name or "run"


def create_run_dir(output_cfg, default_name):
    """Makes ``<output.dir>/<name>-<timestamp>`` (never an existing folder)."""
    name = output_cfg.name or default_name
    if not _NAME.match(name) or ".." in name:
        raise RunError(
            f"output.name {name!r} is not a plain folder name; use letters, digits, '.', '_' and '-' only"
        )
    parent = Path(output_cfg.dir)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create output folder {parent}: {exc.strerror}; set output.dir to a writable folder") from None
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


def atomic_write(path, write):
    """Calls ``write(tmp_path)`` then renames ``tmp_path`` onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the suffix: Keras and matplotlib pick the format from it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    return atomic_write(path, write)


def write_json(path, data):
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def save_model(model, path):
    from absl import logging as absl_logging

    # .h5 is the product's format; Keras's "legacy format" warning is noise to users.
    level = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        return atomic_write(path, lambda tmp: model.save(tmp))
    finally:
        absl_logging.set_verbosity(level)


def load_model(path):
    """Loads a Keras model file with ``safe_mode=True``; any failure is a ``RunError``."""
    import keras

    import vae_cli.layers  # noqa: F401 - registers the custom layers for vae.h5

    path = Path(path)
    if not path.is_file():
        raise RunError(f"model file {path} does not exist; train a run with `vae train` or pass --run")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # h5py, Keras and TF raise many types for a bad file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(
            f"cannot load model {path}: {reason[:300]}; it is not a model written by vae "
            "(or it is damaged): re-create it with `vae train`"
        ) from None


def config_hash(cfg):
    """Hash of the settings that decide the trained weights: not where data and runs live."""
    settings = config_mod.to_dict(cfg)
    del settings["output"]
    del settings["data"]["data_dir"]
    del settings["data"]["path"]  # image_folder / npz location; the data's checksum identifies the content
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def read_manifest(run_dir):
    path = Path(run_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a vae run folder (no {MANIFEST}); pass a folder made by `vae train`") from None
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot read {path}: {exc}; the run folder is damaged") from None


def read_config(run_dir):
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise RunError(f"{run_dir} has no {CONFIG}; the run folder is damaged: train a new run")
    try:
        return config_mod.load_config(path)
    except ConfigError as exc:
        raise RunError(f"{run_dir}'s {CONFIG} is damaged or from another version ({exc}); train a new run") from None


def list_runs(output_dir):
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


def resolve_run(run=None, output_dir="outputs"):
    """The folder given with ``--run``, checked, or else the latest run under ``output_dir``."""
    if run is None:
        runs = list_runs(output_dir)
        if not runs:
            raise RunError(
                f"no trained run found under {output_dir}/; train one with `vae train --config configs/mnist.yaml` "
                "or pass --run DIR"
            )
        return runs[-1]
    run_dir = existing_folder(run)
    read_manifest(run_dir)
    if not (run_dir / DECODER).is_file():
        raise RunError(f"{run_dir} has no {DECODER} yet (training did not finish an epoch); train it first")
    return run_dir


def existing_folder(run):
    """``run`` as a Path, if it is a folder; whether it is a run is for ``read_manifest`` to say."""
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} does not exist; pass a folder made by `vae train`")
    return run_dir


def remove_stale_temporaries(run_dir):
    """Deletes temporary files a killed save left behind (never a finished file)."""
    for path in Path(run_dir).rglob(".*.tmp*"):
        if path.is_file():
            path.unlink()


def data_config_for_run(cfg, manifest, data_dir=None):
    """The run's data settings; with no folder given anywhere, the folder it was trained from."""
    import dataclasses

    from vae_cli.data import local_folder

    if data_dir:
        return dataclasses.replace(cfg.data, data_dir=data_dir)
    recorded = manifest.get("dataset", {}).get("source", "keras")
    if local_folder(cfg.data) is None and recorded != "keras" and Path(recorded).is_dir():
        return dataclasses.replace(cfg.data, data_dir=recorded)
    return cfg.data
