"""Keras callbacks of a training run: the per-epoch log, early stopping with resumable
state, the non-finite-loss guard, the Ctrl-C and SIGTERM handler and the KL warm-up."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from vae_cli.errors import Terminated
from vae_cli.kinds import Score
from vae_cli.names import VAE_LOSS
from vae_cli.training.phases import AFTER_EPOCH, PhaseClock

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C; kill, docker stop, Slurm, systemd


class StopTraining(Exception):
    """Raised from a batch callback to leave ``fit`` at once, before validation or saving."""

    def __init__(
        self, reason: str, epoch: int, batch: int, value: float | None = None, signum: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason, self.epoch, self.batch, self.value, self.signum = reason, epoch, batch, value, signum


class EpochLog(keras.callbacks.Callback):
    """Per-epoch metrics with wall time; ``rows`` may start with a resumed run's history."""

    def __init__(self, rows: list[dict] | tuple = ()) -> None:
        super().__init__()
        self.rows = list(rows)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["seconds"] = time.perf_counter() - self._start
        self.rows.append(row)


class EarlyStopper(keras.callbacks.Callback):
    """Stops when the validation loss has not improved for ``patience`` epochs, keeping the best weights.

    It watches the run's ``kinds.Score`` of the epoch's logs: reconstruction + beta x KL
    at the target beta (the IWAE bound for an iwae run, the reconstruction for an
    ae), so a KL warm-up (which lowers the weight inside ``val_loss``) cannot fake
    an improvement. Unlike ``keras.callbacks.EarlyStopping`` its counters are plain
    state that a checkpoint saves and a resumed run restores.
    """

    def __init__(
        self,
        patience: int | None,
        score: Score,
        state: dict | None = None,
        best_weights: list[np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.patience, self.score = patience, score
        state = state or {}
        self.best = state.get("best", math.inf)
        self.best_epoch = state.get("best_epoch", 0)
        self.wait = state.get("wait", 0)
        self.stopped = state.get("stopped", False)
        self.best_weights = best_weights

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "stopped": self.stopped}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = self.score.of(logs or {})
        if current < self.best:
            self.best, self.best_epoch, self.wait = current, epoch + 1, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.stopped = True
            self.model.stop_training = True


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops at the first batch whose loss is NaN or infinite, before anything is saved."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            raise StopTraining("non-finite loss", self._epoch + 1, batch + 1, loss)


class StopSignals(keras.callbacks.Callback):
    """First SIGINT (Ctrl-C) or SIGTERM: finish the current step, then leave ``fit``. Second: abort at once."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.signum: int | None = None
        self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            self.restore()
            raise KeyboardInterrupt if signum == signal.SIGINT else Terminated()
        self.signum = signum

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._stop_if_asked(0)  # a signal during the last epoch's saving: start no new epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._stop_if_asked(batch + 1)

    def _stop_if_asked(self, steps_done: int) -> None:
        if self.signum is not None:
            raise StopTraining("interrupted", self._epoch + 1, steps_done + 1, signum=self.signum)

    def restore(self) -> None:
        for signum, previous in getattr(self, "_previous", {}).items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)  # None: set outside Python
        self._previous = {}


class KLWarmup(keras.callbacks.Callback):
    """Raises the loss layer's KL weight linearly from 0 to ``beta`` over ``epochs`` (Sonderby et al. 2016).

    Driven by the optimizer's step counter, so a resumed run continues the ramp exactly.
    """

    def __init__(self, beta: float, epochs: int, steps_per_epoch: int) -> None:
        super().__init__()
        self.beta, self.steps = beta, max(1, epochs * steps_per_epoch)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = int(self.model.optimizer.iterations.numpy())
        self.model.get_layer(VAE_LOSS).kl_weight.assign(self.beta * min(1.0, step / self.steps))

    def on_train_end(self, logs: dict | None = None) -> None:
        self.model.get_layer(VAE_LOSS).kl_weight.assign(self.beta)


class EpochEnd(keras.callbacks.Callback):
    """Calls ``on_epoch(epoch)`` once every other callback has seen the epoch (so last in the list)."""

    def __init__(self, on_epoch: Callable[[int], None]) -> None:
        super().__init__()
        self.on_epoch = on_epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.on_epoch(epoch + 1)


class StepPhases(keras.callbacks.Callback):
    """The phases inside ``fit``: its first step (tracing included), validation summed over epochs, and
    ``AFTER_EPOCH``, which the run's loop begins after each epoch's saves."""

    def __init__(self, clock: PhaseClock) -> None:
        super().__init__()
        self.clock = clock
        self._begun: float | None = None
        self._test_begun = 0.0

    def on_train_begin(self, logs: Any = None) -> None:
        self._begun = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.clock.open is not None and self.clock.open[0] == AFTER_EPOCH:
            self.clock.end()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self._begun is not None:
            self.clock.add("first_step", time.perf_counter() - self._begun)
            self._begun = None

    def on_test_begin(self, logs: Any = None) -> None:
        self._test_begun = time.perf_counter()

    def on_test_end(self, logs: Any = None) -> None:
        self.clock.add("validation", time.perf_counter() - self._test_begun)
