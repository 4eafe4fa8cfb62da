"""Built-in configs: found by name from any folder, listed by ``vae configs``, copied out by ``vae init``."""

import json
from pathlib import Path

import pytest

from vae_cli.builtin_configs import FOLDER, all_builtins, find
from vae_cli.cli.main import main
from vae_cli.config import load_config
from vae_cli.tuning.space import read_space

REPOSITORY = Path(__file__).resolve().parents[2]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_repository_configs_are_the_package_ones():
    assert (REPOSITORY / "configs").resolve() == FOLDER
    assert {b.name for b in all_builtins()} >= {"mnist", "fashion_mnist", "tune_mnist", "seeds/seed_000_keras_conv_vae"}


@pytest.mark.parametrize("spelling", ["mnist", "mnist.yaml", "configs/mnist.yaml"])
def test_a_builtin_is_found_by_name_from_any_folder(spelling, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(spelling) == load_config(FOLDER / "mnist.yaml")


def test_every_builtin_loads_and_each_space_reads_against_its_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for builtin in all_builtins():
        assert builtin.summary(), f"{builtin.name} has no one-line summary as its first comment line"
        if builtin.is_space:
            read_space(builtin.name, load_config("mnist"))
        else:
            load_config(builtin.name)


def test_a_file_of_that_name_wins_over_the_builtin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist.yaml").write_text("model:\n  latent_dim: 7\n")
    assert load_config("mnist.yaml").model.latent_dim == 7
    assert load_config("mnist").model.latent_dim == 2  # no file named "mnist" here: the built-in


def test_a_misspelt_name_is_one_line_naming_the_builtins(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "--config", "mnsit", "--print-config")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "did you mean mnist?" in err and "seeds/seed_000_keras_conv_vae" in err and "vae configs" in err


def test_vae_configs_lists_every_builtin_once(capsys):
    code, out, _ = run(capsys, "configs")
    assert code == 0
    for builtin in all_builtins():
        (line,) = [line for line in out.splitlines() if line.split()[:1] == [builtin.name]]
        assert builtin.summary() in line
    assert out.index("Search spaces") < out.index("tune_mnist")
    code, out, _ = run(capsys, "configs", "--json")
    assert {entry["name"] for entry in json.loads(out)} == {b.name for b in all_builtins()}


def test_vae_init_copies_a_builtin_and_never_overwrites(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "seeds/seed_003_tf2_conv_vae")
    copy = tmp_path / "seed_003_tf2_conv_vae.yaml"
    assert code == 0 and copy.read_bytes() == find("seeds/seed_003_tf2_conv_vae").path.read_bytes()
    assert f"vae train --config {copy.name}" in out
    copy.write_text("# mine\n")
    code, _, err = run(capsys, "init", "seeds/seed_003_tf2_conv_vae")
    assert code == 1 and "exists; vae init never overwrites" in err and copy.read_text() == "# mine\n"
    (tmp_path / "sub").mkdir()
    assert run(capsys, "init", "mnist.yaml", "sub")[0] == 0 and (tmp_path / "sub" / "mnist.yaml").is_file()
    code, _, err = run(capsys, "init", "nope")
    assert code == 2 and "nope is no built-in config" in err
