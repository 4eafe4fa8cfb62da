"""Loads TensorFlow and Keras once, quietly, on first use by a command."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

IMPORT_SECONDS: list[float] = []  # how long this process's TensorFlow import took (training records it)


def load() -> ModuleType:
    """Imports TensorFlow with its C++ start-up log silenced; returns the module.

    TensorFlow 2.16+ writes CUDA-probing and oneDNN notes to fd 2 during import
    whatever TF_CPP_MIN_LOG_LEVEL says (tensorflow/tensorflow#100442), so fd 2
    is pointed at /dev/null for the import alone.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    import time

    start = time.perf_counter()
    with quiet_stderr():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # probing devices (CUDA) logs too; keep it inside the silence
    IMPORT_SECONDS.append(time.perf_counter() - start)
    return tf


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Points fd 2 at /dev/null: for C++ notes that no log level reaches (TFLite's delegate, tf2onnx).

    Python errors still surface: they are raised, not printed, and fd 2 is
    restored before they propagate.
    """
    import sys

    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()  # what Python buffered inside goes to /dev/null too
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def cpu_has_native_bfloat16() -> bool:
    """True on CPUs with bfloat16 arithmetic (AVX512_BF16 or AMX), where oneDNN runs it fast."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(setting: str) -> str:
    """The Keras dtype policy for ``train.precision``; bfloat16 elsewhere is emulated and slow."""
    if setting != "auto":
        return setting
    tf = load()
    if tf.config.list_physical_devices("GPU") or not cpu_has_native_bfloat16():
        return "float32"
    return "mixed_bfloat16"


def versions() -> dict[str, str]:
    """The package versions a result depends on, for run.json and metrics.json."""
    import platform

    import keras
    import numpy as np

    from vae_cli import __version__

    tf = load()
    return {
        "vae_cli": __version__,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
