"""Seeds, input pipeline, optimizer, callbacks and ``fit``."""

import math
import time

import keras
import numpy as np
import tensorflow as tf

from vae_cli import plots

EVAL_BATCH = 500  # inference only: large batches are cheaper and need no tuning


def seed_everything(seed):
    keras.utils.set_random_seed(seed)


def image_pipeline(images, batch_size, shuffle, seed=None):
    """uint8 images -> float32 [0, 1] batches; shuffles indices, not images, each epoch."""
    source = tf.constant(images)
    count = len(images)
    indices = tf.data.Dataset.range(count)
    if shuffle:
        indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    batches = indices.batch(batch_size).map(
        lambda idx: tf.cast(tf.gather(source, idx), tf.float32) / 255.0,
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def learning_rate(train_cfg, train_size):
    if train_cfg.lr_schedule == "cosine":
        steps = train_cfg.epochs * math.ceil(train_size / train_cfg.batch_size)
        return keras.optimizers.schedules.CosineDecay(train_cfg.learning_rate, decay_steps=steps, alpha=0.05)
    return train_cfg.learning_rate


def compile_vae(vae, train_cfg, train_size):
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate(train_cfg, train_size)))


class EpochSamples(keras.callbacks.Callback):
    """Decodes the same latent points after every epoch into ``samples/epoch_NNN.png``."""

    def __init__(self, decoder, z, folder, title):
        super().__init__()
        self.decoder, self.z, self.folder, self.title = decoder, z, folder, title

    def on_epoch_end(self, epoch, logs=None):
        images = np.asarray(self.decoder.predict(self.z, batch_size=len(self.z), verbose=0), dtype="float32")
        cols = int(np.ceil(np.sqrt(len(self.z))))
        plots.save_image_grid(self.folder / f"epoch_{epoch + 1:03d}.png", images, cols, f"{self.title} · epoch {epoch + 1}")


class EpochLog(keras.callbacks.Callback):
    """Collects the per-epoch metrics with wall time and hands them to ``on_epoch``."""

    def __init__(self, on_epoch):
        super().__init__()
        self.on_epoch = on_epoch
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["seconds"] = time.perf_counter() - self._start
        self.rows.append(row)
        self.on_epoch(self.rows)


def fit(vae, train_ds, val_ds, train_cfg, callbacks, verbose=2):
    callbacks = list(callbacks)
    if train_cfg.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=train_cfg.early_stopping_patience, restore_best_weights=True
            )
        )
    # shuffle=False: the pipeline already reshuffles (seeded) every epoch.
    return vae.fit(
        train_ds, validation_data=val_ds, epochs=train_cfg.epochs, callbacks=callbacks, verbose=verbose, shuffle=False
    )
