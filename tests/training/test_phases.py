"""Training's phases: timed into run.json, and a phase that stalls leaves every thread's stack in the run folder."""

import json
import subprocess
import sys
import time

import pytest

from vae_cli.cli.main import main
from vae_cli.training import phases
from vae_cli.training.phases import PhaseClock

PHASES = {"data", "models", "first_step", "validation", "epoch_saves", "test_evaluation", "final_models"}
PHASES |= {"onnx_copies", "figures", "after_epochs", "total"}


def test_a_phase_that_passes_the_threshold_dumps_every_threads_stack(tmp_path, monkeypatch):
    monkeypatch.setattr(phases, "STALL_SECONDS", 0.2)
    clock = PhaseClock()
    clock.watch(tmp_path)
    with clock.phase("quick"):
        pass
    with clock.phase("stuck_here"):
        time.sleep(0.6)
    with clock.phase("quick"):
        pass
    clock.close()
    text = (tmp_path / phases.STALLS).read_text()
    assert "test_a_phase_that_passes_the_threshold_dumps_every_threads_stack" in text  # the stalled frame
    assert "time.sleep(0.6)" in text and "--- phase 'stuck_here' passed 0.2 s" in text and "'quick'" not in text
    assert text.count("--- phase") == 1  # once per phase, however long it lasts
    record = clock.record()
    assert set(record) == {"quick", "stuck_here", "total", "stalled"} and record["stalled"] == ["stuck_here"]
    assert record["stuck_here"] >= 0.6
    assert [p.name for p in tmp_path.iterdir()] == [phases.STALLS]


def test_a_phase_begun_in_one_place_and_ended_in_another_is_watched_too(tmp_path, monkeypatch):
    # As after an epoch's saves: begun by the loop, ended by the next step or once fit has returned.
    monkeypatch.setattr(phases, "STALL_SECONDS", 0.2)
    clock = PhaseClock()
    clock.watch(tmp_path)
    clock.begin(phases.AFTER_EPOCH)
    time.sleep(0.5)
    clock.end()
    clock.end()  # nothing open: nothing added
    clock.close()
    assert f"--- phase '{phases.AFTER_EPOCH}' passed" in (tmp_path / phases.STALLS).read_text()
    assert 0.5 <= clock.record()[phases.AFTER_EPOCH] < 1.0


def test_phases_in_time_leave_no_file_and_the_watchdog_stops(tmp_path):
    import threading

    clock = PhaseClock()
    clock.watch(tmp_path)
    with clock.phase("quick"):
        pass
    clock.close()
    assert list(tmp_path.iterdir()) == [] and "stalled" not in clock.record()
    assert not [t for t in threading.enumerate() if t.name == "vae-phase-watchdog"]


@pytest.mark.parametrize("obstacle", ["folder", "link"])
def test_a_dump_never_goes_through_a_link_or_fails_the_run(tmp_path, monkeypatch, obstacle):
    monkeypatch.setattr(phases, "STALL_SECONDS", 0.1)
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    run = tmp_path / "run"
    run.mkdir()
    if obstacle == "folder":
        (run / phases.STALLS).mkdir()
    else:
        (run / phases.STALLS).symlink_to(target)
    clock = PhaseClock()
    clock.watch(run)
    with clock.phase("slow"):
        time.sleep(0.4)
    clock.close()
    assert target.read_text() == "keep" and clock.record()["stalled"] == ["slow"]


def test_a_dump_while_the_main_thread_draws_does_not_crash_it(tmp_path, monkeypatch):
    # faulthandler's watchdog, used before, read the main thread's frames without the GIL and crashed the
    # process when a dump met matplotlib drawing; ours takes the GIL. Dumps race a busy main thread here.
    code = (
        "import time\n"
        "from pathlib import Path\n"
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from vae_cli.training import phases\n"
        "phases.STALL_SECONDS = 0.01\n"
        "clock = phases.PhaseClock()\n"
        f"clock.watch(Path({str(tmp_path)!r}))\n"
        "for i in range(40):\n"
        "    with clock.phase(f'draw{i}'):\n"
        "        fig = plt.figure(); plt.plot(range(200)); fig.savefig('/dev/null', format='png'); plt.close(fig)\n"
        "clock.close()\n"
        "print(len(clock.record()['stalled']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 20  # most drawings outlasted 10 ms and were dumped mid-draw


def test_a_run_records_its_phases(tiny_args, tmp_path, capsys):
    assert main([*tiny_args, "--set", "train.epochs=2"]) == 0
    (run,) = (tmp_path / "outputs").iterdir()
    recorded = json.loads((run / "run.json").read_text())["phases"]
    assert PHASES <= set(recorded), recorded
    assert all(seconds >= 0 for seconds in recorded.values())
    assert sum(recorded[p] for p in PHASES - {"total"}) <= recorded["total"]
    assert not (run / phases.STALLS).exists() and "stalled" not in recorded
