"""Integration tests on the real datasets in $VAE_DATA_DIR (skipped with the reason when unset)."""

import json

import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import real_data_dir

from vae_cli.cli.main import main
from vae_cli.config import DataConfig
from vae_cli.data.load import load_data

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_real_dataset_loads(name):
    data = load_data(DataConfig(dataset=name, data_dir=str(real_data_dir())))
    # 5,000 of the 60,000 training images are held out for validation; the test set stays whole.
    assert data.train.images.shape == (55000, 28, 28, 1) and data.test.images.shape == (10000, 28, 28, 1)
    assert data.validation.images.shape == (5000, 28, 28, 1)
    assert sorted(np.unique(data.validation.labels)) == list(range(10))
    assert sorted(np.unique(data.train.labels)) == list(range(10))
    counts = np.bincount(data.test.labels)
    assert counts.min() >= 850  # every class present in the test set
    assert data.train.images.max() == 255 and 0.1 < data.train.images.mean() / 255 < 0.35


def test_short_mnist_training_then_sample_and_plot_latent(tmp_path, capsys):
    folder = real_data_dir()
    out_dir = tmp_path / "outputs"
    code = main(
        [
            "train",
            "--config",
            "configs/mnist.yaml",
            "--data-dir",
            str(folder),
            "--set",
            "data.limit=6000",
            "--set",
            "train.epochs=2",
            "--set",
            f"output.dir={out_dir}",
        ]
    )
    assert code == 0
    (run_dir,) = out_dir.iterdir()
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["dataset"]["train_images"] == 6000 and manifest["dataset"]["test_images"] == 10000
    assert manifest["dataset"]["splits"] == {"train": 6000, "validation": 5000, "test": 10000}
    # Two epochs on 6,000 images already beat the 543 nats of a decoder that outputs 0.5 everywhere.
    assert manifest["test"]["negative_elbo"] < 230
    capsys.readouterr()

    assert main(["sample", "--grid", "15", "--output-dir", str(out_dir), "--out", str(tmp_path / "g.png")]) == 0
    assert main(["plot-latent", "--output-dir", str(out_dir), "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out.split()
    assert out == [str(tmp_path / "g.png"), str(run_dir / "latent.png")]
    grid = mpimg.imread(tmp_path / "g.png")
    at_training = mpimg.imread(run_dir / "grid.png")  # drawn by Keras; g.png by ONNX Runtime on the run's copy
    assert grid.shape == at_training.shape and np.abs(grid - at_training).max() <= 1 / 255 + 1e-6
    assert np.mean(grid != at_training) < 1e-3  # a few pixels on an 8-bit level's edge, one level apart
    assert grid.std() > 0.1
    assert mpimg.imread(run_dir / "latent.png").std() > 0.05
