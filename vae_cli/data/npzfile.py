"""Reading an ``.npz`` without trusting it: every array's declared size is checked first.

Each array's shape and dtype are read from its own ``.npy`` header inside the zip,
and must account for exactly the bytes its zip member declares; those member sizes
are capped before anything is decompressed, and the zip reader never inflates a
member past its declared size. So a zip bomb or a header declaring a terabyte is
refused in a few bytes of reading, with no allocation.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from vae_cli.errors import DataError, cut
from vae_cli.limits import MAX_NPZ_BYTES

NPY_MAGIC = b"\x93NUMPY"
_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
# What a damaged archive can raise while it is read: zip, deflate, bzip2 and lzma errors among them.
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def read_arrays(path: Path, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays ``names`` that ``path`` holds (the others skipped), and the names of all its arrays."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise DataError(
            f"data.path {path} does not exist; point it at an .npz file with x_train (and x_test)"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DataError(_not_an_archive(path, exc)) from None
    with archive:
        members = {info.filename[: -len(".npy")]: info for info in archive.infolist() if info.filename.endswith(".npy")}
        wanted = [members[name] for name in names if name in members]
        total = sum(info.file_size for info in wanted)
        if total > MAX_NPZ_BYTES:
            raise DataError(
                f"{path}: its arrays would take {total:,} bytes uncompressed, over the {MAX_NPZ_BYTES:,} an .npz may "
                "hold; use an image folder (data.dataset: image_folder), which is streamed from disk"
            )
        try:
            for info in wanted:
                _check_header(archive, info, path)
            arrays = {}
            for name in names:
                if name in members:
                    with archive.open(members[name]) as f:
                        arrays[name] = npy.read_array(f, allow_pickle=False)
        except DataError:
            raise
        except MemoryError:
            raise DataError(f"{path}: not enough memory to load its arrays ({total:,} bytes)") from None
        except _READ_ERRORS as exc:
            raise DataError(f"cannot read {path} as .npz: {cut(str(exc), 120)}") from None
    return arrays, sorted(members)


def _not_an_archive(path, exc):
    try:
        with open(path, "rb") as f:
            start = f.read(len(NPY_MAGIC))
    except OSError:
        start = b""
    if start == NPY_MAGIC:
        return f"{path} is a single .npy array, not an .npz archive; save it with np.savez(FILE, x_train=...)"
    return f"cannot read {path} as .npz (a zip archive of arrays): {cut(str(exc), 120)}"


def _check_header(archive, info, path):
    """The member's .npy header must declare exactly the bytes the member holds, of a plain numeric dtype."""
    name = info.filename[: -len(".npy")]
    with archive.open(info) as f:
        version = npy.read_magic(f)
        if version not in _HEADER_READERS:
            raise DataError(f"{path}: {cut(name)} has an .npy header of version {version}, which is not read")
        shape, _, dtype = _HEADER_READERS[version](f)
        header = f.tell()
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biuf":
        raise DataError(f"{path}: {cut(name)} holds {dtype}; images and labels are plain numbers")
    declared = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
    if header + declared != info.file_size:
        raise DataError(
            f"{path}: {cut(name)} declares shape {cut(str(shape))} of {dtype} ({declared:,} bytes) but holds "
            f"{info.file_size - header:,}; the file is damaged"
        )
