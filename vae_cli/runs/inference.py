"""The models the figure commands decode with: ONNX Runtime on copies written at training's end, else Keras.

Importing TensorFlow takes 4 to 6 s on a laptop CPU; a figure's decoding takes milliseconds.
So when a run finishes, its float32 encoder and decoder are also written as ONNX
(``encoder.onnx``, ``decoder.onnx``), each checked against the Keras model on a few inputs,
and run.json records under ``inference`` the sha256 of each copy and of the ``.h5`` file it
copies. A figure command uses a copy only while both files are as recorded; otherwise (a run
still training or stopped early, a copy that failed its check or was replaced, an older run,
ONNX Runtime absent) it loads the Keras model. Evaluation, export and training always use Keras.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.names import DECODER, ENCODER
from vae_cli.runs.onnx_model import OnnxModel

RECORD = "inference"  # run.json's key: {copy's file name: {"sha256": the copy's, "source_sha256": its .h5 file's}}
COPIES = {ENCODER: "encoder.onnx", DECODER: "decoder.onnx"}
TOLERANCE = 1e-5  # float32 through ONNX Runtime: 1e-7 to 1e-6 seen; more means the copy computes something else
CHECK_POINTS = 8  # inputs each copy is checked on when written
KERAS_ONLY = "VAE_INFERENCE"  # set to "keras" to decode figures with Keras even where copies exist


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_copies(run_dir: Path, models: dict[str, Any], sources: dict[str, Path]) -> dict[str, str]:
    """Writes ``models`` (``names.ENCODER`` / ``DECODER`` -> Keras model) as ONNX copies into ``run_dir``,
    each checked against its Keras model; returns run.json's record for the copies that passed.

    A copy that cannot be written or fails its check is removed and left out of the record: the
    figure commands then load the Keras model, as for a run without copies.
    """
    from vae_cli.backend import quiet_stderr
    from vae_cli.runs.onnx_model import write_onnx

    record = {}
    rng = np.random.default_rng(0)
    for name, model in models.items():
        path = run_dir / COPIES[name]
        try:
            inputs = check_inputs(model, name, rng)
            expected = as_list(model(inputs if len(inputs) > 1 else inputs[0], training=False))
            with warnings.catch_warnings(), quiet_stderr():  # the converter's deprecation notes
                warnings.simplefilter("ignore")
                write_onnx(model, path)
            got = as_list(OnnxModel(path)(inputs))
            agrees = all(np.max(np.abs(g - e)) <= TOLERANCE for g, e in zip(got, expected, strict=True))
        except Exception:  # no converter, one that fails this model (gelu's Erfc), or a graph the runtime refuses
            agrees = False
        if agrees:
            record[COPIES[name]] = {
                "sha256": sha256_of(path),
                "bytes": path.stat().st_size,
                "source_sha256": sha256_of(sources[name]),
            }
        elif path.exists():
            path.unlink()
    return record


def copy_for(run_dir: Path, name: str, manifest: dict, shapes: tuple[tuple, tuple]) -> OnnxModel | None:
    """The ONNX copy of the run's ``name`` model, if one was recorded for the ``.h5`` file as it is now and it
    takes and gives ``shapes`` (its first input's and first output's, without the batch); else None."""
    if os.environ.get(KERAS_ONLY) == "keras":
        return None
    records = manifest.get(RECORD)
    recorded = records.get(COPIES[name]) if isinstance(records, dict) else None
    path, source = run_dir / COPIES[name], run_dir / f"{name}.h5"
    if not isinstance(recorded, dict) or path.is_symlink() or not path.is_file() or not source.is_file():
        return None
    try:
        if path.stat().st_size != recorded.get("bytes"):  # before hashing: a replaced file can be any size
            return None
        as_recorded = sha256_of(path) == recorded.get("sha256") and sha256_of(source) == recorded.get("source_sha256")
        copy = OnnxModel(path) if as_recorded else None
    except Exception:  # unreadable files, no ONNX Runtime, a damaged copy (it raises kinds of its own): Keras
        return None
    if copy is None or (copy.inputs[0].shape[1:], copy.output.shape[1:]) != tuple(map(tuple, shapes)):
        return None
    return copy


def check_inputs(model: Any, name: str, rng: np.random.Generator, count: int = CHECK_POINTS) -> list[np.ndarray]:
    """One array per model input: uniform images (encoder) or z ~ N(0, I) (decoder), then, for a
    conditional model's second input, one-hot labels cycling through the classes."""
    first, *rest = model.inputs
    shape = (count, *first.shape[1:])
    arrays = [rng.random(shape) if name == ENCODER else rng.standard_normal(shape)]
    for extra in rest:
        classes = int(extra.shape[-1])
        arrays.append(np.eye(classes)[np.arange(count) % classes])
    return [a.astype("float32") for a in arrays]


def as_list(outputs: Any) -> list[np.ndarray]:
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(o) for o in outputs]
