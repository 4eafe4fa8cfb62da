"""Each model kind end to end: trains, resumes after SIGKILL bit for bit, reloads safely, draws or refuses each figure."""

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import subprocess

import h5py
import held_training
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.figures import charts, plots, writer
from vae_cli.runs import folder
from vae_cli.runs.modelfile import load_model
from vae_cli.training import checkpoint

KINDS = {
    "ae": ["model.kind=ae"],
    "cvae": ["model.kind=cvae"],
    "iwae": ["train.objective=iwae", "train.samples=3"],
    "cvae_iwae": ["model.kind=cvae", "train.objective=iwae", "train.samples=2"],
    "btcvae": ["model.kind=btcvae", "train.beta=4"],
}


def train_args(data, out_dir, kind, epochs=2, name="r"):
    args = ["train", "--data-dir", str(data), "--set", f"output.dir={out_dir}", "--set", f"output.name={name}"]
    items = TINY_MODEL + KINDS[kind] + [f"train.epochs={epochs}", "train.batch_size=32", "model.latent_dim=3"]
    for item in items + ["train.early_stopping_patience=null"]:
        args += ["--set", item]
    return args


def only_run(out_dir):
    (run_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """One finished tiny run of each kind."""
    found = {}
    for kind in KINDS:
        out_dir = tmp_path_factory.mktemp(kind)
        with contextlib.redirect_stdout(io.StringIO()) as said:
            assert main(train_args(data_dir, out_dir, kind)) == 0
        assert "after 2 epochs, the last epoch's weights kept," in said.getvalue()  # no early stopping: none chosen
        found[kind] = only_run(out_dir)
    return found


def history(run_dir):
    return list(csv.DictReader((run_dir / folder.HISTORY).open()))


@pytest.mark.slow
def test_each_kind_records_its_losses_and_splits(runs):
    for kind, run_dir in runs.items():
        manifest = json.loads((run_dir / folder.MANIFEST).read_text())
        assert manifest["status"] == "complete"
        assert manifest["dataset"]["splits"] == {"train": 154, "validation": 38, "test": 64}
        assert manifest["dataset"]["split_rule"].startswith("validation: 38 of the 192 training images")
        rows = history(run_dir)
        assert [r["epoch"] for r in rows] == ["1", "2"]
        test, best = manifest["test"], manifest["validation"]
        assert np.isfinite(test["reconstruction_loss"]) and np.isfinite(best["reconstruction_loss"])
        if kind == "ae":
            assert "kl_loss" not in rows[0] and "negative_elbo" not in test  # no KL, no bound
        else:
            assert test["negative_elbo"] == pytest.approx(test["reconstruction_loss"] + test["kl_loss"])
        if kind.endswith("iwae"):
            assert float(rows[-1]["val_iwae_loss"]) <= float(rows[-1]["val_reconstruction_loss"]) + float(
                rows[-1]["val_kl_loss"]
            )  # the bound is tighter than the ELBO
            assert test["iwae_loss"] <= test["negative_elbo"] + 0.5
        assert (run_dir / "classes.png").exists() == kind.startswith("cvae")


@pytest.mark.slow
def test_saved_models_reload_under_safe_mode_and_agree(runs):
    for kind, run_dir in runs.items():
        encoder, decoder = load_model(run_dir / folder.ENCODER), load_model(run_dir / folder.DECODER)
        load_model(run_dir / folder.VAE)
        x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
        y = np.eye(10, dtype="float32")[[3, 7]]
        conditional = kind.startswith("cvae")
        codes = encoder.predict([x, y] if conditional else x, verbose=0)
        code = codes if kind == "ae" else codes[0]
        assert code.shape == (2, 3)
        if conditional:
            assert [i.name for i in decoder.inputs] == ["z", "label"]
        images = decoder.predict([code, y] if conditional else code, verbose=0)
        assert images.shape == (2, 28, 28, 1) and 0 <= images.min() and images.max() <= 1


REFUSED = {
    ("ae", "sample --range ppf"): "--range ppf:0.05:0.95: an autoencoder has no prior to take quantiles of",
    ("ae", "sample --label 3"): "--label 3: this run's model.kind is ae, which is not given a class",
    ("ae", "sample --classes"): "--classes: this run's model.kind is ae, which is not given a class",
    ("iwae", "sample --label 3 --random 4"): "--label 3: this run's model.kind is vae",
    ("iwae", "sample --classes"): "--classes: this run's model.kind is vae",
    ("cvae", "sample --label 12 --random 4"): "--label 12: this run's classes are 0 to 9 (0 0, 1 1,",
}
COMMANDS = [
    "sample",
    "sample --grid 4 --range data",
    "sample --range ppf",
    "sample --random 9",
    "sample --label 3",
    "sample --label 3 --grid 5",
    "sample --label 3 --random 4",
    "sample --classes",
    "sample --classes --label 2",
    "sample --label 12 --random 4",
    "reconstruct -n 4",
    "interpolate --steps 3",
    "traverse --steps 3",
    "plot-latent",
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ae", "cvae", "iwae", "btcvae"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_figure_command_works_or_refuses_in_one_line(runs, capsys, kind, command):
    run_dir = runs[kind]
    code = main([*command.split(), "--run", str(run_dir)])
    out, err = capsys.readouterr()
    refused = REFUSED.get((kind, command))
    conditional_only = "--label" in command or "--classes" in command
    if command == "sample --classes --label 2":  # checked before the run is read
        refused = "--label: --classes draws every class; drop --label"
    elif refused is None and conditional_only and kind != "cvae":
        refused = "which is not given a class"
    if refused:
        assert code == 2 and refused in err and err.count("\n") == 1 and "Traceback" not in err, err
        return
    assert code == 0, err
    for path in out.split():
        assert path.endswith((".png", ".gif")) and os.path.getsize(path) > 0


def saved_titles(monkeypatch):
    titles = []
    for name in ("save_image_grid", "save_rows", "save_manifold"):
        real = getattr(plots, name)

        def spy(path, images, *args, _real=real, **kwargs):
            titles.append(" ".join(str(a) for a in args if isinstance(a, str)))
            return _real(path, images, *args, **kwargs)

        monkeypatch.setattr(plots, name, spy)
    return titles


@pytest.mark.slow
def test_titles_say_what_an_autoencoder_and_a_cvae_draw_from(runs, capsys, monkeypatch):
    titles = saved_titles(monkeypatch)
    assert main(["sample", "--random", "9", "--run", str(runs["ae"])]) == 0
    assert "from a Gaussian fitted to the test-set codes (an autoencoder has no prior)" in titles[-1]
    assert main(["sample", "--grid", "4", "--run", str(runs["ae"])]) == 0
    assert "test-set z_mean percentiles" in titles[-1] and "held at the test-set codes' mean" in titles[-1]
    assert main(["sample", "--label", "7", "--random", "4", "--run", str(runs["cvae"])]) == 0
    assert "all of class '7'" in titles[-1]
    assert main(["sample", "--classes", "3", "--run", str(runs["cvae"])]) == 0
    assert "one row per class" in titles[-1] and "style held, class changed" in titles[-1]


@pytest.mark.slow
def test_cvae_samples_decode_each_row_as_its_class(runs, monkeypatch):
    from vae_cli.figures import kind_figures

    rows = []
    real = kind_figures.class_rows
    monkeypatch.setattr(kind_figures, "class_rows", lambda *a: rows.append(real(*a)) or rows[-1])
    assert main(["sample", "--classes", "4", "--seed", "2", "--run", str(runs["cvae"])]) == 0
    decoder = load_model(runs["cvae"] / folder.DECODER)
    z = np.random.default_rng(2).standard_normal((4, 3)).astype("float32")
    for label in (0, 9):
        expected = decoder.predict([z, np.eye(10, dtype="float32")[[label] * 4]], verbose=0)
        np.testing.assert_allclose(rows[0][label], expected, atol=1e-6)  # the same z in each column


@pytest.mark.slow
def test_evaluate_says_what_each_kind_measures(runs, capsys):
    assert main(["evaluate", "--run", str(runs["ae"]), "--limit", "16"]) == 0
    out = capsys.readouterr().out
    assert "an autoencoder has no prior and no likelihood bound" in out and "reconstruction from the code" in out
    assert "NLL" not in out and "-ELBO" not in out
    entry = json.loads((runs["ae"] / folder.METRICS).read_text())["reconstruction-none-first16"]
    assert entry["kind"] == "ae" and entry["reconstruction_from_mean"] > 0 and "nll" not in entry
    assert main(["evaluate", "--run", str(runs["cvae"]), "--limit", "16", "--k", "10", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "every number is given the test image's true class y (log p(x|y)" in out
    assert "-ELBO given y" in out and "NLL given y (IWAE, k=10)" in out
    assert "grey levels under a Bernoulli likelihood" in out  # the tiny images are grey
    entry = json.loads((runs["cvae"] / folder.METRICS).read_text())["k10-samples2-none-first16"]
    assert entry["conditional"] is True and entry["nll"] <= entry["negative_elbo"] + 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "trained, edited",
    [("cvae", "vae"), ("cvae", "ae"), ("ae", "vae"), ("ae", "cvae"), ("iwae", "cvae"), ("iwae", "ae")],
)
def test_a_kind_edited_in_config_yaml_after_training_is_refused_in_one_line(runs, tmp_path, capsys, trained, edited):
    run_dir = tmp_path / "edited"
    shutil.copytree(runs[trained], run_dir)
    config_file = run_dir / folder.CONFIG
    was = "vae" if trained == "iwae" else trained
    text = config_file.read_text().replace(f"  kind: {was}\n", f"  kind: {edited}\n")
    if edited == "ae":  # the other rules of an ae, so that only the models disagree with the config
        text = text.replace("objective: iwae", "objective: elbo").replace("samples: 3", "samples: 1")
    config_file.write_text(text)
    before = sorted(p.name for p in run_dir.iterdir())
    for command in ("reconstruct -n 2", "evaluate --k 2 --limit 4", "plot-latent"):
        code = main([*command.split(), "--run", str(run_dir)])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
        assert f"config.yaml says model.kind: {edited}" in err and "the run folder is damaged" in err, err
    assert sorted(p.name for p in run_dir.iterdir()) == before  # nothing written


@pytest.mark.slow
def test_a_cvae_whose_run_json_names_other_classes_is_refused_in_one_line(runs, tmp_path, capsys):
    run_dir = tmp_path / "edited"
    shutil.copytree(runs["cvae"], run_dir)
    manifest = json.loads((run_dir / folder.MANIFEST).read_text())
    manifest["dataset"]["class_names"] = ["a", "b", "c"]
    (run_dir / folder.MANIFEST).write_text(json.dumps(manifest))
    for command in ("sample --random 4", "sample --classes", "reconstruct -n 2", "evaluate --k 2 --limit 4"):
        code = main([*command.split(), "--run", str(run_dir)])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
        assert "is given 10 classes, but" in err and "names 3; the run folder is damaged" in err, err


@pytest.mark.slow
def test_the_test_set_is_only_touched_after_training(data_dir, tmp_path, monkeypatch):
    from vae_cli.training import pipeline

    seen = []
    real = pipeline.eval_pipeline
    monkeypatch.setattr(
        pipeline, "eval_pipeline", lambda images, *a, **k: seen.append(len(images)) or real(images, *a, **k)
    )
    assert main(train_args(data_dir, tmp_path, "cvae", epochs=1)) == 0
    assert seen == [38, 64]  # the validation split for every epoch, the test split once, for the final numbers


@pytest.mark.slow
def test_loss_curves_say_validation_and_drop_the_panels_a_kind_lacks(runs, monkeypatch):
    from vae_cli.training.history import history_columns

    figures = []
    monkeypatch.setattr(writer, "save_figure", lambda fig, path, tight=True: figures.append(fig))
    for kind, panels in (("ae", ["reconstruction"]), ("iwae", ["-IWAE bound", "-ELBO", "reconstruction", "KL"])):
        rows = [{k: float(v) for k, v in r.items()} for r in history(runs[kind])]
        charts.save_loss_curves(runs[kind] / "x.png", history_columns(rows), "t")
        axes = figures[-1].axes
        assert [ax.get_title().split(" =")[0].split(" (")[0] for ax in axes] == panels
        assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["train", "validation"]


def test_a_cvae_on_unlabelled_data_is_a_config_error(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "plain.npz", x_train=rng.integers(0, 255, (40, 28, 28), np.uint8))
    out_dir = tmp_path / "out"
    args = ["train", "--set", "data.dataset=npz", "--set", f"data.path={tmp_path / 'plain.npz'}"]
    args += ["--set", "model.kind=cvae", "--set", f"output.dir={out_dir}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "model.kind: cvae needs labelled data with at least 2 classes" in err and err.count("\n") == 1
    assert not out_dir.exists() or not list(out_dir.iterdir())  # nothing written


def test_a_decoder_that_misses_the_image_size_stops_before_any_folder(data_dir, tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = [
        "train",
        "--data-dir",
        str(data_dir),
        "--set",
        f"output.dir={out_dir}",
        "--set",
        "model.architecture=layers",
    ]
    args += ["--set", "model.encoder_layers=[{conv: 4, stride: 2}]"]
    args += ["--set", "model.decoder_layers=[{dense: 196}, {reshape: [7, 7, 4]}, {upsample: 2}, {conv: 1}]"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae train: error: model.decoder_layers[3] {conv: 1}: the decoder ends at 14x14x1")
    assert err.count("\n") == 1 and not out_dir.exists()


# ------------------------------------------------------------------------------------------ resume after SIGKILL
def checkpoint_epoch(run_dir):
    path = run_dir / checkpoint.FILENAME
    return checkpoint.load(path).state["epoch"] if path.is_file() else 0


def variables(run_dir):
    with h5py.File(run_dir / checkpoint.FILENAME, "r") as f:
        return [f["variables"][str(i)][()] for i in range(len(f["variables"]))]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ae", "cvae", "iwae", "btcvae"])
def test_sigkill_then_resume_gives_the_same_weights(data_dir, tmp_path, kind):
    assert main(train_args(data_dir, tmp_path / "full", kind, epochs=3)) == 0
    out_dir = tmp_path / "killed"
    announce = tmp_path / "held"
    args = train_args(data_dir, out_dir, kind, epochs=3)
    proc = held_training.start(args, announce, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    held_training.wait_until_held(proc, announce)  # in epoch 2, after its checkpoint of epoch 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_dir = only_run(out_dir)
    assert 1 <= checkpoint_epoch(run_dir) < 3, "the kill should land before the last epoch"
    assert main(["train", "--resume", str(run_dir)]) == 0
    for a, b in zip(variables(run_dir), variables(only_run(tmp_path / "full")), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_cvae_streams_a_labelled_image_folder(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, row in (("bars", 4), ("dots", 10)):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(20):
            image = rng.integers(0, 30, (16, 16), np.uint8)
            image[row : row + 3] = 250
            Image.fromarray(image).save(tmp_path / "pics" / name / f"{i}.png")
    out_dir = tmp_path / "out"
    args = ["train", "--set", "data.dataset=image_folder", "--set", f"data.path={tmp_path / 'pics'}"]
    for item in TINY_MODEL + ["model.kind=cvae", "train.epochs=1", "train.batch_size=8", f"output.dir={out_dir}"]:
        args += ["--set", item]
    assert main(args) == 0
    run_dir = only_run(out_dir)
    manifest = json.loads((run_dir / folder.MANIFEST).read_text())
    assert manifest["dataset"]["splits"] == {"train": 36, "validation": 4, "test": 4}
    assert manifest["dataset"]["split_rule"].startswith("validation and test: the same 4 of the 40 images")
    capsys.readouterr()
    assert main(["sample", "--classes", "3", "--run", str(run_dir)]) == 0
    assert main(["sample", "--label", "1", "--random", "4", "--run", str(run_dir)]) == 0
    assert main(["sample", "--label", "2", "--random", "4", "--run", str(run_dir)]) == 2
    assert "--label 2: this run's classes are 0 to 1 (0 bars, 1 dots)" in capsys.readouterr().err
