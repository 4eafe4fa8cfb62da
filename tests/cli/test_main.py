"""The CLI in-process through ``main([...])``: train on tiny data, then sample and plot-latent."""

import csv
import json
import signal
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest
import yaml

from vae_cli.cli.main import main


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_dir):
    """One tiny training shared by the tests that only read its run folder."""
    out_dir = tmp_path_factory.mktemp("runs")
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out_dir}", "--set", "output.name=tiny"]
    from conftest import TINY_MODEL

    for item in TINY_MODEL + ["train.epochs=2", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    assert main(args) == 0
    (run_dir,) = out_dir.iterdir()
    return run_dir


@pytest.mark.slow
def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from vae_cli.cli.main import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'heavy import'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "plot-latent" in result.stdout


@pytest.mark.parametrize("cmd", ["train", "sample", "plot-latent"])
def test_subcommand_help_shows_defaults(capsys, cmd):
    with pytest.raises(SystemExit) as info:
        main([cmd, "--help"])
    assert info.value.code == 0
    assert "(default:" in capsys.readouterr().out


def help_text(capsys, *command):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "cmd", [[], ["train"], ["sample"], ["plot-latent"], ["reconstruct"], ["interpolate"], ["traverse"], ["evaluate"]]
)
def test_help_lines_fit_100_columns_on_a_wide_terminal(capsys, monkeypatch, cmd):
    monkeypatch.setenv("COLUMNS", "250")
    lines = help_text(capsys, *cmd).splitlines()
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)


def test_train_help_spells_defaults_as_yaml(capsys):
    text = help_text(capsys, "train")
    assert "None" not in text and "True" not in text
    key_lines = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.startswith("  model.")}
    assert key_lines["model.encoder_filters"] == "null" and key_lines["model.latent_dim"] == "2"
    assert "model.hidden_units             [500, 500]" in text


def test_print_config_is_the_merged_config_with_each_source(capsys, tmp_path):
    first = tmp_path / "a.yaml"
    first.write_text("model:\n  latent_dim: 4\ntrain:\n  epochs: 5\n  beta: 2.0\n")
    second = tmp_path / "b.yaml"
    second.write_text("model:\n  latent_dim: 6\n")
    args = ["train", "--config", str(first), "--config", str(second), "--set", "train.epochs=9", "--print-config"]
    code, out, err = run(capsys, args + ["--output-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "d")])
    assert code == 0, err
    from vae_cli.config import from_dict, load_config, to_dict
    from vae_cli.yamlfile import parse_yaml

    printed = parse_yaml(out, "stdout")
    expected = load_config([first, second], [("train.epochs", 9), ("output.dir", str(tmp_path / "runs"))])
    expected.data.data_dir = str(tmp_path / "d")
    assert printed == to_dict(expected) and from_dict(printed) == expected
    source = {line.split(":")[0].strip(): line.rsplit("# ", 1)[1] for line in out.splitlines() if line[:2] == "  "}
    assert source["latent_dim"] == str(second) and source["beta"] == str(first) and source["epochs"] == "--set"
    assert source["dir"] == "--output-dir" and source["data_dir"] == "--data-dir" and source["kernel_size"] == "default"
    assert sorted(tmp_path.iterdir()) == [first, second]  # nothing trained, nothing written


@pytest.mark.slow
def test_print_config_imports_no_tensorflow():
    code = (
        "import sys; from vae_cli.cli.main import main; rc = main(['train', '--print-config']);"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'heavy import'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "latent_dim: 2" in result.stdout and "# default" in result.stdout


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("vae 0.")


@pytest.mark.slow
def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "vae_cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("vae ")


def test_run_folder_contents(trained):
    names = {p.name for p in trained.iterdir()}
    assert {
        "config.yaml",
        "run.json",
        "encoder.h5",
        "decoder.h5",
        "vae.h5",
        "history.csv",
        "loss.png",
        "grid.png",
        "latent.png",
        "samples",
        "encoder.keras",
        "decoder.keras",
        "vae.keras",
        "encoder.onnx",
        "decoder.onnx",
        "tensorboard",
    } <= names
    assert sorted(p.name for p in (trained / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    assert not [n for n in names if ".tmp" in n]
    rows = list(csv.DictReader((trained / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"):
        assert np.isfinite(float(rows[-1][key]))
    config = yaml.safe_load((trained / "config.yaml").read_text())
    assert config["model"]["encoder_filters"] == [4, 8] and config["train"]["epochs"] == 2
    manifest = json.loads((trained / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["epochs_completed"] == 2 and manifest["seed"] == 0
    assert len(manifest["dataset"]["sha256"]) == 64 and manifest["dataset"]["train_images"] == 192 - 38
    # a fifth of the 192 training images held out for validation; the test set is the dataset's own
    assert manifest["dataset"]["splits"] == {"train": 154, "validation": 38, "test": 64}
    assert set(manifest["versions"]) >= {"python", "tensorflow", "keras", "numpy"}
    assert manifest["test"]["negative_elbo"] == pytest.approx(
        manifest["test"]["reconstruction_loss"] + manifest["test"]["kl_loss"]
    )


@pytest.mark.slow
def test_train_prints_test_loss_and_where_to_look(capsys, tiny_args, tmp_path):
    code, out, err = run(capsys, tiny_args + ["--set", "train.epochs=1"])
    assert code == 0, err
    assert "Test loss:" in out and "nats per image" in out
    (run_dir,) = (tmp_path / "outputs").iterdir()
    assert f"Run folder: {run_dir}" in out and f"vae reconstruct --run {run_dir}" in out


def test_sample_writes_a_grid_that_the_reloaded_decoder_reproduces(capsys, trained, tmp_path):
    out_file = tmp_path / "again.png"
    code, out, err = run(capsys, ["sample", "--grid", "15", "--run", str(trained), "--out", str(out_file)])
    assert code == 0, err
    assert out.strip() == str(out_file)
    again, at_training = mpimg.imread(out_file), mpimg.imread(trained / "grid.png")
    # Decoded by ONNX Runtime now, by Keras at training: float32 sums in another order, so a pixel
    # on the edge of an 8-bit level may land one level away; nothing more.
    assert again.shape == at_training.shape
    assert np.abs(again - at_training).max() <= 1 / 255 + 1e-6
    assert np.mean(again != at_training) < 1e-3


def test_sample_default_out_is_in_the_run_folder(capsys, trained):
    code, out, _ = run(capsys, ["sample", "--grid", "4", "--run", str(trained)])
    assert code == 0 and out.strip() == str(trained / "grid-4.png")
    image = mpimg.imread(trained / "grid-4.png")
    assert image.shape[0] > 200 and image.std() > 0.05


def test_latest_run_is_used_without_run(capsys, trained):
    code, out, _ = run(capsys, ["sample", "--grid", "3", "--output-dir", str(trained.parent)])
    assert code == 0 and out.strip() == str(trained / "grid-3.png")


def test_plot_latent(capsys, trained, data_dir, tmp_path):
    out_file = tmp_path / "latent.png"
    code, out, err = run(
        capsys, ["plot-latent", "--run", str(trained), "--out", str(out_file), "--data-dir", str(data_dir)]
    )
    assert code == 0, err
    assert out.strip() == str(out_file)
    image = mpimg.imread(out_file)
    assert image.shape[1] > 500 and image.std() > 0.05


def test_plot_latent_reads_the_folder_the_run_was_trained_from(capsys, trained):
    code, out, err = run(capsys, ["plot-latent", "--run", str(trained)])
    assert code == 0, err
    assert out.strip() == str(trained / "latent.png")


@pytest.mark.slow
def test_plot_latent_projects_with_pca_for_larger_latents(capsys, tiny_args, data_dir, tmp_path):
    assert main(tiny_args + ["--set", "model.latent_dim=4", "--set", "train.epochs=1"]) == 0
    (run_dir,) = (tmp_path / "outputs").iterdir()
    capsys.readouterr()
    code, out, err = run(capsys, ["plot-latent", "--run", str(run_dir), "--data-dir", str(data_dir)])
    assert code == 0, err
    assert mpimg.imread(run_dir / "latent.png").std() > 0.05


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["train", "--config", "nope.yaml"], 2, "config file nope.yaml does not exist"),
        (["train", "--resume", "{tmp}", "--output-dir", "{tmp}"], 2, "drop --config, --set and --output-dir"),
        (["train", "--resume", "{tmp}", "--print-config"], 2, "--print-config shows a new run's config"),
        (["train", "--set", "model.latent_dimm=3"], 2, "unknown config key model.latent_dimm"),
        (["train", "--set", "train.epochs=0"], 2, "train.epochs: must be >= 1"),
        (["train", "--data-dir", "/nonexistent/data"], 1, "data folder /nonexistent/data does not exist"),
        (["train", "--set", "output.name=../escape", "--data-dir", "{data}"], 1, "is not a plain folder name"),
        (["sample", "--output-dir", "{tmp}/empty"], 1, "no trained run found under"),
        (["sample", "--run", "{tmp}"], 1, "is not a vae run folder"),
        (["plot-latent", "--run", "{tmp}/missing"], 1, "does not exist"),
    ],
)
def test_user_errors_are_one_line_without_traceback(capsys, tmp_path, data_dir, args, code, message):
    args = [a.format(tmp=tmp_path, data=data_dir) for a in args]
    got, out, err = run(capsys, args)
    assert got == code
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "outputs").exists()


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sample", "--grid", "0"])
    assert info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_broken_decoder_is_reported(capsys, trained, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "decoder.h5").write_bytes(b"garbage")
    code, _, err = run(capsys, ["sample", "--run", str(broken)])
    assert code == 1 and "cannot load model" in err and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_outside_training_is_one_line_and_exit_143():
    script = (
        "import time; from vae_cli.cli import main as m; from vae_cli.cli.commands import show\n"
        "def busy(args):\n    print('busy', flush=True); time.sleep(600)\n"
        "show.run = busy\nraise SystemExit(m.main(['show']))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "busy"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err == "vae show: stopped by SIGTERM\n"


def test_tsne_on_a_2d_run_draws_it_as_is_under_a_name_that_says_so(capsys, trained):
    code, out, err = run(capsys, ["plot-latent", "--method", "tsne", "--run", str(trained)])
    assert code == 0, err
    assert out.strip() == str(trained / "latent-2d-test.png")
    assert "the latent space is already 2-D; drawn as it is, without t-SNE" in err
    assert not list(trained.glob("latent-tsne*"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [["evaluate", "--limit", "20", "--k", "2", "--samples", "2"], ["sample", "--grid", "3"], ["export"]],
    ids=["evaluate", "sample", "export"],
)
def test_no_tensorflow_log_line_reaches_stderr(trained, command):
    """TensorFlow's C++ start-up notes (absl, cuInit, cpu_feature_guard) would bury the tool's own lines."""
    done = subprocess.run(
        [sys.executable, "-m", "vae_cli", *command, "--run", str(trained)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    foreign = [line for line in done.stderr.splitlines() if line and not line.startswith(("vae ", "images "))]
    assert not foreign, foreign
