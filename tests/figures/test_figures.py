"""The figure commands on a tiny trained run: files, content, batched decoding, reproducibility."""

import json
import re

import keras
import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.figures import from_run, latents, plots, rows_from_run, writer
from vae_cli.figures.codec import Codec
from vae_cli.kinds import KINDS


@pytest.fixture(scope="module")
def run3(tmp_path_factory, data_dir):
    """A 3-D latent run: exercises --dims, PCA and traversals."""
    out_dir = tmp_path_factory.mktemp("fig")
    args = [
        "train",
        "--data-dir",
        str(data_dir),
        "--set",
        f"output.dir={out_dir}",
        "--set",
        "model.latent_dim=3",
        "--set",
        "train.epochs=2",
    ]
    for item in TINY_MODEL:
        args += ["--set", item]
    assert main(args) == 0
    return next(out_dir.iterdir())


@pytest.fixture
def calls(monkeypatch):
    """Records every batched model pass: (model name, number of inputs)."""
    seen = []
    real = latents.batched

    def counting(model, inputs, batch_size=2048):
        seen.append((model.name, len(inputs)))
        return real(model, inputs, batch_size)

    monkeypatch.setattr(latents, "batched", counting)
    return seen


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return [line for line in out.splitlines() if line]


def png(path):
    image = mpimg.imread(path)
    assert image.shape[0] >= 100 and image.shape[1] >= 100, image.shape
    assert image[..., :3].std() > 0.05, "blank image"
    return image


@pytest.mark.slow
def test_training_writes_a_progress_gif_ending_on_the_last_epoch(run3):
    from PIL import Image

    gif = Image.open(run3 / "progress.gif")
    assert gif.n_frames == 2
    durations = []
    for frame in range(gif.n_frames):
        gif.seek(frame)
        durations.append(gif.info["duration"])
    assert durations[-1] > durations[0]
    first = np.asarray(Image.open(run3 / "samples" / "epoch_001.png"))
    assert gif.size == (first.shape[1], first.shape[0])
    assert first.shape[0] > first.shape[1] * 1.15  # ten rows of samples, and two of test images and reconstructions


@pytest.mark.slow
def test_grid_is_one_batched_pass_with_dims_and_ranges(capsys, run3, calls):
    (path,) = cli(capsys, "sample", "--grid", "6", "--run", str(run3), "--dims", "2,0", "--range", "linear:-2:2")
    assert path.endswith("grid-6-linear-2_2-dims2_0.png")
    png(path)
    assert calls == [("decoder", 36)]


@pytest.mark.slow
def test_grid_over_the_two_most_active_dimensions(capsys, run3, calls):
    from vae_cli.runs.view import RunView

    view = RunView(str(run3))
    variance = latents.encode_means(view.encoder, view.split("test").images).var(axis=0)
    calls.clear()
    (path,) = cli(capsys, "sample", "--grid", "4", "--run", str(run3), "--dims", "active")
    png(path)
    assert calls == [("encoder", 64), ("decoder", 16)]
    name = path.rsplit("/", 1)[-1]
    chosen = [0, 1] if name == "grid-4.png" else [int(d) for d in name[len("grid-4-dims") : -4].split("_")]
    others = [d for d in range(3) if d not in chosen]
    assert min(variance[chosen]) >= max(variance[others])  # the two most varied, whatever their indices


@pytest.mark.slow
def test_grid_data_range_encodes_the_test_set_once(capsys, run3, calls, data_dir):
    (path,) = cli(capsys, "sample", "--grid", "5", "--run", str(run3), "--range", "data")
    png(path)
    assert calls == [("encoder", 64), ("decoder", 25)]


@pytest.mark.slow
def test_plain_grid_is_the_pixels_alone(capsys, run3):
    (path,) = cli(capsys, "sample", "--grid", "4", "--run", str(run3), "--no-axes")
    assert mpimg.imread(path).shape[:2] == (4 * 28, 4 * 28)


@pytest.mark.slow
def test_random_samples_are_seeded_and_match_a_plain_keras_decoder(capsys, run3, calls, monkeypatch):
    captured = []
    real = plots.save_image_grid
    monkeypatch.setattr(
        plots, "save_image_grid", lambda path, images, *a, **k: captured.append(images) or real(path, images, *a, **k)
    )
    (first,) = cli(capsys, "sample", "--random", "10", "--seed", "4", "--run", str(run3))
    assert first.endswith("random-10-seed4.png") and calls == [("decoder", 10)]
    image = png(first)
    (again,) = cli(capsys, "sample", "--random", "10", "--seed", "4", "--run", str(run3), "--out", str(run3 / "x.png"))
    np.testing.assert_array_equal(mpimg.imread(again), image)
    decoder = keras.saving.load_model(run3 / "decoder.h5", safe_mode=True)
    z = np.random.default_rng(4).standard_normal((10, 3)).astype("float32")
    np.testing.assert_allclose(captured[0], decoder.predict(z, verbose=0), atol=1e-6)
    (other,) = cli(capsys, "sample", "--random", "10", "--seed", "5", "--run", str(run3))
    assert not np.array_equal(mpimg.imread(other), image)


@pytest.mark.slow
def test_reconstruct_covers_every_class(capsys, run3, calls, monkeypatch):
    rows_seen = []
    real = plots.save_rows
    monkeypatch.setattr(
        plots, "save_rows", lambda path, rows, *a, **k: rows_seen.append(rows) or real(path, rows, *a, **k)
    )
    (path,) = cli(capsys, "reconstruct", "--run", str(run3))
    assert path.endswith("reconstructions.png")
    png(path)
    assert calls == [("encoder", 10), ("decoder", 10)]
    originals, recon = rows_seen[0]
    assert originals.shape == recon.shape == (10, 28, 28, 1)
    from vae_cli.config import DataConfig
    from vae_cli.data.load import load_data

    test = load_data(
        DataConfig(data_dir=json.loads((run3 / "run.json").read_text())["dataset"]["source"]), splits=("test",)
    ).test
    picked = latents.pick_covering_classes(test.labels, 10, 0)
    assert len(set(test.labels[picked])) == len(set(test.labels))
    np.testing.assert_array_equal(originals, test.images[picked] / np.float32(255))
    cli(capsys, "reconstruct", "-n", "12", "--run", str(run3))
    assert [len(row) for row in rows_seen[1]] == [6] * 4  # two rows of six pairs, not 10 and 2 beside a blank


@pytest.mark.parametrize(
    "n, cols",
    [(1, 1), (7, 7), (10, 10), (11, 6), (12, 6), (13, 7), (20, 10), (24, 8), (25, 9), (91, 7), (97, 10), (100, 10)],
)
def test_reconstruction_pairs_fill_their_rows(n, cols):
    assert rows_from_run.pair_columns(n) == cols


def test_reconstruction_pairs_leave_no_blank_row_part_that_a_wide_grid_avoids():
    for n in range(1, 101):
        cols = rows_from_run.pair_columns(n)
        rows = -(-n // cols)
        assert cols <= 10 and (rows == 1) == (n <= 10)
        assert rows * cols - n < rows  # never more blank cells than rows: spreading them would not help
        exact = [c for c in range(1, 11) if n % c == 0 and 2 * n // c <= c]  # no blank, no taller than wide
        if exact:
            assert n % cols == 0, n


def test_pick_covering_classes_round_robins():
    labels = np.array([0] * 50 + [1] * 3 + [2] * 7)
    picked = latents.pick_covering_classes(labels, 7, seed=1)
    assert len(picked) == len(set(picked)) == 7
    assert sorted(set(labels[picked])) == [0, 1, 2]
    np.testing.assert_array_equal(picked, latents.pick_covering_classes(labels, 7, seed=1))


@pytest.mark.slow
def test_interpolate_writes_strip_and_gif(capsys, run3, calls):
    from PIL import Image

    paths = cli(capsys, "interpolate", "--from", "3", "--to", "7", "--steps", "6", "--run", str(run3))
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["interpolation-3-7-6steps.png", "interpolation-3-7-6steps.gif"]
    png(paths[0])
    assert calls == [("encoder", 2), ("decoder", 6)]
    gif = Image.open(paths[1])
    assert gif.n_frames == 6 + 4 and gif.size == (28 * 4, 28 * 4)


@pytest.mark.slow
def test_default_interpolation_joins_two_distant_classes(capsys, run3):
    from vae_cli.runs.view import RunView

    png_path, _ = cli(capsys, "interpolate", "--steps", "3", "--run", str(run3))
    start, end = (int(i) for i in re.search(r"interpolation-(\d+)-(\d+)-3steps.png$", png_path).groups())
    view = RunView(str(run3))
    test = view.split("test")
    z = latents.encode_means(view.encoder, test.images)
    assert test.labels[start] != test.labels[end]
    apart = np.linalg.norm(z[start] - z[end])
    other_class = test.labels[:, None] != test.labels[None]
    distances = np.linalg.norm(z[:, None] - z[None], axis=-1)[other_class]
    assert apart >= np.quantile(distances, 0.9)  # not two neighbours whose line decodes one image throughout
    assert cli(capsys, "interpolate", "--steps", "3", "--run", str(run3)) == [png_path, png_path[:-4] + ".gif"]


def test_distant_pair_takes_the_typical_images_of_the_farthest_groups():
    z = np.array([[0.5, 0], [0.0, 0], [0.1, 0], [5, 0], [5.1, 0], [5.6, 0], [9, 0], [9.3, 0], [8.9, 0]])
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert latents.distant_pair(z, labels) == (2, 6)  # classes 0 and 2, each by the image nearest its mean
    assert latents.distant_pair(z, labels, start=3) == (3, 2)
    assert latents.distant_pair(z, labels, end=7) == (2, 7)
    assert latents.distant_pair(z, labels, start=0) == (0, 6)  # never its own class
    line = np.linspace(-1, 1, 21)[:, None] * [3.0, 1.0]  # unlabelled: the two ends of the main axis
    first, second = latents.distant_pair(line, np.zeros(21, int))
    assert sorted((first, second)) == [1, 19]


def test_interpolation_line_ends_at_the_two_codes():
    z = latents.interpolation_latents(np.array([0.0, 2.0]), np.array([1.0, -2.0]), 5)
    np.testing.assert_allclose(z[0], [0, 2]) and np.testing.assert_allclose(z[-1], [1, -2])
    np.testing.assert_allclose(z[2], [0.5, 0.0])


@pytest.mark.slow
def test_traverse_rows_per_dimension(capsys, run3, calls):
    (path,) = cli(capsys, "traverse", "--index", "5", "--steps", "7", "--run", str(run3))
    assert path.endswith("traverse-5-7steps.png")
    png(path)
    assert calls == [("encoder", 1), ("decoder", 3 * 7)]
    z = latents.traversal_latents(np.array([1.0, 2.0, 3.0]), [1], np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_allclose(z, [[1, 1, 3], [1, 2, 3], [1, 3, 3]])


@pytest.mark.slow
def test_plot_latent_methods_splits_and_limits(capsys, run3):
    (pca,) = cli(capsys, "plot-latent", "--run", str(run3), "--split", "train", "--limit", "100")
    assert pca.endswith("latent-pca-train-100.png")
    png(pca)
    (tsne,) = cli(capsys, "plot-latent", "--run", str(run3), "--method", "tsne")
    assert tsne.endswith("latent-tsne-test.png")  # every test point: no default limit for t-SNE
    png(tsne)


def test_tsne_separates_well_separated_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.3, (40, 5)) for c in (0, 3, 6)])
    labels = np.repeat([0, 1, 2], 40)
    y = latents.tsne_2d(x, seed=0)
    assert y.shape == (120, 2)
    d = ((y[:, None] - y[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.97  # neighbours stay neighbours
    centres = np.array([y[labels == c].mean(axis=0) for c in range(3)])
    within = np.mean([np.linalg.norm(y[labels == c] - centres[c], axis=1).mean() for c in range(3)])
    between = min(np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3))
    assert between > 2 * within


@pytest.mark.slow
def test_tsne_without_opentsne_is_one_line_naming_the_extra(capsys, run3, monkeypatch, calls):
    import sys

    monkeypatch.setitem(sys.modules, "openTSNE", None)  # what an uninstalled package looks like to import
    assert main(["plot-latent", "--method", "tsne", "--limit", "30", "--run", str(run3)]) == 1
    err = capsys.readouterr().err
    assert 'pip install "vae-cli[tsne]"' in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert calls == [] and not list(run3.glob("latent-tsne-test-30*"))  # stopped before any work


@pytest.mark.slow
def test_figures_are_written_as_pdf_or_svg_when_out_says_so(capsys, run3, tmp_path):
    (pdf,) = cli(capsys, "sample", "--grid", "4", "--run", str(run3), "--out", str(tmp_path / "grid.pdf"))
    assert open(pdf, "rb").read(5) == b"%PDF-"
    (svg,) = cli(capsys, "reconstruct", "-n", "3", "--run", str(run3), "--out", str(tmp_path / "r.SVG"))
    assert "<svg" in open(svg, encoding="utf-8").read(2000)
    (plain,) = cli(capsys, "sample", "--grid", "3", "--no-axes", "--run", str(run3), "--out", str(tmp_path / "p.svg"))
    assert "<svg" in open(plain, encoding="utf-8").read(2000)
    paths = cli(capsys, "interpolate", "--steps", "3", "--run", str(run3), "--out", str(tmp_path / "line.pdf"))
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["line.pdf", "line.gif"]


@pytest.mark.slow
def test_end_of_training_grid_varies_the_two_most_active_dimensions(run3, monkeypatch, tmp_path):
    from vae_cli.figures import training_figures
    from vae_cli.runs.view import RunView

    view = RunView(str(run3))
    test = view.split("test")
    seen = {}
    monkeypatch.setattr(training_figures, "draw_manifold", lambda codec, grid, *a, **k: seen.update(grid=grid))
    monkeypatch.setattr(training_figures, "progress_gif", lambda run_dir: None)
    history = {"epoch": [1], "objective": [1.0], "reconstruction_loss": [1.0], "kl_loss": [0.0]}
    codec = Codec(view, view.kind)
    shown = training_figures.TestImages("x", test.images, test.labels, view.class_names)
    training_figures.save_final_figures(tmp_path, codec, history, 1.0, shown, training_figures.BestEpoch(1))
    variance = latents.encode_means(view.encoder, test.images).var(axis=0)
    assert sorted(seen["grid"].dims) == sorted(np.argsort(variance)[-2:].tolist())
    assert seen["grid"].why_dims == "the two most active"


@pytest.mark.slow
def test_bad_figure_requests_are_one_line(capsys, run3):
    for args, message in (
        (["sample", "--dims", "0,3"], "dimensions run from 0 to 2"),
        (["sample", "--dims", "1,1"], "two different dimensions"),
        (["sample", "--range", "linear"], "linear needs its span"),
        (["sample", "--range", "ppf:0:1"], "strictly between 0 and 1"),
        (["sample", "--range", "cubic:1:2"], "expected ppf:LOW:HIGH"),
        (["interpolate", "--from", "100000"], "the test set has images 0 to 63"),
        (["traverse", "--dim", "3"], "latent dimensions are 0 to 2"),
        (["sample", "--out", "grid.txt"], "ending in .png, .pdf or .svg"),
        (["interpolate", "--out", "strip.gif"], "ending in .png, .pdf or .svg"),
        (["evaluate", "--out", "kl.jpg"], "ending in .png, .pdf or .svg"),
    ):
        assert main(args + ["--run", str(run3)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_unwritable_out_is_one_line(capsys, run3, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["sample", "--run", str(run3), "--out", str(blocker / "sub" / "grid.png")]) == 2
    err = capsys.readouterr().err
    assert "a-file is a file, not a folder" in err and err.count("\n") == 1, err

    def read_only(path, write):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(writer, "atomic_write", read_only)
    assert main(["sample", "--run", str(run3), "--out", str(tmp_path / "grid.png")]) == 1
    err = capsys.readouterr().err
    assert "grid.png: Permission denied; check the path" in err and err.count("\n") == 1, err


def test_show_picks_the_best_epoch_at_the_target_beta(tmp_path):
    from vae_cli.kinds import KINDS, OBJECTIVES, Score
    from vae_cli.runs import summary

    # Epoch 1 ran during KL warm-up: its val_loss is low only because KL was weighted 0.5.
    (tmp_path / "history.csv").write_text(
        "epoch,loss,reconstruction_loss,kl_loss,val_loss,val_reconstruction_loss,val_kl_loss,seconds\n"
        "1,0,0,0,110.0,100.0,20.0,1\n"
        "2,0,0,0,115.0,100.0,15.0,1\n"
    )
    best, score, epochs = summary._best_row(tmp_path, Score(KINDS.get("vae"), OBJECTIVES.get("elbo"), 1.0))
    assert epochs == 2 and best["epoch"] == 2 and score == 115.0


@pytest.mark.slow
def test_show_summarises_without_tensorflow(run3):
    import subprocess
    import sys

    code = (
        "import sys; from vae_cli.cli.main import main; rc = main(['show', '--run', sys.argv[1]]);"
        "assert 'tensorflow' not in sys.modules; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(run3)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "status     complete" in out and "epochs     2 of 2 run" in out
    assert "best       epoch" in out and "reconstruction" in out and "KL" in out
    assert "decoder.h5" in out and "parameters" in out and "latent_dim: 3" in out


def test_titles_of_narrow_grids_wrap_after_the_run_description():
    title = "MNIST · latent 2 · 8 epochs: 64 samples of z ~ N(0, I), seed 0"
    assert plots._wrap(title, 80) == title
    lines = plots._wrap(title, 40).split("\n")
    assert lines[0] == "MNIST · latent 2 · 8 epochs:" and all(len(line) <= 40 for line in lines)


@pytest.mark.parametrize(
    "draw, flag",
    [
        (lambda view: from_run.sample_grid(view, from_run.GridAsked(15)), "--grid 15: 225 images of 512x512x3"),
        (lambda view: from_run.sample_random(view, 100), "--random 100: 100 images"),
        (lambda view: rows_from_run.reconstruct(view, 50), "-n 50: 100 images"),
        (lambda view: rows_from_run.interpolate(view, steps=30), "--steps 30: 92 images"),
        (lambda view: rows_from_run.traverse(view, rows_from_run.Traversal(steps=11)), "--steps 11: 110 images"),
    ],
)
def test_figures_of_large_images_are_refused_before_decoding(draw, flag):
    """A 512x512 colour run: each figure's decoded pixels are counted before any work starts."""
    from types import SimpleNamespace

    from vae_cli.cli.report import error_text
    from vae_cli.errors import RequestError

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"{name} was used before the size check")

    decoder = SimpleNamespace(output=SimpleNamespace(shape=(None, 512, 512, 3)))
    view = SimpleNamespace(figure_decoder=decoder, cfg=SimpleNamespace(model=SimpleNamespace(latent_dim=16)))
    view.split = view.figure_encoder = view.encoder = view.decoder = Untouchable()
    with pytest.raises(RequestError) as raised:
        draw(view)
    text = error_text(raised.value)
    assert text.startswith(flag) and "over the 67,108,864 one figure may hold; ask for fewer (at most 85 images" in text


@pytest.mark.parametrize("shape, grid", [((None, 28, 28, 1), 15), ((None, 512, 512, 3), 9)])
def test_the_training_grid_shrinks_to_fit_large_images(monkeypatch, tmp_path, shape, grid):
    from types import SimpleNamespace

    from vae_cli.figures import training_figures

    drawn = []
    monkeypatch.setattr(training_figures, "draw_manifold", lambda codec, grid, *args, **kwargs: drawn.append(grid.n))
    monkeypatch.setattr(training_figures, "draw_latent", lambda *args, **kwargs: None)
    monkeypatch.setattr(training_figures.charts, "save_loss_curves", lambda *args: None)
    decoder = SimpleNamespace(output=SimpleNamespace(shape=shape))
    codec = SimpleNamespace(
        latent_dim=2, decoder=decoder, kind=KINDS.get("vae"), conditional=False, encode=lambda *args: np.zeros((1, 2))
    )
    shown = training_figures.TestImages("x", None, None, [])
    training_figures.save_final_figures(tmp_path, codec, {"epoch": [1]}, 1.0, shown)
    assert drawn == [grid]
