"""``--json``: one JSON document on stdout, everything else on stderr; ``list`` and ``compare`` parsed."""

import contextlib
import io
import json

import matplotlib.image as mpimg
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def train_args(data_dir, out_dir, *extra):
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out_dir}", "--json"]
    for item in TINY_MODEL + ["train.batch_size=32", "train.early_stopping_patience=null", *extra]:
        args += ["--set", item]
    return args


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, data_dir):
    """Two tiny runs that differ in latent size and epochs, trained with --json; their documents kept."""
    out_dir = tmp_path_factory.mktemp("json")
    docs = []
    for extra in (["train.epochs=2", "model.latent_dim=2"], ["train.epochs=3", "model.latent_dim=3"]):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            assert main(train_args(data_dir, out_dir, *extra)) == 0
        docs.append((stdout.getvalue(), stderr.getvalue()))
    return out_dir, docs


@pytest.mark.slow
def test_train_json_is_one_document_and_keras_progress_goes_to_stderr(two_runs):
    out_dir, docs = two_runs
    for stdout, stderr in docs:
        doc = json.loads(stdout)  # the whole of stdout: one document, nothing else
        assert doc["epochs"] in (2, 3) and doc["best_epoch"] == doc["epochs"] and not doc["already_finished"]
        assert doc["test"]["negative_elbo"] == pytest.approx(
            doc["test"]["reconstruction_loss"] + doc["test"]["kl_loss"]
        )
        assert (out_dir / doc["run_dir"].rsplit("/", 1)[1]).is_dir()
        assert "Epoch 1/" in stderr and "val_loss" in stderr  # Keras's progress, moved off stdout
        assert "Run folder" not in stdout and "Run folder" not in stderr


@pytest.mark.slow
def test_train_text_output_is_unchanged_without_json(capsys, tiny_args):
    code, out, _ = run(capsys, tiny_args + ["--set", "train.epochs=1"])
    assert code == 0 and "Test loss:" in out and "Run folder:" in out and "val_loss" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


@pytest.mark.slow
def test_list_json(capsys, two_runs):
    out_dir, docs = two_runs
    code, out, err = run(capsys, ["list", "--output-dir", str(out_dir), "--json"])
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["path"] for r in runs] == [json.loads(d[0])["run_dir"] for d in docs]  # oldest first
    first, second = runs
    assert (first["latent_dim"], first["epochs"], second["latent_dim"], second["epochs"]) == (2, 2, 3, 3)
    for r in runs:
        assert r["status"] == "complete" and r["dataset"] == "MNIST" and r["kind"] == "vae"
        assert r["best_val_loss"] > 0 and r["test_negative_elbo"] > 0 and r["nll"] is None


@pytest.mark.slow
def test_list_text_table(capsys, two_runs):
    out_dir, _ = two_runs
    code, out, _ = run(capsys, ["list", "--output-dir", str(out_dir)])
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:6] == ["run", "status", "dataset", "kind", "latent", "epochs"]
    assert len(lines) == 3 and all("complete" in line and "MNIST" in line for line in lines[1:])


@pytest.mark.slow
def test_evaluate_json_then_list_shows_the_nll(capsys, two_runs):
    out_dir, docs = two_runs
    run_dir = json.loads(docs[0][0])["run_dir"]
    code, out, err = run(
        capsys, ["evaluate", "--run", run_dir, "--k", "4", "--samples", "2", "--limit", "16", "--json"]
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["images"] == 16 and doc["k"] == 4 and doc["nll"] > 0 and len(doc["kl_per_dim"]) == 2
    assert doc["metrics_file"].endswith("metrics.json") and doc["nll"] <= doc["negative_elbo"] + 1.0
    code, out, _ = run(capsys, ["list", "--output-dir", str(out_dir), "--json"])
    listed = {r["path"]: r for r in json.loads(out)["runs"]}
    assert listed[run_dir]["nll"] == pytest.approx(doc["nll"]) and listed[run_dir]["nll_k"] == 4


@pytest.mark.slow
def test_show_json(capsys, two_runs):
    _, docs = two_runs
    run_dir = json.loads(docs[1][0])["run_dir"]
    code, out, err = run(capsys, ["show", "--run", run_dir, "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run"] == run_dir and doc["status"] == "complete" and doc["epochs"] == 3
    assert doc["config"]["model"]["latent_dim"] == 3 and doc["parameters"]["decoder.h5"] > 0
    assert {"decoder.keras", "encoder.keras", "vae.keras", "history.csv"} <= set(doc["files"])
    assert doc["best"]["epoch"] == 3


@pytest.mark.slow
def test_compare_json_and_figure(capsys, two_runs, tmp_path):
    out_dir, docs = two_runs
    paths = [json.loads(d[0])["run_dir"] for d in docs]
    figure = tmp_path / "cmp.png"
    code, out, err = run(capsys, ["compare", *paths, "--out", str(figure), "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["figure"] == str(figure) and mpimg.imread(figure).std() > 0.05
    assert doc["differing_settings"] == ["model.latent_dim", "train.epochs"]
    first, second = doc["runs"]
    assert first["settings"] == {"model.latent_dim": 2, "train.epochs": 2}
    assert second["settings"] == {"model.latent_dim": 3, "train.epochs": 3}
    assert len(first["val_scores"]) == 2 and len(second["val_scores"]) == 3
    # Runs by folder name under --output-dir; the default figure lands beside the first run.
    names = [p.rsplit("/", 1)[1] for p in paths]
    code, out, err = run(capsys, ["compare", *names, "--output-dir", str(out_dir)])
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header[:3] == ["run", "model.latent_dim", "train.epochs"]
    assert (out_dir / f"compare-{names[0]}_vs_{names[1]}.png").is_file()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["show", "--run", "{tmp}/missing", "--json"], 1, "does not exist"),
        (["compare", "{tmp}", "--json"], 1, "is not a vae run folder"),
        (["compare", "--output-dir", "{tmp}/none", "--json"], 1, "no run found under"),
        (["evaluate", "--output-dir", "{tmp}/none", "--json"], 1, "no trained run found under"),
        (["train", "--set", "model.latent_dimm=3", "--json"], 2, "unknown config key model.latent_dimm"),
    ],
)
def test_errors_with_json_are_one_line_on_stderr(capsys, tmp_path, args, code, message):
    got, out, err = run(capsys, [a.format(tmp=tmp_path) for a in args])
    assert got == code and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_print_config_with_json_is_one_document_of_values_and_sources(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  epochs: 4\n")
    assert main(["train", "--config", str(config), "--set", "model.latent_dim=3", "--print-config", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["train.epochs"] == {"value": 4, "source": str(config)}
    assert out["model.latent_dim"] == {"value": 3, "source": "--set"}
    assert out["train.beta"]["source"] == "default"
