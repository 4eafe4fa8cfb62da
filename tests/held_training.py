"""``vae`` in a child process whose training halts at a chosen step until the test signals it.

The child writes a file once it has finished that step, then blocks inside Keras's batch callback
until SIGINT or SIGTERM has reached the training's own handler (SIGKILL needs no handler), so a
test knows exactly where its signal lands instead of sleeping and hoping. Run as
``python -m held_training FILE EPOCH STEP VAE-ARGS...``; tests use ``start`` and ``wait_until_held``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HOLD_LIMIT = 600  # seconds the child waits for a signal before giving up, so a failed test leaves no orphan


def start(args: list[str], announce: Path, epoch: int = 2, step: int = 2, **popen: object) -> subprocess.Popen:
    """Starts ``vae *args`` in a child that halts after ``step`` steps of ``epoch`` (both from 1)."""
    tests = str(Path(__file__).resolve().parent)
    path = os.pathsep.join([tests, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    command = [sys.executable, "-m", "held_training", str(announce), str(epoch), str(step), *args]
    return subprocess.Popen(command, text=True, env=env, **popen)


def wait_until_held(proc: subprocess.Popen, announce: Path, timeout: float = 120) -> None:
    """Returns once the child has reached its step and blocks there; fails if it ends or takes too long."""
    deadline = time.monotonic() + timeout
    while not announce.exists():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"training did not reach the step in {timeout} s: {proc.communicate()}")
        time.sleep(0.05)


def _hold_callback(announce: Path, epoch: int, step: int) -> object:
    import keras

    class Hold(keras.callbacks.Callback):
        def on_epoch_begin(self, index: int, logs: dict | None = None) -> None:
            self._epoch = index + 1

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if (self._epoch, batch + 1) != (epoch, step):
                return
            received = []
            # Wrapped now, after training installed its handlers: the wrapper hands each signal on to them.
            for signum in (signal.SIGINT, signal.SIGTERM):
                handler = signal.getsignal(signum)
                if callable(handler):
                    signal.signal(signum, lambda n, f, _h=handler: received.append(n) or _h(n, f))
            temporary = announce.with_name(announce.name + ".tmp")
            temporary.write_text(f"{epoch} {step}\n")
            os.replace(temporary, announce)
            deadline = time.monotonic() + HOLD_LIMIT
            while not received:
                if time.monotonic() > deadline:
                    raise SystemExit(f"held_training: no signal came within {HOLD_LIMIT} s")
                time.sleep(0.01)

    return Hold()


def _main(argv: list[str]) -> int:
    announce, epoch, step, args = Path(argv[0]), int(argv[1]), int(argv[2]), argv[3:]
    from vae_cli import backend

    backend.load()
    import keras

    fit = keras.Model.fit

    def held_fit(self: keras.Model, *a: object, callbacks: list | None = None, **k: object) -> object:
        # First, so that training's own callbacks see a signal in the very step it was sent after.
        return fit(self, *a, callbacks=[_hold_callback(announce, epoch, step), *(callbacks or [])], **k)

    keras.Model.fit = held_fit
    from vae_cli.cli.main import main

    return main(args)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
