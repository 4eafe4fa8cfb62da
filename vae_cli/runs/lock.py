"""One writer per run folder: an OS lock on ``RUN/.lock``, held for the whole of a training run.

A sub-folder with a writer of its own (``RUN/export/``) has its own ``.lock`` beside its files;
a reader asks ``held`` whether a run's writer is still alive.

``flock`` belongs to the open file, so the operating system frees it when the holder
ends, however it ends (SIGKILL included): a lock left behind never blocks. The file
keeps the holder's pid for the refusal message; it is never deleted, since deleting a
lock file lets a second process lock a fresh file while the first still holds the old.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vae_cli.errors import RunError

try:
    import fcntl
except ImportError:  # Windows: no flock, so no lock (documented)
    fcntl = None

LOCK = ".lock"
TEMPORARY = ".*.tmp*"  # what runs.atomic names a file in flight
_UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)  # file systems without locks


class RunLock:
    """``with RunLock(run_dir):`` holds the run folder's lock, or refuses naming the holder's pid.

    ``on_wait``: wait for the holder to end instead, after calling ``on_wait(holder's pid)``.
    """

    def __init__(self, run_dir: str | Path, on_wait: Callable[[str], None] | None = None) -> None:
        self.dir = Path(run_dir)
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        path = self.dir / LOCK
        try:
            # O_NOFOLLOW: a link in the place of the lock file would have the pid written elsewhere.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except OSError as exc:
            why = "it is a symbolic link; remove it" if exc.errno == errno.ELOOP else exc.strerror
            raise RunError(f"cannot open the run folder's lock file {path}: {why}") from None
        try:
            taken = _try_lock(fd)
            if not taken:
                time.sleep(0.05)  # ``held`` holds the lock shared for an instant: look again before giving up
                taken = _try_lock(fd)
            if not taken:
                holder = _read_pid(fd)
                if self.on_wait is None:
                    raise RunError(
                        f"{self.dir} is being written by another vae process (pid {holder}); wait for it to end "
                        "or stop it, then try again"
                    )
                self.on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        mine = f"{os.getpid()}\n".encode()
        os.pwrite(fd, mine, 0)  # over the last holder's pid, then cut: never an empty file to read
        os.ftruncate(fd, len(mine))
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None

    def remove_stale_temporaries(self) -> list[Path]:
        """Deletes the temporary files a killed save left behind (never a finished file), which only
        the lock's holder may do: another writer's file in flight looks the same. Links are not followed."""
        if self._fd is None:
            raise RuntimeError("remove_stale_temporaries needs the run folder's lock")
        removed = []
        for folder, folders, files in os.walk(self.dir):  # os.walk does not descend into links
            # A sub-folder with a lock of its own (export/) is its own writer's to clean.
            folders[:] = [name for name in folders if not os.path.lexists(os.path.join(folder, name, LOCK))]
            for name in fnmatch.filter(files, TEMPORARY):
                path = Path(folder) / name
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed


def held(run_dir: str | Path) -> bool | None:
    """Whether a live process holds ``run_dir``'s lock; None where that cannot be told (a file system
    without locks, a lock file this user cannot read). Nothing is created: no lock file, no lock."""
    if fcntl is None:
        return None
    try:
        fd = os.open(Path(run_dir) / LOCK, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False  # a writer makes the file before anything else: none has been here
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return None if exc.errno in _UNSUPPORTED else True
    finally:
        os.close(fd)  # releases the shared lock at once
    return False


def _try_lock(fd: int) -> bool:
    """Takes the lock on ``fd`` if it is free; True also where the file system has no locks (documented)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in _UNSUPPORTED
    return True


def _read_pid(fd: int, tries: int = 50) -> str:
    """The holder's pid from the lock file. A holder that has just taken the lock may not have
    written it yet (the file still names the last, ended holder): wait a moment for a live one."""
    for _ in range(tries):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").partition("\n")[0].strip()
        if text.isdigit() and _alive(int(text)):
            return text
        time.sleep(0.02)
    return "unknown"


def _alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negative numbers name process groups
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except PermissionError:  # it exists, under another user
        return True
    except (ProcessLookupError, OverflowError):
        return False
    return True
