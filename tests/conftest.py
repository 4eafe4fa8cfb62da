"""Shared fixtures: tiny synthetic IDX datasets and tiny configs, so unit tests take seconds."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from postgres_server import postgres  # noqa: F401  (a fixture: the PostgreSQL server of the tuning tests)

# Read once at start-up: the autouse fixture below hides it from every unit test.
REAL_DATA_DIR = os.environ.get("VAE_DATA_DIR")

TINY_MODEL = [
    "model.encoder_filters=[4, 8]",
    "model.encoder_dense=8",
    "model.decoder_channels=8",
    "model.decoder_filters=[4]",
]


def write_idx(path, array, compress=True):
    """Writes ``array`` (uint8) in IDX format, like the MNIST distribution files."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.tobytes()
    Path(path).write_bytes(gzip.compress(raw) if compress else raw)
    return path


def synthetic_digits(count, seed):
    """28x28 images of a bright bar whose position and angle follow the label (0-9)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = np.zeros((count, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        row = 4 + 2 * label
        images[i, row : row + 3, 4:24] = 255
        images[i, :, 4 + 2 * label] = 200
    noise = rng.integers(0, 30, images.shape).astype(np.uint8)
    return np.maximum(images, noise), labels.astype(np.uint8)


def write_dataset(folder, train=192, test=64, compress=True):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for split, count, seed in (("train", train, 1), ("t10k", test, 2)):
        images, labels = synthetic_digits(count, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images, compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels, compress)
    return folder


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("data") / "mnist")


@pytest.fixture(autouse=True)
def _no_real_data_env(monkeypatch):
    """Unit tests must not depend on whether the real datasets are around."""
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.delenv("VAE_STORAGE", raising=False)  # a study storage of the user's own is not the tests'


@pytest.fixture
def tiny_args(data_dir, tmp_path):
    """``vae train`` arguments for a seconds-long run on the synthetic data."""
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path / 'outputs'}"]
    for item in TINY_MODEL + ["train.epochs=2", "train.batch_size=32"]:
        args += ["--set", item]
    return args


def real_data_dir():
    """The real datasets' folder from $VAE_DATA_DIR, or skip with the reason."""
    if not REAL_DATA_DIR:
        pytest.skip("VAE_DATA_DIR is not set: real MNIST/Fashion-MNIST tests need the IDX files (see README)")
    return Path(REAL_DATA_DIR)
