"""Atomic file writing: write to a temporary name in the same folder, flush, rename into place.

A crash mid-save leaves the previous file or the new one, never a truncated mix.
The new file gets the permissions the process's umask gives (0644 under umask 022),
as any other tool's files do. A symbolic link in the place of ``path`` is replaced
by the new file, never written through. This module imports nothing of the package,
so every writer can use it.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Calls ``write(tmp_path)`` then renames ``tmp_path`` onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temporary(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if not isinstance(exc, OSError) and _says_disk_full(exc):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from exc
        if isinstance(exc, OSError) and exc.filename == tmp:  # the user knows the file asked for, not ours
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_dir(path.parent)
    return path


def _says_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` or one it arose from quotes the system's full-disk message: h5py reports a full
    disk as a RuntimeError ("Unable to flush file (... No space left on device ...)")."""
    while exc is not None:
        if os.strerror(errno.ENOSPC) in str(exc):
            return True
        exc = exc.__context__
    return False


def check_writable(path: str | Path) -> None:
    """Makes and removes the empty temporary file that writing ``path`` starts with: an ``OSError`` says,
    before any work, that a folder is read-only (a read-only mount stops root too) or not ours."""
    os.unlink(_new_temporary(Path(path)))


def _new_temporary(path: Path) -> str:
    """An empty new file beside ``path``, named ``.<stem>.<random>.tmp<suffix>``.

    Not ``tempfile.mkstemp``: it makes files 0600 whatever the umask. ``O_EXCL`` never
    opens an existing file or follows a link. The suffix stays last because Keras and
    matplotlib pick the format from it.
    """
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return str(tmp)
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: str | Path, text: str) -> Path:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    return atomic_write(path, write)


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
