"""Seeds, input pipelines, optimizer and ``fit``."""

import math

import keras
import numpy as np
import tensorflow as tf

EVAL_BATCH = 500  # inference only: large batches are cheaper and need no tuning


def seed_everything(seed):
    keras.utils.set_random_seed(seed)


def train_pipeline(source, batch_size, seed, first_epoch, epochs, binarize="none", shape=None):
    """Batches for epochs ``first_epoch`` .. ``epochs - 1``, in one stream.

    ``source`` is an in-memory image array (uint8, or float32 in [0, 1]) or a list
    of image files decoded to ``shape`` as they are needed. Each epoch's order,
    and with ``dynamic`` binarization each batch's Bernoulli draw, is a stateless
    function of (seed, epoch, batch), so a run resumed at epoch k sees exactly the
    batches an uninterrupted run would have seen. Indices are shuffled, not images.
    """
    from_files = isinstance(source, list)
    count = len(source)
    seed = tf.constant(seed, tf.int64)
    if from_files:
        from vae_cli.userdata import decode_image

        paths = tf.constant(source)
        scale = 1.0 / 255.0
    else:
        images = tf.constant(source)
        scale = 1.0 / 255.0 if source.dtype == np.uint8 else 1.0

    def one_epoch(epoch):
        keys = tf.random.stateless_uniform([count], seed=tf.stack([seed, epoch]))
        order = tf.data.Dataset.from_tensor_slices(tf.argsort(keys))
        if from_files:
            batches = order.map(lambda i: decode_image(paths[i], shape), tf.data.AUTOTUNE).batch(batch_size)
        else:
            batches = order.batch(batch_size).map(lambda idx: tf.gather(images, idx))
        return batches.enumerate().map(lambda step, x: (epoch, step, x))

    def finish(epoch, step, x):
        x = tf.cast(x, tf.float32) * scale
        if binarize == "static":
            return tf.cast(x > 0.5, tf.float32)
        if binarize == "dynamic":
            draw = tf.random.stateless_uniform(tf.shape(x), seed=tf.stack([seed + 1, epoch * 1_000_003 + step]))
            return tf.cast(draw < x, tf.float32)
        return x

    epochs_ds = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return epochs_ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def eval_pipeline(images, batch_size=EVAL_BATCH):
    """Float32 images (already prepared for testing) in large batches."""
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(train_size, batch_size):
    return math.ceil(train_size / batch_size)


def learning_rate(train_cfg, train_size):
    if train_cfg.lr_schedule == "cosine":
        steps = train_cfg.epochs * steps_per_epoch(train_size, train_cfg.batch_size)
        return keras.optimizers.schedules.CosineDecay(train_cfg.learning_rate, decay_steps=steps, alpha=0.05)
    return train_cfg.learning_rate


def compile_vae(vae, train_cfg, train_size):
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate(train_cfg, train_size)))


def fit(vae, train_split, val_ds, train_cfg, first_epoch, callbacks, verbose=2, binarize="none", shape=None):
    source = train_split.files if train_split.files is not None else train_split.images
    ds = train_pipeline(source, train_cfg.batch_size, train_cfg.seed, first_epoch, train_cfg.epochs, binarize, shape)
    return vae.fit(
        ds,
        validation_data=val_ds,
        epochs=train_cfg.epochs,
        initial_epoch=first_epoch,
        # With steps_per_epoch set, Keras keeps one iterator across epochs: the stream above.
        steps_per_epoch=steps_per_epoch(len(source), train_cfg.batch_size),
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
