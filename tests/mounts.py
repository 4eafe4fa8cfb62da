"""File systems that stop root too: a small tmpfs that fills up, and a read-only bind mount.

Tests run as root, which permission bits do not stop; a mount's own limits do. Where mounting
is not allowed (no root, a container without the capability), the test is skipped.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or result.returncode}): the test needs root")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=True)


@contextlib.contextmanager
def small_disk(path: Path, free_kib: int, size_kib: int = 20 * 1024) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` at ``path`` with about ``free_kib`` left free."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path))
    try:
        (path / "fill").write_bytes(bytes((size_kib - free_kib) * 1024))
        yield path
    finally:
        _unmount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a folder) made read-only for everyone, root included, by a read-only bind mount over it."""
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        _unmount(path)
