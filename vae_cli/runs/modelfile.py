"""Keras model files of a run: saved atomically, loaded only with ``safe_mode=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vae_cli.errors import Fix, RunError
from vae_cli.runs.atomic import atomic_write


def save_model(model: Any, path: str | Path) -> Path:
    from absl import logging as absl_logging

    # .h5 is the product's format; Keras's "legacy format" warning is noise to users.
    level = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        return atomic_write(path, lambda tmp: model.save(tmp))
    finally:
        absl_logging.set_verbosity(level)


def load_model(path: str | Path) -> Any:
    """Loads a Keras model file with ``safe_mode=True``; any failure is a ``RunError``."""
    from vae_cli import backend

    backend.load()  # before Keras: TensorFlow's start-up log kept off stderr
    import keras

    import vae_cli.layers  # noqa: F401 - registers the custom layers for vae.h5

    path = Path(path)
    if not path.is_file():
        raise RunError(f"model file {path} does not exist", Fix("train_or_pass_run"))
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # h5py, Keras and TF raise many types for a bad file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(
            f"cannot load model {path}: {reason[:300]}; it is not a model written by vae (or it is damaged)",
            Fix("retrain"),
        ) from None
