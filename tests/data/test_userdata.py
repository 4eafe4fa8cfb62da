"""The user's own data: image folders (any size, colour), .npz files, Gaussian likelihood, mirrored training."""

import json
import os
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.config import DataConfig
from vae_cli.data.load import load_data
from vae_cli.errors import DataError


def colour_folder(root, per_class=24, size=(45, 37)):
    """Two classes of 45x37 colour images: red discs and blue bars, on noise."""
    from PIL import Image

    rng = np.random.default_rng(0)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    for name, colour in (("discs", (220, 40, 30)), ("bars", (30, 60, 220))):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = rng.integers(0, 40, (h, w, 3)).astype(np.uint8)
            if name == "discs":
                mask = (yy - rng.integers(12, h - 12)) ** 2 + (xx - rng.integers(10, w - 10)) ** 2 < 64
            else:
                top = rng.integers(5, h - 12)
                mask = (yy >= top) & (yy < top + 6)
            image[mask] = colour
            Image.fromarray(image).save(root / name / f"{i:03d}.{'png' if i % 2 else 'jpg'}")
    return root


def train_args(out_dir, *items):
    args = ["train", "--set", f"output.dir={out_dir}", "--set", "train.epochs=1", "--set", "train.batch_size=16"]
    for item in TINY_MODEL + list(items):
        args += ["--set", item]
    return args


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return colour_folder(tmp_path_factory.mktemp("images") / "shapes")


def test_folder_scan_shape_and_split(folder):
    data = load_data(DataConfig(dataset="image_folder", path=str(folder), validation_split=0.25), seed=3)
    assert data.class_names == ["bars", "discs"] and data.image_shape == (45, 37, 3)
    assert len(data.train) == 36 and len(data.test) == 12
    assert data.train.images is None and len(data.train.files) == 36  # streamed, not loaded
    assert data.test.images.shape == (12, 45, 37, 3) and data.test.images.dtype == np.uint8
    assert not set(data.train.files) & set(data.test.files)
    again = load_data(DataConfig(dataset="image_folder", path=str(folder), validation_split=0.25), seed=3)
    assert again.test.files == data.test.files and again.checksum() == data.checksum()
    resized = load_data(DataConfig(dataset="image_folder", path=str(folder), image_size=[32, 24], color="grey"))
    assert resized.image_shape == (32, 24, 1) and resized.test.images.shape[1:] == (32, 24, 1)


def test_folder_of_mixed_sizes_needs_image_size(tmp_path):
    from PIL import Image

    for i, size in enumerate([(10, 12), (14, 12)]):
        Image.new("L", size).save(tmp_path / f"{i}.png")
    with pytest.raises(DataError, match="differ in size .* set data.image_size"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path)))
    assert load_data(DataConfig(dataset="image_folder", path=str(tmp_path), image_size=[8, 8])).image_shape == (8, 8, 1)


def test_bad_folders(tmp_path, capsys):
    with pytest.raises(DataError, match="is not a folder"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path / "nope")))
    with pytest.raises(DataError, match="no images"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path)))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "ok.png").write_bytes(b"")
    with pytest.raises(DataError, match="cannot read image"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path)))
    assert main(["train", "--set", "data.dataset=image_folder"]) == 2
    assert "data.path: required" in capsys.readouterr().err


@pytest.mark.slow
def test_colour_folder_trains_and_every_figure_is_in_colour(folder, tmp_path, capsys):
    assert main(train_args(tmp_path, "data.dataset=image_folder", f"data.path={folder}")) == 0
    run_dir = next(tmp_path.iterdir())
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["dataset"]["image_shape"] == [45, 37, 3] and manifest["dataset"]["class_names"] == ["bars", "discs"]
    capsys.readouterr()
    assert main(["sample", "--grid", "5", "--run", str(run_dir)]) == 0
    assert main(["plot-latent", "--run", str(run_dir)]) == 0
    assert main(["reconstruct", "-n", "4", "--run", str(run_dir)]) == 0
    grid, latent, recon = capsys.readouterr().out.split()
    assert mpimg.imread(grid).shape[0] > 200 and mpimg.imread(latent).std() > 0.05
    image = mpimg.imread(recon)[..., :3]  # its top row is real test images: red discs, blue bars
    assert np.abs(image[..., 0] - image[..., 2]).max() > 0.5  # drawn in colour, not grey


@pytest.mark.slow
def test_gaussian_likelihood_on_colour_images(folder, tmp_path, capsys):
    assert (
        main(
            train_args(
                tmp_path,
                "data.dataset=image_folder",
                f"data.path={folder}",
                "model.likelihood=gaussian",
                "train.precision=float32",
            )
        )
        == 0
    )
    run_dir = next(tmp_path.iterdir())
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run_dir), "--k", "50", "--samples", "2"]) == 0
    entry = next(iter(json.loads((run_dir / "metrics.json").read_text()).values()))
    assert entry["likelihood"] == "gaussian" and np.isfinite(entry["nll"]) and np.isfinite(entry["negative_elbo"])
    assert entry["nll"] <= entry["negative_elbo"] + 1.0


@pytest.mark.slow
def test_colour_images_with_a_small_latent_space_get_one_note(tmp_path, capsys):
    rng = np.random.default_rng(2)
    path = tmp_path / "colour.npz"
    np.savez(path, x_train=rng.integers(0, 256, (64, 12, 12, 3), dtype=np.uint8), y_train=rng.integers(0, 2, 64))
    assert main(train_args(tmp_path / "out", "data.dataset=npz", f"data.path={path}", "model.latent_dim=2")) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vae train: note:")]
    assert len(notes) == 1 and "model.latent_dim 2" in notes[0] and "set model.latent_dim to 16 or more" in notes[0]
    assert "2-D manifold plots need latent_dim 2" in notes[0]
    run_dir = next((tmp_path / "out").iterdir())
    assert not any("latent_dim to 16" in (run_dir / name).read_text() for name in ("run.json", "config.yaml"))


def test_only_colour_images_with_under_8_latent_dimensions_get_the_note():
    from vae_cli.config import ModelConfig
    from vae_cli.training.run import settings_note

    assert settings_note(ModelConfig(latent_dim=7), (32, 32, 3))
    assert settings_note(ModelConfig(latent_dim=8), (32, 32, 3)) is None
    assert settings_note(ModelConfig(latent_dim=2), (28, 28, 1)) is None


def test_gaussian_loss_matches_numpy():
    from vae_cli.layers import VAELoss

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(3, 4, 4, 3)).astype("float32")
    logits = rng.normal(size=(3, 4, 4, 3)).astype("float32")
    z = np.zeros((3, 2), "float32")
    layer = VAELoss(likelihood="gaussian", sigma=0.5)
    layer([x, logits, z, z])
    mean = 1 / (1 + np.exp(-logits))
    expected = (0.5 * np.log(2 * np.pi) + np.log(0.5) + 0.5 * ((x - mean) / 0.5) ** 2).reshape(3, -1).sum(1).mean()
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)
    learned = VAELoss(likelihood="gaussian")
    learned([x, logits, z, z])
    assert [w.name for w in learned.trainable_weights] == ["log_sigma"] and learned.trainable_weights[0].shape == (3,)
    clone = VAELoss.from_config(learned.get_config())
    assert clone.get_config() == learned.get_config()


@pytest.mark.slow
def test_npz_uint8_with_test_split(tmp_path, capsys):
    rng = np.random.default_rng(1)
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (96, 16, 16), dtype=np.uint8),
        x_test=rng.integers(0, 256, (24, 16, 16), dtype=np.uint8),
        y_train=rng.integers(0, 3, 96),
        y_test=rng.integers(0, 3, 24),
    )
    data = load_data(DataConfig(dataset="npz", path=str(path)))
    assert data.image_shape == (16, 16, 1) and len(data.test) == 24 and data.class_names == ["0", "1", "2"]
    assert main(train_args(tmp_path / "out", "data.dataset=npz", f"data.path={path}")) == 0
    run_dir = next((tmp_path / "out").iterdir())
    assert main(["plot-latent", "--run", str(run_dir)]) == 0


def test_npz_float_without_test_set_is_split(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, x_train=np.random.default_rng(2).uniform(size=(50, 8, 8, 3)).astype("float32"))
    data = load_data(DataConfig(dataset="npz", path=str(path), validation_split=0.2))
    assert len(data.train) == 40 and len(data.test) == 10 and data.train.images.dtype == np.float32
    np.savez(tmp_path / "bad.npz", x_train=np.full((4, 8, 8), 3.0))
    with pytest.raises(DataError, match="outside \\[0, 1\\]"):
        load_data(DataConfig(dataset="npz", path=str(tmp_path / "bad.npz")))
    np.savez(tmp_path / "none.npz", images=np.zeros((4, 8, 8)))
    with pytest.raises(DataError, match="has no x_train array \\(it has: images\\)"):
        load_data(DataConfig(dataset="npz", path=str(tmp_path / "none.npz")))


@pytest.mark.slow
def test_mirrored_over_two_cpu_devices_matches_single_device(data_dir, tmp_path):
    """Same global batch and seed: the two-replica loss curve follows the single-device one."""
    histories = {}
    for name, extra in (
        ("single", []),
        ("mirrored", ["train.distribute=mirrored", "train.devices=['/cpu:0', '/cpu:1']"]),
    ):
        args = train_args(
            tmp_path / name,
            "train.epochs=3",
            "train.batch_size=32",
            "train.precision=float32",
            "train.early_stopping_patience=null",
            *extra,
        ) + ["--data-dir", str(data_dir)]
        result = subprocess.run(
            [sys.executable, "-m", "vae_cli", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "VAE_DATA_DIR": ""},
        )
        assert result.returncode == 0, result.stderr[-3000:]
        run_dir = next((tmp_path / name).iterdir())
        rows = (run_dir / "history.csv").read_text().splitlines()[1:]
        histories[name] = np.array([[float(v) for v in r.split(",")[1:4]] for r in rows])  # loss, recon, kl
        if name == "mirrored":
            assert json.loads((run_dir / "run.json").read_text())["distribute"]["devices"] == ["/cpu:0", "/cpu:1"]
    single, mirrored = histories["single"], histories["mirrored"]
    assert single.shape == mirrored.shape == (3, 3)
    np.testing.assert_allclose(mirrored[:, 0], single[:, 0], rtol=0.02)  # total loss per epoch
    assert mirrored[-1, 0] < mirrored[0, 0]  # and it learns


def test_images_over_the_pixel_cap_need_image_size(tmp_path):
    from PIL import Image

    for i in range(2):
        Image.new("L", (600, 600), 255 * i).save(tmp_path / f"{i}.png")
    with pytest.raises(DataError, match="are 600x600, over the 262,144 pixels a model takes; set data.image_size"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path)))
    resized = load_data(DataConfig(dataset="image_folder", path=str(tmp_path), image_size=[28, 28]))
    assert resized.image_shape == (28, 28, 1) and resized.test.images.shape[1:] == (28, 28, 1)


def test_too_many_classes_are_refused(tmp_path, monkeypatch):
    from PIL import Image

    from vae_cli.data import userdata

    monkeypatch.setattr(userdata, "MAX_CLASSES", 2)
    for name in "abc":
        (tmp_path / name).mkdir()
        Image.new("L", (8, 8)).save(tmp_path / name / "0.png")
    with pytest.raises(DataError, match="has 3 class sub-folders, over the 2 a dataset may have"):
        load_data(DataConfig(dataset="image_folder", path=str(tmp_path)))


def test_npz_headers_are_checked_before_any_array_is_read(tmp_path, monkeypatch):
    import io
    import zipfile

    from vae_cli.data import npzfile

    def never(*args, **kwargs):
        raise AssertionError("an array was read before its header was checked")

    buffer = io.BytesIO()
    header = {"descr": "|u1", "fortran_order": False, "shape": (10**6, 1000, 1000)}
    np.lib.format.write_array_header_1_0(buffer, header)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_test.npy", np.zeros(1, np.uint8).tobytes())  # not an array at all
        archive.writestr("x_train.npy", buffer.getvalue())
    monkeypatch.setattr(npzfile.npy, "read_array", never)
    with pytest.raises(DataError, match=r"x_train declares shape \(1000000, 1000, 1000\) of uint8"):
        load_data(DataConfig(dataset="npz", path=str(path)))


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda f: f.write(b"hello"), "cannot read .* as .npz \\(a zip archive of arrays\\)"),
        (lambda f: np.savez(f, x_train=np.array([{}, 1], dtype=object)), "x_train holds object"),
        (lambda f: np.savez(f, x_train=np.zeros((4, 8, 8), "complex64")), "x_train holds complex64"),
        (lambda f: np.savez(f, x_train=np.zeros((4, 8, 8), np.uint8), y_train=[-1, 0, 1, 2]), "non-negative"),
        (lambda f: np.save(f, np.zeros((4, 8, 8), np.uint8)), "is a single .npy array, not an .npz archive"),
    ],
)
def test_npz_files_that_are_not_image_arrays(tmp_path, write, message):
    path = tmp_path / "d.npz"
    with path.open("wb") as f:  # np.save would add .npy to a name
        write(f)
    with pytest.raises(DataError, match=message):
        load_data(DataConfig(dataset="npz", path=str(path)))
