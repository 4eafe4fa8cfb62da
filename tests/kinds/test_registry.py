"""A model kind is one object in one registry: a kind defined here alone trains, resumes and draws every figure,
and every command names the same best epoch and score for every kind and objective."""

import errno
import json

import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.kinds import KINDS, Score
from vae_cli.kinds.vae import VAE
from vae_cli.runs import atomic, folder
from vae_cli.training import checkpoint


class BoundedVarianceVAE(VAE):
    """A kind known to no module of the package: a VAE whose log-variance head is squashed into [-1, 1]."""

    name = "toy_bounded"
    help = "toy_bounded: a test's kind"

    def encoder_outputs(self, features, latent_dim):
        from keras import layers

        z_mean = layers.Dense(latent_dim, name="z_mean")(features)
        return [z_mean, layers.Dense(latent_dim, activation="tanh", name="z_log_var")(features)]


@pytest.fixture
def toy_kind():
    kind = KINDS.register(BoundedVarianceVAE())
    yield kind
    KINDS.unregister(kind.name)


def train_args(data_dir, out_dir, *settings, epochs=3):
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out_dir}"]
    for item in [*TINY_MODEL, "model.latent_dim=3", "train.batch_size=32", f"train.epochs={epochs}", *settings]:
        args += ["--set", item]
    return args


def only_run(out_dir):
    (run_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return run_dir


def json_of(capsys, argv):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def stop_at_epoch_2(monkeypatch):
    """The second checkpoint meets a full disk: the run fails with epoch 1 on disk, resumable."""
    real = atomic.atomic_write

    def full_disk(path, write):
        if path.name == checkpoint.FILENAME and (path.parent / checkpoint.FILENAME).is_file():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", full_disk)
    return lambda: monkeypatch.setattr(atomic, "atomic_write", real)


@pytest.mark.slow
def test_a_kind_registered_by_a_test_alone_trains_resumes_and_draws(toy_kind, data_dir, tmp_path, monkeypatch, capsys):
    out_dir = tmp_path / "out"
    undo = stop_at_epoch_2(monkeypatch)
    assert main(train_args(data_dir, out_dir, f"model.kind={toy_kind.name}")) == 1
    undo()
    run_dir = only_run(out_dir)
    assert checkpoint.load(run_dir / checkpoint.FILENAME).state["epoch"] == 1
    assert main(["train", "--resume", str(run_dir)]) == 0
    manifest = json.loads((run_dir / folder.MANIFEST).read_text())
    assert manifest["status"] == "complete" and manifest["epochs_completed"] == 3

    from vae_cli.runs.modelfile import load_model

    encoder = load_model(run_dir / folder.ENCODER)
    z_log_var = encoder.predict(np.random.default_rng(0).uniform(size=(4, 28, 28, 1)), verbose=0)[1]
    assert np.all(np.abs(z_log_var) <= 1.0), "the kind's own head was built, saved and loaded"

    run = ["--run", str(run_dir)]
    for command in (
        ["sample", "--grid", "4"],
        ["sample", "--random", "4"],
        ["plot-latent"],
        ["reconstruct", "-n", "3"],
        ["interpolate", "--steps", "3"],
        ["traverse", "--steps", "3"],
        ["evaluate", "--k", "5", "--samples", "2", "--limit", "20"],
        ["export", "--format", "keras"],
    ):
        assert main([*command, *run]) == 0, command
    assert (run_dir / "export" / "decoder.keras").is_file()
    assert main(["sample", "--label", "1", *run]) == 2  # not conditional: refused in one line
    assert "model.kind is toy_bounded, which is not given a class" in capsys.readouterr().err

    shown = json_of(capsys, ["show", "--json", *run])
    listed = json_of(capsys, ["list", "--json", "--output-dir", str(out_dir)])
    compared = json_of(capsys, ["compare", "--json", str(run_dir)])
    assert shown["model"]["kind"] == listed["runs"][0]["kind"] == compared["runs"][0]["kind"] == toy_kind.name
    assert shown["best"]["epoch"] == listed["runs"][0]["best_epoch"] == compared["runs"][0]["best_epoch"]


AGREEING = {
    "iwae": ["train.objective=iwae", "train.samples=3"],
    "ae": ["model.kind=ae"],
    "beta": ["train.beta=4"],
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(AGREEING))
def test_every_command_names_the_same_best_epoch_and_score(kind, data_dir, tmp_path, capsys):
    out_dir = tmp_path / "out"
    settings = [*AGREEING[kind], "train.early_stopping_patience=5"]
    assert main(train_args(data_dir, out_dir, *settings)) == 0
    run_dir = only_run(out_dir)
    shown = json_of(capsys, ["show", "--json", "--run", str(run_dir)])
    (listed,) = json_of(capsys, ["list", "--json", "--output-dir", str(out_dir)])["runs"]
    (compared,) = json_of(capsys, ["compare", "--json", str(run_dir)])["runs"]
    manifest = json.loads((run_dir / folder.MANIFEST).read_text())  # the early stopper's choice

    cfg = folder.read_config(run_dir)
    score = Score.of_run(cfg.model, cfg.train)
    stopper_value = score.of(manifest["validation"], prefix="")
    epoch = manifest["best_epoch"]
    assert shown["best"]["epoch"] == listed["best_epoch"] == compared["best_epoch"] == epoch
    values = (shown["best"]["score"], listed["best_val_loss"], compared["best_val_loss"])
    assert values[0] == values[1] == values[2] == compared["val_scores"][epoch - 1] == min(compared["val_scores"])
    assert stopper_value == pytest.approx(values[0], rel=1e-5)  # history.csv keeps 6 significant digits
    names = {"iwae": "-IWAE bound", "ae": "reconstruction loss", "beta": "reconstruction + 4 x KL"}
    assert shown["best"]["score_name"] == listed["score_name"] == names[kind]
    if kind == "iwae":  # the bound, not the ELBO that every command but show reported before
        elbo = manifest["validation"]["reconstruction_loss"] + manifest["validation"]["kl_loss"]
        assert values[0] < elbo


def test_no_module_outside_a_registry_compares_a_registered_name():
    """A kind, an objective or a data source is asked, never recognised by its name, outside its own module."""
    import ast
    from pathlib import Path

    from vae_cli.kinds import OBJECTIVES
    from vae_cli.sources import SOURCES

    package = Path(__file__).resolve().parents[2] / "vae_cli"
    homes = {package / "kinds", package / "data"}  # each entry's own module may name it
    names = set(KINDS.names()) | set(OBJECTIVES.names()) | set(SOURCES.names())
    found = []
    for path in package.rglob("*.py"):
        if any(home in path.parents for home in homes):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for operand in [node.left, *node.comparators]:
                    for leaf in ast.walk(operand):
                        if isinstance(leaf, ast.Constant) and leaf.value in names:
                            found.append(f"{path.relative_to(package)}:{node.lineno}: {leaf.value!r}")
    assert not found, found
