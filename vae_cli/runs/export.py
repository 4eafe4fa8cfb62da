"""A run's encoder and decoder exported for other runtimes into ``RUN/export/``, each file checked
by loading it in its own runtime and comparing its outputs with the Keras model's.

Formats: ``keras`` (Keras 3's own ``.keras``), ``savedmodel`` (a TensorFlow SavedModel folder),
``tflite`` (LiteRT flatbuffer), ``onnx`` (through Keras's exporter, which drives tf2onnx).
Each file is written under a temporary name and renamed into place; a folder is swapped in.
``export/`` has a lock of its own: exports of one run take turns (a training of the run is no
obstacle: it writes nothing there), and nothing is written through a link in its place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli import backend
from vae_cli.names import DECODER, ENCODER, EXPORT_FORMATS
from vae_cli.runs.atomic import atomic_write
from vae_cli.runs.folder import writable_subfolder
from vae_cli.runs.inference import as_list, check_inputs
from vae_cli.runs.lock import RunLock
from vae_cli.runs.onnx_model import OnnxModel, converter_version, write_onnx
from vae_cli.runs.view import RunView

EXPORT = "export"  # the run folder's sub-folder
FORMATS = EXPORT_FORMATS
NAMES = {"keras": "{}.keras", "savedmodel": "{}_savedmodel", "tflite": "{}.tflite", "onnx": "{}.onnx"}
RUNTIMES = {
    "keras": "keras.saving.load_model(safe_mode=True)",
    "savedmodel": "tf.saved_model.load",
    "tflite": "tf.lite.Interpreter",
    "onnx": "onnxruntime",
}
TOLERANCE = 1e-4  # float32 through another runtime: 1e-7 to 1e-5 seen (docs/guides/export.md); more: a wrong graph


@dataclass
class Exported:
    model: str  # encoder | decoder
    format: str
    path: Path
    runtime: str  # what loaded it back
    max_abs_diff: float

    @property
    def matches(self) -> bool:
        return bool(self.max_abs_diff <= TOLERANCE)


def export_run(
    view: RunView, formats: Sequence[str], seed: int = 0, on_wait: Callable[[str], None] | None = None
) -> list[Exported]:
    """Writes each of ``formats`` for the encoder and the decoder, loads each back and compares.

    Another export of the run in progress is waited for, after ``on_wait(its pid)``.
    """
    formats = list(dict.fromkeys(formats))  # a repeated format is written once
    if "onnx" in formats:
        converter_version()  # a missing converter stops before anything is written
    folder = writable_subfolder(view.dir, EXPORT)
    folder.mkdir(exist_ok=True)
    with RunLock(folder, on_wait) as lock:
        lock.remove_stale_temporaries()  # a killed export's: any other would hold the lock
        return _export(view, formats, seed)


def _export(view: RunView, formats: list[str], seed: int) -> list[Exported]:
    rng = np.random.default_rng(seed)
    results = []
    for name, model in ((ENCODER, view.encoder), (DECODER, view.decoder)):
        x = check_inputs(model, name, rng)
        expected = as_list(model(x if len(x) > 1 else x[0], training=False))
        for fmt in formats:
            path = view.dir / EXPORT / NAMES[fmt].format(name)
            with _quiet():
                with _naming(path):  # the writer's errors; a runtime's own are its own
                    _WRITERS[fmt](model, path)
                got = _RUNNERS[fmt](path, x, [_input_name(t) for t in model.inputs])
            diff = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected, strict=True))
            results.append(Exported(name, fmt, path, RUNTIMES[fmt], diff))
    return results


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """A write error as an ``OSError`` naming the file being exported: TensorFlow reports a full disk as
    ``ResourceExhaustedError`` (SavedModel's variables), and some writers name no file at all."""
    import tensorflow as tf

    try:
        yield
    except OSError as exc:
        if exc.filename:
            raise
        raise OSError(exc.errno or errno.EIO, exc.strerror or str(exc), str(path)) from None
    except tf.errors.OpError as exc:
        if "No space left" not in str(exc):
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None


def _input_name(tensor: Any) -> str:
    return str(tensor.name).partition(":")[0]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Converters' deprecation warnings and C++ notes are not the user's business; errors still raise."""
    with warnings.catch_warnings(), backend.quiet_stderr():
        warnings.simplefilter("ignore")
        yield


def _write_keras(model, path):
    atomic_write(path, lambda tmp: model.save(tmp))


def _write_savedmodel(model, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_folder(path)
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_in(tmp, path)


def _new_folder(path: Path) -> Path:
    """An empty new folder beside ``path``, with the permissions the umask gives (0755 under umask 022).

    Not ``tempfile.mkdtemp``: it makes folders 0700 whatever the umask, and this one is renamed into place.
    """
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            tmp.mkdir(0o777)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary folder name", str(path.parent))


def _swap_in(new: Path, path: Path) -> None:
    """Renames folder ``new`` onto ``path``; an earlier export (or a link in its place, never followed) is moved
    aside first, then removed."""
    old = None
    if os.path.lexists(path):
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.replace(path, old / path.name)
    os.replace(new, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_tflite(model, path):
    atomic_write(path, lambda tmp: model.export(tmp, format="litert", verbose=False))


def _run_keras(path, x, names):
    import keras

    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return as_list(model(x if len(x) > 1 else x[0], training=False))


def _run_savedmodel(path, x, names):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # held: its variables die with it, mid-call otherwise
    return as_list(loaded.serve(x if len(x) > 1 else x[0]))  # a conditional model's serve takes one list


def _run_tflite(path, x, names):
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_path=str(path)).get_signature_runner()
    details = list(runner.get_input_details())
    # The signature names its inputs after the Keras inputs (z, label); a single one by whatever it is called.
    feed = {details[0]: x[0]} if len(x) == 1 else dict(zip(names, x, strict=True))
    outputs = runner(**feed)  # output_0, output_1 ...: the model's outputs in order
    return [outputs[key] for key in sorted(outputs, key=lambda k: int(k.rpartition("_")[2]))]


def _run_onnx(path, x, names):
    return as_list(OnnxModel(path)(x))


_WRITERS = {"keras": _write_keras, "savedmodel": _write_savedmodel, "tflite": _write_tflite, "onnx": write_onnx}
_RUNNERS = {"keras": _run_keras, "savedmodel": _run_savedmodel, "tflite": _run_tflite, "onnx": _run_onnx}
