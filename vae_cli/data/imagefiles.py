"""Image files to pixels: the one decoding path for training, testing and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.errors import DataError


def decode_image(path: Any, shape: tuple[int, int, int]) -> Any:
    """One file -> (H, W, C) float32 in [0, 255], rounded: the same path for training and testing."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=shape[2], expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), shape[:2], antialias=True)
    return tf.clip_by_value(tf.round(image), 0.0, 255.0)


def decode_files(files: list[str], shape: tuple[int, int, int]) -> np.ndarray:
    from vae_cli import backend

    tf = backend.load()
    ds = tf.data.Dataset.from_tensor_slices(files).map(lambda p: decode_image(p, shape), tf.data.AUTOTUNE).batch(256)
    try:
        return np.concatenate([batch.numpy().astype(np.uint8) for batch in ds])
    except tf.errors.OpError as exc:
        raise DataError(
            f"cannot decode an image under {Path(files[0]).parent.parent}: {exc.message.splitlines()[0]}"
        ) from None
