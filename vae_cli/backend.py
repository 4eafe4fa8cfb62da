"""Loads TensorFlow and Keras once, quietly, on first use by a command."""

import os


def load():
    """Imports TensorFlow with its C++ start-up log silenced; returns the module.

    TensorFlow 2.16+ writes CUDA-probing and oneDNN notes to fd 2 during import
    whatever TF_CPP_MIN_LOG_LEVEL says (tensorflow/tensorflow#100442), so fd 2
    is pointed at /dev/null for the import alone. Python errors still surface:
    they are raised, not printed, and fd 2 is restored before they propagate.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # probing devices (CUDA) logs too; keep it inside the silence
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    return tf
