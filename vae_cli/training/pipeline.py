"""The ``tf.data`` input pipelines: a resumable, seeded training stream and large evaluation batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from vae_cli.names import LABEL

EVAL_BATCH = 500  # inference only: large batches are cheaper and need no tuning
PREFETCH = 2  # batches made ahead of the step: the next batch's gather and cast take well under a step


@dataclass(frozen=True)
class TrainingImages:
    """What the training stream reads: ``source``, an in-memory image array (uint8, or float32 in [0, 1]) or a
    list of image files decoded to ``shape`` as they are needed; with ``labels`` (a conditional model), their
    classes, fed as one-hot rows of ``classes``; ``binarize`` as ``data.binarize``; and the first epoch to stream
    (a resumed run's)."""

    source: np.ndarray | list[str]
    binarize: str = "none"
    shape: tuple[int, int, int] | None = None
    labels: np.ndarray | None = None
    classes: int = 0
    first_epoch: int = 0


def train_pipeline(train: TrainingImages, batch_size: int, seed: int, epochs: int) -> tf.data.Dataset:
    """Batches for epochs ``train.first_epoch`` .. ``epochs - 1``, in one stream.

    With ``train.labels``, each element is ``{"image": x, "label": one-hot}``. Each epoch's order,
    and with ``dynamic`` binarization each batch's Bernoulli draw, is a stateless
    function of (seed, epoch, batch), so a run resumed at epoch k sees exactly the
    batches an uninterrupted run would have seen. Indices are shuffled, not images.
    """
    source, binarize, shape, labels, classes = train.source, train.binarize, train.shape, train.labels, train.classes
    from_files = isinstance(source, list)
    count = len(source)
    seed = tf.constant(seed, tf.int64)
    if from_files:
        from vae_cli.data.imagefiles import decode_image

        paths = tf.constant(source)
        scale = 1.0 / 255.0
    else:
        images = tf.constant(source)
        scale = 1.0 / 255.0 if source.dtype == np.uint8 else 1.0

    label_table = tf.constant(np.zeros(count, np.int64) if labels is None else labels, tf.int64)

    def one_epoch(epoch):
        keys = tf.random.stateless_uniform([count], seed=tf.stack([seed, epoch]))
        order = tf.data.Dataset.from_tensor_slices(tf.argsort(keys))
        if from_files:
            pairs = order.map(lambda i: (decode_image(paths[i], shape), tf.gather(label_table, i)), tf.data.AUTOTUNE)
            batches = pairs.batch(batch_size)
        else:
            batches = order.batch(batch_size).map(lambda idx: (tf.gather(images, idx), tf.gather(label_table, idx)))
        return batches.enumerate().map(lambda step, xy: (epoch, step, xy[0], xy[1]))

    def finish(epoch, step, x, y):
        x = tf.cast(x, tf.float32) * scale
        if binarize == "static":
            x = tf.cast(x > 0.5, tf.float32)
        elif binarize == "dynamic":
            draw = tf.random.stateless_uniform(tf.shape(x), seed=tf.stack([seed + 1, epoch * 1_000_003 + step]))
            x = tf.cast(draw < x, tf.float32)
        return x if labels is None else {"image": x, LABEL: tf.one_hot(y, classes)}

    epochs_ds = tf.data.Dataset.range(train.first_epoch, epochs).flat_map(one_epoch)
    # No autotuning: at the end of fit, tearing down an autotuned iterator sometimes held the process for
    # 30 to 45 s (one shipped run in ten; docs/measurements/speed.md), and a fixed prefetch keeps up anyway.
    # The image files' map in one_epoch still decodes in parallel: without autotuning, one call per core.
    options = tf.data.Options()
    options.autotune.enabled = False
    return epochs_ds.map(finish).prefetch(PREFETCH).with_options(options)


def eval_pipeline(
    images: np.ndarray, batch_size: int = EVAL_BATCH, labels: np.ndarray | None = None, classes: int = 0
) -> tf.data.Dataset:
    """Float32 images (already prepared for testing) in large batches; with ``labels``, as a cvae takes them."""
    if labels is None:
        elements = tf.data.Dataset.from_tensor_slices(images)
    else:
        onehot = np.eye(classes, dtype=np.float32)[labels]
        elements = tf.data.Dataset.from_tensor_slices({"image": images, LABEL: onehot})
    return elements.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    return math.ceil(train_size / batch_size)
