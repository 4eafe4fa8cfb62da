"""Building a run's models and restoring them from a checkpoint.

Two copies of the model are built: the *training copy*, in the training
precision (``mixed_bfloat16`` where the CPU has it) and inside the
distribution strategy's scope, and the *float32 copy*, which receives the
training copy's weights whenever the run folder is brought up to date, so the
saved models and figures are float32 whatever the training precision.
"""

from __future__ import annotations

from dataclasses import dataclass

from vae_cli import backend
from vae_cli.config import Config
from vae_cli.data.types import Data
from vae_cli.kinds import kind_of
from vae_cli.model.build import Models
from vae_cli.training import checkpoint, distribution
from vae_cli.training.checkpoint import Checkpoint


@dataclass
class RunModels:
    training_copy: Models  # trained, in the training precision and strategy scope
    float32_copy: Models  # saved and drawn from


def build_run_models(
    cfg: Config, data: Data, precision: str, state: Checkpoint | None, checkpoint_path: str
) -> RunModels:
    """Both copies for ``data``'s images (and classes, for a conditional kind), compiled, the training copy
    restored from ``state`` (saved at ``checkpoint_path``) when resuming."""
    backend.load()
    import keras

    from vae_cli.model.build import build_models
    from vae_cli.training.fitting import compile_vae, seed_everything

    image_shape, n_train = data.image_shape, len(data.train)
    classes = kind_of(cfg.model).label_size(data.class_names)
    seed_everything(cfg.train.seed)
    strategy_scope, _ = distribution.scope(cfg.train)
    keras.mixed_precision.set_global_policy(precision)
    try:
        with strategy_scope:
            training_copy = build_models(cfg.model, image_shape, cfg.train, classes, n_train)
            compile_vae(training_copy.vae, cfg.train, n_train)
            if state is not None:
                checkpoint.restore(training_copy.vae, state, checkpoint_path)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    float32_copy = build_models(cfg.model, image_shape, cfg.train, classes, n_train)
    compile_vae(float32_copy.vae, cfg.train, n_train)
    if state is not None and state.best is not None:
        checkpoint.check_shapes(training_copy.vae.weights, state.best, "checkpoint best weights")
    return RunModels(training_copy, float32_copy)
