"""The TensorBoard log of a run, read back with TensorBoard's own event reader."""

import csv
import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from vae_cli.cli.main import main
from vae_cli.training import board

SCALARS = ("epoch_loss", "epoch_reconstruction_loss", "epoch_kl_loss", "epoch_objective")


def read(log_dir):
    """{tag: {step: value}} of every tensor summary in ``log_dir`` (one TensorBoard run), with plugins."""
    acc = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    acc.Reload()
    found, plugins = {}, {}
    for tag in acc.Tags()["tensors"]:
        plugins[tag] = acc.SummaryMetadata(tag).plugin_data.plugin_name
        found[tag] = {}
        for event in acc.Tensors(tag):
            assert event.step not in found[tag], f"{tag}: step {event.step} logged twice"
            found[tag][event.step] = event.tensor_proto
    return found, plugins


def scalar(proto):
    from tensorboard.util import tensor_util

    return float(tensor_util.make_ndarray(proto))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_dir):
    from conftest import TINY_MODEL

    out = tmp_path_factory.mktemp("tb")
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out}", "--set", "train.kl_warmup_epochs=2"]
    for item in TINY_MODEL + ["train.epochs=2", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = out.iterdir()
    return run


@pytest.mark.slow
def test_scalars_match_the_history(run_dir):
    history = list(csv.DictReader((run_dir / "history.csv").open()))
    train, plugins = read(run_dir / "tensorboard" / "train")
    validation, _ = read(run_dir / "tensorboard" / "validation")
    for tag in (*SCALARS, "epoch_learning_rate", "epoch_kl_weight", "epoch_seconds"):
        assert sorted(train[tag]) == [1, 2] and plugins[tag] == "scalars", tag
    for tag in SCALARS:
        assert sorted(validation[tag]) == [1, 2], tag
    for row in history:
        step = int(row["epoch"])
        for key in ("loss", "reconstruction_loss", "kl_loss"):
            assert scalar(train[f"epoch_{key}"][step]) == pytest.approx(float(row[key]), rel=1e-5)
            assert scalar(validation[f"epoch_{key}"][step]) == pytest.approx(float(row[f"val_{key}"]), rel=1e-5)
        assert scalar(train["epoch_seconds"][step]) == pytest.approx(float(row["seconds"]), rel=1e-4)
    # The KL warm-up over 2 epochs: the weight rises towards beta; the cosine schedule lowers the rate.
    weights = [scalar(train["epoch_kl_weight"][s]) for s in (1, 2)]
    assert 0 < weights[0] < weights[1] <= 1.0
    rates = [scalar(train["epoch_learning_rate"][s]) for s in (1, 2)]
    assert 0 < rates[1] < rates[0] <= 1.4e-3


@pytest.mark.slow
def test_samples_image_and_graph(run_dir):
    from tensorboard.util import tensor_util

    found, plugins = read(run_dir / "tensorboard")
    assert plugins["samples"] == "images" and sorted(found["samples"]) == [1, 2]
    width, height, png = tensor_util.make_ndarray(found["samples"][2])
    assert png.startswith(b"\x89PNG")
    assert (int(width), int(height)) == (png_size(run_dir / "samples" / "epoch_002.png"))
    graph = json.loads(tensor_util.make_ndarray(found["keras"][0]).item())
    assert plugins["keras"] == "graph_keras_model" and graph["config"]["name"] == "vae"
    assert "VAELoss" in {layer["class_name"] for layer in graph["config"]["layers"]}


def png_size(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.size


@pytest.mark.slow
def test_off_when_the_config_says_so(capsys, tiny_args, tmp_path):
    assert main(tiny_args + ["--set", "train.epochs=1", "--set", "output.tensorboard=false"]) == 0
    (run,) = (tmp_path / "outputs").iterdir()
    assert not (run / "tensorboard").exists() and (run / "decoder.h5").is_file()


def test_trim_drops_epochs_past_the_checkpoint_and_torn_records(tmp_path):
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(tmp_path / "train"))
    with writer.as_default():
        for step in (1, 2, 3):
            tf.summary.scalar("epoch_loss", float(step), step=step)
    writer.close()
    (path,) = (tmp_path / "train").iterdir()
    path.write_bytes(path.read_bytes() + b"\x10\x00\x00")  # a record cut short by a kill
    board.trim_after(tmp_path, 2)
    found, _ = read(tmp_path / "train")
    assert {step: scalar(p) for step, p in found["epoch_loss"].items()} == {1: 1.0, 2: 2.0}
    before = path.read_bytes()
    board.trim_after(tmp_path, 2)
    assert path.read_bytes() == before  # nothing past the epoch: the file is left alone


@pytest.mark.slow
def test_an_epoch_logged_but_not_checkpointed_appears_once_after_resume(data_dir, tmp_path, monkeypatch, capsys):
    import errno

    from conftest import TINY_MODEL

    from vae_cli.runs import atomic
    from vae_cli.training import checkpoint

    real, calls = atomic.atomic_write, {"n": 0}

    def fail_second_checkpoint(path, write):
        if path.name == checkpoint.FILENAME:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", fail_second_checkpoint)
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path}", "--set", "train.epochs=3"]
    for item in TINY_MODEL + ["train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    assert main(args) == 1
    (run,) = tmp_path.iterdir()
    assert sorted(read(run / "tensorboard" / "train")[0]["epoch_loss"]) == [1, 2]  # epoch 2 logged, not saved
    monkeypatch.setattr(atomic, "atomic_write", real)
    assert main(["train", "--resume", str(run)]) == 0
    for sub in ("train", "validation"):
        assert sorted(read(run / "tensorboard" / sub)[0]["epoch_loss"]) == [1, 2, 3]  # read() refuses duplicates
    assert sorted(read(run / "tensorboard")[0]["samples"]) == [1, 2, 3]


@pytest.mark.slow
def test_the_log_changes_nothing_in_training(run_dir, data_dir, tmp_path):
    import h5py
    import numpy as np
    from conftest import TINY_MODEL

    args = [
        "train",
        "--data-dir",
        str(data_dir),
        "--set",
        f"output.dir={tmp_path}",
        "--set",
        "train.kl_warmup_epochs=2",
    ]
    for item in TINY_MODEL + ["train.epochs=2", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    assert main(args + ["--set", "output.tensorboard=false"]) == 0
    (plain,) = tmp_path.iterdir()

    def variables(run):
        with h5py.File(run / "checkpoint.h5", "r") as f:
            return [f["variables"][str(i)][()] for i in range(len(f["variables"]))]

    for a, b in zip(variables(run_dir), variables(plain), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_an_autoencoder_logs_its_reconstruction_as_its_objective(tmp_path, data_dir):
    from conftest import TINY_MODEL

    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path}", "--set", "model.kind=ae"]
    for item in TINY_MODEL + ["train.epochs=1", "train.batch_size=32"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    validation, _ = read(run / "tensorboard" / "validation")
    assert "epoch_kl_loss" not in validation
    assert scalar(validation["epoch_objective"][1]) == pytest.approx(
        scalar(validation["epoch_reconstruction_loss"][1]), rel=1e-6
    )
