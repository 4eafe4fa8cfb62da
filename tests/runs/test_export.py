"""``vae export``: every format loaded back in its own runtime, outputs matching the Keras models'."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.runs import export
from vae_cli.runs.modelfile import load_model

pytestmark = pytest.mark.slow

FORMATS = ["keras", "savedmodel", "tflite", "onnx"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("export")
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out}", "--set", "model.latent_dim=3"]
    for item in TINY_MODEL + ["train.epochs=1", "train.batch_size=32"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = out.iterdir()
    return run


@pytest.fixture(scope="module")
def exported(run_dir):
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        args = ["export", "--run", str(run_dir), "--json"]
        assert main(args + [a for f in FORMATS for a in ("--format", f)]) == 0
    return json.loads(stdout.getvalue())


def temporaries(folder):
    """What an export leaves in flight: hidden files and folders other than the export's lock."""
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def outputs(model, x):
    return export.as_list(model(x, training=False))


def load_in_runtime(fmt, path, x):
    """The file loaded the way a user of that runtime would, without this package."""
    if fmt == "keras":
        import keras

        return outputs(keras.saving.load_model(path, safe_mode=True, compile=False), x)
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        return export.as_list(loaded.serve(tf.constant(x)))
    if fmt == "tflite":
        import tensorflow as tf

        interpreter = tf.lite.Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
        result = runner(**{next(iter(runner.get_input_details())): x})
        return [result[f"output_{i}"] for i in range(len(result))]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def test_the_command_reports_each_file_and_its_difference(exported, run_dir):
    rows = exported["exports"]
    assert [(r["model"], r["format"]) for r in rows] == [(m, f) for m in ("encoder", "decoder") for f in FORMATS]
    for row in rows:
        assert row["matches"] and 0 <= row["max_abs_diff"] <= exported["tolerance"]
        assert row["path"].startswith(str(run_dir / "export"))


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_loads_in_its_runtime_and_matches_keras(exported, run_dir, fmt):
    rng = np.random.default_rng(42)  # other inputs than the command's own check
    inputs = {
        "encoder": rng.random((5, 28, 28, 1)).astype("float32"),
        "decoder": (2 * rng.standard_normal((5, 3))).astype("float32"),
    }
    for name in ("encoder", "decoder"):
        (row,) = [r for r in exported["exports"] if r["model"] == name and r["format"] == fmt]
        expected = outputs(load_model(run_dir / f"{name}.h5"), inputs[name])
        got = load_in_runtime(fmt, row["path"], inputs[name])
        assert len(got) == len(expected) == (2 if name == "encoder" else 1)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, atol=1e-5)


def test_onnx_outputs_are_named_as_in_keras(exported, run_dir):
    import onnxruntime

    for name in ("encoder", "decoder"):
        path = run_dir / "export" / f"{name}.onnx"
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        expected = load_model(run_dir / f"{name}.h5").output_names
        assert (
            [o.name for o in session.get_outputs()]
            == expected
            == (["z_mean", "z_log_var"] if name == "encoder" else ["x_prob"])
        )
        if name == "encoder":  # a client asks for an output by the name it means
            (z_mean,) = session.run(["z_mean"], {session.get_inputs()[0].name: np.zeros((1, 28, 28, 1), "float32")})
            assert z_mean.shape == (1, 3)


def test_the_run_folder_holds_keras_files_beside_the_h5_files(run_dir):
    import keras

    import vae_cli.layers  # noqa: F401 - vae.keras holds the custom layers, as vae.h5 does

    for name in ("encoder", "decoder", "vae"):
        native = keras.saving.load_model(run_dir / f"{name}.keras", safe_mode=True, compile=False)
        for a, b in zip(native.get_weights(), load_model(run_dir / f"{name}.h5").get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_text_output_is_a_table(capsys, run_dir):
    assert main(["export", "--run", str(run_dir)]) == 0  # default: keras
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["model", "format", "file", "max"]
    assert [line.split()[:2] for line in lines[1:]] == [["encoder", "keras"], ["decoder", "keras"]]


def test_a_missing_onnx_converter_is_one_line_and_writes_nothing(capsys, run_dir, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("export"))
    monkeypatch.setitem(__import__("sys").modules, "tf2onnx", None)  # import tf2onnx now raises ImportError
    code = main(["export", "--run", str(copy), "--format", "keras", "--format", "onnx"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "ONNX export needs tf2onnx and onnxruntime (tf2onnx is not installed)" in err
    assert "pip install --force-reinstall vae-cli" in err
    assert not (copy / "export").exists()


def test_a_file_that_differs_from_keras_fails_the_command(capsys, run_dir, monkeypatch):
    real = export._RUNNERS["tflite"]
    monkeypatch.setitem(export._RUNNERS, "tflite", lambda path, x, names: [o + 0.01 for o in real(path, x, names)])
    code = main(["export", "--run", str(run_dir), "--format", "tflite"])
    out, err = capsys.readouterr()
    assert code == 1 and "1.00e-02" in out
    assert re.search(r"coder\.tflite differs from the Keras (en|de)coder by 1\.00e-02 \(more than 0\.0001\)", err)
    assert err.count("\n") == 1


def test_a_converter_failure_is_one_line_naming_the_versions(capsys, run_dir, exported, monkeypatch):
    import keras

    real = keras.Model.export

    def broken_onnx(self, filepath, format="tf_saved_model", **kwargs):
        if format == "onnx":
            raise ValueError("Unsupported op: FancyOp\nmore detail")
        return real(self, filepath, format=format, **kwargs)

    monkeypatch.setattr(keras.Model, "export", broken_onnx)
    code = main(["export", "--run", str(run_dir), "--format", "onnx"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "ONNX export failed: tf2onnx" in err and "under TensorFlow 2." in err and "(Unsupported op: FancyOp)" in err
    assert not temporaries(run_dir / "export")


def test_a_second_savedmodel_export_replaces_the_folder(capsys, run_dir, exported):
    marker = run_dir / "export" / "decoder_savedmodel" / "stale"
    marker.write_text("from an earlier export")
    assert main(["export", "--run", str(run_dir), "--format", "savedmodel"]) == 0
    assert not marker.exists() and (run_dir / "export" / "decoder_savedmodel" / "saved_model.pb").is_file()
    assert not temporaries(run_dir / "export")


def test_a_savedmodel_folder_has_the_umasks_permissions(capsys, run_dir):
    previous = os.umask(0o022)
    try:
        assert main(["export", "--run", str(run_dir), "--format", "savedmodel"]) == 0
    finally:
        os.umask(previous)
    for model in ("encoder", "decoder"):
        assert stat.S_IMODE((run_dir / "export" / f"{model}_savedmodel").stat().st_mode) == 0o755


def test_a_conditional_run_exports_both_inputs_of_each_model(capsys, data_dir, tmp_path):
    """A cvae's encoder takes [image, label] and its decoder [z, label]: every runtime is fed both."""
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path}", "--set", "model.kind=cvae"]
    for item in TINY_MODEL + ["train.epochs=1", "train.batch_size=32", "output.tensorboard=false"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    capsys.readouterr()
    assert main(["export", "--run", str(run), "--json", *[a for f in FORMATS for a in ("--format", f)]]) == 0
    rows = json.loads(capsys.readouterr().out)["exports"]
    assert [(r["model"], r["format"]) for r in rows] == [(m, f) for m in ("encoder", "decoder") for f in FORMATS]
    assert all(r["max_abs_diff"] <= 1e-4 for r in rows)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(run / "export" / "decoder.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "label"]


def test_a_linked_export_folder_is_refused_and_nothing_written_through_it(capsys, run_dir, exported, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "encoder.keras").write_text("keep")
    (run_dir / "export").rename(tmp_path / "export.kept")
    (run_dir / "export").symlink_to(victim)
    try:
        code = main(["export", "--run", str(run_dir), "--format", "keras", "--format", "savedmodel"])
    finally:
        (run_dir / "export").unlink()
        (tmp_path / "export.kept").rename(run_dir / "export")
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{run_dir / 'export'} is a symbolic link; vae writes nothing through links in a run folder" in err
    assert [p.name for p in victim.iterdir()] == ["encoder.keras"] and (victim / "encoder.keras").read_text() == "keep"


def test_links_in_the_place_of_exported_files_are_replaced_not_followed(capsys, run_dir, exported, tmp_path):
    victim_file, victim_folder = tmp_path / "victim.keras", tmp_path / "victim_folder"
    victim_file.write_text("keep")
    victim_folder.mkdir()
    (victim_folder / "keep").write_text("keep")
    links = {"encoder.keras": victim_file, "encoder_savedmodel": victim_folder, "decoder_savedmodel": tmp_path / "gone"}
    for name, target in links.items():
        path = run_dir / "export" / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        path.symlink_to(target)
    assert main(["export", "--run", str(run_dir), "--format", "keras", "--format", "savedmodel"]) == 0
    assert victim_file.read_text() == "keep" and [p.name for p in victim_folder.iterdir()] == ["keep"]
    for name in links:
        assert not (run_dir / "export" / name).is_symlink()
    assert (run_dir / "export" / "decoder_savedmodel" / "saved_model.pb").is_file()


def test_exports_of_one_run_at_once_take_turns(run_dir, tmp_path):
    """Three exports started together while a fourth holds the run's export lock: each waits, saying so,
    then all end well (run at once, they swapped SavedModel folders under each other's reads)."""
    from vae_cli.runs.lock import RunLock

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "vae_cli", "export", "--run", str(run_dir), "--format", "savedmodel"]
    logs = [tmp_path / f"export{i}.err" for i in range(3)]
    (run_dir / "export").mkdir(exist_ok=True)
    with RunLock(run_dir / "export"):
        procs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, env=env) for log in logs
        ]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and any(proc.poll() is None for proc in procs):
            if all("waiting for another export" in log.read_text() for log in logs):
                break
            time.sleep(0.5)
    outs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, out, log in zip(procs, outs, logs, strict=True):
        err = log.read_text()
        assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
        assert f"vae export: note: waiting for another export of this run to end (pid {os.getpid()})" in err
        assert [line.split()[:2] for line in out.splitlines()[1:]] == [
            ["encoder", "savedmodel"],
            ["decoder", "savedmodel"],
        ]
    assert not temporaries(run_dir / "export")


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite"])
def test_a_full_disk_while_exporting_is_one_line_naming_the_file(capsys, run_dir, exported, monkeypatch, fmt):
    import errno

    import keras
    import tensorflow as tf

    def full(self, filepath, format="tf_saved_model", **kwargs):
        if format == "tf_saved_model":  # as SavedModel's variable writer reports it
            raise tf.errors.ResourceExhaustedError(None, None, "No space left on device [Op:SaveV2]")
        raise OSError(errno.ENOSPC, "No space left on device")  # a writer that names no file

    monkeypatch.setattr(keras.Model, "export", full)
    code = main(["export", "--run", str(run_dir), "--format", fmt])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    name = "encoder_savedmodel" if fmt == "savedmodel" else "encoder.tflite"
    assert f"{run_dir / 'export' / name}: No space left on device" in err[0], err
