"""Every figure readable whatever the image size (8x8 to 128x128, non-square) and the number of points,
epochs or dimensions: cells large enough to see, tick labels that never overlap, sized markers."""

import matplotlib.colors
import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.figures import charts, plots, writer


@pytest.fixture
def figures(monkeypatch):
    """The matplotlib figures the writers would save, kept open for inspection."""
    kept = []
    monkeypatch.setattr(writer, "save_figure", lambda fig, path, tight=True: kept.append(fig) or path)
    yield kept
    for fig in kept:
        writer.plt.close(fig)


def boxes(fig, texts):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]


def overlap(found):
    return [(a, b) for i, a in enumerate(found) for b in found[i + 1 :] if a.overlaps(b)]


@pytest.mark.parametrize("n", [15, 25])
@pytest.mark.parametrize(
    "shape", [(8, 8, 1), (28, 28, 1), (12, 28, 1), (40, 20, 1), pytest.param((128, 128, 3), marks=pytest.mark.slow)]
)
def test_grid_cells_are_visible_and_tick_labels_never_overlap(figures, tmp_path, shape, n):
    images = np.random.default_rng(0).uniform(size=(n * n, *shape)).astype("float32")
    values = np.linspace(-2.5, 2.5, n)
    title = "MNIST · latent 8 · 30 epochs: decoded latent grid\nprior quantiles 5%-95%; z[3], z[7] varied"
    plots.save_manifold(tmp_path / "g.png", images, plots.GridCoordinates(values, values[::-1]), title)
    (fig,) = figures
    ax = fig.axes[0]
    cell = ax.get_window_extent()
    assert min(cell.width / n, cell.height / n) >= 20, (cell.width / n, cell.height / n)  # pixels on screen
    assert max(cell.width, cell.height) <= plots.MAX_FIGURE_PX + 1
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        found = boxes(fig, labels)
        assert len(found) >= 3 and not overlap(found)


def test_small_images_are_enlarged_to_a_visible_cell():
    assert plots.cell_scale(8, 8, 15, 15) * 8 >= plots.MIN_CELL_PX
    assert plots.cell_scale(28, 28, 15, 15) == 2.0
    assert plots.cell_scale(128, 128, 15, 15) * 128 * 15 <= plots.MAX_FIGURE_PX
    assert plots.label_step(5, 0.1, 9) > plots.label_step(5, 1.0, 9) == 1


@pytest.mark.parametrize("shape", [(8, 8, 1), (40, 20, 3)])
def test_rows_of_many_columns_keep_their_labels_apart(figures, tmp_path, shape):
    steps = 40
    rows = [np.random.default_rng(0).uniform(size=(steps, *shape)).astype("float32")]
    labels = [f"t={t:.2f}" for t in np.linspace(0, 1, steps)]
    plots.save_rows(tmp_path / "r.png", rows, ["decoded"], "a long title " * 12, labels)
    (fig,) = figures
    found = boxes(fig, [ax.xaxis.label for ax in fig.axes])
    assert len(found) >= 5 and not overlap(found)


def test_scatter_markers_shrink_with_the_point_count():
    assert charts.marker_size(300) > 4 * charts.marker_size(10_000)
    assert charts.marker_size(10) <= 40 and charts.marker_size(1_000_000) >= 2


def test_loss_curves_mark_the_best_epoch_with_integer_ticks(figures, tmp_path):
    history = {"epoch": [1, 2, 3]}
    for key, values in {"objective": [9.0, 7.0, 8.0], "reconstruction_loss": [8, 6, 7], "kl_loss": [1, 1, 1]}.items():
        history[key], history[f"val_{key}"] = values, [v + 0.5 for v in values]
    charts.save_loss_curves(tmp_path / "l.png", history, "t", best_epoch=2, best_note="its weights kept")
    (fig,) = figures
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        marker = [line for line in ax.get_lines() if list(line.get_xdata()) == [2, 2]]
        assert marker and "best epoch 2: its weights kept" in [t.get_text() for t in ax.get_legend().get_texts()]
    star = [line for line in fig.axes[0].get_lines() if line.get_marker() == "*"]
    assert star and list(star[0].get_ydata()) == [7.5]  # the test objective at the best epoch
    charts.save_loss_curves(tmp_path / "one.png", {k: v[:1] for k, v in history.items()}, "t", best_epoch=1)
    ax = figures[-1].axes[0]
    assert [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]] == [1.0]


@pytest.mark.parametrize("dims", [1, 8, 300])
def test_kl_chart_marks_active_dimensions(figures, tmp_path, dims):
    kl = list(np.linspace(0.0, 3.0, dims))
    active = [k > 1.0 for k in kl]
    charts.save_kl_per_dim(tmp_path / "kl.png", kl, active, "MNIST · latent 50: KL per latent dimension " * 3)
    (fig,) = figures
    ax = fig.axes[0]
    bars = ax.patches
    assert [round(b.get_height(), 6) for b in bars] == [round(k, 6) for k in kl]
    grey = matplotlib.colors.to_rgba("lightgrey")
    assert [b.get_facecolor() != grey for b in bars] == active
    assert not overlap(boxes(fig, ax.get_xticklabels()))


def test_epoch_frame_shows_test_images_and_reconstructions_under_the_samples(tmp_path):
    samples = np.full((100, 8, 12, 1), 0.4, "float32")
    originals, recon = np.full((10, 8, 12, 1), 0.7, "float32"), np.zeros((10, 8, 12, 1), "float32")
    path = plots.save_epoch_frame(tmp_path / "f.png", samples, 10, originals, recon, "digits · latent 2 · epoch 1")
    image = mpimg.imread(path)[..., 0]
    column = image[:, image.shape[1] // 20]  # down through the first column of cells
    first = [int(np.flatnonzero(np.abs(column - grey) < 0.03)[0]) for grey in (0.4, 0.7, 0.0)]
    assert first == sorted(first)  # the samples, then the test images, then their reconstructions
    again = plots.save_epoch_frame(tmp_path / "g.png", samples * 2, 10, originals, recon, "digits · epoch 10")
    assert mpimg.imread(again).shape == mpimg.imread(path).shape  # every frame of the GIF the same size


@pytest.mark.slow
@pytest.mark.parametrize(
    "shape, commands",
    [((8, 8), [["reconstruct"], ["interpolate", "--from", "0", "--to", "1"]]), ((12, 20), [["traverse"]])],
)
def test_small_and_non_square_npz_runs_draw_every_figure(tmp_path, capsys, shape, commands):
    rng = np.random.default_rng(1)
    data = tmp_path / "d.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (96, *shape), dtype=np.uint8),
        x_test=rng.integers(0, 256, (30, *shape), dtype=np.uint8),
        y_train=rng.integers(0, 3, 96),
        y_test=rng.integers(0, 3, 30),
    )
    args = ["train", "--output-dir", str(tmp_path / "out"), "--set", "data.dataset=npz", "--set", f"data.path={data}"]
    for item in TINY_MODEL + ["train.epochs=1", "train.batch_size=16", "model.latent_dim=3"]:
        args += ["--set", item]
    assert main(args) == 0
    run_dir = next((tmp_path / "out").iterdir())
    run = str(run_dir)
    for command in commands:  # the grid, the scatter and the epoch frames come with the run
        assert main([*command, "--run", run]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", run, "--k", "5", "--samples", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("kl-per-dim.png")
    h, w = shape
    drawn = [("grid.png", 15), ("samples/epoch_001.png", 10)]
    if shape == (8, 8):
        from PIL import Image

        assert min(Image.open(run_dir / "interpolation-0-1.gif").size) >= 100  # 8-pixel frames enlarged
        drawn.append(("reconstructions.png", 10))
    for name, cells in drawn:
        image = mpimg.imread(run_dir / name)
        assert image.shape[1] >= cells * plots.MIN_CELL_PX * max(1, w / h), (name, image.shape)
