"""Run folders edited or damaged by hand: ``list``, ``compare`` and ``show`` read what they can and never hang,
crash or print what the file says raw."""

import json
import os

import pytest
import yaml
from test_catalog import fake_run

from vae_cli.cli.main import main
from vae_cli.errors import RunError
from vae_cli.runs import catalog, history

VAL = [(100.0, 5.0), (90.0, 6.0)]


def listed(capsys, output_dir):
    capsys.readouterr()
    assert main(["list", "--json", "--output-dir", str(output_dir)]) == 0
    return json.loads(capsys.readouterr().out)["runs"]


@pytest.mark.parametrize(
    "config",
    [{"model": {"kind": ["vae"]}}, {"train": {"objective": {"iwae": 1}}}, {"train": {"beta": 10**400}}],
)
def test_config_values_of_any_shape_leave_the_run_listed(tmp_path, capsys, config):
    run = fake_run(tmp_path, "a", "2026", config, VAL)
    (row,) = listed(capsys, tmp_path)
    assert row["best_epoch"] == 2 and row["best_val_loss"] == 96.0  # scored as a vae on the ELBO at beta 1
    capsys.readouterr()
    assert main(["compare", "--json", str(run)]) == 0
    json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "metrics, nll",
    [
        ({"a": {"nll": 10**400, "k": 5, "images": 3}}, None),
        ({"a": {"nll": 5.0, "images": "x"}, "b": {"nll": 6.0, "images": 3, "k": 2}}, 6.0),
        ({"a": {"nll": True, "k": 5}}, None),
        ({"a": {"nll": 7.0, "k": [1], "images": {}}}, 7.0),
    ],
)
def test_numbers_of_any_shape_in_metrics_json(tmp_path, capsys, metrics, nll):
    fake_run(tmp_path, "a", "2026", {}, VAL, metrics=metrics)
    (row,) = listed(capsys, tmp_path)
    assert row["nll"] == nll


def test_a_test_loss_too_large_for_a_float(tmp_path, capsys):
    manifest = {"status": "complete", "created": "2026", "dataset": {}, "test": {"negative_elbo": 10**400}}
    fake_run(tmp_path, "a", "2026", {}, VAL, manifest=manifest)
    assert main(["list", "--output-dir", str(tmp_path)]) == 0
    (row,) = listed(capsys, tmp_path)
    assert row["test_negative_elbo"] is None


def test_a_kind_with_a_line_break_stays_one_short_cell(tmp_path, capsys):
    fake_run(tmp_path, "a", "2026", {"model": {"kind": "vae\nfake-run  complete\x1b[31m" + "x" * 4000}}, VAL)
    assert main(["list", "--output-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and len(out.splitlines()) == 2 and len(out) < 400


def test_a_pipe_or_an_oversized_history_is_damage_not_a_hang(tmp_path, capsys, monkeypatch):
    run = fake_run(tmp_path, "a", "2026", {}, VAL)
    (run / "history.csv").unlink()
    os.mkfifo(run / "history.csv")
    with pytest.raises(RunError, match="not a regular file"):
        history.read_history(run / "history.csv")
    for name in ("config.yaml", "metrics.json"):
        other = fake_run(tmp_path / name, "b", "2026", {}, VAL)
        (other / name).unlink(missing_ok=True)
        os.mkfifo(other / name)
        assert catalog.read_run(other).name == "b"
    (row,) = listed(capsys, tmp_path)
    assert row["epochs"] == 0 and row["best_epoch"] is None
    big = fake_run(tmp_path / "big", "c", "2026", {}, VAL)
    monkeypatch.setattr(history, "MAX_HISTORY_BYTES", 100)
    with pytest.raises(RunError, match="over 100 bytes"):
        history.read_history(big / "history.csv")


def test_compare_names_each_runs_score(tmp_path, capsys):
    a = fake_run(tmp_path, "a", "2026-1", {"train": {"beta": 4.0}}, VAL)
    b = fake_run(tmp_path, "b", "2026-2", {"model": {"kind": "ae"}}, VAL)
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "c.png")]) == 0
    footnote = capsys.readouterr().out.splitlines()[-1]
    assert footnote.startswith("best val loss: lowest validation reconstruction + 4 x KL, reconstruction loss;")
    assert yaml.safe_load((a / "config.yaml").read_text()) == {"train": {"beta": 4.0}}  # nothing written back
