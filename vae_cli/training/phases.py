"""Where a training process spends its time besides the training steps, recorded in run.json.

Each phase (the TensorFlow import, the data, the models, the first step with its tracing,
validation and the per-epoch saves summed over epochs, the test evaluation, the final
models, their ONNX copies, the figures) is timed, and ``run.json`` gets the seconds under
``phases``. A phase that passes ``STALL_SECONDS`` gets the stack of every thread appended
to ``RUN/stalls.txt`` and its name listed under ``phases.stalled``; the run goes on.

The stacks are taken by a watchdog thread of ours, holding the GIL (``sys._current_frames``):
``faulthandler``'s watchdog reads the other threads' frames without it, which crashed the
process when a dump met the main thread drawing a figure. A phase stuck in C++ code that
releases the GIL (TensorFlow's ops do) is caught as well.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STALL_SECONDS = 20.0  # no phase but the epochs takes this long on the shipped configs
STALLS = "stalls.txt"  # the run folder's stack dumps of phases that passed STALL_SECONDS


class PhaseClock:
    """Seconds per named phase (repeated phases add up); stack dumps into a run folder once it is told one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.stalled: list[str] = []
        self.started = time.perf_counter()
        self.open: tuple[str, float] | None = None  # the phase begun and not yet ended
        self._path: Path | None = None
        self._changed = threading.Condition()
        self._watcher: threading.Thread | None = None

    def watch(self, run_dir: Path) -> None:
        """From now on, a phase that passes ``STALL_SECONDS`` has every thread's stack written into ``run_dir``."""
        self._path = run_dir / STALLS
        self._watcher = threading.Thread(target=self._watch, name="vae-phase-watchdog", daemon=True)
        self._watcher.start()

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
        with self._changed:
            self.open = (name, time.perf_counter())
            self._changed.notify_all()

    def end(self) -> None:
        """Ends the open phase, if any, adding its seconds."""
        with self._changed:
            if self.open is None:
                return
            name, start = self.open
            self.open = None
            self._changed.notify_all()
        self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def record(self) -> dict[str, Any]:
        """The phases so far, the whole time since the clock started (seconds) and the phases that stalled."""
        total = {"total": round(time.perf_counter() - self.started, 3)}
        stalled = {"stalled": list(self.stalled)} if self.stalled else {}
        return {name: round(s, 3) for name, s in self.seconds.items()} | total | stalled

    def close(self) -> None:
        """Ends the open phase and stops watching."""
        self.end()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            with self._changed:
                self._path = None
                self._changed.notify_all()
            watcher.join(timeout=5)

    def _watch(self) -> None:
        with self._changed:
            while self._path is not None:
                current = self.open
                if current is None:
                    self._changed.wait()
                    continue
                left = current[1] + STALL_SECONDS - time.perf_counter()
                if left > 0:
                    self._changed.wait(timeout=left)
                    continue
                self._dump(current[0])
                while self.open is current and self._path is not None:  # once per phase
                    self._changed.wait()

    def _dump(self, name: str) -> None:
        """Appends every thread's stack to ``stalls.txt``; never through a link, never failing the run."""
        self.stalled.append(name)
        names = {t.ident: t.name for t in threading.enumerate()}
        lines = [f"--- phase {name!r} passed {STALL_SECONDS:g} s at {time.strftime('%Y-%m-%d %H:%M:%S')}\n"]
        for ident, frame in sys._current_frames().items():
            if ident != threading.get_ident():
                lines.append(f"thread {names.get(ident, ident)}:\n")
                lines.extend(traceback.format_stack(frame))
        assert self._path is not None
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self._path, flags, 0o666)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write("".join(lines) + "\n")
        except OSError:  # a folder or a link in its place, a full disk: phases.stalled still says it
            pass


AFTER_EPOCH = "after_epochs"  # from an epoch's saves to the next epoch's first step, or to fit's return
