"""A study database that vae did not write as it is: damaged records, hostile study names and folders, and
storages no other process can read. Each is one line on stderr, a documented exit code, and nothing written."""

import sqlite3

import optuna
import pytest
from test_space import GOOD, assert_one_line, tune, write_space

from vae_cli.tuning import study as study_mod

DAMAGED = "is damaged: "
AGAIN = "; use another study name, or restore the database from a backup"


def started(capsys, tmp_path, name="s"):
    """A study as ``vae tune`` starts it, with one complete trial added, and its database file."""
    space = write_space(tmp_path, {"space": GOOD}, f"{name}.yaml")
    code, _, err = tune(capsys, tmp_path, "--space", str(space), "--trials", "2", "--timeout", "0.001")
    assert code == 0, err
    database = tmp_path / "out" / name / study_mod.DATABASE
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{database}")
    dist = {"train.learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True)}
    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE,
        value=100.0,
        params={"train.learning_rate": 0.002},
        distributions=dist,
        intermediate_values={1: 100.0},
        user_attrs={"epochs": 1, "seconds": 1.0, "run_dir": str(tmp_path / "out" / name / "trial-0000-x")},
    )
    study.add_trial(trial)
    return space, database


def execute(database, sql, *values):
    with sqlite3.connect(database) as db:
        db.execute(sql, values)
    db.close()


def files_under(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "sql, said, searched",
    [
        ("UPDATE study_user_attributes SET value_json = '[1,2'", "(JSONDecodeError: Expecting ',' delimiter", True),
        ("UPDATE study_user_attributes SET value_json = '\"hello\"'", "vae attribute: must be a mapping, got", True),
        ("UPDATE trial_values SET value = NULL", "Optuna cannot read its records (AssertionError)", True),
        # Read for the table only: a search starts its trials without them.
        ("UPDATE trial_user_attributes SET value_json = '\"x\"' WHERE key = 'epochs'", "trial 0's epochs", False),
    ],
)
def test_a_damaged_database_is_one_line_naming_it_in_show_and_search(capsys, tmp_path, sql, said, searched):
    space, database = started(capsys, tmp_path)
    execute(database, sql)
    before = files_under(tmp_path / "out")
    search = [["--space", str(space), "--trials", "2"]] if searched else []
    for args in (["--show"], ["--show", "--json"], *search):
        where = ["--output-dir", str(tmp_path / "out")] if "--show" in args else []
        code, out, err = tune(capsys, tmp_path, *args, *where)
        assert_one_line(code, err, f"{database} {DAMAGED}", expected_code=1)
        assert said in err and err.strip().endswith(AGAIN), err
        assert out == "" if "--json" in args else "starts" not in out
    assert files_under(tmp_path / "out") == before, "something was written"


@pytest.mark.parametrize(
    "output_dir, said",
    [
        (5, "output_dir must be a folder's path (a string of 1 to 4,096 characters), got int"),
        ("a\x00b", "got str 'a\\x00b'"),
        ("x" * 5000, "got str 'xxxxxxxxx"),
        ("y" * 5000, "... (5,002 characters)"),
        (["out"], "got list"),
    ],
)
def test_a_recorded_output_folder_that_is_no_path_is_refused(capsys, tmp_path, output_dir, said):
    _, database = started(capsys, tmp_path)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{database}")
    study.set_user_attr(study_mod.ATTRS, study.user_attrs[study_mod.ATTRS] | {"output_dir": output_dir})
    before = files_under(tmp_path)
    # Under another SQLite URL form the reports go to the recorded folder, not the database's.
    code, out, err = tune(capsys, tmp_path, "--show", "--storage", f"sqlite+pysqlite:///{database}", "--json")
    assert_one_line(code, err, f"the study storage sqlite+pysqlite:///{database} {DAMAGED}", expected_code=1)
    assert said in err and out == ""
    assert files_under(tmp_path) == before


def test_a_study_name_from_the_database_cannot_lead_out_of_the_output_folder(capsys, tmp_path):
    _, database = started(capsys, tmp_path)
    outside = tmp_path / "T"
    outside.mkdir()
    escaping = f"{'../' * 4}{outside.relative_to(tmp_path.parents[2])}/ESCAPED"
    storage = f"sqlite:///{database}"
    real = optuna.load_study(study_name="s", storage=storage)
    copy = optuna.create_study(study_name=escaping, storage=storage)
    for key, value in real.user_attrs.items():
        copy.set_user_attr(key, value)
    for trial in real.get_trials():
        copy.add_trial(trial)
    optuna.delete_study(study_name="s", storage=storage)
    before = files_under(tmp_path)

    # The storage's only study, picked without --study.
    code, out, err = tune(capsys, tmp_path, "--show", "--storage", f"sqlite+pysqlite:///{database}")
    assert_one_line(code, err, f"holds one study, named {escaping[:30]}", expected_code=1)
    assert "which is not a plain folder name" in err and out == ""
    # Named with --study: refused as on the command line, before the database is opened.
    code, out, err = tune(
        capsys, tmp_path, "--show", "--storage", f"sqlite+pysqlite:///{database}", "--study", escaping
    )
    assert_one_line(code, err, "--study ../../../../", expected_code=2)
    assert files_under(tmp_path) == before and not (outside / "ESCAPED").exists()


def test_a_long_study_name_is_refused(capsys, tmp_path):
    code, _, err = tune(capsys, tmp_path, "--show", "--study", "s" * 300)
    assert_one_line(code, err, "(300 characters): a study name is a folder name of at most 255 characters")


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared", "sqlite+pysqlite://"],
)
def test_an_in_memory_sqlite_storage_is_refused_before_anything_starts(capsys, tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)  # sqlite:///file::memory: without uri=true is a file of that name here
    space = write_space(tmp_path, {"space": GOOD})
    said = "an in-memory SQLite database cannot hold a study that other processes, or a later look at its results, can"
    search = ["--space", str(space), "--trials", "2", "--workers", "2", "--timeout", "0.001"]
    for args in (search, ["--show"], ["--show", "--json", "--study", "s"]):
        code, out, err = tune(capsys, tmp_path, *args, "--storage", url)
        assert_one_line(code, err, "--storage sqlite", expected_code=2)
        assert said in err and "use sqlite:///path/study.db" in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["space.yaml"], "something started"


def test_a_study_made_outside_vae_tune_is_refused_not_called_damaged(capsys, tmp_path):
    """Without a definition a study is not vae's (nothing to draw its trials by), but nothing in it is damaged."""
    database = tmp_path / "out" / "x" / study_mod.DATABASE
    database.parent.mkdir(parents=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(study_name="x", storage=f"sqlite:///{database}")
    code, out, err = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "out"), "--json")
    assert_one_line(code, err, "study x in sqlite:///", expected_code=1)
    assert "was not made by vae tune" in err and DAMAGED not in err and out == ""


def test_show_of_a_shared_database_writes_under_the_output_dir_not_where_the_database_says(capsys, tmp_path):
    """Whoever can write to a shared database chooses its recorded output_dir; --show writes under --output-dir."""
    _, database = started(capsys, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{database}")
    study.set_user_attr(study_mod.ATTRS, study.user_attrs[study_mod.ATTRS] | {"output_dir": str(elsewhere)})
    here = tmp_path / "here"
    shared = f"sqlite+pysqlite:///{database}"  # read as a server's database would be: not a study.db beside its files
    code, out, err = tune(capsys, tmp_path, "--show", "--storage", shared, "--output-dir", str(here))
    assert code == 0, err
    assert (here / "s" / "best.yaml").is_file() and not elsewhere.exists()


def test_a_study_database_that_is_no_database_is_said_damaged_not_unreachable(capsys, tmp_path):
    database = tmp_path / "out" / "s" / study_mod.DATABASE
    database.parent.mkdir(parents=True)
    database.write_bytes(b"garbage, not SQLite" * 100)
    code, out, err = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "out"), "--study", "s")
    assert_one_line(code, err, f"{database} {DAMAGED}(sqlite3.DatabaseError) file is not a database", 1)
    assert err.strip().endswith(AGAIN) and "server" not in err


def test_a_truncated_or_empty_study_database_is_said_so_and_left_as_it_is(capsys, tmp_path):
    _, database = started(capsys, tmp_path)
    database.write_bytes(database.read_bytes()[:3000])  # cut mid-page: "database disk image is malformed"
    code, _, err = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "out"), "--study", "s")
    assert_one_line(code, err, f"{database} {DAMAGED}", expected_code=1)
    database.write_bytes(b"")
    code, _, err = tune(capsys, tmp_path, "--show", "--output-dir", str(tmp_path / "out"), "--study", "s")
    assert_one_line(code, err, f"no study database {database}", expected_code=1)
    assert database.stat().st_size == 0, "reading a study wrote Optuna's tables into an empty file"


def test_a_study_not_made_by_vae_tune_is_one_line(capsys, tmp_path):
    database = tmp_path / "plain.db"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    plain = optuna.create_study(study_name="plain", storage=f"sqlite:///{database}")
    dist = {"x": optuna.distributions.FloatDistribution(0, 2)}
    plain.add_trial(optuna.trial.create_trial(params={"x": 1.0}, distributions=dist, value=1.0))
    out = tmp_path / "out"
    code, _, err = tune(capsys, tmp_path, "--show", "--storage", f"sqlite:///{database}", "--output-dir", str(out))
    assert_one_line(code, err, "study plain in sqlite:///", expected_code=1)
    assert "was not made by vae tune" in err and not out.exists()
