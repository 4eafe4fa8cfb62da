"""Where a training process spends its time besides the training steps, recorded in run.json.

Each phase (the TensorFlow import, the data, the models, the first step with its tracing,
validation and the per-epoch saves summed over epochs, the test evaluation, the final
models, their ONNX copies, the figures) is timed, and ``run.json`` gets the seconds under
``phases``. A phase that passes ``STALL_SECONDS`` gets a stack dump of every thread in
``RUN/stalls.txt``: ``faulthandler`` writes it from a thread of its own, so a phase stuck in
TensorFlow's C++ code is caught too, and the run goes on.
"""

from __future__ import annotations

import contextlib
import faulthandler
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import keras

from vae_cli.runs.atomic import new_temporary

STALL_SECONDS = 20.0  # no phase but the epochs takes this long on the shipped configs
STALLS = "stalls.txt"  # the run folder's stack dumps of phases that passed STALL_SECONDS


class PhaseClock:
    """Seconds per named phase (repeated phases add up); stack dumps into a run folder once it is told one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()
        self._dumps: IO[str] | None = None
        self._path: Path | None = None
        self.open: tuple[str, float, int] | None = None  # the phase begun and not yet ended

    def watch(self, run_dir: Path) -> None:
        """From now on, a phase that passes ``STALL_SECONDS`` dumps every thread's stack into ``run_dir``."""
        self._path = run_dir / STALLS
        # A new temporary file (never an existing one, never through a link), renamed into place if used.
        self._dumps = open(new_temporary(self._path), "w", encoding="utf-8")  # noqa: SIM115 - faulthandler's

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.begin(name)
        try:
            yield
        finally:
            self.end()

    def begin(self, name: str) -> None:
        """Starts phase ``name`` (ending one still open): for a phase that starts in one callback and ends in
        another, such as the time from an epoch's saves to the next epoch's first step or to ``fit``'s return."""
        self.end()
        self.open = (name, time.perf_counter(), self._dumps.tell() if self._dumps is not None else 0)
        if self._dumps is not None:
            faulthandler.dump_traceback_later(STALL_SECONDS, repeat=False, file=self._dumps)

    def end(self) -> None:
        """Ends the open phase, if any, adding its seconds; a stack dump it caused is labelled with it."""
        if self.open is None:
            return
        name, start, written = self.open
        self.open = None
        seconds = time.perf_counter() - start
        dumps = self._dumps
        if dumps is not None:
            faulthandler.cancel_dump_traceback_later()
            dumps.seek(0, 2)
            if dumps.tell() > written:
                dumps.write(f"^ the stacks {STALL_SECONDS:g} s into phase {name!r}, which took {seconds:.1f} s\n\n")
                dumps.flush()
        self.add(name, seconds)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def record(self) -> dict[str, float]:
        """The phases so far and the whole time since the clock started, in seconds, for run.json."""
        total = {"total": round(time.perf_counter() - self.started, 3)}
        return {name: round(s, 3) for name, s in self.seconds.items()} | total

    def close(self) -> None:
        """Ends the open phase and stops watching: ``stalls.txt`` is kept if a phase stalled, else nothing is left."""
        self.end()
        if self._dumps is None or self._path is None:
            return
        self._dumps.close()
        tmp, self._dumps = Path(self._dumps.name), None
        with contextlib.suppress(OSError):
            if tmp.stat().st_size:
                tmp.replace(self._path)
            else:
                tmp.unlink()


AFTER_EPOCH = "after_epochs"  # from an epoch's saves to the next epoch's first step, or to fit's return


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
