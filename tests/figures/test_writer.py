"""The figure writer: the format follows the suffix, the size follows the DPI, and a failed save leaves nothing."""

import numpy as np
import pytest
from PIL import Image

from vae_cli.figures import writer
from vae_cli.figures.writer import plt

MAGIC = {".png": b"\x89PNG", ".PNG": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}


def figure(size=(2.0, 1.0)):
    fig = plt.figure(figsize=size)
    fig.add_axes((0, 0, 1, 1)).plot([0, 1], [0, 1])
    return fig


@pytest.mark.parametrize("suffix", sorted(MAGIC))
def test_the_format_follows_the_suffix(tmp_path, suffix):
    fig = figure()
    path = writer.save_figure(fig, tmp_path / f"f{suffix}")
    assert path.read_bytes().startswith(MAGIC[suffix])
    assert not plt.fignum_exists(fig.number)  # closed once written
    plain = writer.save_pixels(tmp_path / f"p{suffix}", np.linspace(0, 1, 12).reshape(3, 4))
    assert plain.read_bytes().startswith(MAGIC[suffix])
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f{suffix}", f"p{suffix}"]


def test_sizes_follow_the_dpi_and_pixels_stay_pixels(tmp_path):
    with Image.open(writer.save_figure(figure((2.0, 1.0)), tmp_path / "f.png", tight=False)) as image:
        assert image.size == (2 * writer.DPI, 1 * writer.DPI)
    with Image.open(writer.save_pixels(tmp_path / "p.png", np.zeros((5, 7, 3)))) as image:
        assert image.size == (7, 5)


def test_a_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path):
    (tmp_path / "old.png").write_bytes(b"old")

    def half_written(name, **kwargs):
        with open(name, "wb") as f:
            f.write(b"\x89PNG partial")
        raise OSError("disk full")

    for name in ("new.png", "old.png"):
        fig = figure()
        fig.savefig = half_written
        with pytest.raises(OSError, match="disk full"):
            writer.save_figure(fig, tmp_path / name)
        assert not plt.fignum_exists(fig.number)
    assert [p.name for p in tmp_path.iterdir()] == ["old.png"]
    assert (tmp_path / "old.png").read_bytes() == b"old"


@pytest.mark.parametrize("name", ["f.jpg", "f.gif", "f"])
def test_other_suffixes_are_refused_before_anything_is_written(tmp_path, name):
    fig = figure()
    with pytest.raises(ValueError) as refused:
        writer.save_figure(fig, tmp_path / name)
    assert str(refused.value).count("\n") == 0 and "PNG, PDF or SVG" in str(refused.value)
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="PNG, PDF or SVG"):
        writer.save_pixels(tmp_path / name, np.zeros((2, 2)))
    assert list(tmp_path.iterdir()) == []


def test_gif_frames_and_durations(tmp_path):
    frames = [np.full((6, 4, 1), v, "float32") for v in (0.0, 0.5, 1.0)]
    path = writer.save_gif(tmp_path / "a.gif", frames, [100, 100, 300])
    with Image.open(path) as gif:
        assert (gif.format, gif.n_frames, gif.size) == ("GIF", 3, (4, 6))
        gif.seek(2)
        assert gif.info["duration"] == 300
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]


def colour_frame(seed):
    """A frame like a colour run's: many muted, blurry decodes, and a few saturated shapes, among them a blue
    triangle; with the shapes' mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    cells, masks = [], []
    for _ in range(110):
        blob = np.exp(-((yy - rng.uniform(8, 24)) ** 2 + (xx - rng.uniform(8, 24)) ** 2) / 60)[..., None]
        cells.append(rng.uniform(0.35, 0.6) * (1 - blob) + rng.uniform(0.3, 0.7, 3) * blob)
        masks.append(np.zeros((32, 32), bool))
    saturated = [(90, 98, 162), (220, 40, 30), (30, 200, 60), (230, 210, 40), (200, 60, 200)]
    triangle = (yy > 6) & (yy < 26) & (np.abs(xx - 16) < (yy - 6) * 0.6)
    disc = (yy - 16) ** 2 + (xx - 16) ** 2 < 50
    for i in range(10):
        shape = triangle if i % 2 == 0 else disc
        cell = rng.uniform(0, 0.15, (32, 32, 3))
        cell[shape] = np.array(saturated[i % 5]) / 255
        cells.append(cell)
        masks.append(shape)
    canvas = np.concatenate([np.concatenate(cells[r * 10 : r * 10 + 10], 1) for r in range(12)], 0)
    mask = np.concatenate([np.concatenate(masks[r * 10 : r * 10 + 10], 1) for r in range(12)], 0)
    return (canvas * 255).round().astype(np.uint8), mask


def gif_frames(path):
    with Image.open(path) as gif:
        for i in range(gif.n_frames):
            gif.seek(i)
            yield np.asarray(gif.convert("RGB")).astype(int)


def test_gif_keeps_a_colour_frames_saturated_shapes_and_a_grey_frame_exactly(tmp_path):
    frames, masks = zip(*(colour_frame(seed) for seed in range(3)), strict=True)
    backs = gif_frames(writer.save_gif(tmp_path / "c.gif", frames, [100] * 3))
    for frame, mask, back in zip(frames, masks, backs, strict=True):
        error = np.abs(back - frame).max(-1)
        assert error[mask].max() <= 16  # a blue triangle stays blue, not grey
        assert error.max() <= 32
    grey = [np.random.default_rng(seed).integers(0, 256, (40, 50), dtype=np.uint8) for seed in range(3)]
    for frame, back in zip(grey, gif_frames(writer.save_gif(tmp_path / "g.gif", grey, [100] * 3)), strict=True):
        assert np.array_equal(back, np.repeat(frame[..., None], 3, -1))
