"""Bad space files and bad ``vae tune`` requests: one line on stderr, exit 2, nothing started."""

import pytest
import yaml

from vae_cli.cli.main import main
from vae_cli.config import load_config, to_dict
from vae_cli.tuning import study as study_mod
from vae_cli.tuning.space import dimensions_from_spec, parse_space

GOOD = {"train.learning_rate": {"log_uniform": [1.0e-3, 1.0e-2]}}


def write_space(tmp_path, space, name="space.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(space))
    return path


def tune(capsys, tmp_path, *args):
    where = [] if "--show" in args else ["--set", f"output.dir={tmp_path / 'out'}"]
    code = main(["tune", *where, *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, err, message, expected_code=2):
    lines = err.strip().splitlines()
    assert code == expected_code, err
    assert len(lines) == 1 and lines[0].startswith("vae tune: error: "), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "space, message",
    [
        ({"spaces": {"space": GOOD}}, "unknown key spaces; did you mean space?"),
        (
            {"space": {"train.learnig_rate": {"uniform": [0.001, 0.01]}}},
            "space: unknown config key train.learnig_rate; did you mean train.learning_rate?",
        ),
        ({"space": {"model.sizes": {"int": [1, 4]}}}, "unknown config key model.sizes"),
        ({"space": {"epochs": {"int": [1, 4]}}}, "'epochs' is not a config key SECTION.NAME"),
        ({"space": {"train.learning_rate": {"uniform": [0.01, 0.001]}}}, "[0.01, 0.001] is an empty range"),
        ({"space": {"train.batch_size": {"int": [32, 32]}}}, "[32, 32] is an empty range"),
        ({"space": {"train.batch_size": {"choice": []}}}, "train.batch_size: {choice: ...} needs a non-empty list"),
        ({"space": {"train.batch_size": {"choice": [32, 32]}}}, "lists 32 twice"),
        ({"space": {"train.learning_rate": {"loguniform": [1, 2]}}}, "unknown distribution loguniform; did you mean"),
        ({"space": {"train.learning_rate": {"log_uniform": [0, 1]}}}, "the low end must be above 0 for a log scale"),
        ({"space": {"model.latent_dim": {"int": [0, 4]}}}, "space: model.latent_dim: must be >= 1, got 0"),
        ({"space": {"model.activation": {"choice": ["relu", "gelu"]}}}, "model.activation: must be one of"),
        ({"space": {"train.epochs": {"uniform": [1, 4]}}}, "train.epochs is an integer: search it with"),
        ({"space": {"train.learning_rate": {"int": [1.5, 4]}}}, "needs [low, high], two whole numbers"),
        ({"space": {"output.dir": {"choice": ["a", "b"]}}}, "output.dir cannot be searched"),
        ({"space": {}}, "space: must map dotted config keys"),
        ({"objective": "loss", "space": GOOD}, "objective: must be one of validation_loss"),
        ({"pruner": "asha", "space": GOOD}, "pruner: must be one of median | hyperband | none, got 'asha'"),
        ({"pruner": {"median": {"n_warmup": 1}}, "space": GOOD}, "pruner median: unknown setting n_warmup; did you"),
        # Settings Optuna takes, then fails on after a trial's first epoch (Hyperband divides by zero).
        (
            {"pruner": {"hyperband": {"reduction_factor": 1}}, "space": GOOD},
            "pruner hyperband: reduction_factor: must be a whole number from 2 to 1,000,000, got 1",
        ),
        (
            {"pruner": {"hyperband": {"min_resource": 0}}, "space": GOOD},
            "pruner hyperband: min_resource: must be a whole number from 1 to 1,000,000, got 0",
        ),
        (
            {"pruner": {"hyperband": {"max_resource": -5}}, "space": GOOD},
            "pruner hyperband: max_resource: must be a whole number from 1 to 1,000,000 or auto, got -5",
        ),
        (
            {"pruner": {"hyperband": {"min_resource": 3, "max_resource": 2}}, "space": GOOD},
            "pruner hyperband: min_resource 3 is above max_resource 2; lower min_resource",
        ),
        (
            {"pruner": {"hyperband": {"min_resource": 9}}, "space": {"train.epochs": {"int": [1, 8]}}},
            "min_resource 9 is above max_resource 8 (the most epochs a trial trains)",
        ),
        ({"pruner": {"hyperband": {"bootstrap_count": -1}}, "space": GOOD}, "bootstrap_count: must be a whole"),
        ({"pruner": {"hyperband": {"max_resource": 1.0e400}}, "space": GOOD}, "max_resource: must be a whole number"),
        ({"pruner": {"median": {"interval_steps": 0}}, "space": GOOD}, "interval_steps: must be a whole number from 1"),
        ({"pruner": {"median": {"n_min_trials": 0}}, "space": GOOD}, "n_min_trials: must be a whole number from 1"),
        ({"pruner": {"median": {"n_warmup_steps": 2.5}}, "space": GOOD}, "n_warmup_steps: must be a whole number"),
        ({"pruner": {"median": {"n_startup_trials": True}}, "space": GOOD}, "n_startup_trials: must be a whole"),
        ({"pruner": {"none": {"n_warmup_steps": 1}}, "space": GOOD}, "pruner none: takes no settings"),
        ({"sampler": {"tpe": {"sed": 1}}, "space": GOOD}, "sampler tpe: "),
        ({"heartbeat_interval": 0, "space": GOOD}, "heartbeat_interval: must be a whole number of seconds >= 1"),
        ({"heartbeat_interval": 10, "grace_period": 10, "space": GOOD}, "grace_period: must be longer"),
        ({"space": {"data.validation_size": {"choice": [0, 5000]}}}, "data.validation_size 0 there is no validation"),
        ({"space": {"data.validation_size": {"int": [0, 100]}}}, "data.validation_size 0 there is no validation"),
    ],
)
def test_bad_space_files_are_one_line_config_errors(capsys, tmp_path, space, message):
    path = write_space(tmp_path, space)
    code, _, err = tune(capsys, tmp_path, "--space", str(path), "--trials", "2")
    assert_one_line(code, err, message)
    assert f"error: {path}: " in err, "the file is named"
    assert not (tmp_path / "out").exists(), "something started"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trials", "2"], "--space FILE is needed"),
        (["--space", "SPACE"], "--trials N is needed"),
        (["--space", "SPACE", "--trials", "2", "--json"], "--json goes with --show"),
        (
            ["--show", "--trials", "2", "--workers", "2"],
            "--show reads a study and trains nothing; drop --trials, --workers",
        ),
        (["--space", "SPACE", "--trials", "2", "--set", "train.learning_rate=0.1"], "--set train.learning_rate: the"),
        (["--space", "SPACE", "--trials", "2", "--study", "../up"], "--study ../up: a study name is a plain folder"),
        (["--space", "nope.yaml", "--trials", "2"], "space file nope.yaml does not exist and is no built-in space"),
        (["--config", "nope.yaml", "--space", "SPACE", "--trials", "2"], "config file nope.yaml does not exist"),
    ],
)
def test_bad_requests_are_refused_before_anything_starts(capsys, tmp_path, args, message):
    space = str(write_space(tmp_path, {"space": GOOD}))
    code, _, err = tune(capsys, tmp_path, *[space if a == "SPACE" else a for a in args])
    assert_one_line(code, err, message)
    assert not (tmp_path / "out").exists()


def test_malformed_space_yaml_names_the_line(capsys, tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("space:\n  train.learning_rate: {uniform: [0.1, 0.2]\n")
    code, _, err = tune(capsys, tmp_path, "--space", str(path), "--trials", "2")
    assert_one_line(code, err, f"{path}: invalid YAML (line 3")


def test_joining_a_study_with_another_space_is_refused(capsys, tmp_path):
    base = load_config(None, [("output.dir", str(tmp_path / "out"))])
    first = write_space(tmp_path, {"space": GOOD}, "first.yaml")
    space = parse_space(yaml.safe_load(first.read_text()), base, str(first))
    url = study_mod.default_storage(tmp_path / "out", "s")
    study_mod.open_study(study_mod.open_storage(url, space), "s", space, base, str(tmp_path / "out"))
    other = write_space(tmp_path, {"space": {"train.learning_rate": {"log_uniform": [1.0e-4, 1.0e-2]}}}, "other.yaml")
    code, _, err = tune(capsys, tmp_path, "--space", str(other), "--trials", "2", "--study", "s")
    assert_one_line(code, err, "study s was started with another search space (dimensions.train.learning_rate")
    code, _, err = tune(
        capsys, tmp_path, "--space", str(first), "--trials", "2", "--study", "s", "--set", "train.beta=2"
    )
    assert_one_line(code, err, "study s was started from another config (train.beta differs)")


def test_show_without_a_study_says_how_to_start_one(capsys, tmp_path):
    code, _, err = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "nothing"))
    assert_one_line(code, err, "no study found under", expected_code=1)
    assert "start a study with `vae tune --config FILE --space FILE --trials N`" in err


def test_an_unreachable_storage_is_one_line_without_the_password(capsys, tmp_path):
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: pip install 'vae-cli[postgres]'")
    url = "postgresql://someone:secret@127.0.0.1:9/nowhere"  # port 9: nothing listens there
    code, _, err = tune(capsys, tmp_path, "--show", "--storage", url)
    assert_one_line(code, err, "cannot open the study storage postgresql://someone:***@127.0.0.1:9/nowhere", 1)
    assert "secret" not in err


def test_choices_that_are_lists_round_trip_through_the_stored_spec():
    base = load_config(None)
    raw = {"space": {"model.encoder_filters": {"choice": [[8, 16], [16, 32]]}, "train.batch_size": {"int": [16, 64]}}}
    space = parse_space(raw, base, "s.yaml")
    (filters, batch) = dimensions_from_spec(space.spec()["dimensions"])
    assert filters.labels() == ["[8, 16]", "[16, 32]"]  # Optuna stores choices as plain values
    assert filters.value_of("[16, 32]") == [16, 32]
    cfg = space.config_for(to_dict(base), {"model.encoder_filters": [16, 32]})
    assert cfg.model.encoder_filters == [16, 32]
    assert batch.kind == "int" and batch.values == (16, 64)


def test_tune_help_names_the_interface_and_hides_the_workers_own_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["tune", "--help"])
    text = capsys.readouterr().out
    assert info.value.code == 0
    for flag in (
        "--config",
        "--space",
        "--trials",
        "--workers",
        "--study",
        "--storage",
        "--timeout",
        "--show",
        "--json",
    ):
        assert flag in text
    assert "--worker-threads" not in text


def test_a_timeout_starts_no_trial_after_it_and_says_how_to_continue(capsys, tmp_path):
    space = str(write_space(tmp_path, {"space": GOOD}))
    code, out, err = tune(capsys, tmp_path, "--space", space, "--trials", "2", "--timeout", "0.001")
    assert code == 0 and not err
    assert "The --timeout of 0.001 s passed with 0 of 2 trials finished; the same command continues" in out
    assert "Note: no trial has completed yet, so there is no best.yaml" in out
    code, out, _ = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "out"))
    assert code == 0 and "Study space (sqlite:///" in out and "0 trials finished" in out


@pytest.mark.parametrize(
    "pruner",
    [
        {"hyperband": {"min_resource": 1, "max_resource": "auto", "reduction_factor": 3}},
        {"hyperband": {"min_resource": 2, "max_resource": 2, "bootstrap_count": 1}},
        {"median": {"n_startup_trials": 0, "n_warmup_steps": 0, "interval_steps": 1, "n_min_trials": 1}},
        "none",
    ],
)
def test_pruner_settings_at_optunas_bounds_are_taken(pruner):
    space = parse_space({"pruner": pruner, "space": GOOD}, load_config(None), "s.yaml")
    assert space.make_pruner(load_config(None)) is not None


def test_a_study_on_a_config_without_a_validation_split_is_refused(capsys, tmp_path):
    path = write_space(tmp_path, {"space": GOOD})
    code, _, err = tune(
        capsys, tmp_path, "--space", str(path), "--trials", "2", "--set", "data.validation_size=0",
        "--set", "train.early_stopping_patience=null",
    )  # fmt: skip
    assert_one_line(code, err, "data.validation_size 0 leaves no validation split, so the trials would be judged")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("searched", [{"choice": [0, 5000]}, {"int": [0, 100]}])
def test_a_space_that_can_leave_no_validation_split_is_refused(capsys, tmp_path, searched):
    path = write_space(tmp_path, {"space": {"data.validation_size": searched}})
    args = ("--space", str(path), "--trials", "2", "--set", "train.early_stopping_patience=null")
    code, _, err = tune(capsys, tmp_path, *args)
    assert_one_line(code, err, "data.validation_size: 0 leaves no validation split, so that trial would be judged")
