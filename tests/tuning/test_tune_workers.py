"""``vae tune --workers 2`` stopped from outside mid-trial: SIGTERM or SIGKILL of the parent ends its workers
too, and Ctrl-C ends in one line; the trials in progress are queued again and the same command finishes the
study, each stopped trial resuming its run folder."""

import os
import signal
import socket
import time

import optuna
import pytest
import yaml
from test_tune_crash import SPACE, TRIALS, command, epoch_data, saved_epoch, start  # noqa: F401 (a fixture)

from vae_cli.tuning import study as study_mod

pytestmark = pytest.mark.slow

EPOCHS = 5  # long enough that both workers are seen between two epochs of their trials at once
STOPPED_LINE = "queued to run again; continue with the same `vae tune` command: the study resumes where it stopped"


@pytest.fixture
def search(epoch_data, tmp_path):  # noqa: F811 (the fixture imported above)
    """The command of a two-worker search, with where its study, output and error text go."""
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    out_dir = tmp_path / "out"
    args = command(epoch_data, out_dir, space, "--workers", "2", epochs=EPOCHS)
    return args, study_mod.default_storage(out_dir, "crash"), tmp_path / "tune.log", tmp_path / "tune.err"


def both_mid_trial(url, parent, timeout=300):
    """Waits until each worker trains a trial with at least one epoch saved and more to come; {trial: pid}."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = None
    host = socket.gethostname()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert parent.poll() is None, "the search ended before both trials were under way"
        trials = []
        if study_mod.sqlite_file(url).is_file():  # made by the search, not by this look
            try:
                storage = storage or study_mod.open_storage(url, None)
                trials = optuna.load_study(study_name="crash", storage=storage).get_trials(deepcopy=False)
            except KeyError:  # the study is not there yet
                pass
        found = {}
        for t in trials:
            worker, run_dir = t.user_attrs.get("worker", ""), t.user_attrs.get("run_dir")
            if t.state.name == "RUNNING" and run_dir and worker.startswith(f"{host}:"):
                if 1 <= saved_epoch(run_dir) < EPOCHS:
                    found[t.number] = int(worker.rsplit(":", 1)[1])
        if len(found) == 2:
            return found
        time.sleep(0.1)
    raise AssertionError("the two workers were not seen mid-trial at once")


def gone(pid):
    """Whether the process has ended (a zombie left for its adopter to reap counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:  # no /proc here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def assert_gone(pids, seconds):
    deadline = time.monotonic() + seconds
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"workers still running {seconds} s on: {[p for p in pids if not gone(p)]}"
        time.sleep(0.05)


def assert_queued_again(url, stopped):
    trials = optuna.load_study(study_name="crash", storage=study_mod.open_storage(url, None)).get_trials()
    waiting = study_mod.census(trials).waiting
    assert sorted(t.system_attrs["failed_trial"] for t in waiting) == sorted(stopped)
    assert not study_mod.census(trials).running, "no trial is left running for the grace period to find"


def assert_the_same_command_finishes(args, url, stopped, log):
    again = start(args, log)
    assert again.wait(timeout=600) == 0, log.read_text()
    trials = optuna.load_study(study_name="crash", storage=study_mod.open_storage(url, None)).get_trials()
    count = study_mod.census(trials)
    assert len(count.counted) == TRIALS and all(t.state.name == "COMPLETE" for t in count.counted)
    assert sorted(t.number for t in count.retried) == sorted(stopped)
    for retry in count.counted:
        original = trials[retry.system_attrs["failed_trial"]]
        assert retry.user_attrs["run_dir"] == original.user_attrs["run_dir"], "the stopped run folder was resumed"
        assert retry.user_attrs["resumed_from"] >= 1, "from its last completed epoch, not from the start"


def test_sigterm_to_the_parent_stops_its_workers(search):
    args, url, log, err = search
    parent = start(args, log, err)
    try:
        workers = both_mid_trial(url, parent)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 143, log.read_text() + err.read_text()
    finally:
        if parent.poll() is None:
            parent.kill()
    assert_gone(workers.values(), 5)  # the parent waited for them: gone already
    (line,) = err.read_text().splitlines()
    numbers = sorted(workers)
    assert line == f"vae tune: stopped by SIGTERM; trials {numbers[0]} and {numbers[1]} are {STOPPED_LINE}"
    assert_queued_again(url, workers)  # the SIGKILL test below runs the same command again to the end


def test_sigkill_of_the_parent_stops_its_workers(search):
    args, url, log, err = search
    parent = start(args, log, err)
    try:
        workers = both_mid_trial(url, parent)
        parent.kill()
        parent.wait(timeout=60)
        assert_gone(workers.values(), 30)
    finally:
        for pid in workers.values() if "workers" in locals() else ():
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    assert_queued_again(url, workers)  # each queued its own trial again, as after Ctrl-C
    assert_the_same_command_finishes(args, url, workers, log)


def test_ctrl_c_ends_in_one_line(search):
    args, url, log, err = search
    parent = start(args, log, err, start_new_session=True)  # its own process group, as a terminal's job
    try:
        workers = both_mid_trial(url, parent)
        said_before = len(err.read_text())
        os.killpg(parent.pid, signal.SIGINT)  # as Ctrl-C: to the parent and its workers
        assert parent.wait(timeout=60) == 130, log.read_text() + err.read_text()
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
    assert_gone(workers.values(), 5)
    after = [line for line in err.read_text()[said_before:].splitlines() if line.strip()]
    numbers = sorted(workers)
    assert after == [f"vae tune: interrupted; trials {numbers[0]} and {numbers[1]} are {STOPPED_LINE}"]
    assert_queued_again(url, workers)
