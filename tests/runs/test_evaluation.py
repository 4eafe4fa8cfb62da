"""``metrics.json``: each evaluation adds its entry beside the others, even when two run at once, and
one that cannot be recorded is refused before it starts or, failing at the end, printed first."""

import errno
import json

import mounts
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.model import estimate

pytestmark = pytest.mark.slow


def test_an_evaluation_that_ends_during_another_keeps_both_entries(capsys, data_dir, tmp_path, monkeypatch):
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={tmp_path}", "--set", "train.epochs=1"]
    for item in TINY_MODEL + ["output.tensorboard=false"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    real = estimate.evaluate

    def with_another_evaluation_ending_meanwhile(*a, **kw):
        (run / "metrics.json").write_text(json.dumps({"k2-samples10-none-first4": {"images": 4, "k": 2}}))
        return real(*a, **kw)

    monkeypatch.setattr(estimate, "evaluate", with_another_evaluation_ending_meanwhile)
    assert main(["evaluate", "--run", str(run), "--k", "3", "--limit", "8"]) == 0
    assert sorted(json.loads((run / "metrics.json").read_text())) == [
        "k2-samples10-none-first4",
        "k3-samples10-none-first8",
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("evaluate")
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out}", "--set", "train.epochs=1"]
    for item in TINY_MODEL + ["output.tensorboard=false"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = out.iterdir()
    return run


def test_a_read_only_run_folder_is_refused_before_the_evaluation(capsys, run, monkeypatch):
    def never(*a, **kw):
        raise AssertionError("evaluated although nothing could be recorded")

    monkeypatch.setattr(estimate, "evaluate", never)
    before = sorted(p.name for p in run.iterdir())
    with mounts.read_only(run):
        code = main(["evaluate", "--run", str(run), "--k", "2", "--limit", "8"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot write {run / 'metrics.json'}: Read-only file system; an evaluation is recorded there" in err
    assert sorted(p.name for p in run.iterdir()) == before


def test_a_record_that_cannot_be_written_at_the_end_prints_the_numbers_first(capsys, run, monkeypatch):
    from vae_cli.runs import evaluation

    def read_only_meanwhile(path, data):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(evaluation, "write_json", read_only_meanwhile)
    code = main(["evaluate", "--run", str(run), "--k", "2", "--limit", "8"])
    out, err = capsys.readouterr()
    assert code == 1 and "-ELBO" in out and "NLL (IWAE, k=2)" in out
    assert f"not recorded in {run / 'metrics.json'}" in out
    assert err.count("error:") == 1 and "Traceback" not in err  # after the progress bar, one line
    assert err.splitlines()[-1].startswith(
        f"vae evaluate: error: could not write {run / 'metrics.json'}: Read-only file system; the numbers above are "
        "not recorded"
    )
    assert not (run / "metrics.json").exists() and not list(run.glob("kl-per-dim*"))


def test_a_full_disk_is_told_to_free_space_not_to_make_the_folder_writable(capsys, run, monkeypatch):
    from vae_cli.runs import evaluation

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(evaluation, "check_writable", full)
    code = main(["evaluate", "--run", str(run), "--k", "2", "--limit", "8"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert "No space left on device; an evaluation is recorded there: free space on its disk" in err
