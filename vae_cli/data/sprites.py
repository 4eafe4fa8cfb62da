"""The data source ``sprites``: white shapes on black, 64x64, rendered from five known factors.

In the spirit of dSprites (Matthey et al., 2017): shape {square, ellipse, heart},
scale (6 values), orientation (40), x and y position (32 each), every combination
once: 737,280 images. Nothing is downloaded; each image is a pure function of its
factors, so the same version renders the same bytes on every machine.

The grid is split by one fixed permutation (``SPLIT_SEED``), the same for every run:
the first ``TEST_IMAGES`` are the test set, the next ``data.validation_size`` the
validation split (at most a quarter of the training images), and the rest, in that
order, the training images, of which ``data.limit`` takes the first N. Only the
images of the splits asked for are rendered, so a figure command never renders the
training set, and the training set is capped at ``MAX_RENDERED_IMAGES``.
The shape is each image's class; all five factors, as indices into their value
lists, are each image's row of the factor table.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import ClassVar

import numpy as np

from vae_cli.config import DataConfig
from vae_cli.data.types import Data, Split
from vae_cli.data.validation import MAX_FRACTION, held_out_count
from vae_cli.errors import DataError
from vae_cli.limits import MAX_RENDERED_IMAGES

VERSION = 1  # raised whenever a change would render other bytes
SIZE = 64
SHAPES = ["square", "ellipse", "heart"]
FACTOR_NAMES = ["shape", "scale", "orientation", "x", "y"]
FACTOR_SIZES = (len(SHAPES), 6, 40, 32, 32)
GRID_IMAGES = math.prod(FACTOR_SIZES)
SCALES = np.linspace(0.5, 1.0, FACTOR_SIZES[1])
ORIENTATIONS = np.linspace(0.0, 2 * math.pi, FACTOR_SIZES[2], endpoint=False)
RADIUS = 12.0  # pixels from the centre to the unit outline at scale 1; no shape reaches 1.3 x RADIUS
FIRST_POSITION = 16  # x and y of a shape's centre run over 16 .. 47 pixels, one pixel a step
SPLIT_SEED = 0
TEST_IMAGES = 10_000
PATCH = 32  # each shape is drawn on a 32x32 patch centred on its position; nothing reaches the patch's edge


def parameters() -> dict:
    """What the renderer was given, for ``run.json``: enough to render the same images again."""
    return {
        "version": VERSION,
        "size": SIZE,
        "shapes": SHAPES,
        "factors": dict(zip(FACTOR_NAMES, FACTOR_SIZES, strict=True)),
        "scales": [round(float(s), 6) for s in SCALES],
        "orientations": "linspace(0, 2 pi, 40, endpoint=False)",
        "radius_pixels": RADIUS,
        "positions": f"{FIRST_POSITION} .. {FIRST_POSITION + FACTOR_SIZES[3] - 1} pixels (x: column, y: row)",
        "split_seed": SPLIT_SEED,
        "test_images": TEST_IMAGES,
    }


def factors_of(indices: np.ndarray) -> np.ndarray:
    """The factor table (N, 5) of grid indices: shape, scale, orientation, x, y, as indices into their values."""
    return np.stack(np.unravel_index(np.asarray(indices, dtype=np.int64), FACTOR_SIZES), axis=1)


@functools.cache
def _patches() -> np.ndarray:
    """uint8 (3, 6, 40, 32, 32): every shape at every scale and orientation, centred on its patch."""
    shape, scale, angle = (
        a.reshape(*a.shape, 1, 1) for a in np.meshgrid(*map(np.arange, FACTOR_SIZES[:3]), indexing="ij")
    )
    centres = np.arange(PATCH, dtype=np.float64) + 0.5 - PATCH / 2
    radius = SCALES[scale] * RADIUS
    theta = ORIENTATIONS[angle]
    dx, dy = centres[None, :] / radius, -centres[:, None] / radius  # patch rows run down, v runs up
    u = np.cos(theta) * dx + np.sin(theta) * dy  # each pixel in the shape's own frame
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    inside = np.select([shape == 0, shape == 1], [_square(u, v), _ellipse(u, v)], _heart(u, v))
    return np.where(inside, 255, 0).astype(np.uint8)


def _square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) <= 0.8


def _ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u**2 + (v / 0.5) ** 2 <= 1.0


def _heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    hu, hv = u / 0.9, v / 0.9 + 0.1  # the curve (x^2 + y^2 - 1)^3 = x^2 y^3, centred on its area
    return (hu**2 + hv**2 - 1.0) ** 3 - hu**2 * hv**3 <= 0.0


def render(factors: np.ndarray) -> np.ndarray:
    """uint8 images (N, 64, 64, 1), 255 inside the shape, of a factor table (``factors_of``)."""
    patches = _patches()
    out = np.zeros((len(factors), SIZE, SIZE, 1), np.uint8)
    corner = FIRST_POSITION - PATCH // 2
    for i, (shape, scale, angle, x, y) in enumerate(factors.tolist()):  # a slice copy each: faster than fancy indexing
        out[i, corner + y : corner + y + PATCH, corner + x : corner + x + PATCH, 0] = patches[shape, scale, angle]
    return out


def split_indices(validation_size: int, limit: int | None = None) -> dict[str, np.ndarray]:
    """Grid indices of the test, validation and training images, in the fixed order.

    As MNIST's, the validation split is at most a fifth of the images it and the training
    split take together: at most a quarter of ``limit`` training images.
    """
    order = np.random.default_rng(SPLIT_SEED).permutation(GRID_IMAGES)
    pool = GRID_IMAGES - TEST_IMAGES
    taken = pool if limit is None else min(limit, pool) * MAX_FRACTION // (MAX_FRACTION - 1)  # by both splits
    held = held_out_count(taken, validation_size)
    return {
        "test": order[:TEST_IMAGES],
        "validation": order[TEST_IMAGES : TEST_IMAGES + held],
        "train": order[TEST_IMAGES + held :][:limit],
    }


def _split(indices: np.ndarray) -> Split:
    factors = factors_of(indices)
    return Split(render(factors), factors[:, 0].copy(), factors=factors)


class Sprites:
    """The procedural sprites; a run records ``parameters()`` to say which images it saw."""

    name = "sprites"
    title = "Sprites"
    class_names: ClassVar[list[str]] = SHAPES
    user_images = False

    def local_folder(self, data_cfg: DataConfig) -> Path | None:
        return None  # rendered, never read

    def load(self, data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
        indices = split_indices(data_cfg.validation_size, data_cfg.limit)
        train, held = indices["train"], len(indices["validation"])
        if "train" in splits and len(train) > MAX_RENDERED_IMAGES:
            raise DataError(
                f"data.dataset sprites holds its training images in memory, 4 KiB each, and {len(train):,} "
                f"are over the {MAX_RENDERED_IMAGES:,} allowed; set data.limit to at most {MAX_RENDERED_IMAGES:,}"
            )
        empty = np.zeros((0,), np.int64)
        return Data(
            self.name,
            self.title,
            list(SHAPES),
            _split(train if "train" in splits else empty),
            _split(indices["test"] if "test" in splits else empty),
            f"rendered (sprites version {VERSION})",
            (SIZE, SIZE, 1),
            validation=_split(indices["validation"] if "train" in splits else empty) if held else None,
            split_rule=(
                f"test: {TEST_IMAGES:,} images of the {GRID_IMAGES:,}-image grid, validation: the next "
                f"{len(indices['validation']):,}, training: the next {len(train):,}, in the order of a permutation "
                f"drawn with seed {SPLIT_SEED}, the same for every run"
            ),
            factor_names=list(FACTOR_NAMES),
            generator={"name": self.name, **parameters()},
        )


SPRITES = Sprites()
