"""The in-memory form of a dataset, shared by every reader: ``Split``, ``Data`` and test-time pixels.

Images are kept as uint8 of shape (N, H, W, C) (an .npz may hold float32 in
[0, 1]); ``to_float`` gives float32 in [0, 1]. The training pipeline scales per
batch, so the dataset lives in memory once, at a quarter of its float32 size.
Image folders are not held in memory for training: their files are streamed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli.errors import DataError
from vae_cli.limits import MAX_IMAGE_PIXELS

TEST_BINARIZATION_SEED = 1234  # the test set is binarized once, the same way for every run


@dataclass
class Split:
    images: np.ndarray | None  # uint8 (or float32 in [0, 1]), (N, H, W, C); None when streamed from files
    labels: np.ndarray  # int, (N,)
    files: list[str] | None = None  # image paths, when the split is streamed from disk
    factors: np.ndarray | None = None  # int, (N, F): each image's known generative factors (``Data.factor_names``)

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int) -> Split:
        return Split(
            None if self.images is None else self.images[:n],
            self.labels[:n],
            None if self.files is None else self.files[:n],
            None if self.factors is None else self.factors[:n],
        )

    def take(self, idx: np.ndarray) -> Split:
        """The images at ``idx`` of an in-memory split, with their labels and factors."""
        return Split(self.images[idx], self.labels[idx], factors=None if self.factors is None else self.factors[idx])


@dataclass
class Data:
    name: str  # the config's data.dataset
    title: str  # for figure titles
    class_names: list[str]
    train: Split
    test: Split
    source: str  # the folder or file read, or "keras"
    image_shape: tuple[int, int, int]  # (H, W, C) as the model sees it
    validation: Split | None = None  # held out of the training images; None: the test split serves
    split_rule: str = ""  # how the splits were drawn, in words, for run.json
    factor_names: list[str] | None = None  # the columns of each split's ``factors``; None: no factors known
    generator: dict | None = None  # a rendered dataset's version and parameters, for run.json

    def held_out(self) -> Split:
        """The split that picks the best epoch: the validation split, or the test split where it serves."""
        return self.test if self.validation is None else self.validation

    def splits(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.held_out()), "test": len(self.test)}

    def checksum(self) -> str:
        """sha256 over the exact arrays used (for streamed files: their names and sizes)."""
        digest = hashlib.sha256(repr(tuple(self.image_shape)).encode())
        held = () if self.validation is None else (self.validation,)
        for split in (self.train, *held, self.test):
            if split.files is not None:
                for path in split.files:
                    digest.update(f"{Path(path).relative_to(self.source)}:{Path(path).stat().st_size}\n".encode())
            if split.images is not None:
                digest.update(np.ascontiguousarray(split.images).tobytes())
            digest.update(np.ascontiguousarray(split.labels).astype("<i8").tobytes())
            if split.factors is not None:
                digest.update(np.ascontiguousarray(split.factors).astype("<i8").tobytes())
        return digest.hexdigest()


def check_image_shape(shape: tuple[int, ...], what: str, fix: str) -> None:
    """Refuses images with more pixels than a model takes (``what`` names them, ``fix`` says what to do)."""
    h, w = shape[:2]
    if min(h, w) < 1:
        raise DataError(f"{what} are {h}x{w}: images with no pixels")
    if h * w > MAX_IMAGE_PIXELS:
        raise DataError(f"{what} are {h}x{w}, over the {MAX_IMAGE_PIXELS:,} pixels a model takes; {fix}")


def check_splits(data: Data) -> None:
    """A run needs a training image and a test image: refused before its run folder exists."""
    for what, split in (("training", data.train), ("test", data.test)):
        if len(split) == 0:
            raise DataError(f"the data in {data.source} has no {what} images; a run needs at least one")


def to_float(images: np.ndarray) -> np.ndarray:
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    return images.astype("float32")


def prepare(images: np.ndarray, binarize: str = "none", seed: int = TEST_BINARIZATION_SEED) -> np.ndarray:
    """uint8 images -> the float32 pixels a model sees at test time.

    ``static`` thresholds at 0.5; ``dynamic`` draws each pixel once from
    Bernoulli(intensity) with a fixed seed, as Burda et al. (2016) fix their
    test set; training images are redrawn every epoch by the input pipeline.
    """
    x = to_float(images)
    if binarize == "static":
        return (x > 0.5).astype("float32")
    if binarize == "dynamic":
        return (np.random.default_rng(seed).random(x.shape, dtype=np.float32) < x).astype("float32")
    return x
