"""Training's phases: timed into run.json, and a phase that stalls leaves every thread's stack in the run folder."""

import json
import time

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
    assert "phase 'stuck_here', which took 0." in text and "'quick'" not in text
    assert set(clock.record()) == {"quick", "stuck_here", "total"} and clock.record()["stuck_here"] >= 0.6
    assert [p.name for p in tmp_path.iterdir()] == [phases.STALLS]  # the temporary file is gone


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
    assert f"phase '{phases.AFTER_EPOCH}', which took 0." in (tmp_path / phases.STALLS).read_text()
    assert 0.5 <= clock.record()[phases.AFTER_EPOCH] < 1.0


def test_phases_in_time_leave_no_file(tmp_path):
    clock = PhaseClock()
    clock.watch(tmp_path)
    with clock.phase("quick"):
        pass
    clock.close()
    assert list(tmp_path.iterdir()) == []


def test_a_run_records_its_phases(tiny_args, tmp_path, capsys):
    assert main([*tiny_args, "--set", "train.epochs=2"]) == 0
    (run,) = (tmp_path / "outputs").iterdir()
    recorded = json.loads((run / "run.json").read_text())["phases"]
    assert PHASES <= set(recorded), recorded
    assert all(seconds >= 0 for seconds in recorded.values())
    assert sum(recorded[p] for p in PHASES - {"total"}) <= recorded["total"]
    assert not (run / phases.STALLS).exists() and not list(run.glob(".stalls*"))
