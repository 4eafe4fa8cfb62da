"""A data source registered at run time, from outside the package: checked by the config, trained on, drawn from."""

import json

import numpy as np
import pytest

from vae_cli.cli.main import main
from vae_cli.config import load_config
from vae_cli.data.types import Data, Split
from vae_cli.errors import ConfigError
from vae_cli.sources import SOURCES


class Squares:
    """8x8 grey images in memory, two classes: a bright square at the top left or at the bottom right."""

    name = "toy_squares"
    title = "Toy squares"
    class_names = ["top left", "bottom right"]
    user_images = False

    def load(self, data_cfg, splits=("train", "test"), seed=0):
        rng = np.random.default_rng(seed)

        def split(count):
            labels = rng.integers(0, 2, count)
            images = rng.integers(0, 40, (count, 8, 8, 1)).astype(np.uint8)
            for image, label in zip(images, labels, strict=True):
                image[4 * label : 4 * label + 4, 4 * label : 4 * label + 4] = 255
            return Split(images, labels.astype(np.int64))

        return Data(self.name, self.title, self.class_names, split(64), split(16), "memory", (8, 8, 1))

    def local_folder(self, data_cfg):
        return None


@pytest.fixture
def squares():
    SOURCES.register(Squares())
    yield
    SOURCES.unregister(Squares.name)


def test_an_unregistered_name_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError) as raised:
        load_config(None, [("data.dataset", "toy_squares")])
    assert str(raised.value) == (
        "data.dataset: must be one of mnist | fashion_mnist | image_folder | npz | sprites, got 'toy_squares'"
    )


def test_a_registered_source_is_trained_on_sampled_and_shown(squares, tmp_path, capsys):
    assert load_config(None, [("data.dataset", "toy_squares")]).data.dataset == "toy_squares"
    out_dir = tmp_path / "outputs"
    args = ["train", "--set", "data.dataset=toy_squares", "--set", f"output.dir={out_dir}"]
    for item in ("model.architecture=mlp", "model.hidden_units=[8]", "train.epochs=1", "train.batch_size=16"):
        args += ["--set", item]
    assert main(args) == 0
    (run_dir,) = out_dir.iterdir()
    assert run_dir.name.startswith("toy_squares")  # named after the source, not a folder or file
    dataset = json.loads((run_dir / "run.json").read_text())["dataset"]
    assert dataset["title"] == "Toy squares" and dataset["class_names"] == Squares.class_names
    assert dataset["source"] == "memory" and dataset["image_shape"] == [8, 8, 1]
    capsys.readouterr()
    assert main(["sample", "--grid", "3", "--run", str(run_dir)]) == 0
    assert (run_dir / "grid-3.png").is_file()
    assert main(["show", "--run", str(run_dir)]) == 0
    assert "dataset    toy_squares from memory: 64 train" in capsys.readouterr().out
