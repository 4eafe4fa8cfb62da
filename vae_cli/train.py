"""Seeds, input pipelines, optimizer and ``fit``."""

import math

import keras
import tensorflow as tf

EVAL_BATCH = 500  # inference only: large batches are cheaper and need no tuning


def seed_everything(seed):
    keras.utils.set_random_seed(seed)


def _scale(batch):
    return tf.cast(batch, tf.float32) / 255.0


def train_pipeline(images, batch_size, seed, first_epoch, epochs):
    """Batches for epochs ``first_epoch`` .. ``epochs - 1``, in one stream.

    Each epoch's order is a stateless function of (seed, epoch), so a run resumed
    at epoch k sees exactly the batches an uninterrupted run would have seen.
    Indices are shuffled, not images; images stay uint8 until batched.
    """
    source = tf.constant(images)
    count = len(images)

    def one_epoch(epoch):
        keys = tf.random.stateless_uniform([count], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

    epochs_ds = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return epochs_ds.map(lambda idx: _scale(tf.gather(source, idx)), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def eval_pipeline(images, batch_size=EVAL_BATCH):
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size).map(_scale).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(train_size, batch_size):
    return math.ceil(train_size / batch_size)


def learning_rate(train_cfg, train_size):
    if train_cfg.lr_schedule == "cosine":
        steps = train_cfg.epochs * steps_per_epoch(train_size, train_cfg.batch_size)
        return keras.optimizers.schedules.CosineDecay(train_cfg.learning_rate, decay_steps=steps, alpha=0.05)
    return train_cfg.learning_rate


def compile_vae(vae, train_cfg, train_size):
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate(train_cfg, train_size)))


def fit(vae, train_images, val_ds, train_cfg, first_epoch, callbacks, verbose=2):
    ds = train_pipeline(train_images, train_cfg.batch_size, train_cfg.seed, first_epoch, train_cfg.epochs)
    return vae.fit(
        ds,
        validation_data=val_ds,
        epochs=train_cfg.epochs,
        initial_epoch=first_epoch,
        # With steps_per_epoch set, Keras keeps one iterator across epochs: the stream above.
        steps_per_epoch=steps_per_epoch(len(train_images), train_cfg.batch_size),
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
