"""One writer per run folder (the lock), files made with the umask, and no writing through links."""

import errno
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from vae_cli.errors import RunError
from vae_cli.runs import atomic, folder, lock
from vae_cli.runs.lock import RunLock


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
        with pytest.raises(RunError, match=rf"being written by another vae process \(pid {os.getpid()}\)"):
            with RunLock(tmp_path):
                pass
    with RunLock(tmp_path):  # released at the end of the first
        pass


@pytest.mark.slow
def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    script = textwrap.dedent(f"""
        import time
        from vae_cli.runs.lock import RunLock
        with RunLock({str(tmp_path)!r}):
            print("locked", flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunError, match=f"pid {proc.pid}"):
            with RunLock(tmp_path):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with RunLock(tmp_path):  # the OS freed it with the process
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())


def test_a_file_system_without_locks_does_not_stop_training(tmp_path, monkeypatch):
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", no_locks)
    with RunLock(tmp_path):
        pass


def test_a_linked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / ".lock").symlink_to(target)
    with pytest.raises(RunError, match="lock file .* is a symbolic link"):
        with RunLock(run_dir):
            pass
    assert target.read_text() == "keep"


def test_temporaries_are_removed_only_under_the_lock_and_never_through_links(tmp_path):
    run_dir, outside = tmp_path / "run", tmp_path / "outside"
    (run_dir / "samples").mkdir(parents=True)
    outside.mkdir()
    stale = [run_dir / ".decoder.1a2b.tmp.h5", run_dir / "samples" / ".epoch_002.ffff.tmp.png"]
    for path in [*stale, outside / ".x.0000.tmp.png", run_dir / "decoder.h5"]:
        path.write_bytes(b"x")
    (run_dir / "linked").symlink_to(outside)
    held = RunLock(run_dir)
    with pytest.raises(RuntimeError, match="needs the run folder's lock"):
        held.remove_stale_temporaries()
    with held:
        assert sorted(held.remove_stale_temporaries()) == sorted(stale)
    assert (outside / ".x.0000.tmp.png").exists() and (run_dir / "decoder.h5").exists()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_are_made_with_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = atomic.write_text(tmp_path / "run.json", "{}")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_link_in_the_place_of_a_file_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "outside.png"
    target.write_bytes(b"keep")
    link = tmp_path / "run" / "grid.png"
    link.parent.mkdir()
    link.symlink_to(target)
    atomic.write_text(link, "new")
    assert not link.is_symlink() and link.read_text() == "new" and target.read_bytes() == b"keep"


def test_a_linked_samples_folder_is_refused(tmp_path):
    from vae_cli.figures.training_figures import epoch_samples_path

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "samples").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunError, match="samples is a symbolic link; vae writes nothing through links"):
        epoch_samples_path(tmp_path / "run", 1)
    assert folder.writable_subfolder(tmp_path, "run") == tmp_path / "run"  # a real folder passes


def test_a_pid_not_yet_written_is_waited_for_and_a_dead_one_never_named(tmp_path):
    (tmp_path / ".lock").write_text("999999999\n")  # the last holder, long gone
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    try:
        assert lock._read_pid(fd, tries=3) == "unknown"
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        assert lock._read_pid(fd) == str(os.getpid())
    finally:
        os.close(fd)


def test_held_tells_a_live_writer_from_a_gone_one_and_creates_nothing(tmp_path):
    assert lock.held(tmp_path) is False and not (tmp_path / ".lock").exists()
    with RunLock(tmp_path):
        assert lock.held(tmp_path) is True
        with pytest.raises(RunError, match="being written by another vae process"):
            with RunLock(tmp_path):  # a writer still refused, the probe's own instant aside
                pass
    assert lock.held(tmp_path) is False


def test_a_full_disk_reported_by_a_library_as_another_error_is_a_full_disk(tmp_path):
    def h5py_on_a_full_disk(tmp):
        try:
            raise RuntimeError("Unable to flush file (file write failed: errno = 28, No space left on device)")
        except RuntimeError:  # closing the file after the failed flush
            raise RuntimeError("Slist already enabled? (slist already enabled?)")  # noqa: B904

    with pytest.raises(OSError) as raised:
        atomic.atomic_write(tmp_path / "vae.h5", h5py_on_a_full_disk)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "vae.h5")
    assert list(tmp_path.iterdir()) == []  # the temporary file removed
    with pytest.raises(RuntimeError, match="something else"):

        def other(tmp):
            raise RuntimeError("something else")

        atomic.atomic_write(tmp_path / "vae.h5", other)
