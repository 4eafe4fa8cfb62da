"""The data sources of the user's own images: a folder of image files, or an .npz of arrays.

A folder's training images are listed, not loaded: the input pipeline streams
them from disk every epoch, so the dataset need not fit in memory. Its held-out
split (``data.validation_split``, drawn with the run's seed) is decoded once into
memory for validation and figures.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from vae_cli.config import DataConfig
from vae_cli.data.imagefiles import decode_files
from vae_cli.data.npzfile import read_arrays
from vae_cli.data.types import Data, Split, check_image_shape
from vae_cli.errors import DataError, cut
from vae_cli.limits import MAX_CLASSES, MAX_FILE_PIXELS

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


class _UserImages:
    """The user's own images at ``data.path``: titled and labelled by what is read there."""

    title = None
    class_names = None
    user_images = True

    def local_folder(self, data_cfg: DataConfig) -> Path | None:
        return None  # data.path says where


class ImageFolder(_UserImages):
    """A folder of image files, one class per sub-folder; its training images are streamed from disk."""

    name = "image_folder"

    def load(self, data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
        return load_folder(data_cfg, seed)


class Npz(_UserImages):
    """An .npz of x_train (and y_train, x_test, y_test) arrays."""

    name = "npz"

    def load(self, data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
        return load_npz(data_cfg, seed)


IMAGE_FOLDER, NPZ = ImageFolder(), Npz()


# -------------------------------------------------------------------- folders
def scan(folder: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Image files and labels: one class per sub-folder, or a single class when the images sit at the top."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"data.path {folder} is not a folder; point it at a folder of PNG/JPEG images")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes = [(p.name, _images_in(p)) for p in subfolders]
    classes = [(name, files) for name, files in classes if files]
    if not classes:
        classes = [(folder.name, _images_in(folder))]
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{folder} has {len(classes):,} class sub-folders, over the {MAX_CLASSES:,} a dataset may have")
    files = [f for _, found in classes for f in found]
    if not files:
        raise DataError(f"no images (.png, .jpg, .jpeg, .bmp, .gif) in {folder} or its sub-folders")
    labels = np.concatenate([np.full(len(found), i, np.int64) for i, (_, found) in enumerate(classes)])
    return files, labels, [name for name, _ in classes]


def _images_in(folder):
    return sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())


def image_shape(files: list[str], data_cfg: DataConfig) -> tuple[int, int, int]:
    """(H, W, C): ``data.image_size`` or the images' common size; 3 channels if any image has colour."""
    from PIL import Image

    sizes, colour = set(), False
    for path in files:
        try:
            with warnings.catch_warnings():  # Pillow only warns below twice its own limit
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as image:  # reads the header, decodes nothing
                    size, mode = (image.height, image.width), image.mode
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            size, mode = None, None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise DataError(f"cannot read image {path}: {exc}; remove or replace the file") from None
        if size is None or size[0] * size[1] > MAX_FILE_PIXELS:  # decoded every epoch: a decompression bomb
            raise DataError(f"image {path} is over {MAX_FILE_PIXELS:,} pixels, too large to decode; downscale it")
        sizes.add(size)
        colour = colour or mode not in GREY_MODES
    channels = {"grey": 1, "rgb": 3}.get(data_cfg.color, 3 if colour else 1)
    if data_cfg.image_size is not None:
        return (*data_cfg.image_size, channels)
    if len(sizes) > 1:
        shown = ", ".join(f"{h}x{w}" for h, w in sorted(sizes)[:3])
        raise DataError(f"the images differ in size ({shown} ...); set data.image_size: [height, width]")
    shape = (*next(iter(sizes)), channels)
    check_image_shape(shape, f"the images in {Path(files[0]).parent}", "set data.image_size: [height, width]")
    return shape


def load_folder(data_cfg: DataConfig, seed: int) -> Data:
    files, labels, class_names = scan(data_cfg.path)
    shape = image_shape(files, data_cfg)
    train_idx, test_idx = _split(len(files), data_cfg.validation_split, seed)
    test_files = [files[i] for i in test_idx]
    test = Split(decode_files(test_files, shape), labels[test_idx], test_files)
    train = Split(None, labels[train_idx], [files[i] for i in train_idx])
    source = str(Path(data_cfg.path).expanduser())
    rule = _held_rule(len(test_files), len(files), data_cfg.validation_split, seed)
    return Data(ImageFolder.name, Path(source).name, class_names, train, test, source, shape, split_rule=rule)


def _held_rule(held, count, fraction, seed):
    return (
        f"validation and test: the same {held} of the {count} images (data.validation_split {fraction:g}), "
        f"drawn with train.seed {seed}"
    )


def _split(count, fraction, seed):
    if count < 2:
        raise DataError(f"only {count} image found; a VAE needs at least a few to train and one to test on")
    order = np.random.default_rng(seed).permutation(count)
    held = min(count - 1, max(1, round(count * fraction)))
    return np.sort(order[held:]), np.sort(order[:held])


# ------------------------------------------------------------------------ npz
def load_npz(data_cfg: DataConfig, seed: int) -> Data:
    path = Path(data_cfg.path).expanduser()
    arrays, found = read_arrays(path, ("x_train", "y_train", "x_test", "y_test"))
    if "x_train" not in arrays:
        raise DataError(f"{path} has no x_train array (it has: {cut(', '.join(found)) or 'nothing'})")
    x_train = _images(arrays["x_train"], path, "x_train")
    y_train = _labels(arrays.get("y_train"), len(x_train), path, "y_train")
    if "x_test" in arrays:
        rule = "validation and test: x_test"
        x_test = _images(arrays["x_test"], path, "x_test")
        y_test = _labels(arrays.get("y_test"), len(x_test), path, "y_test")
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DataError(f"{path}: x_test images are {x_test.shape[1:]}, x_train images {x_train.shape[1:]}")
    else:
        train_idx, test_idx = _split(len(x_train), data_cfg.validation_split, seed)
        rule = _held_rule(len(test_idx), len(x_train), data_cfg.validation_split, seed)
        x_train, x_test, y_train, y_test = x_train[train_idx], x_train[test_idx], y_train[train_idx], y_train[test_idx]
    n_classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    names = [str(i) for i in range(n_classes)]
    train, test = Split(x_train, y_train), Split(x_test, y_test)
    return Data(Npz.name, path.stem, names, train, test, str(path), x_train.shape[1:], split_rule=rule)


def _images(x, path, key):
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DataError(f"{path}: {key} must be (N, H, W) or (N, H, W, 1 or 3) images, got shape {cut(str(x.shape))}")
    check_image_shape(x.shape[1:], f"{path}: the {key} images", "resize the arrays")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"{path}: {key} must be uint8 (0-255) or float (0-1), got {x.dtype}")
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or not np.isfinite(x).all()):
        raise DataError(f"{path}: {key} holds floats outside [0, 1]; scale them to [0, 1] (or store uint8)")
    return x.astype(np.float32)


def _labels(y, count, path, key):
    if y is None:
        return np.zeros(count, np.int64)
    y = np.asarray(y).reshape(-1)
    if len(y) != count or not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise DataError(f"{path}: {key} must hold {count} non-negative integer labels")
    if y.size and y.max() >= MAX_CLASSES:
        raise DataError(f"{path}: {key} holds label {y.max()}; labels are class indices below {MAX_CLASSES:,}")
    return y.astype(np.int64)
