"""The learning-rate schedules: the step-by-step rate each one gives Adam."""

import dataclasses

import numpy as np
import pytest

from vae_cli.config import TrainConfig
from vae_cli.training.fitting import ONE_CYCLE_START, learning_rate
from vae_cli.training.pipeline import steps_per_epoch

TRAIN_SIZE = 6400


def rates(train_cfg):
    schedule = learning_rate(train_cfg, TRAIN_SIZE)
    steps = train_cfg.epochs * steps_per_epoch(TRAIN_SIZE, train_cfg.batch_size)
    return np.array([float(schedule(step)) for step in range(steps + 1)]), steps


def test_one_cycle_rises_to_the_peak_then_decays():
    cfg = dataclasses.replace(TrainConfig(), lr_schedule="one_cycle", learning_rate=4e-3, epochs=4, batch_size=64)
    lr, steps = rates(cfg)
    top = int(steps * cfg.warmup_fraction)
    assert lr[0] == pytest.approx(4e-3 * ONE_CYCLE_START)
    assert np.all(np.diff(lr[: top + 1]) > 0), "the warm-up rises at every step"
    assert lr.argmax() == top and lr[top] == pytest.approx(4e-3)
    assert np.all(np.diff(lr[top:]) <= 1e-12), "after the peak the rate only falls"
    assert lr[-1] == pytest.approx(4e-3 * 0.05, rel=1e-3), "the decay ends at 5% of the peak on the last step"


def test_one_cycle_warmup_share_follows_the_setting():
    cfg = dataclasses.replace(TrainConfig(), lr_schedule="one_cycle", warmup_fraction=0.5, epochs=2, batch_size=64)
    lr, steps = rates(cfg)
    assert lr.argmax() == steps // 2


def test_cosine_starts_at_the_peak_and_constant_is_flat():
    cosine, _ = rates(dataclasses.replace(TrainConfig(), lr_schedule="cosine", learning_rate=1e-3, epochs=2))
    assert cosine[0] == pytest.approx(1e-3) and cosine[-1] == pytest.approx(5e-5, rel=1e-3)
    assert learning_rate(dataclasses.replace(TrainConfig(), lr_schedule="constant", learning_rate=2e-3), 100) == 2e-3
