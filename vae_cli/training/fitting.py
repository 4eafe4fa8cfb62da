"""Seeding, the optimizer with its learning-rate schedule, and Keras's ``fit`` over the training stream."""

from __future__ import annotations

from typing import Any

import keras

from vae_cli.config import TrainConfig
from vae_cli.training.pipeline import TrainingImages, steps_per_epoch, train_pipeline


def seed_everything(seed: int) -> None:
    keras.utils.set_random_seed(seed)


# one_cycle starts at this share of the peak: Adam's first steps at the full rate are what
# make large rates collapse, and a short linear rise lets the peak be higher.
ONE_CYCLE_START = 0.04


def learning_rate(train_cfg: TrainConfig, train_size: int) -> Any:
    steps = train_cfg.epochs * steps_per_epoch(train_size, train_cfg.batch_size)
    peak = train_cfg.learning_rate
    if train_cfg.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=steps, alpha=0.05)
    if train_cfg.lr_schedule == "one_cycle":
        warmup = int(steps * train_cfg.warmup_fraction)
        return keras.optimizers.schedules.CosineDecay(
            peak * ONE_CYCLE_START,
            decay_steps=max(steps - warmup, 1),
            alpha=0.05,
            warmup_target=peak,
            warmup_steps=warmup,
        )
    return peak


def compile_vae(vae: keras.Model, train_cfg: TrainConfig, train_size: int) -> None:
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate(train_cfg, train_size)))


def fit(
    vae: keras.Model,
    train: TrainingImages,
    val_ds: Any,
    train_cfg: TrainConfig,
    callbacks: list[keras.callbacks.Callback],
    verbose: int = 2,
) -> Any:
    """Trains ``vae`` from ``train.first_epoch``; with ``train.labels`` each batch's one-hot labels go beside the images."""
    ds = train_pipeline(train, train_cfg.batch_size, train_cfg.seed, train_cfg.epochs)
    return vae.fit(
        ds,
        validation_data=val_ds,
        epochs=train_cfg.epochs,
        initial_epoch=train.first_epoch,
        # With steps_per_epoch set, Keras keeps one iterator across epochs: the stream above.
        steps_per_epoch=steps_per_epoch(len(train.source), train_cfg.batch_size),
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
