"""The procedural sprites: the same bytes every time, factors that move the pixels as they say, bounded memory."""

import hashlib

import numpy as np
import pytest

from vae_cli.config import DataConfig
from vae_cli.data import sprites
from vae_cli.data.load import load_data
from vae_cli.errors import DataError
from vae_cli.limits import MAX_RENDERED_IMAGES

# The sha256 of the first 2,000 grid images. A change to the renderer that alters one pixel fails here:
# raise sprites.VERSION (runs record it) and record the new digest.
FIRST_IMAGES_SHA256 = "e909c64ec0b6c525410943134fa8a3c0a1ecd8e31456e4d701e90386e9857b17"


def centroid(image):
    rows, cols = np.nonzero(image[..., 0])
    return rows.mean(), cols.mean()


def area(image):
    return int(np.count_nonzero(image))


def test_the_grid_has_every_combination_once():
    table = sprites.factors_of(np.arange(sprites.GRID_IMAGES))
    assert sprites.GRID_IMAGES == 737_280 and table.shape == (737_280, 5)
    assert len(np.unique(np.ravel_multi_index(table.T, sprites.FACTOR_SIZES))) == sprites.GRID_IMAGES
    assert [len(np.unique(column)) for column in table.T] == [3, 6, 40, 32, 32]


def test_rendering_is_deterministic_to_the_byte():
    first = sprites.render(sprites.factors_of(np.arange(2000)))
    again = sprites.render(sprites.factors_of(np.arange(2000)))
    assert first.dtype == np.uint8 and first.shape == (2000, 64, 64, 1)
    assert set(np.unique(first)) == {0, 255}
    assert first.tobytes() == again.tobytes()
    assert hashlib.sha256(first.tobytes()).hexdigest() == FIRST_IMAGES_SHA256


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_the_centroid_follows_x_and_y_one_pixel_a_step(shape):
    base = np.array([[shape, 5, 7, 4, 6]])
    start = centroid(sprites.render(base)[0])
    for axis, column in ((1, 3), (0, 4)):  # x moves the columns, y the rows
        for step in (1, 5, 21):
            moved = base.copy()
            moved[0, column] += step
            shift = np.subtract(centroid(sprites.render(moved)[0]), start)
            assert shift[axis] == pytest.approx(step) and shift[1 - axis] == pytest.approx(0)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_the_area_grows_with_the_square_of_the_scale(shape):
    areas = [area(sprites.render(np.array([[shape, s, 0, 15, 15]]))[0]) for s in range(6)]
    assert areas == sorted(areas) and len(set(areas)) == 6
    expected = (sprites.SCALES[-1] / sprites.SCALES[0]) ** 2
    assert areas[-1] / areas[0] == pytest.approx(expected, rel=0.1)


def test_orientation_turns_the_shape_about_its_centre():
    turned = sprites.render(np.array([[1, 5, o, 15, 15] for o in (0, 10)]))  # an ellipse, a quarter turn apart
    assert area(turned[0]) == pytest.approx(area(turned[1]), rel=0.03)
    assert np.allclose(centroid(turned[0]), centroid(turned[1]), atol=0.05)
    rows, cols = np.nonzero(turned[0][..., 0])
    assert np.ptp(cols) > 1.5 * np.ptp(rows)  # lying down at orientation 0 ...
    rows, cols = np.nonzero(turned[1][..., 0])
    assert np.ptp(rows) > 1.5 * np.ptp(cols)  # ... standing up a quarter turn later


def test_every_shape_stays_inside_the_frame():
    corners = [[s, 5, o, x, y] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)]
    images = sprites.render(np.array(corners))
    assert not images[:, 0].any() and not images[:, -1].any()
    assert not images[:, :, 0].any() and not images[:, :, -1].any()


def test_splits_are_disjoint_labelled_by_shape_and_limited_before_rendering():
    data = load_data(DataConfig(dataset="sprites", limit=300, validation_size=60))
    assert (len(data.train), len(data.validation), len(data.test)) == (300, 60, sprites.TEST_IMAGES)
    grid = {
        name: set(np.ravel_multi_index(split.factors.T, sprites.FACTOR_SIZES).tolist())
        for name, split in (("train", data.train), ("validation", data.validation), ("test", data.test))
    }
    assert not grid["train"] & grid["test"] and not grid["train"] & grid["validation"]
    assert not grid["validation"] & grid["test"]
    for split in (data.train, data.test):
        np.testing.assert_array_equal(split.labels, split.factors[:, 0])
        np.testing.assert_array_equal(split.images, sprites.render(split.factors))
    assert data.factor_names == ["shape", "scale", "orientation", "x", "y"]
    assert data.generator["version"] == sprites.VERSION and data.generator["factors"]["orientation"] == 40
    assert data.checksum() == load_data(DataConfig(dataset="sprites", limit=300, validation_size=60)).checksum()


def test_validation_is_at_most_a_quarter_of_the_training_images():
    data = load_data(DataConfig(dataset="sprites", limit=64, validation_size=10**9))
    assert (len(data.train), len(data.validation)) == (64, 16)  # a fifth of the 80 images both take


def test_the_test_split_alone_renders_no_training_image():
    data = sprites.SPRITES.load(DataConfig(dataset="sprites"), ("test",))
    assert len(data.train) == 0 and len(data.test) == sprites.TEST_IMAGES


def test_the_whole_grid_in_memory_is_refused_in_one_line():
    with pytest.raises(DataError) as caught:
        sprites.SPRITES.load(DataConfig(dataset="sprites"))
    message = str(caught.value)
    assert "set data.limit to at most" in message and f"{MAX_RENDERED_IMAGES:,}" in message and "\n" not in message
