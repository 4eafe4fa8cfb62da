"""``metrics.json``: each evaluation adds its entry beside the others, even when two run at once."""

import json

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
