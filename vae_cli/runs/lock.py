"""One writer per run folder: an OS lock on ``RUN/.lock``, held for the whole of a training run.

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
    """``with RunLock(run_dir):`` holds the run folder's lock, or refuses naming the holder's pid."""

    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        path = self.dir / LOCK
        try:
            # O_NOFOLLOW: a link in the place of the lock file would have the pid written elsewhere.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except OSError as exc:
            why = "it is a symbolic link; remove it" if exc.errno == errno.ELOOP else exc.strerror
            raise RunError(f"cannot open the run folder's lock file {path}: {why}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    holder = _read_pid(fd)
                    os.close(fd)
                    raise RunError(
                        f"{self.dir} is being written by another vae process (pid {holder}); wait for it to end "
                        "or stop it, then try again"
                    ) from None
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
        for folder, _, files in os.walk(self.dir):  # os.walk does not descend into links
            for name in fnmatch.filter(files, TEMPORARY):
                path = Path(folder) / name
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed


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
