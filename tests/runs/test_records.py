"""Run-folder records read back with their shape checked, and the search for the latest run.

Property tests: whatever run.json, config.yaml, metrics.json or a checkpoint's state
holds, the readers give a result or one ``VaeError``, never another exception.
"""

import json
import re
import tempfile
from pathlib import Path

import h5py
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vae_cli.cli.main import main
from vae_cli.config import Config, dump_yaml
from vae_cli.errors import RunError, VaeError
from vae_cli.runs import folder, records
from vae_cli.runs.summary import summary
from vae_cli.training import checkpoint, run

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def good_manifest(status="complete", created="2026-01-01T00:00:00"):
    return {
        "status": status,
        "created": created,
        "command": "vae train",
        "seed": 0,
        "config_hash": folder.config_hash(Config()),
        "dataset": {
            "name": "mnist",
            "title": "MNIST",
            "source": "keras",
            "image_shape": [28, 28, 1],
            "class_names": [str(i) for i in range(10)],
            "train_images": 10,
            "test_images": 5,
            "sha256": "0" * 64,
        },
        "precision": "float32",
        "versions": {"python": "3"},
        "epochs_completed": 1,
        "best_epoch": 1,
        "test": {"loss": 1.0, "reconstruction_loss": 0.5, "kl_loss": 0.5, "negative_elbo": 1.0},
    }


def good_state():
    row = {"epoch": 1, "loss": 1.0, "seconds": 0.5}
    return {"epoch": 1, "history": [row], "early_stopping": {"best": 1.0, "best_epoch": 1, "wait": 0, "stopped": False}}


def make_run(run_dir, manifest=None, decoder=True):
    """A run folder with a valid config.yaml and the given run.json (models are empty placeholders)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(dump_yaml(Config()))
    text = manifest if isinstance(manifest, str) else json.dumps(good_manifest() if manifest is None else manifest)
    (run_dir / "run.json").write_text(text)
    if decoder:
        (run_dir / "decoder.h5").write_bytes(b"")
    return run_dir


def mutated(base):
    """``base`` with one field, at the top or one level down, replaced by any JSON value."""
    paths = [(k,) for k in base] + [(k, j) for k, v in base.items() if isinstance(v, dict) for j in v]
    return st.tuples(st.sampled_from(paths), json_values).map(lambda pv: _replace(base, *pv))


def _replace(base, path, value):
    copy = json.loads(json.dumps(base))
    (copy if len(path) == 1 else copy[path[0]])[path[-1]] = value
    return copy


def test_a_good_manifest_reads_back():
    with tempfile.TemporaryDirectory() as d:
        assert records.read_manifest(make_run(d))["status"] == "complete"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[]", "the file must be a JSON object"),
        ('"hello"', "the file must be a JSON object"),
        ('{"dataset": 5}', "lacks 'status'"),
        ('{"status": "complete", "dataset": 5}', "dataset must be a JSON object"),
        ('{"status": "complete", "dataset": {"image_shape": [28, 0, 1]}}', "dataset.image_shape[1] must be >= 1"),
        ('{"status": "complete", "dataset": {}, "precision": "float64"}', "precision must be one of"),
        ('{"status": "complete", "dataset": {}, "test": {"a\\nb": "x"}}', "test.'a\\nb' must be a number"),
        ("[" * 100_000, "nested too deeply"),
        ("{not json", "cannot read"),
        ("\udcff", "cannot read"),
    ],
)
def test_damaged_manifests_are_refused_with_the_field(tmp_path, text, problem):
    (tmp_path / "run.json").write_text(text, errors="surrogateescape")
    with pytest.raises(RunError) as raised:
        records.read_manifest(tmp_path)
    assert problem in str(raised.value) and "\n" not in str(raised.value)


@PROPERTY
@given(value=json_values | mutated(good_manifest()))
def test_any_manifest_reads_or_is_refused_and_its_readers_never_crash(value):
    with tempfile.TemporaryDirectory() as d:
        run_dir = make_run(Path(d) / "run", value)
        try:
            manifest = records.read_manifest(run_dir)
        except RunError as exc:
            assert "\n" not in str(exc)
            return
        # Every reader of a manifest that passed: a result or one VaeError.
        for read in (lambda: summary(run_dir), lambda: run.resume(run_dir), lambda: folder.resolve_run(None, d)):
            try:
                read()
            except VaeError:
                pass
        assert isinstance(manifest, dict)


@PROPERTY
@given(raw=st.text(max_size=200).map(str.encode) | st.binary(max_size=200))
def test_any_bytes_in_run_json_read_or_are_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "run.json").write_bytes(raw)
        try:
            assert isinstance(records.read_manifest(d), dict)
        except RunError:
            pass


yaml_text = st.text(alphabet=" :-[]{}\n#&*!|>'\",?.0123456789abemltdrnaiouxyz_", max_size=200)


@PROPERTY
@given(text=yaml_text | st.text(max_size=100))
@example(text="?")  # a null key
@example(text="1: 2\na: 3")  # keys of mixed types
@example(text='"a\\nb": 1')  # a key with a line break
@example(text='data: {"x\\ny": 1}')
def test_any_config_yaml_reads_or_is_refused(text):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "config.yaml").write_text(text)
        try:
            assert isinstance(folder.read_config(d), Config)
        except RunError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize(
    "text, problem", [("[1, 2]", "(the file must be a JSON object)"), ('{"a": 1}', "(a must be a JSON object)")]
)
def test_a_metrics_json_of_the_wrong_shape_is_refused(tmp_path, text, problem):
    (tmp_path / "metrics.json").write_text(text)
    with pytest.raises(RunError, match=re.escape(problem) + "; move it aside and evaluate again"):
        records.read_metrics(tmp_path)


@PROPERTY
@given(value=json_values)
def test_any_metrics_json_reads_or_is_refused(value):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "metrics.json").write_text(json.dumps(value))
        try:
            assert isinstance(records.read_metrics(d), dict)
        except RunError as exc:
            assert "move it aside and evaluate again" in str(exc)


@PROPERTY
@given(state=json_values | mutated(good_state()))
def test_any_checkpoint_state_reads_or_is_refused(state):
    try:
        records.check_state(state, "checkpoint.h5")
    except RunError as exc:
        assert "the run cannot be resumed" in str(exc)


def write_checkpoint(path, state_text):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = checkpoint.FORMAT
        f.attrs["state"] = state_text
        f.create_group("variables")
        f.create_group("optimizer")


@pytest.mark.parametrize(
    "state, problem",
    [
        ("[]", "its state record must be a JSON object"),
        (json.dumps({**good_state(), "epoch": "1"}), "its state epoch must be a whole number"),
        (json.dumps({**good_state(), "epoch": 2}), "history must hold one row per epoch"),
        ("{", "cannot read checkpoint"),
    ],
)
def test_a_checkpoint_with_a_damaged_state_is_one_line_on_resume(capsys, tmp_path, state, problem):
    run_dir = make_run(tmp_path / "run", good_manifest(status="interrupted"))
    write_checkpoint(run_dir / checkpoint.FILENAME, state)
    assert main(["train", "--resume", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_latest_run_search_skips_damaged_folders_and_prefers_complete_runs(capsys, tmp_path):
    outputs = tmp_path / "outputs"
    done = make_run(outputs / "a-done", good_manifest("complete", "2026-01-01"))
    make_run(outputs / "b-interrupted", good_manifest("interrupted", "2026-01-03"))
    make_run(outputs / "c-list", "[]")
    make_run(outputs / "d-type", {"dataset": 5})
    bad_config = make_run(outputs / "e-config", good_manifest("complete", "2026-01-04"))
    (bad_config / "config.yaml").write_text("model: [")
    make_run(outputs / "f-unfinished", good_manifest("running", "2026-01-05"), decoder=False)  # not a candidate

    runs, damaged = folder.list_runs(outputs)
    assert runs[-2:] == [done, bad_config] and list(damaged) == [outputs / "c-list", outputs / "d-type"]
    found = folder.resolve_run(None, outputs)
    assert found.dir == done
    assert [n.split(":")[0] for n in found.notes] == [
        f"skipped the damaged run folder {outputs / name}" for name in ("c-list", "d-type", "e-config")
    ]

    assert main(["show", "--output-dir", str(outputs)]) == 0
    out, err = capsys.readouterr()
    assert f"run        {done}" in out
    assert err.count("vae show: note: skipped the damaged run folder") == 3 and "Traceback" not in err


def test_without_a_complete_run_the_latest_is_used_with_a_note(tmp_path):
    outputs = tmp_path / "outputs"
    make_run(outputs / "a", good_manifest("failed", "2026-01-01"))
    latest = make_run(outputs / "b", good_manifest("interrupted", "2026-01-02"))
    found = folder.resolve_run(None, outputs)
    assert found.dir == latest and found.notes == (
        f"no complete run under {outputs}; using {latest}, whose status is 'interrupted'",
    )


def test_only_damaged_runs_is_one_error_line(capsys, tmp_path):
    outputs = tmp_path / "outputs"
    make_run(outputs / "a", "[]")
    make_run(outputs / "b", '"hello"')
    assert main(["sample", "--output-dir", str(outputs)]) == 1
    err = capsys.readouterr().err
    assert f"no trained run found under {outputs}/ (damaged, so skipped: {outputs / 'a'}, {outputs / 'b'})" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", [["show"], ["sample"], ["evaluate"], ["train", "--resume"]])
@pytest.mark.parametrize("text", ["[]", '"hello"', '{"dataset": 5}', '{"status": 1, "dataset": {}}'])
def test_a_named_damaged_run_folder_is_one_line(capsys, tmp_path, command, text):
    run_dir = make_run(tmp_path / "run", text)
    flag = [] if command[0] == "train" else ["--run"]
    assert main([*command, *flag, str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "the run folder is damaged" in err and err.count("\n") == 1 and "Traceback" not in err


@PROPERTY
@given(manifest=mutated(good_manifest()), dataset=st.sampled_from(["mnist", "image_folder"]))
def test_a_run_view_reads_any_manifest_that_passed(manifest, dataset):
    from vae_cli.runs.view import RunView

    with tempfile.TemporaryDirectory() as d:
        run_dir = make_run(Path(d) / "run", manifest)
        (run_dir / "config.yaml").write_text(f"data:\n  dataset: {dataset}\n  path: {d}\n")
        try:
            view = RunView(run_dir)
        except VaeError:
            return
        assert isinstance(view.class_names, (list, tuple)) and isinstance(view.dataset_title, str)
        assert isinstance(view.epochs, int)
