"""The data sources MNIST and Fashion-MNIST: the original IDX files from a local folder, or the Keras loaders."""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from vae_cli.config import DataConfig
from vae_cli.data.types import Data, Split
from vae_cli.data.validation import hold_out
from vae_cli.errors import DataError, Fix
from vae_cli.limits import MAX_IDX_BYTES

ENV_DATA_DIR = "VAE_DATA_DIR"
IMAGE_SHAPE = (28, 28, 1)

DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class IdxSource:
    """A dataset of 28x28 grey images in IDX files, read from a local folder, else with keras.datasets.

    Its validation split is held out of its training images, never its test set.
    """

    name: str
    title: str
    folders: tuple[str, ...]  # sub-folder names accepted under a parent data folder
    class_names: list[str]
    keras_dataset: str  # its loader in keras.datasets
    user_images: ClassVar[bool] = False

    def load(self, data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
        """The dataset with ``data.validation_size`` of its training images, drawn with ``seed``, held out."""
        return hold_out(self.read(data_cfg, splits), data_cfg.validation_size, seed)

    def local_folder(self, data_cfg: DataConfig) -> Path | None:
        folder = data_cfg.data_dir or os.environ.get(ENV_DATA_DIR) or None
        return Path(folder).expanduser() if folder else None

    def read(self, data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test")) -> Data:
        """The dataset as its files hold it, nothing held out; the splits not asked for are empty."""
        folder = self.local_folder(data_cfg)
        if folder is not None:
            folder = self.find_folder(folder)
            loaded = {s: read_idx_split(folder, s) for s in splits}
            source = str(folder)
        else:
            loaded = self._keras_load()
            source = "keras"
        empty = Split(np.zeros((0, *IMAGE_SHAPE), np.uint8), np.zeros((0,), np.int64))
        train = loaded.get("train", empty) if "train" in splits else empty
        test = loaded.get("test", empty) if "test" in splits else empty
        return Data(self.name, self.title, self.class_names, train, test, source, IMAGE_SHAPE)

    def find_folder(self, folder: Path) -> Path:
        """``folder`` itself if it holds the IDX files, else its sub-folder for this dataset."""
        candidates = [folder] + [folder / sub for sub in self.folders]
        for candidate in candidates:
            if _idx_path(candidate, IDX_NAMES["train"][0]) or _idx_path(candidate, IDX_NAMES["test"][0]):
                return candidate
        if not folder.is_dir():
            hint = "set data.data_dir or $VAE_DATA_DIR to an existing folder"
            raise DataError(f"data folder {folder} does not exist; {hint}")
        subs = " or ".join(f"{folder / s}" for s in self.folders)
        raise DataError(
            f"no {self.title} IDX files (train-images-idx3-ubyte[.gz] ...) in {folder} or {subs}; "
            "point data.data_dir or $VAE_DATA_DIR at the folder that holds them"
        )

    def _keras_load(self):
        from vae_cli import backend

        backend.load()
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, self.keras_dataset).load_data()
        except Exception as exc:  # the loaders raise anything from URLError to ValueError
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"could not load {self.title} with keras.datasets ({reason})", Fix("data_dir")) from None
        return {
            "train": Split(x_train[..., None], y_train.astype(np.int64)),
            "test": Split(x_test[..., None], y_test.astype(np.int64)),
        }


MNIST = IdxSource("mnist", "MNIST", ("mnist",), DIGITS, "mnist")
FASHION_MNIST = IdxSource(
    "fashion_mnist", "Fashion-MNIST", ("fashion-mnist", "fashion_mnist"), FASHION, "fashion_mnist"
)


def _idx_path(folder, stem):
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    return None


def read_idx_split(folder: Path, split: str) -> Split:
    image_stem, label_stem = IDX_NAMES[split]
    paths = [_idx_path(folder, stem) for stem in (image_stem, label_stem)]
    for stem, path in zip((image_stem, label_stem), paths, strict=True):
        if path is None:
            raise DataError(f"missing {folder / stem}[.gz]; the folder needs all four IDX files of the dataset")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(
            f"{paths[0]} / {paths[1]}: expected 3-D images and 1-D labels, got {images.ndim}-D and {labels.ndim}-D"
        )
    if images.shape[1:] != IMAGE_SHAPE[:2]:
        raise DataError(
            f"{paths[0]} holds {images.shape[1]}x{images.shape[2]} images; MNIST and Fashion-MNIST are 28x28"
        )
    if len(images) != len(labels):
        raise DataError(f"{paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels")
    return Split(images[..., None], labels.astype(np.int64))


def read_idx(path: str | Path) -> np.ndarray:
    """Reads an IDX file of unsigned bytes (gzip-compressed or raw), checking header and size.

    The size the header declares is checked against the cap and the file before anything
    is allocated, and a gzip member is read no further than that size plus one byte.
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            gzipped = file.read(2) == b"\x1f\x8b"
            file.seek(0)
            with gzip.GzipFile(fileobj=file) if gzipped else contextlib.nullcontext(file) as stream:
                return _read_idx_stream(stream, path, None if gzipped else os.fstat(file.fileno()).st_size)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}; replace it with a good copy of the dataset file") from None


def _read_idx_stream(stream, path, file_size):
    magic = stream.read(4)
    if len(magic) < 4 or magic[:3] != b"\x00\x00\x08" or not 1 <= magic[3] <= 4:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number {magic.hex() or 'empty'})")
    ndim = magic[3]
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} is truncated: its header is incomplete")
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    header, body = 4 + 4 * ndim, math.prod(shape)  # Python integers: no overflow
    expected = header + body
    if body > MAX_IDX_BYTES:
        raise DataError(
            f"{path}: its header declares {shape}, {expected:,} bytes, over the {MAX_IDX_BYTES:,} an IDX file may "
            "hold; the file is corrupt or not MNIST"
        )
    if file_size is None:  # gzip: read one byte more than needed, to see whether there is more
        data = stream.read(body + 1)
        size = header + len(data)
    else:
        size = file_size
        data = stream.read(body) if file_size == expected else b""
    if size != expected:
        has = f"more than {expected}" if file_size is None and size > expected else size
        raise DataError(
            f"{path} has {has} bytes but its header {shape} needs {expected}; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)
