"""The validation split: held out of the MNIST training images with train.seed, never the test set."""

import numpy as np
import pytest
from conftest import write_dataset

from vae_cli.config import DataConfig
from vae_cli.data import mnist
from vae_cli.data.load import load_data
from vae_cli.data.validation import held_out_count


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("v") / "mnist", train=500, test=40)


def load(folder, seed=0, **settings):
    return load_data(DataConfig(data_dir=str(folder), **settings), seed=seed)


def rows(images):
    return {image.tobytes() for image in images}


def test_validation_images_come_out_of_the_training_images(idx_dir):
    full = mnist.MNIST.read(DataConfig(data_dir=str(idx_dir))).train  # the file's 500 training images
    data = load(idx_dir, validation_size=60)
    assert (len(data.train), len(data.validation), len(data.test)) == (440, 60, 40)
    assert data.splits() == {"train": 440, "validation": 60, "test": 40}
    assert not rows(data.train.images) & rows(data.validation.images)
    assert rows(data.train.images) | rows(data.validation.images) == rows(full.images)
    assert sorted(np.concatenate([data.train.labels, data.validation.labels])) == sorted(full.labels)
    assert data.held_out() is data.validation  # early stopping looks here, not at the test set
    assert "validation: 60 of the 500 training images, drawn with train.seed 0" in data.split_rule


def test_the_split_is_a_function_of_the_seed(idx_dir):
    a, b, c = load(idx_dir, 0), load(idx_dir, 0), load(idx_dir, 1)
    np.testing.assert_array_equal(a.validation.images, b.validation.images)
    assert a.checksum() == b.checksum()  # a resumed run finds the same split
    assert not np.array_equal(a.validation.labels, c.validation.labels) or not np.array_equal(
        a.validation.images, c.validation.images
    )
    assert a.checksum() != c.checksum()  # the checksum names the exact images trained on


def test_at_most_a_fifth_is_held_out_and_limit_takes_from_the_rest(idx_dir):
    assert held_out_count(60000, 5000) == 5000 and held_out_count(500, 5000) == 100 and held_out_count(3, 5000) == 1
    data = load(idx_dir, limit=50)  # default validation_size 5000: a fifth of the 500
    assert (len(data.train), len(data.validation)) == (50, 100)


def test_figure_commands_loading_the_test_split_hold_nothing_out(idx_dir):
    data = load_data(DataConfig(data_dir=str(idx_dir)), ("test",))
    assert data.validation is None and len(data.test) == 40 and data.held_out() is data.test


def test_npz_keeps_its_own_rule_recorded_the_same_way(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "own.npz", x_train=rng.integers(0, 255, (30, 8, 8), np.uint8))
    data = load_data(DataConfig(dataset="npz", path=str(tmp_path / "own.npz"), validation_split=0.2), seed=3)
    assert data.validation is None and data.held_out() is data.test
    assert data.splits() == {"train": 24, "validation": 6, "test": 6}
    assert data.split_rule.startswith("validation and test: the same 6 of the 30 images")
    np.savez(tmp_path / "both.npz", x_train=np.zeros((5, 8, 8), np.uint8), x_test=np.zeros((2, 8, 8), np.uint8))
    assert load_data(DataConfig(dataset="npz", path=str(tmp_path / "both.npz"))).split_rule == (
        "validation and test: x_test"
    )


def test_validation_size_0_trains_on_every_image_and_the_test_set_chooses_nothing(idx_dir):
    data = load(idx_dir, validation_size=0)
    assert data.validation is None and len(data.train) == 500 and data.held_out() is data.test
    assert data.splits() == {"train": 500, "validation": 40, "test": 40}
    assert data.split_rule.startswith("no validation split (data.validation_size 0): every training image trains")
    assert held_out_count(60000, 0) == 0


def test_validation_size_0_refuses_early_stopping_in_one_line():
    from vae_cli.config import resolve_config
    from vae_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="with data.validation_size 0 there is no validation split, and the test set"):
        resolve_config("mnist", [("data.validation_size", 0)])
    cfg, _ = resolve_config("mnist", [("data.validation_size", 0), ("train.early_stopping_patience", None)])
    assert cfg.data.validation_size == 0 and cfg.train.early_stopping_patience is None


def test_sprites_with_validation_size_0_hold_nothing_out():
    from vae_cli.data.sprites import SPRITES

    data = SPRITES.load(DataConfig(dataset="sprites", validation_size=0, limit=64))
    assert data.validation is None and len(data.train) == 64 and data.held_out() is data.test


@pytest.mark.slow
def test_show_says_a_run_without_a_validation_split_has_none(tiny_args, tmp_path, capsys):
    from vae_cli.cli.main import main

    args = [*tiny_args, "--set", "data.validation_size=0", "--set", "train.early_stopping_patience=null"]
    assert main([*args, "--set", "train.epochs=1"]) == 0
    (run,) = (tmp_path / "outputs").iterdir()
    capsys.readouterr()
    assert main(["show", "--run", str(run)]) == 0
    assert "192 train / no validation (the test set's losses in its place) / 64 test images" in capsys.readouterr().out
