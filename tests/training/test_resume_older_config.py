"""A run or study started before a config key existed continues, the key at its default; an edit is still refused.

The version number stays the same when a key is added, so the recorded config hash is the one
computed without that key (train.warmup_fraction here, added with the one_cycle schedule).
"""

import json

import optuna
import pytest
import yaml
from test_resume import checkpoint_epoch, stopped_after_epoch_1

from vae_cli.cli.main import main
from vae_cli.config import Config
from vae_cli.errors import ConfigError
from vae_cli.runs import folder
from vae_cli.tuning.space import parse_space
from vae_cli.tuning.study import ATTRS, open_study

NEW_KEY = "train.warmup_fraction"


def as_written_before_the_key(run_dir, edit=None):
    """Rewrites the run's config.yaml and recorded hash as a version without NEW_KEY made them."""
    section, _, name = NEW_KEY.partition(".")
    written = yaml.safe_load((run_dir / folder.CONFIG).read_text())
    del written[section][name]
    old_hash = folder.config_hash(folder.read_config(run_dir), [NEW_KEY])
    if edit:
        written["train"].update(edit)
    (run_dir / folder.CONFIG).write_text(yaml.safe_dump(written, sort_keys=False))
    manifest = json.loads((run_dir / folder.MANIFEST).read_text())
    manifest["config_hash"] = old_hash
    (run_dir / folder.MANIFEST).write_text(json.dumps(manifest))


@pytest.fixture
def interrupted_run(data_dir, tmp_path, monkeypatch):
    return stopped_after_epoch_1(data_dir, tmp_path / "out", monkeypatch)


@pytest.mark.slow
def test_a_run_written_before_a_key_existed_resumes(interrupted_run, capsys):
    as_written_before_the_key(interrupted_run)
    capsys.readouterr()
    assert main(["train", "--resume", str(interrupted_run)]) == 0, capsys.readouterr().err
    assert checkpoint_epoch(interrupted_run) == 3


@pytest.mark.slow
def test_an_edit_to_such_a_run_is_still_refused(interrupted_run, capsys):
    as_written_before_the_key(interrupted_run, edit={"epochs": 4})
    capsys.readouterr()
    assert main(["train", "--resume", str(interrupted_run)]) == 1
    err = capsys.readouterr().err
    assert "config.yaml has changed since this run started" in err and err.count("\n") == 1
    assert checkpoint_epoch(interrupted_run) == 1


@pytest.mark.parametrize("edited", [False, True])
def test_a_study_started_before_a_key_existed_is_joined_unless_its_config_changed(tmp_path, edited):
    storage = optuna.storages.InMemoryStorage()
    space = parse_space({"space": {"train.learning_rate": {"log_uniform": [1e-4, 1e-2]}}}, Config(), "space.yaml")
    base = Config()
    study = open_study(storage, "s", space, base, str(tmp_path))
    recorded = study.user_attrs[ATTRS]
    section, _, name = NEW_KEY.partition(".")
    del recorded["config"][section][name]
    recorded["config_hash"] = folder.config_hash(base, [NEW_KEY])
    study.set_user_attr(ATTRS, recorded)
    if edited:
        base.train.epochs += 1
        with pytest.raises(ConfigError, match="train.epochs differs"):
            open_study(storage, "s", space, base, str(tmp_path))
    else:  # before: "study s was started from another config (train.warmup_fraction differs)"
        assert open_study(storage, "s", space, base, str(tmp_path)).study_name == "s"
