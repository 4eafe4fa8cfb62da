"""Shell completion: the generated bash script completes commands, flags, choices, built-in configs and
config keys, and follows the parser (a flag added there completes without an edit elsewhere)."""

import shutil
import subprocess

import pytest

from vae_cli.cli.completion import script
from vae_cli.cli.main import main
from vae_cli.cli.parser import build_parser

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def complete(tmp_path, line, parser=None):
    """What bash offers after ``line`` (a trailing space: a new, empty word)."""
    path = tmp_path / "vae.bash"
    path.write_text(script("bash", parser or build_parser()))
    probe = (
        f'source "{path}"; read -ra COMP_WORDS <<< "$LINE"; [[ "$LINE" == *" " ]] && COMP_WORDS+=("");'
        ' COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _vae; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", probe], env={"LINE": line}, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return [word for word in done.stdout.splitlines() if word]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("vae tr", ["train", "traverse"]),
        ("vae train --con", ["--config"]),
        ("vae train --set model.lat", ["model.latent_dim="]),
        ("vae train --config seeds/seed_00", [f"seeds/seed_00{i}" for i in range(5)]),
        ("vae export --format o", ["onnx"]),
        ("vae plot-latent --method ", ["pca", "tsne"]),
        ("vae tune --space tune", ["tune_mnist"]),
        ("vae sample --grid ", []),  # a number: nothing offered
        ("vae completion ", ["bash", "zsh"]),
    ],
)
def test_bash_completes(tmp_path, line, expected):
    offered = complete(tmp_path, line)
    if line.endswith("seed_00"):
        assert all(any(word.startswith(p) for word in offered) for p in expected), offered
    else:
        assert offered == expected


def test_a_flag_added_to_the_parser_completes(tmp_path):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "train" in a.choices).choices["train"]
    sub.add_argument("--colour-scheme", choices=["viridis", "magma"])
    assert complete(tmp_path, "vae train --colour", parser) == ["--colour-scheme"]
    assert complete(tmp_path, "vae train --colour-scheme ", parser) == ["viridis", "magma"]


def test_hidden_flags_are_not_offered(tmp_path):
    assert "--worker-threads" not in complete(tmp_path, "vae tune --")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_loads_the_script_and_registers_vae(tmp_path):
    path = tmp_path / "vae.zsh"
    path.write_text(script("zsh", build_parser()))
    probe = f'source "{path}" && print -r -- "${{_comps[vae]}}"'
    done = subprocess.run(["zsh", "-f", "-c", probe], capture_output=True, text=True, env={"HOME": str(tmp_path)})
    assert done.returncode == 0 and "_vae" in done.stdout, (done.stdout, done.stderr)


def test_vae_completion_prints_the_script(capsys):
    assert main(["completion", "bash"]) == 0
    assert "complete -F _vae vae" in capsys.readouterr().out
