"""Nothing lost: resume after SIGKILL and Ctrl-C, atomic saves, disk full, NaN guard, determinism."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import h5py
import held_training
import mounts
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.errors import RunError, Terminated
from vae_cli.runs import atomic, folder
from vae_cli.runs.lock import RunLock
from vae_cli.runs.modelfile import load_model
from vae_cli.training import checkpoint


def train_args(data, out_dir, epochs=3, name="r"):
    args = ["train", "--data-dir", str(data), "--set", f"output.dir={out_dir}", "--set", f"output.name={name}"]
    for item in TINY_MODEL + [f"train.epochs={epochs}", "train.batch_size=32", "train.early_stopping_patience=null"]:
        args += ["--set", item]
    return args


def only_run(out_dir):
    (run_dir,) = [p for p in out_dir.iterdir() if p.is_dir()]
    return run_dir


def checkpoint_epoch(run_dir):
    try:
        return checkpoint.load(run_dir / checkpoint.FILENAME).state["epoch"]
    except RunError:
        return 0


def stopped_after_epoch_1(data, out_dir, monkeypatch):
    """A 3-epoch run whose second checkpoint met a full disk: failed, epoch 1's checkpoint kept, resumable."""
    real = atomic.atomic_write

    def full_disk_at_epoch_2(path, write):
        if path.name == checkpoint.FILENAME and checkpoint_epoch(path.parent) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", full_disk_at_epoch_2)
    assert main(train_args(data, out_dir)) == 1
    monkeypatch.setattr(atomic, "atomic_write", real)
    return only_run(out_dir)


def start_child(args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "vae_cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def start_held(data, out_dir):
    """A child training into ``out_dir`` that halts after step 2 of epoch 2 until signalled; it and its run."""
    announce = out_dir.parent / "held"
    proc = held_training.start(train_args(data, out_dir), announce, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    held_training.wait_until_held(proc, announce)
    return proc, only_run(out_dir)


def variables(run_dir):
    with h5py.File(run_dir / checkpoint.FILENAME, "r") as f:
        return [f["variables"][str(i)][()] for i in range(len(f["variables"]))]


def assert_each_epoch_logged_once(run_dir, epochs):
    """TensorBoard's reader sees every epoch once, whatever the killed process had logged past its checkpoint."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for sub in ("train", "validation"):
        acc = EventAccumulator(str(run_dir / "tensorboard" / sub), size_guidance={"tensors": 0})
        acc.Reload()
        assert [e.step for e in acc.Tensors("epoch_loss")] == list(range(1, epochs + 1)), sub
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0})
    acc.Reload()
    assert [e.step for e in acc.Tensors("samples")] == list(range(1, epochs + 1))


def assert_same_weights(a, b):
    va, vb = variables(a), variables(b)
    assert len(va) == len(vb)
    for x, y in zip(va, vb, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def uninterrupted(data_dir, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("full")
    assert main(train_args(data_dir, out_dir)) == 0
    return only_run(out_dir)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(data_dir, tmp_path, uninterrupted):
    out_dir = tmp_path / "out"
    proc, run_dir = start_held(data_dir, out_dir)  # in epoch 2, after its checkpoint of epoch 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    done = checkpoint_epoch(run_dir)
    assert 1 <= done < 3, "the kill should land before the last epoch"
    load_model(run_dir / folder.DECODER)  # the folder already holds usable models
    assert main(["train", "--resume", str(run_dir)]) == 0
    assert_same_weights(run_dir, uninterrupted)
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["epochs_completed"] == 3
    assert [r.split(",")[0] for r in (run_dir / "history.csv").read_text().splitlines()[1:]] == ["1", "2", "3"]
    assert_each_epoch_logged_once(run_dir, 3)


@pytest.mark.slow
def test_ctrl_c_saves_and_prints_the_resume_command(data_dir, tmp_path, uninterrupted):
    out_dir = tmp_path / "out"
    proc, run_dir = start_held(data_dir, out_dir)  # in epoch 2, after its checkpoint of epoch 1
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"continue with: vae train --resume {run_dir}" in err
    assert "Traceback" not in err and err.strip().count("\n") == 0
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert main(["train", "--resume", str(run_dir)]) == 0
    assert_same_weights(run_dir, uninterrupted)
    assert_each_epoch_logged_once(run_dir, 3)


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_and_two_resumes_at_once_have_one_writer(data_dir, tmp_path, uninterrupted):
    out_dir = tmp_path / "out"
    proc, run_dir = start_held(data_dir, out_dir)  # in epoch 2, after its checkpoint of epoch 1
    proc.send_signal(signal.SIGTERM)  # what docker stop, Slurm and systemd send
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.startswith("vae train: stopped by SIGTERM in epoch ") and "finished steps are discarded" in err
    assert err.startswith("vae train: stopped by SIGTERM in epoch 2 (its 2 finished steps are discarded)")
    assert f"continue with: vae train --resume {run_dir}" in err
    assert "Traceback" not in err and err.strip().count("\n") == 0
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"

    resumes = [start_child(["train", "--resume", str(run_dir)]) for _ in range(2)]
    errs = {child.pid: child.communicate(timeout=300)[1] for child in resumes}
    (writer,) = [child for child in resumes if child.returncode == 0]
    (refused,) = [child for child in resumes if child.returncode != 0]
    assert refused.returncode == 1, errs
    assert f"is being written by another vae process (pid {writer.pid})" in errs[refused.pid]
    assert errs[refused.pid].count("\n") == 1 and "Traceback" not in errs[refused.pid]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert_same_weights(run_dir, uninterrupted)


@pytest.mark.slow
def test_resume_of_a_run_still_training_is_refused_and_a_killed_writer_frees_it(data_dir, tmp_path):
    out_dir = tmp_path / "out"
    proc, run_dir = start_held(data_dir, out_dir)  # held in epoch 2: still training when the second one asks
    try:
        second = subprocess.run(
            [sys.executable, "-m", "vae_cli", "train", "--resume", str(run_dir)], capture_output=True, text=True
        )
        assert proc.poll() is None, "the first run should still be training"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert second.returncode == 1
    assert f"{run_dir} is being written by another vae process (pid {proc.pid})" in second.stderr
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert checkpoint_epoch(run_dir) >= 1  # the refused process wrote and removed nothing
    with RunLock(run_dir):  # the OS freed the killed writer's lock
        pass


def test_an_unexpected_error_after_the_folder_exists_marks_the_run_failed(data_dir, tmp_path, monkeypatch):
    from vae_cli.training import fitting

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nmore")

    monkeypatch.setattr(fitting, "fit", broken)
    with pytest.raises(RuntimeError, match="boom"):  # raised on as before: it is a bug, not a user error
        main(train_args(data_dir, tmp_path / "out"))
    manifest = json.loads((only_run(tmp_path / "out") / "run.json").read_text())
    assert manifest["status"] == "failed" and manifest["reason"] == "RuntimeError: boom more"


@pytest.mark.parametrize(
    "signal_exception, code, said",
    [(KeyboardInterrupt, 130, "vae train: interrupted; "), (Terminated, 143, "vae train: stopped by SIGTERM; ")],
)
def test_a_signal_outside_the_training_steps_marks_the_run_interrupted(
    data_dir, tmp_path, monkeypatch, capsys, signal_exception, code, said
):
    from vae_cli.training import setup

    def stopped(*args, **kwargs):
        raise signal_exception

    monkeypatch.setattr(setup, "build_run_models", stopped)
    assert main(train_args(data_dir, tmp_path / "out")) == code
    run_dir = only_run(tmp_path / "out")
    err = capsys.readouterr().err
    assert err.startswith(said) and "no epoch was completed" in err and err.count("\n") == 1
    assert f"start it again with `vae train --config {run_dir / 'config.yaml'}`" in err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"


def test_sigterm_in_the_first_epoch_says_to_start_again(data_dir, tmp_path, monkeypatch, capsys):
    from vae_cli.training import fitting
    from vae_cli.training.callbacks import StopTraining

    def stopped_in_step_3(*args, **kwargs):
        raise StopTraining("interrupted", 1, 3, signum=signal.SIGTERM)  # what StopSignals raises

    monkeypatch.setattr(fitting, "fit", stopped_in_step_3)
    assert main(train_args(data_dir, tmp_path / "out")) == 143
    run_dir = only_run(tmp_path / "out")
    err = capsys.readouterr().err
    assert err == (
        "vae train: stopped by SIGTERM in epoch 1 (its 2 finished steps are discarded); no epoch was completed; "
        f"start it again with `vae train --config {run_dir / 'config.yaml'}`\n"
    )
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.slow
def test_kill_during_a_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "decoder.h5"
    script = textwrap.dedent(f"""
        import os, sys, time
        import numpy as np
        from vae_cli import backend
        backend.load()
        import keras
        from vae_cli.runs.modelfile import save_model
        from vae_cli.config import ModelConfig, TrainConfig
        from vae_cli.model.build import build_models
        cfg = ModelConfig(encoder_filters=[4, 8], encoder_dense=8, decoder_channels=8, decoder_filters=[4])
        good = build_models(cfg, (28, 28, 1), TrainConfig(seed=0)).decoder
        save_model(good, {str(path)!r})
        np.savez({str(tmp_path / "good.npz")!r}, *good.get_weights())
        def stuck_rename(src, dst):
            print("renaming", flush=True)
            time.sleep(600)
        os.replace = stuck_rename
        save_model(build_models(cfg, (28, 28, 1), TrainConfig(seed=1)).decoder, {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "renaming"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    decoder = load_model(path)
    good = np.load(tmp_path / "good.npz")
    for i, weight in enumerate(decoder.get_weights()):
        np.testing.assert_array_equal(weight, good[f"arr_{i}"])
    leftovers = [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    assert leftovers, "the killed save leaves its temporary file, never a torn decoder.h5"
    with RunLock(tmp_path) as lock:
        assert lock.remove_stale_temporaries()
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


@pytest.mark.slow
def test_disk_full_stops_cleanly_and_keeps_the_last_checkpoint(data_dir, tmp_path, monkeypatch, capsys):
    real = atomic.atomic_write
    calls = {"n": 0}

    def full_disk(path, write):
        if path.name == checkpoint.FILENAME:
            calls["n"] += 1
            if calls["n"] == 2:

                def partial(tmp):
                    with open(tmp, "wb") as f:
                        f.write(b"\x89HDF")
                    raise OSError(errno.ENOSPC, "No space left on device")

                return real(path, partial)
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", full_disk)
    code = main(train_args(data_dir, tmp_path / "out"))
    err = capsys.readouterr().err
    assert code == 1
    run_dir = only_run(tmp_path / "out")
    assert "the disk is full" in err and f"vae train --resume {run_dir}" in err and "Traceback" not in err
    assert "last good checkpoint (epoch 1)" in err  # epoch 2's checkpoint is the one that failed
    assert checkpoint.load(run_dir / checkpoint.FILENAME).state["epoch"] == 1
    load_model(run_dir / folder.DECODER)
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "failed" and manifest["reason"].startswith(f"could not write into {run_dir}")


@pytest.mark.slow
def test_a_full_disk_before_the_first_checkpoint_says_to_start_again(data_dir, tmp_path, monkeypatch, capsys):
    """The models of epoch 1 are saved, its checkpoint is not: nothing a resume would accept."""
    real = atomic.atomic_write

    def full_disk(path, write):
        if path.name == checkpoint.FILENAME:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", full_disk)
    assert main(train_args(data_dir, tmp_path / "out")) == 1
    err = capsys.readouterr().err
    run_dir = only_run(tmp_path / "out")
    assert err.count("\n") == 1 and "the disk is full" in err and "nothing to resume" in err
    assert f"free space and start it again with `vae train --config {run_dir / 'config.yaml'}`" in err
    assert "--resume" not in err
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "failed" and manifest.get("epochs_completed", 0) == 0  # as the checkpoint: none
    monkeypatch.setattr(atomic, "atomic_write", real)
    assert main(["train", "--resume", str(run_dir)]) == 1
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_a_full_disk_that_keeps_run_json_running_says_so_and_list_shows_it_stopped(
    data_dir, tmp_path, monkeypatch, capsys
):
    real, written = atomic.atomic_write, []

    def full_disk_once_training(path, write):
        written.append(path.name)
        if written.count(folder.MANIFEST) > 1 or path.parent.name == "samples":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(atomic, "atomic_write", full_disk_once_training)
    assert main(train_args(data_dir, tmp_path / "out")) == 1
    err = capsys.readouterr().err
    run_dir = only_run(tmp_path / "out")
    assert err.count("\n") == 1 and "the disk is full" in err
    assert "its run.json could not be updated and still says running" in err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert main(["list", "--output-dir", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1] == "stopped"


@pytest.mark.slow
def test_a_really_full_disk_ends_in_one_line_that_advises_only_what_works(data_dir, tmp_path):
    """A tmpfs with 150 KiB free (run.json cannot be written), 2000 KiB (no checkpoint fits), 2500 KiB
    (h5py reports the full disk as a RuntimeError) and 3000 KiB (epoch 1's checkpoint fits)."""
    from vae_cli.runs import catalog

    model = ["model.architecture=mlp", "model.hidden_units=[32]", "model.latent_dim=2", "train.epochs=3"]
    for free in (150, 2000, 2500, 3000):
        with mounts.small_disk(tmp_path / f"disk{free}", free) as disk:
            args = ["train", "--data-dir", str(data_dir), "--output-dir", str(disk / "out")]
            result = subprocess.run(
                [sys.executable, "-m", "vae_cli", *args, *[a for item in model for a in ("--set", item)]],
                capture_output=True,
                text=True,
            )
            err = result.stderr.strip().splitlines()[-1]
            assert result.returncode == 1 and "Traceback" not in result.stderr, (free, result.stderr[-2000:])
            assert err.startswith("vae train: error: could not write into") and "the disk is full" in err, free
            run_dir = only_run(disk / "out")
            if "--resume" in err:
                saved = checkpoint_epoch(run_dir)
                assert saved >= 1 and f"the last good checkpoint (epoch {saved})" in err, (free, err)
            else:
                assert "nothing to resume" in err and "start it again" in err, (free, err)
                assert not (run_dir / checkpoint.FILENAME).exists()
            (row,) = catalog.list_runs(disk / "out")
            assert row.status in ("failed", "stopped"), free
            manifest = json.loads((run_dir / "run.json").read_text())
            assert manifest.get("epochs_completed", 0) <= checkpoint_epoch(run_dir), free


@pytest.mark.slow
def test_nan_loss_stops_with_epoch_and_batch_and_keeps_good_weights(data_dir, tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    from vae_cli.training import fitting, pipeline

    real = pipeline.train_pipeline

    def poisoned(train, batch_size, seed, epochs):
        steps = pipeline.steps_per_epoch(len(train.source), batch_size)
        bad_step = steps + 2  # epoch 2, batch 3
        ds = real(train, batch_size, seed, epochs).enumerate()
        return ds.map(lambda i, x: tf.where(i == bad_step, x * np.nan, x))

    monkeypatch.setattr(fitting, "train_pipeline", poisoned)
    code = main(train_args(data_dir, tmp_path / "out"))
    err = capsys.readouterr().err
    run_dir = only_run(tmp_path / "out")
    assert code == 1
    assert "the loss became nan at epoch 2, batch 3" in err and "lower train.learning_rate" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "diverged" and manifest["diverged_at"] == {"epoch": 2, "batch": 3}
    assert checkpoint_epoch(run_dir) == 1
    for weight in load_model(run_dir / folder.VAE).get_weights():
        assert np.isfinite(weight).all()


@pytest.mark.slow
def test_same_seed_same_weights_and_a_full_manifest(data_dir, tmp_path):
    for name in ("a", "b"):
        assert main(train_args(data_dir, tmp_path / name, epochs=2)) == 0
    assert main(train_args(data_dir, tmp_path / "c", epochs=2) + ["--set", "train.seed=1"]) == 0
    a, b, c = (only_run(tmp_path / n) for n in "abc")
    assert_same_weights(a, b)
    assert not all(np.array_equal(x, y) for x, y in zip(variables(a), variables(c), strict=True))
    manifest = json.loads((a / "run.json").read_text())
    assert manifest["seed"] == 0 and len(manifest["config_hash"]) == 16
    assert manifest["config_hash"] == json.loads((b / "run.json").read_text())["config_hash"]
    assert manifest["config_hash"] != json.loads((c / "run.json").read_text())["config_hash"]
    assert set(manifest["versions"]) >= {"python", "tensorflow", "keras", "numpy"}
    assert manifest["dataset"]["name"] == "mnist" and len(manifest["dataset"]["sha256"]) == 64
    assert {"intra_op", "inter_op", "cpu_count"} <= set(manifest["threads"])


@pytest.mark.slow
def test_resume_of_a_finished_run_changes_nothing(data_dir, tmp_path, capsys):
    assert main(train_args(data_dir, tmp_path / "out", epochs=1)) == 0
    run_dir = only_run(tmp_path / "out")
    before = (run_dir / "decoder.h5").read_bytes()
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir)]) == 0
    assert "already finished" in capsys.readouterr().out
    assert (run_dir / "decoder.h5").read_bytes() == before


@pytest.mark.parametrize(
    "setup, args, code, message",
    [
        ("empty", ["--resume", "{run}"], 1, "is not a vae run folder"),
        ("no-checkpoint", ["--resume", "{run}"], 1, "never finished an epoch, so there is nothing to resume"),
        ("empty", ["--resume", "{run}", "--set", "train.epochs=3"], 2, "--resume uses the run's own config.yaml"),
        ("missing", ["--resume", "{run}"], 1, "does not exist"),
        ("edited-config", ["--resume", "{run}"], 1, "config.yaml has changed since this run started"),
    ],
)
def test_bad_resume_requests(tmp_path, capsys, setup, args, code, message):
    run_dir = tmp_path / "run"
    if setup != "missing":
        run_dir.mkdir()
    if setup in ("no-checkpoint", "edited-config"):
        (run_dir / "config.yaml").write_text("train:\n  epochs: 2\n")
        recorded = folder.config_hash(folder.read_config(run_dir)) if setup == "no-checkpoint" else "0123456789abcdef"
        (run_dir / "run.json").write_text(
            json.dumps({"status": "running", "dataset": {"source": "keras"}, "config_hash": recorded})
        )
    assert main(["train", *[a.format(run=run_dir) for a in args]]) == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_a_run_of_another_version_whose_data_was_split_differently_is_refused_by_name(data_dir, tmp_path, capsys):
    assert main(train_args(data_dir, tmp_path / "out", epochs=1)) == 0
    run_dir = only_run(tmp_path / "out")
    manifest = json.loads((run_dir / "run.json").read_text())
    manifest["status"], manifest["versions"]["vae_cli"] = "interrupted", "0.1.0"
    manifest["dataset"]["sha256"] = "0" * 64  # what the older version's split of the same files hashed to
    (run_dir / "run.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "was trained by vae 0.1.0, which held out its data differently" in err and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["file", "link"])
def test_a_tensorboard_file_or_link_is_refused_before_resuming(data_dir, tmp_path, monkeypatch, capsys, damage):
    """A file where the TensorBoard folder goes failed mid-epoch with TensorFlow's message and marked the run
    failed; a link would have had its target's events trimmed. Both are refused before anything is written."""
    run_dir = stopped_after_epoch_1(data_dir, tmp_path / "out", monkeypatch)
    board = run_dir / "tensorboard"
    elsewhere = tmp_path / "elsewhere"
    board.rename(elsewhere)
    if damage == "file":
        board.write_text("x")
    else:
        board.symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.rglob("*"))
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(board) in err and "Traceback" not in err
    assert ("is not a folder" if damage == "file" else "is a symbolic link") in err
    assert checkpoint_epoch(run_dir) == 1 and sorted(p.name for p in elsewhere.rglob("*")) == before
    board.unlink()
    assert main(["train", "--resume", str(run_dir)]) == 0
    assert checkpoint_epoch(run_dir) == 3
