"""The Python API: its documented examples run as written, and each call gives what the command line would."""

import doctest
import json

import numpy as np
import pytest
from conftest import TINY_MODEL

import vae_cli.api
from vae_cli.errors import ConfigError, RequestError, RunError

pytestmark = pytest.mark.slow


def test_the_documented_examples_run(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    result = doctest.testmod(vae_cli.api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory):
    overrides = dict(item.split("=", 1) for item in TINY_MODEL)
    overrides = {key: json.loads(value) for key, value in overrides.items()} | {"train.epochs": 2}
    out = tmp_path_factory.mktemp("api")
    return vae_cli.api.train("mnist", overrides, data_dir=data_dir, output_dir=out)


def test_a_run_gives_its_records_as_plain_data(run):
    assert run.config["model"]["encoder_filters"] == [4, 8] and run.config["train"]["epochs"] == 2
    assert [row["epoch"] for row in run.history] == [1.0, 2.0]
    assert run.metrics == {} and run.summary["status"] == "complete"
    assert run.manifest["command"].startswith("vae train --config mnist --set model.encoder_filters=[4, 8]")


def test_encode_decode_sample_reconstruct(run):
    images, labels = run.test_images(5)
    assert images.shape == (5, 28, 28, 1) and labels.shape == (5,)
    z = run.encode(images)
    assert z.shape == (5, run.latent_dim)
    again = run.decode(z)
    assert np.array_equal(again, run.reconstruct(images)) and again.min() >= 0 and again.max() <= 1
    assert np.array_equal(run.sample(3, seed=1), run.sample(3, seed=1)) and run.sample(3).shape == (3, 28, 28, 1)


def test_each_figure_is_a_matplotlib_figure_and_the_commands_file(run):
    from matplotlib.figure import Figure

    for name, figure in [
        ("grid-7.png", run.grid(7)),
        ("random-9-seed0.png", run.samples(9)),
        ("latent.png", run.latent_scatter()),
        ("reconstructions-4-seed0.png", run.reconstructions(4)),
        (None, run.interpolation(0, 1)),
        (None, run.traversal()),
        (None, run.loss_curves()),
    ]:
        assert isinstance(figure, Figure) and figure.axes, name
        assert name is None or (run.dir / name).is_file(), name


def test_errors_are_the_command_lines(run, tmp_path):
    with pytest.raises(ConfigError, match="no built-in config"):
        vae_cli.api.train("mnsit")
    with pytest.raises(RunError):
        vae_cli.api.open_run(tmp_path / "nothing")
    with pytest.raises(RequestError, match="at least 1"):
        run.grid(0)
    with pytest.raises(RequestError, match="at least 2"):
        run.interpolation(steps=1)
