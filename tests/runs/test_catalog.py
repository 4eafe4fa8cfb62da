"""Runs read side by side from their files: rows for ``list``, differences and curves for ``compare``."""

import json

import matplotlib.image as mpimg
import pytest
import yaml

from vae_cli.cli import tables
from vae_cli.cli.main import main
from vae_cli.figures.compare import default_path, save_comparison
from vae_cli.runs import catalog

HEADER = "epoch,loss,reconstruction_loss,kl_loss,val_loss,val_reconstruction_loss,val_kl_loss,seconds\n"


def fake_run(parent, name, created, config, val, metrics=None, manifest=None):
    """A run folder as ``vae train`` leaves it, minus the models: run.json, config.yaml, history.csv."""
    run = parent / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(
        json.dumps(
            manifest
            or {
                "status": "complete",
                "created": created,
                "dataset": {"name": "mnist", "title": "MNIST"},
                "test": {"negative_elbo": val[-1][0] + val[-1][1]},
            }
        )
    )
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    rows = "".join(f"{i},0,0,0,{r + k},{r},{k},1\n" for i, (r, k) in enumerate(val, 1))
    (run / "history.csv").write_text(HEADER + rows)
    if metrics is not None:
        (run / "metrics.json").write_text(json.dumps(metrics))
    return run


@pytest.fixture
def runs(tmp_path):
    base = {"data": {"dataset": "mnist", "data_dir": "/a"}, "model": {"latent_dim": 2}, "train": {"beta": 1.0}}
    a = fake_run(tmp_path, "a", "2026-01-02", base, [(300.0, 5.0), (160.0, 6.0), (150.0, 7.0)])
    other = {
        "data": {"dataset": "mnist", "data_dir": "/b"},  # where the data lives: not a difference
        "model": {"latent_dim": 8, "kind": "beta_vae"},
        "train": {"beta": 4.0},
        "output": {"dir": "elsewhere"},
    }
    metrics = {
        "k100-samples10-none-first500": {"images": 500, "k": 100, "nll": 140.0},
        "k5000-samples10-none-first500": {"images": 500, "k": 5000, "nll": 139.0},
        "k10-samples10-none": {"images": 10000, "k": 10, "nll": 141.0},
        "k0-samples10-none": {"images": 10000, "k": 0, "nll": None},
    }
    b = fake_run(tmp_path, "b", "2026-01-01", other, [(900.0, 1.0), (140.0, 2.0), (130.0, 3.0)], metrics)
    return a, b


def test_rows_oldest_first_with_kind_best_loss_and_nll(runs, tmp_path):
    (tmp_path / "not-a-run").mkdir()
    rows = catalog.list_runs(tmp_path)
    assert [r.name for r in rows] == ["b", "a"]
    b, a = rows
    assert (a.kind, b.kind, a.latent_dim, b.latent_dim) == ("vae", "beta_vae", 2, 8)
    assert a.best_epoch == 3 and a.best_val_loss == 157.0  # the lowest reconstruction + beta x KL
    assert b.best_epoch == 3 and b.best_val_loss == 130.0 + 4 * 3.0
    assert (b.nll, b.nll_k) == (141.0, 10)  # the whole test set beats a larger k on a subset
    assert (a.nll, a.nll_k) == (None, None) and a.test_negative_elbo == 157.0


def test_damaged_files_leave_fields_empty(tmp_path):
    run = fake_run(tmp_path, "x", "2026", {"model": {"latent_dim": 2}}, [(1.0, 1.0)])
    (run / "config.yaml").write_text("model: [unclosed")
    (run / "history.csv").write_bytes(b"\xff\xfe garbage")
    (run / "metrics.json").write_text("[1, 2]")
    (row,) = catalog.list_runs(tmp_path)
    assert row.status == "complete" and row.latent_dim is None and row.epochs == 0 and row.best_val_loss is None
    assert row.kind == "vae" and row.nll is None


def test_differing_settings_skip_where_data_and_runs_live(runs):
    infos = [catalog.read_run(r) for r in runs]
    assert catalog.differing_settings(infos) == {
        "model.kind": [None, "beta_vae"],
        "model.latent_dim": [2, 8],
        "train.beta": [1.0, 4.0],
    }


def test_compare_figure_keeps_a_huge_first_epoch_off_the_scale(runs, tmp_path):
    import numpy as np

    from vae_cli.figures.compare import y_limits

    low, high = y_limits([np.array([305.0, 166.0, 157.0]), np.array([901.0, 142.0, 133.0])])
    assert low < 133.0 and 166.0 < high < 200.0
    assert y_limits([np.array([170.0, 166.0, 157.0])]) is None  # nothing far above: all of it shown
    infos = [catalog.read_run(r) for r in runs]
    path = save_comparison(tmp_path / "c.png", infos, catalog.differing_settings(infos))
    image = mpimg.imread(path)
    assert image.shape[1] > 900 and image.std() > 0.05
    assert default_path(infos) == tmp_path / "compare-a_vs_b.png"


def test_compare_draws_an_autoencoder_and_a_history_missing_a_column(capsys, runs, tmp_path):
    a, _ = runs
    ae = fake_run(tmp_path, "ae", "2026-01-03", {"model": {"kind": "ae", "latent_dim": 2}}, [(0, 0)])
    (ae / "history.csv").write_text(
        "epoch,loss,reconstruction_loss,val_loss,val_reconstruction_loss,seconds\n1,9,9,8,8,1\n2,7,7,6,6,1\n"
    )
    torn = fake_run(tmp_path, "torn", "2026-01-04", {"model": {"latent_dim": 2}}, [(0, 0)])
    (torn / "history.csv").write_text("epoch,val_reconstruction_loss,val_kl_loss\n1,5,1\n2,4\n3\n")
    assert catalog.read_run(ae).best_val_loss == 6.0  # the reconstruction alone: an ae has no KL
    assert main(["compare", str(a), str(ae), str(torn), "--out", str(tmp_path / "c.png"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [run["best_val_loss"] for run in out["runs"]][1] == 6.0
    assert mpimg.imread(tmp_path / "c.png").std() > 0.05


def test_long_names_shorten_the_default_file_name(tmp_path):
    infos = [
        catalog.RunInfo(f"{'x' * 40}-{i}", tmp_path / str(i), *[None] * 5, 0, None, 1.0, *[None] * 5) for i in range(4)
    ]
    name = default_path(infos).name
    assert name.startswith(f"compare-{'x' * 40}-0-and-3-more-") and len(name) < 100


def test_list_text_and_empty_folder(capsys, runs, tmp_path):
    assert main(["list", "--output-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["run", "b", "a"]
    assert "141.00 (k=10)" in lines[1] and "beta_vae" in lines[1]
    assert lines[3:] == [  # beta 4's score is not worse for being larger: the table says so
        "best val loss is each run's own score, not comparable across them: "
        "reconstruction + 4 x KL (1 run), -ELBO (1 run)"
    ]
    tables.print_runs([catalog.read_run(runs[0]), catalog.read_run(runs[0])])  # one score: nothing to say
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["list", "--output-dir", str(tmp_path / "none")]) == 0
    assert "no runs under" in capsys.readouterr().out
    assert main(["list", "--output-dir", str(tmp_path / "none"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == []


def test_compare_refuses_an_out_that_is_not_png(capsys, runs, tmp_path):
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "c.jpg")]) == 2
    err = capsys.readouterr().err
    assert "give a file name ending in .png" in err and err.count("\n") == 1


@pytest.mark.slow
def test_list_and_compare_do_not_import_tensorflow(runs, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from vae_cli.cli.main import main; d = sys.argv[1];"
        "assert main(['list', '--output-dir', d]) == 0 and main(['compare', '--output-dir', d]) == 0;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'heavy import'"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "compare-b_vs_a.png").is_file()


def test_show_gives_the_nll_that_list_gives(capsys, tmp_path):
    metrics = {"k10-samples10-none": {"images": 10000, "k": 10, "nll": 141.0}}
    evaluated = fake_run(tmp_path, "e", "2026", {"model": {"latent_dim": 2}}, [(100.0, 5.0)], metrics)
    assert main(["show", "--run", str(evaluated)]) == 0
    assert "evaluated  NLL 141.00 nats per image (importance-weighted, k = 10)" in capsys.readouterr().out.splitlines()
    assert main(["show", "--run", str(evaluated), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["nll"], shown["nll_k"]) == (catalog.read_run(evaluated).nll, 10) == (141.0, 10)
    (evaluated / "metrics.json").unlink()
    assert main(["show", "--run", str(evaluated)]) == 0
    assert "NLL" not in capsys.readouterr().out  # not evaluated yet


def test_a_running_run_whose_process_is_gone_is_shown_stopped(capsys, tmp_path):
    from vae_cli.runs.lock import RunLock

    config = {"data": {"dataset": "mnist"}, "model": {"latent_dim": 2}}
    manifest = {"status": "running", "created": "2026-01-01", "dataset": {"name": "mnist"}}
    run = fake_run(tmp_path, "r", "2026-01-01", config, [(150.0, 7.0)], manifest=manifest)
    with RunLock(run):  # a live writer: running it is
        assert main(["list", "--output-dir", str(tmp_path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["runs"][0]["status"] == "running"
    assert main(["list", "--output-dir", str(tmp_path)]) == 0  # its process ended without recording how
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["r", "stopped"]
    assert main(["show", "--run", str(run)]) == 0
    out = capsys.readouterr().out
    assert "status     stopped" in out and "run.json says running, but no process is training it" in out
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # only read, never rewritten


def test_the_evaluated_mig_is_the_latest_sound_one(tmp_path):
    metrics = {
        "old": {"date": "2026-01-01T00:00:00+00:00", "mig": {"score": 0.2}},
        "new": {"date": "2026-02-01T00:00:00+00:00", "mig": {"score": 0.3}},
        "dateless": {"date": ["z"], "mig": {"score": 0.5}},  # a damaged record: not the latest by accident
        "huge": {"date": "9999", "mig": {"score": 1e308}},  # a MIG lies in [0, 1]
        "text": {"date": "9998", "mig": {"score": "1e999"}},
        "flat": {"date": "9997", "mig": 0.9},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert catalog.evaluated_mig(tmp_path) == 0.3
    (tmp_path / "metrics.json").write_text("{not json")
    assert catalog.evaluated_mig(tmp_path) is None
