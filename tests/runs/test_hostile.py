"""Broken and hostile input: one clear line, a non-zero exit, nothing overwritten."""

import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from vae_cli.cli.main import main
from vae_cli.errors import RunError
from vae_cli.runs.modelfile import load_model


def one_line_error(capsys, args, code=1):
    got = main(args)
    err = capsys.readouterr().err
    assert got == code, err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def lambda_model():
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_lambda_layers_are_refused_under_safe_mode(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    lambda_model().save(path)
    with pytest.raises(RunError, match="cannot load model .*(Lambda|lambda)"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_unknown_classes_are_refused(tmp_path, suffix):
    @keras.saving.register_keras_serializable(package="stranger")
    class Stranger(keras.layers.Layer):
        def call(self, x):
            return x

    inputs = keras.Input((2,))
    keras.Model(inputs, Stranger()(inputs)).save(tmp_path / f"model{suffix}")
    keras.saving.get_custom_objects().pop("stranger>Stranger")
    with pytest.raises(RunError, match="cannot load model"):
        load_model(tmp_path / f"model{suffix}")


def copy_run(trained_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, data_dir):
    from conftest import TINY_MODEL

    out_dir = tmp_path_factory.mktemp("hostile")
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out_dir}", "--set", "train.epochs=1"]
    for item in TINY_MODEL:
        args += ["--set", item]
    assert main(args) == 0
    return next(out_dir.iterdir())


@pytest.mark.slow
def test_a_decoder_from_elsewhere_with_a_lambda_is_refused_by_sample(capsys, trained_run, tmp_path):
    run_dir = copy_run(trained_run, tmp_path)
    (run_dir / "decoder.h5").unlink()
    lambda_model().save(run_dir / "decoder.h5")
    before = (run_dir / "grid.png").read_bytes()
    err = one_line_error(capsys, ["sample", "--run", str(run_dir)])
    assert "cannot load model" in err and "decoder.h5" in err
    assert (run_dir / "grid.png").read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"GIF89a not hdf5", None])
def test_truncated_or_foreign_model_files(capsys, trained_run, tmp_path, content):
    run_dir = copy_run(trained_run, tmp_path)
    data = (run_dir / "encoder.h5").read_bytes()
    (run_dir / "encoder.h5").write_bytes(data[: len(data) // 2] if content is None else content)
    err = one_line_error(capsys, ["plot-latent", "--run", str(run_dir)])
    assert "cannot load model" in err and "encoder.h5" in err


def test_run_option_on_a_folder_that_is_not_a_run(capsys, tmp_path):
    (tmp_path / "decoder.h5").write_bytes(b"")
    err = one_line_error(capsys, ["sample", "--run", str(tmp_path)])
    assert "is not a vae run folder" in err


@pytest.mark.slow
def test_damaged_manifest(capsys, trained_run, tmp_path):
    run_dir = copy_run(trained_run, tmp_path)
    (run_dir / "run.json").write_text("{not json")
    assert "cannot read" in one_line_error(capsys, ["sample", "--run", str(run_dir)])


@pytest.mark.slow
def test_missing_or_damaged_run_config(capsys, trained_run, tmp_path):
    run_dir = copy_run(trained_run, tmp_path)
    (run_dir / "config.yaml").unlink()
    assert "has no config.yaml; the run folder is damaged" in one_line_error(capsys, ["sample", "--run", str(run_dir)])
    (run_dir / "config.yaml").write_text("model:\n  latent_dimm: 2\n")
    err = one_line_error(capsys, ["sample", "--run", str(run_dir)])
    assert "config.yaml is damaged or from another version" in err and "latent_dimm" in err


def test_output_folder_that_cannot_be_created(capsys, data_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    err = one_line_error(capsys, ["train", "--data-dir", str(data_dir), "--set", f"output.dir={blocker}/runs"])
    assert "cannot create output folder" in err and "set output.dir to a writable folder" in err


@pytest.mark.parametrize("name", ["../escape", "/etc", "a/b", "..", ".hidden"])
def test_run_names_cannot_escape_the_output_folder(capsys, data_dir, tmp_path, name):
    err = one_line_error(
        capsys,
        ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path}", "--set", f"output.name={name}"],
    )
    assert "is not a plain folder name" in err
    assert list(tmp_path.iterdir()) == []


def test_unreadable_dataset_file_names_the_file(capsys, tmp_path):
    from conftest import write_dataset

    folder = write_dataset(tmp_path / "d", train=8, test=4)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    err = one_line_error(capsys, ["train", "--data-dir", str(folder), "--set", f"output.dir={tmp_path}/out"])
    assert "train-images-idx3-ubyte.gz" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_failed_run_never_touches_an_earlier_one(capsys, trained_run, data_dir):
    before = {p.name: p.read_bytes() for p in trained_run.iterdir() if p.is_file()}
    one_line_error(
        capsys,
        [
            "train",
            "--data-dir",
            str(data_dir),
            "--set",
            f"output.dir={trained_run.parent}",
            "--set",
            "model.latent_dim=0",
        ],
        code=2,
    )
    assert {p.name: p.read_bytes() for p in trained_run.iterdir() if p.is_file()} == before
    assert len(list(trained_run.parent.iterdir())) == 1
    np.testing.assert_array_equal(
        load_model(trained_run / "decoder.h5").get_weights()[0],
        load_model(trained_run / "vae.h5").get_layer("decoder").get_weights()[0],
    )


@pytest.mark.slow
def test_every_file_of_a_run_is_made_with_the_umask(trained_run):
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.relative_to(trained_run): p.stat().st_mode & 0o777 for p in trained_run.rglob("*") if p.is_file()}
    assert Path("checkpoint.h5") in modes and Path("samples/epoch_001.png") in modes
    assert set(modes.values()) == {0o666 & ~umask}, modes


@pytest.mark.slow
def test_a_linked_samples_folder_stops_a_resume_before_anything_is_written(capsys, trained_run, tmp_path):
    run_dir = copy_run(trained_run, tmp_path)
    manifest = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run_dir / "samples", elsewhere)
    (run_dir / "samples").symlink_to(elsewhere)
    before = sorted(elsewhere.iterdir())
    err = one_line_error(capsys, ["train", "--resume", str(run_dir)])
    assert "samples is a symbolic link" in err
    assert sorted(elsewhere.iterdir()) == before


@pytest.mark.slow
def test_a_figure_replaces_a_link_in_its_place_and_never_writes_through_it(capsys, trained_run, tmp_path):
    run_dir = copy_run(trained_run, tmp_path)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not yours")
    (run_dir / "grid.png").unlink()
    (run_dir / "grid.png").symlink_to(outside)
    assert main(["sample", "--run", str(run_dir)]) == 0
    assert outside.read_bytes() == b"not yours"
    assert not (run_dir / "grid.png").is_symlink() and (run_dir / "grid.png").read_bytes()[:4] == b"\x89PNG"
