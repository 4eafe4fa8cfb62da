"""A study in one process: trials as run folders, pruning, continuing, best.yaml, --show; the accounting."""

import json
import signal
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image as mpimg
import optuna
import pytest
import yaml
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.config import load_config, to_dict
from vae_cli.errors import Fix, Interrupted, RunError, Terminated
from vae_cli.runs import folder
from vae_cli.tuning import study as study_mod
from vae_cli.tuning.outcomes import GivenUp
from vae_cli.tuning.worker import _queue_again

GOOD, BAD = 0.01, 1.0e-6  # a learning rate that learns in one epoch of the tiny data, and one that does not


def tune_args(data_dir, out_dir, space_path, trials, epochs=2):
    args = ["tune", "--space", str(space_path), "--trials", str(trials), "--data-dir", str(data_dir)]
    args += ["--set", f"output.dir={out_dir}"]
    for item in TINY_MODEL + [f"train.epochs={epochs}", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    return args


def load(out_dir, name):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(study_name=name, storage=study_mod.default_storage(out_dir, name))


@pytest.mark.slow
def test_a_study_prunes_a_hopeless_trial_continues_and_reports(capsys, data_dir, tmp_path):
    out_dir = tmp_path / "out"
    space = {
        "pruner": {"median": {"n_startup_trials": 1, "n_warmup_steps": 0}},
        "sampler": "random",
        "space": {"train.learning_rate": {"choice": [GOOD, BAD]}},
    }
    path = tmp_path / "lr.yaml"
    path.write_text(yaml.safe_dump(space))
    # The order of the two trials is set by queuing them, as a user can to try known settings first.
    (out_dir / "lr").mkdir(parents=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    queued = optuna.create_study(study_name="lr", storage=study_mod.default_storage(out_dir, "lr"))
    for lr in (GOOD, BAD):
        queued.enqueue_trial({"train.learning_rate": lr})

    assert main(tune_args(data_dir, out_dir, path, 1)) == 0
    first = capsys.readouterr().out
    assert "trial 0 complete" in first and "1 of 1 trials finished" in first
    assert main(tune_args(data_dir, out_dir, path, 2)) == 0  # the same study, a larger total: one more trial
    out = capsys.readouterr().out
    assert "trial 0 starts" not in out and "trial 1 pruned after epoch 1" in out

    trials = load(out_dir, "lr").get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    good, bad = trials
    assert bad.user_attrs["epochs"] == 1 and bad.intermediate_values[1] > good.intermediate_values[1]
    assert good.value == min(good.intermediate_values.values())  # the best validation -ELBO of the trial
    for t in trials:  # each trial an ordinary, finished run folder, named for its study and trial
        run_dir = Path(t.user_attrs["run_dir"])
        assert run_dir.parent == (out_dir / "lr").resolve() and run_dir.name.startswith(f"trial-{t.number:04d}-")
        manifest = folder.read_manifest(run_dir)
        assert manifest["status"] == "complete" and (run_dir / folder.DECODER).is_file()
        assert manifest["tuning"]["study"] == "lr" and manifest["tuning"]["trial"] == t.number
        assert manifest["tuning"]["state"] == t.state.name.lower()
        assert manifest["epochs_completed"] == t.user_attrs["epochs"]

    # best.yaml is the best trial's own config, with the user's output folder.
    best = load_config(out_dir / "lr" / "best.yaml")
    trained = folder.read_config(good.user_attrs["run_dir"])
    assert best.train.learning_rate == GOOD
    assert {**to_dict(best), "output": None} == {**to_dict(trained), "output": None}
    assert best.output.dir == str(out_dir) and best.output.name is None
    for name in ("history.png", "params.png"):
        image = mpimg.imread(out_dir / "lr" / name)
        assert image.shape[0] > 100 and image.std() > 0.01, name

    assert main(tune_args(data_dir, out_dir, path, 2)) == 0  # already complete: nothing runs
    assert "starts" not in capsys.readouterr().out
    assert main(["tune", "--show", "--output-dir", str(out_dir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counted"] == 2 and shown["best"]["number"] == 0
    assert [(r["number"], r["state"], r["epochs"]) for r in shown["trials"]] == [(0, "complete", 2), (1, "pruned", 1)]
    assert main(["tune", "--show", "--output-dir", str(out_dir), "--study", "lr"]) == 0
    table = capsys.readouterr().out
    assert "train.learning_rate" in table and "pruned" in table and "Best: trial 0" in table


def trial(number, state, outcome=None, history=()):
    system = {"retry_history": list(history), "failed_trial": history[0]} if history else {}
    return SimpleNamespace(
        number=number,
        state=getattr(optuna.trial.TrialState, state),
        user_attrs={study_mod.OUTCOME: outcome} if outcome else {},
        system_attrs=system,
    )


def test_the_census_counts_every_trial_once():
    trials = [
        trial(0, "COMPLETE"),
        trial(1, "FAIL"),  # killed; run again as 4
        trial(2, "PRUNED"),
        trial(3, "FAIL", "diverged"),  # its parameters' fault: a result
        trial(4, "RUNNING", history=[1]),
        trial(5, "FAIL", "surplus"),
        trial(6, "FAIL"),  # a full disk, say, and not queued again: its place is free
        trial(7, "WAITING", history=[6]),
    ]
    trials[6].system_attrs = {}
    count = study_mod.census(trials[:7])
    assert [t.number for t in count.counted] == [0, 2, 3]
    assert [t.number for t in count.running] == [4] and [t.number for t in count.retried] == [1]
    assert [t.number for t in count.surplus] == [5] and [t.number for t in count.lost] == [6]
    count = study_mod.census(trials)
    assert [t.number for t in count.waiting] == [7] and [t.number for t in count.retried] == [1, 6]
    # A trial's place: the trials below it that hold one (a retry holds its original's).
    assert study_mod.slots_ahead(trials, 4) == 3  # 0, 2, 3
    assert study_mod.slots_ahead(trials, 5) == 4  # ... and 4
    assert study_mod.slots_ahead(trials, 8) == 5  # ... and 7; 1, 5 and 6 hold none


def test_a_trial_stopped_by_something_not_its_own_is_queued_again_with_its_folder():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study()
    dist = {"train.learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True)}
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL,
            params={"train.learning_rate": 0.002},
            distributions=dist,
            user_attrs={"run_dir": "/runs/trial-0000"},
        )
    )
    _queue_again(study, 0)
    (_, again) = study.get_trials()
    assert again.state == optuna.trial.TrialState.WAITING
    assert again.params == {"train.learning_rate": 0.002} and again.user_attrs["run_dir"] == "/runs/trial-0000"
    assert again.system_attrs["failed_trial"] == 0
    assert [t.number for t in study_mod.census(study.get_trials()).waiting] == [1]


class FakeTrial:
    def __init__(self, prune, running=True):
        self.number, self.reports, self.prune = 3, [], prune
        listed = [SimpleNamespace(number=3)] if running else []
        self.study = SimpleNamespace(get_trials=lambda **kw: listed)

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune


def test_the_reporter_reports_each_epochs_validation_elbo_and_stops_a_pruned_trial():
    from vae_cli.kinds import KINDS, OBJECTIVES, Score
    from vae_cli.tuning.reporter import EpochReporter

    logs = {"val_loss": 9.0, "val_reconstruction_loss": 100.0, "val_kl_loss": 5.0}
    fake = FakeTrial(prune=False)
    score = Score(KINDS.get("vae"), OBJECTIVES.get("elbo"), 1.0)
    reporter = EpochReporter(fake, {1}, score)
    reporter.set_model(SimpleNamespace(stop_training=False))
    reporter.on_epoch_end(0, logs)  # epoch 1: reported by the worker that died, not again
    reporter.on_epoch_end(1, logs)
    assert fake.reports == [(2, 105.0)] and not reporter.model.stop_training
    fake.prune = True
    reporter.on_epoch_end(2, logs)
    assert reporter.pruned_at == 3 and reporter.model.stop_training
    with pytest.raises(GivenUp):  # declared dead by the others: stop before saving the epoch
        EpochReporter(FakeTrial(prune=False, running=False), set(), score).on_epoch_end(0, logs)


@pytest.mark.parametrize(
    "stop, code, said",
    [
        (
            Interrupted("interrupted in epoch 2 (its 3 finished steps are discarded)", Fix("resume", "RUN")),
            130,
            "vae tune: trial 0: interrupted in epoch 2 (its 3 finished steps are discarded); it is queued to run "
            "again; continue with the same `vae tune` command: the study resumes where it stopped",
        ),
        (
            Interrupted("stopped by SIGTERM in epoch 2 (its 3 finished steps are discarded)", signum=signal.SIGTERM),
            143,
            "vae tune: trial 0: stopped by SIGTERM in epoch 2 (its 3 finished steps are discarded); it is queued to "
            "run again; continue with the same `vae tune` command",
        ),
        (
            Terminated(),  # SIGTERM outside training's own handler, as in loading the data
            143,
            "vae tune: trial 0: stopped by SIGTERM; it is queued to run again; continue with the same `vae tune` "
            "command",
        ),
        (
            RunError("could not write into RUN: the disk is full", Fix("resume", "RUN", first="free space")),
            1,
            "vae tune: error: trial 0: could not write into RUN: the disk is full; free space and continue with the "
            "same `vae tune` command",
        ),
        (  # before the first checkpoint a run itself would start again; a trial is queued again all the same
            RunError("could not write into RUN: the disk is full", Fix("start_again", "C", first="free space")),
            1,
            "vae tune: error: trial 0: could not write into RUN: the disk is full; free space and continue with the "
            "same `vae tune` command",
        ),
    ],
)
def test_a_trial_stopped_midway_runs_again_from_its_folder(monkeypatch, capsys, data_dir, tmp_path, stop, code, said):
    from vae_cli.training import checkpoint, run

    out_dir = tmp_path / "out"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sampler": "random", "space": {"train.learning_rate": {"choice": [GOOD]}}}))

    def stopped(cfg, argv, verbose, hooks):
        run_dir = out_dir / "s" / "trial-0000-x"
        run_dir.mkdir(parents=True)
        (run_dir / checkpoint.FILENAME).touch()  # epoch 1 was saved
        hooks.on_folder(run_dir)
        raise stop

    monkeypatch.setattr(run, "start", stopped)
    assert main(tune_args(data_dir, out_dir, path, 1)) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(said), err
    first, again = load(out_dir, "s").get_trials()
    assert first.state.name == "FAIL" and first.user_attrs["stopped"]
    assert again.state.name == "WAITING" and again.system_attrs["failed_trial"] == 0

    resumed = []
    row = {"epoch": 1.0, "val_reconstruction_loss": 100.0, "val_kl_loss": 2.0, "seconds": 1.0}

    def resume(run_dir, data_dir, verbose, hooks):
        resumed.append((Path(run_dir).name, hooks.manifest["tuning"]["retry_of"]))
        return run.TrainResult(Path(run_dir), 2, 1, {}, 1.0, resumed_from=1, history=[row, {**row, "epoch": 2.0}])

    monkeypatch.setattr(run, "resume", resume)
    assert main(tune_args(data_dir, out_dir, path, 1)) == 0
    assert resumed == [("trial-0000-x", [0])]
    (_, again) = load(out_dir, "s").get_trials()
    assert again.state.name == "COMPLETE" and again.value == 102.0 and again.user_attrs["stopped"] is None
    assert "stopped -> 1" in capsys.readouterr().out


def test_a_signal_as_a_trial_is_taken_leaves_it_queued_not_running_forever(monkeypatch, capsys, data_dir, tmp_path):
    """Ctrl-C between Optuna's creating a trial and the objective's start: held until the trial is the
    worker's, then raised, so the trial is failed and queued again rather than left running with no heartbeat."""
    import signal

    out_dir, path = tmp_path / "out", tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sampler": "random", "space": {"train.learning_rate": {"choice": [GOOD]}}}))
    ask = optuna.Study.ask

    def ask_then_ctrl_c(self, *args, **kwargs):
        trial = ask(self, *args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # the trial exists, running, and has no heartbeat yet
        return trial

    monkeypatch.setattr(optuna.Study, "ask", ask_then_ctrl_c)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh process has it, whatever ran before
    assert main(tune_args(data_dir, out_dir, path, 1)) == 130
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith("vae tune: trial 0") and "queued to run again" in err, err
    states = [t.state.name for t in load(out_dir, "s").get_trials()]
    assert states == ["FAIL", "WAITING"], states


@pytest.mark.slow
def test_an_autoencoder_study_completes_under_the_output_dir_flag(capsys, data_dir, tmp_path, monkeypatch):
    """An ae's epochs have no KL column: its objective is the reconstruction, not a 'diverged' NaN. A
    search's --output-dir places the study as --set output.dir does, never ./outputs."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ae.yaml"
    path.write_text(yaml.safe_dump({"pruner": "none", "space": {"train.learning_rate": {"choice": [GOOD]}}}))
    args = ["tune", "--space", str(path), "--trials", "1", "--data-dir", str(data_dir), "--set", "model.kind=ae"]
    for item in TINY_MODEL + ["train.epochs=1", "train.batch_size=32"]:
        args += ["--set", item]
    out_dir = tmp_path / "elsewhere"
    assert main([*args, "--output-dir", str(out_dir)]) == 0
    assert "trial 0 complete" in capsys.readouterr().out
    assert not (tmp_path / "outputs").exists()
    (trial,) = load(out_dir, "ae").get_trials()
    assert trial.state == optuna.trial.TrialState.COMPLETE and 0 < trial.value < 1000
    assert main(["tune", "--show", "--output-dir", str(out_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


def test_workers_are_given_the_output_dir():
    from vae_cli.cli.parser import build_parser
    from vae_cli.cli.tuning_workers import worker_command

    args = build_parser().parse_args(
        ["tune", "--space", "s.yaml", "--trials", "2", "--output-dir", "runs", "--storage", "postgresql://u:pw@h/d"]
    )
    command = worker_command(args, "s", 1, 0.0)
    assert command[command.index("--output-dir") + 1] == "runs"
    assert "--storage" not in command, "the URL, which may hold a password, goes by the environment, not ps"


def test_the_workers_lines_are_said_once_and_an_error_is_not_lost_while_they_stop(capsys):
    import io

    from vae_cli.cli.tuning_workers import _Relay

    relay = _Relay()
    for index in (0, 1):  # two workers meeting the same missing data
        relay.follow(index, io.StringIO("vae tune: error: no MNIST IDX files in data\n"))
    relay.finish(())
    assert capsys.readouterr().err == "vae tune: error: no MNIST IDX files in data\n"

    relay = _Relay()
    relay.hold()  # a signal came: each worker's lines wait for how it ended
    relay.follow(0, io.StringIO("vae tune: trial 0 interrupted; it is queued to run again\n"))
    relay.follow(1, io.StringIO("vae tune: error: could not write into RUN: the disk is full\n"))
    relay.finish([1])  # worker 1 ended by an error of its own, worker 0 by the signal
    assert capsys.readouterr().err == "vae tune: error: could not write into RUN: the disk is full\n"
