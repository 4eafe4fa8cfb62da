"""Multi-device training on TensorFlow's own engine: ``tf.distribute.MirroredStrategy``.

Keras builds the model, optimizer and loss layer's variables as mirrored
variables when they are created inside the strategy's scope, splits each global
batch across the replicas and averages their gradients. ``/cpu:N`` devices split
the CPU into logical devices, which is how this is tested on a machine without
GPUs; that must happen before TensorFlow runs its first operation.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from vae_cli import backend
from vae_cli.config import TrainConfig
from vae_cli.errors import ConfigError, Fix

_CPU = re.compile(r"^/(?:device:)?cpu:(\d+)$", re.IGNORECASE)


def prepare_devices(train_cfg: TrainConfig) -> None:
    """Splits the CPU into the logical devices ``train.devices`` names; call before any TensorFlow op."""
    if train_cfg.distribute != "mirrored" or not train_cfg.devices:
        return
    indices = [int(m.group(1)) for m in map(_CPU.match, train_cfg.devices) if m]
    if not indices or max(indices) == 0:
        return
    tf = backend.load()
    (cpu,) = tf.config.list_physical_devices("CPU")[:1]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(max(indices) + 1)]
        )
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) <= max(indices):
            raise ConfigError(
                "train.devices: the CPU can only be split into logical devices before TensorFlow starts",
                Fix("fresh_process"),
            ) from None


def scope(train_cfg: TrainConfig) -> tuple[Any, Any]:
    """The strategy's scope (and the strategy), or a no-op scope without distribution."""
    if train_cfg.distribute != "mirrored":
        return contextlib.nullcontext(), None
    tf = backend.load()
    try:
        strategy = tf.distribute.MirroredStrategy(devices=train_cfg.devices or None)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"train.devices {train_cfg.devices}: {exc}") from None
    return strategy.scope(), strategy
