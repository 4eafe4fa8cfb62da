import gzip

import numpy as np
import pytest
from conftest import write_dataset, write_idx

from vae_cli.cli.report import error_text
from vae_cli.config import DataConfig
from vae_cli.data.load import load_data
from vae_cli.data.mnist import FASHION_MNIST, read_idx
from vae_cli.data.types import to_float
from vae_cli.errors import DataError


def test_idx_round_trip_gz_and_raw(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for compress in (True, False):
        path = write_idx(tmp_path / f"a{compress}", array, compress)
        np.testing.assert_array_equal(read_idx(path), array)


def test_bad_magic_is_named(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x0d\x03" + bytes(20))
    with pytest.raises(DataError, match="not an IDX file of unsigned bytes.*bad magic number 00000d03"):
        read_idx(path)


def test_html_saved_as_idx_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"<html>Not found</html>"))
    with pytest.raises(DataError, match="bad magic number"):
        read_idx(path)


def test_wrong_length_is_named(tmp_path):
    path = write_idx(tmp_path / "t", np.zeros((5, 28, 28), np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"header \(5, 28, 28\) needs 3936.*truncated or corrupt"):
        read_idx(path)


def test_broken_gzip_is_named(tmp_path):
    path = write_idx(tmp_path / "t.gz", np.zeros((5, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError, match="cannot read .*t.gz"):
        read_idx(path)


def training_images(data):
    """The file's training images: those trained on and those held out for validation."""
    return len(data.train) + len(data.validation)


def test_loads_float_ready_uint8_with_labels(data_dir):
    data = load_data(DataConfig(data_dir=str(data_dir)))
    # A fifth of the 192 training images is held out for validation (tests/data/test_validation.py).
    assert data.train.images.shape == (154, 28, 28, 1) and data.train.images.dtype == np.uint8
    assert data.validation.images.shape == (38, 28, 28, 1)
    assert data.test.images.shape == (64, 28, 28, 1) and data.test.labels.shape == (64,)
    x = to_float(data.train.images)
    assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() == 1.0
    assert data.source == str(data_dir)


def test_limit_takes_the_first_images(data_dir):
    full = load_data(DataConfig(data_dir=str(data_dir)))
    some = load_data(DataConfig(data_dir=str(data_dir), limit=10))
    np.testing.assert_array_equal(some.train.images, full.train.images[:10])
    assert len(some.test.images) == len(full.test.images)
    assert some.checksum() != full.checksum()


def test_parent_folder_with_dataset_subfolders(tmp_path):
    write_dataset(tmp_path / "mnist", train=8, test=4)
    write_dataset(tmp_path / "fashion-mnist", train=12, test=4, compress=False)
    assert training_images(load_data(DataConfig(dataset="mnist", data_dir=str(tmp_path)))) == 8
    assert training_images(load_data(DataConfig(dataset="fashion_mnist", data_dir=str(tmp_path)))) == 12


def test_env_var_is_used_when_no_data_dir(tmp_path, monkeypatch):
    write_dataset(tmp_path / "mnist", train=8, test=4)
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    assert training_images(load_data(DataConfig())) == 8


def test_config_data_dir_beats_env(tmp_path, monkeypatch):
    write_dataset(tmp_path / "a", train=8, test=4)
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "missing"))
    assert training_images(load_data(DataConfig(data_dir=str(tmp_path / "a")))) == 8


def test_missing_folder_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="does not exist; set data.data_dir or \\$VAE_DATA_DIR"):
        load_data(DataConfig(data_dir=str(tmp_path / "nowhere")))
    with pytest.raises(DataError, match="no MNIST IDX files"):
        load_data(DataConfig(data_dir=str(tmp_path)))
    folder = write_dataset(tmp_path / "d", train=8, test=4)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="missing .*t10k-labels-idx1-ubyte"):
        load_data(DataConfig(data_dir=str(folder)))


def test_mismatched_counts(tmp_path):
    folder = write_dataset(tmp_path, train=8, test=4)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(DataError, match="has 8 images but .* has 7 labels"):
        load_data(DataConfig(data_dir=str(folder)))


def test_failed_download_explains_local_files(monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match="could not load MNIST with keras.datasets") as raised:
        load_data(DataConfig())
    assert error_text(raised.value).endswith(
        "; without internet, set data.data_dir, --data-dir or $VAE_DATA_DIR to a folder with the four IDX files"
    )


def test_keras_loader_is_used_without_a_folder(monkeypatch):
    import keras

    x = np.zeros((3, 28, 28), np.uint8)
    y = np.arange(3, dtype=np.uint8)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: ((x, y), (x[:2], y[:2])))
    data = load_data(DataConfig(dataset="fashion_mnist"))
    assert data.source == "keras" and training_images(data) == 3 and len(data.test.labels) == 2


def test_find_dataset_folder_prefers_the_folder_itself(tmp_path):
    write_dataset(tmp_path, train=4, test=4)
    assert FASHION_MNIST.find_folder(tmp_path) == tmp_path


def idx_header(*shape):
    return bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)


@pytest.mark.parametrize("compress", [True, False])
def test_declared_size_is_checked_before_reading(tmp_path, compress):
    raw = idx_header(2**22, 2**21, 2**21)  # 2**64 bytes: overflows a 64-bit product to 0
    path = tmp_path / "t"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(DataError, match=r"declares \(4194304, 2097152, 2097152\), 18,446,744,073,709,551,632 bytes"):
        read_idx(path)


def test_gzip_is_read_no_further_than_the_header_says(tmp_path, monkeypatch):
    reads = []
    original = gzip.GzipFile.read

    def read(self, size=-1):
        reads.append(size)
        return original(self, size)

    monkeypatch.setattr(gzip.GzipFile, "read", read)
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_header(3, 28, 28) + bytes(3 * 784 + 10**6)))
    with pytest.raises(DataError, match=r"has more than 2368 bytes but its header \(3, 28, 28\) needs 2368"):
        read_idx(path)
    assert reads and all(0 <= size <= 3 * 784 + 1 for size in reads)


def test_images_must_be_28x28(tmp_path):
    folder = write_dataset(tmp_path, train=8, test=4)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((8, 32, 32), np.uint8))
    with pytest.raises(DataError, match="holds 32x32 images; MNIST and Fashion-MNIST are 28x28"):
        load_data(DataConfig(data_dir=str(folder)))
