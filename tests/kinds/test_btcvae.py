"""``model.kind: btcvae``: its config rules, its score, and a sprites run whose evaluation scores the MIG."""

import json
import math

import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.config import load_config
from vae_cli.figures import plots
from vae_cli.kinds import KINDS, Score
from vae_cli.runs import folder


def refusal(capsys, tmp_path, *settings):
    args = ["train", "--set", f"output.dir={tmp_path / 'out'}", "--set", "model.kind=btcvae"]
    for item in settings:
        args += ["--set", item]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and not (tmp_path / "out").exists()
    return err


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (["train.kl_warmup_epochs=2"], "train.kl_warmup_epochs: model.kind btcvae weighs the total correlation"),
        (["train.objective=iwae", "train.samples=4"], "estimates the total correlation from one z per image"),
        (["train.samples=3"], "use train.objective: elbo and train.samples: 1"),
        (["train.batch_size=8192", "model.latent_dim=10"], "use a batch of at most 2590"),
        (["train.batch_size=1"], "train.batch_size: 1: model.kind btcvae estimates the total correlation"),
        (["model.latent_dim=1"], "model.latent_dim: 1: model.kind btcvae estimates the total correlation"),
        (["train.beta=1e300"], "train.beta"),
    ],
)
def test_settings_the_estimator_cannot_take_are_refused_in_one_line(capsys, tmp_path, settings, says):
    assert says in refusal(capsys, tmp_path, *settings)


def test_the_score_is_the_elbo_at_beta_one_and_weighs_the_total_correlation_otherwise():
    cfg = load_config(None, [("model.kind", "btcvae"), ("train.beta", 6.0)])
    row = {"val_reconstruction_loss": 100.0, "val_kl_loss": 20.0, "val_tc_loss": 3.0}
    score = Score.of_run(cfg.model, cfg.train)
    assert score.of(row) == pytest.approx(135.0) and score.name == "-ELBO + 5 x TC"
    at_one = Score.of_run(cfg.model, cfg.train, beta=1.0)
    assert at_one.of(row) == pytest.approx(120.0) and at_one.name == "-ELBO"
    assert math.isnan(score.of({"val_reconstruction_loss": 100.0, "val_kl_loss": 20.0}))
    assert "tc_loss" in KINDS.get("btcvae").loss_columns
    assert KINDS.get("btcvae").score_terms(row, 6.0) == "reconstruction 100.00 + KL 20.00 + 5 x TC 3.00"
    assert KINDS.get("btcvae").score_terms(row, 1.0) == "reconstruction 100.00 + KL 20.00"
    assert KINDS.get("vae").score_terms(row, 6.0) == "reconstruction 100.00 + KL 20.00 x beta 6"
    assert KINDS.get("ae").score_terms(row, 1.0) == "reconstruction 100.00"
    below = load_config(None, [("model.kind", "btcvae"), ("train.beta", 0.5)])
    assert Score.of_run(below.model, below.train).name == "-ELBO - 0.5 x TC"
    assert Score.of_run(below.model, below.train).of(row) == pytest.approx(118.5)


def test_validation_is_scored_in_even_batches_of_at_most_the_training_size():
    cfg = load_config(None, [("model.kind", "btcvae"), ("train.batch_size", 48)])
    btcvae = KINDS.get("btcvae")
    assert btcvae.evaluation_batch(cfg.train, 500, 480) == 48  # the estimate depends on the batch size
    assert btcvae.evaluation_batch(cfg.train, 500, 49) == 25  # 25 + 24, never 48 + 1
    assert btcvae.evaluation_batch(cfg.train, 500, 5000) == 48
    assert btcvae.evaluation_batch(cfg.train, 500, 7) == 7
    assert KINDS.get("vae").evaluation_batch(cfg.train, 500, 480) == 500


@pytest.mark.slow
def test_a_sprites_run_records_its_factors_and_evaluates_the_mig(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "out"
    args = ["train", "--set", f"output.dir={out_dir}"]
    settings = [
        *TINY_MODEL,
        "data.dataset=sprites",
        "data.limit=256",
        "data.validation_size=64",
        "model.kind=btcvae",
        "model.latent_dim=4",
        "train.beta=6",
        "train.epochs=1",
        "train.batch_size=64",
    ]
    for item in settings:
        args += ["--set", item]
    assert main(args) == 0
    said = capsys.readouterr().out.split("Test loss: ")[1].splitlines()[0]
    assert " + 5 x TC " in said and "best epoch 1 (on the validation split)" in said  # the terms add up
    (run_dir,) = out_dir.iterdir()
    dataset = json.loads((run_dir / folder.MANIFEST).read_text())["dataset"]
    assert dataset["factor_names"] == ["shape", "scale", "orientation", "x", "y"]
    assert dataset["generator"]["name"] == "sprites" and dataset["generator"]["version"] >= 1
    assert dataset["splits"] == {"train": 256, "validation": 64, "test": 10_000}
    history = (run_dir / folder.HISTORY).read_text().splitlines()[0].split(",")
    assert "tc_loss" in history and "val_tc_loss" in history
    capsys.readouterr()

    assert main(["evaluate", "--run", str(run_dir), "--limit", "32", "--k", "5", "--samples", "1"]) == 0
    out = capsys.readouterr().out
    assert "grey levels" not in out  # sprites are black and white: their likelihood is a true Bernoulli one
    assert "MIG" in out and "(10,000 test images, z_mean in 20 bins)" in out and str(run_dir / "mig.png") in out
    assert (run_dir / "mig.png").stat().st_size > 0
    (entry,) = json.loads((run_dir / folder.METRICS).read_text()).values()
    gap = entry["mig"]
    assert gap["samples"] == 10_000 and gap["bins"] == 20 and 0 <= gap["score"] <= 1
    assert list(gap["per_factor"]) == dataset["factor_names"]
    assert len(gap["mutual_information"]) == 5 and all(len(row) == 4 for row in gap["mutual_information"])

    assert main(["evaluate", "--run", str(run_dir), "--limit", "8", "--k", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mig"]["score"] == pytest.approx(gap["score"])  # the same codes

    assert main(["show", "--run", str(run_dir)]) == 0
    shown = capsys.readouterr().out
    assert f"evaluated  MIG {gap['score']:.3f}" in shown and "-ELBO + 5 x TC" in shown and "+ 5 x TC " in shown

    assert main(["evaluate", "--run", str(run_dir), "--limit", "8", "--k", "0", "--out", str(tmp_path / "kl.png")]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [str(tmp_path / "kl.png"), str(tmp_path / "kl-mig.png")]
    assert main(["evaluate", "--run", str(run_dir), "--limit", "8", "--k", "0", "--binarize", "static"]) == 0
    assert str(run_dir / "mig-static.png") in capsys.readouterr().out

    manifest = json.loads((run_dir / folder.MANIFEST).read_text())
    manifest["dataset"]["factor_names"] = ["$\\frac{$"] * 5  # a damaged record names nothing drawn
    (run_dir / folder.MANIFEST).write_text(json.dumps(manifest))
    labelled = []
    real = plots.save_rows
    monkeypatch.setattr(
        plots, "save_rows", lambda path, rows, labels, *a: labelled.extend(labels) or real(path, rows, labels, *a)
    )
    assert main(["traverse", "--run", str(run_dir), "--steps", "3"]) == 0
    assert len(labelled) == 4 and all(label.startswith(f"z[{d}]\n") for d, label in enumerate(labelled))
    held = [label.split("\n")[1] for label in labelled]
    assert all(h in ("none", "inactive") or h.split()[0] in dataset["factor_names"] for h in held), held
