"""Workers sharing a study, one killed with SIGKILL mid-trial: its trial is noticed, run again from its
last completed epoch, and every trial is accounted for exactly once. SQLite with ``--workers 2``, and a
real PostgreSQL server with two separate ``vae tune`` processes (as on two machines)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from conftest import TINY_MODEL, write_dataset

from vae_cli.errors import RunError
from vae_cli.runs import folder
from vae_cli.runs.history import read_history
from vae_cli.training import checkpoint
from vae_cli.tuning import study as study_mod

pytestmark = pytest.mark.slow

EPOCHS, TRIALS = 3, 2
SPACE = {
    "pruner": "none",
    "sampler": "random",
    "heartbeat_interval": 1,
    "grace_period": 5,  # a killed worker's trial is run again 5 s after its last heartbeat
    "space": {"train.learning_rate": {"log_uniform": [1.0e-3, 1.0e-2]}},
}


@pytest.fixture(scope="module")
def epoch_data(tmp_path_factory):
    """Enough images that an epoch lasts long enough to be killed in the middle of."""
    return write_dataset(tmp_path_factory.mktemp("crash") / "mnist", train=1024, test=64)


def command(data, out_dir, space_path, *extra, epochs=EPOCHS):
    args = [sys.executable, "-m", "vae_cli", "tune", "--space", str(space_path), "--trials", str(TRIALS)]
    args += ["--study", "crash", "--data-dir", str(data), "--set", f"output.dir={out_dir}", *extra]
    for item in TINY_MODEL + [f"train.epochs={epochs}", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    return args


def start(args, log, err=None, **popen):
    """``args`` in a child writing to the file ``log``; its stderr to the file ``err`` if given, else there too."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stderr = err.open("w") if err else subprocess.STDOUT
    return subprocess.Popen(args, stdout=log.open("w"), stderr=stderr, text=True, env=env, **popen)


def saved_epoch(run_dir):
    try:
        return checkpoint.load(Path(run_dir) / checkpoint.FILENAME).state["epoch"]
    except RunError:
        return 0


def kill_one_mid_trial(url, alive, timeout=240):
    """SIGKILLs the worker of the first trial seen between two epochs while another process lives on."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = study_mod.open_storage(url, None)
    host = socket.gethostname()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in alive), "a process ended before any trial could be killed"
        try:
            trials = optuna.load_study(study_name="crash", storage=storage).get_trials(deepcopy=False)
        except KeyError:  # the study is not there yet
            trials = []
        for t in trials:
            worker, run_dir = t.user_attrs.get("worker", ""), t.user_attrs.get("run_dir")
            if t.state.name == "RUNNING" and run_dir and worker.startswith(f"{host}:"):
                if 1 <= saved_epoch(run_dir) < EPOCHS:
                    os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)
                    return t.number
        time.sleep(0.1)
    raise AssertionError("no trial was caught between two epochs")


def assert_every_trial_once(url, killed):
    storage = study_mod.open_storage(url, None)
    trials = optuna.load_study(study_name="crash", storage=storage).get_trials()
    count = study_mod.census(trials)
    assert len(count.counted) == TRIALS and all(t.state.name == "COMPLETE" for t in count.counted)
    assert [t.number for t in count.retried] == [killed], "only the killed trial failed, and it was run again"
    assert not (count.running or count.waiting or count.lost or count.surplus)
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") is not None]
    original = trials[killed]
    assert retry.system_attrs["failed_trial"] == killed and retry.params == original.params
    assert retry.user_attrs["run_dir"] == original.user_attrs["run_dir"], "the killed run folder was resumed"
    assert retry.user_attrs["resumed_from"] >= 1, "from its last completed epoch, not from the start"
    folders = {t.user_attrs["run_dir"] for t in count.counted}
    assert len(folders) == TRIALS, "each trial trained in its own folder, none twice"
    history = read_history(Path(retry.user_attrs["run_dir"]) / "history.csv")
    assert [int(row["epoch"]) for row in history] == list(range(1, EPOCHS + 1)), "no epoch trained twice or lost"
    manifest = folder.read_manifest(retry.user_attrs["run_dir"])
    assert manifest["status"] == "complete"
    assert manifest["tuning"] | {"storage": None} == {
        "study": "crash",
        "trial": retry.number,
        "storage": None,
        "retry_of": [killed],
        "state": "complete",
        "objective": retry.value,
    }
    return trials


def test_sqlite_two_workers_one_killed(epoch_data, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    out_dir = tmp_path / "out"
    log = tmp_path / "tune.log"
    parent = start(command(epoch_data, out_dir, space, "--workers", "2"), log)
    url = study_mod.default_storage(out_dir, "crash")
    try:
        while not (out_dir / "crash" / study_mod.DATABASE).is_file():
            assert parent.poll() is None, log.read_text()
            time.sleep(0.1)
        killed = kill_one_mid_trial(url, [parent])
        assert parent.wait(timeout=240) == 0, log.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()
    trials = assert_every_trial_once(url, killed)
    text = log.read_text()
    assert f"runs trial {killed} again, resuming" in text and f"killed -> {trials[-1].number}" in text
    threads = {
        folder.read_manifest(t.user_attrs["run_dir"])["threads"]["intra_op"]
        for t in trials
        if t.state.name == "COMPLETE"
    }
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert threads == {max(1, cores // 2)}, "each worker has its share of the cores"
    assert (out_dir / "crash" / "best.yaml").is_file() and (out_dir / "crash" / "history.png").is_file()


def test_postgresql_two_processes_one_killed(postgres, epoch_data, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    out_dir = tmp_path / "out"
    args = command(epoch_data, out_dir, space, "--storage", postgres)
    first, second = start(args, tmp_path / "a.log"), start(args, tmp_path / "b.log")
    procs = [first, second]
    try:
        killed = kill_one_mid_trial(postgres, procs)
        deadline = time.monotonic() + 60
        while all(p.poll() is None for p in procs):  # until the killed one is gone
            assert time.monotonic() < deadline, "the killed process did not end"
            time.sleep(0.05)
        (survivor,) = [p for p in procs if p.poll() is None]
        assert survivor.wait(timeout=240) == 0, [(tmp_path / f).read_text() for f in ("a.log", "b.log")]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert_every_trial_once(postgres, killed)
    log = (tmp_path / ("a.log" if survivor is first else "b.log")).read_text()
    assert f"runs trial {killed} again, resuming" in log and f"{TRIALS} of {TRIALS} trials finished" in log
