"""The documentation site: the reference pages are rendered from the code, never edited by hand; every command,
flag and config key says what it does; and the site builds under ``mkdocs build --strict``."""

import argparse
import difflib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vae_cli.api
from vae_cli.cli.parser import build_parser
from vae_cli.config import describe_keys

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGENERATE = "run `python docs/gen_reference.py` and commit the pages it writes"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


@pytest.mark.parametrize("page", sorted(GENERATOR.PAGES))
def test_the_committed_reference_pages_are_what_the_code_renders(page):
    path = DOCS / page
    committed = path.read_text(encoding="utf-8") if path.is_file() else ""
    rendered = GENERATOR.PAGES[page]()
    if committed != rendered:
        diff = difflib.unified_diff(committed.splitlines(), rendered.splitlines(), f"docs/{page}", "rendered", n=0)
        pytest.fail(f"docs/{page} is not what the code renders now; {REGENERATE}:\n" + "\n".join(list(diff)[:30]))


def test_a_new_flag_changes_the_commands_page(monkeypatch):
    """The check above catches a flag added without regenerating: the page is rendered from the live parser."""

    def with_a_new_flag():
        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["show"]
        sub.add_argument("--brand-new", metavar="X", help="a flag the committed page has never seen")
        return parser

    monkeypatch.setattr(GENERATOR, "build_parser", with_a_new_flag)
    page = GENERATOR.render_commands()
    assert "`--brand-new X`" in page and "a flag the committed page has never seen" in page
    assert page != (DOCS / "reference" / "commands.md").read_text(encoding="utf-8")


def _parsers(parser):
    """``vae`` and each command's parser, with its name, and the one-line help each command has in ``vae --help``."""
    yield "vae", parser, None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"vae {name}", sub, summaries.get(name)


def _without_help(parser):
    """Every command and flag of ``parser`` that does not say what it does (hidden flags excepted)."""
    missing = []
    for prog, p, summary in _parsers(parser):
        if prog != "vae" and not (summary or "").strip():
            missing.append(f"{prog} (its line in vae --help)")
        if not (p.description or "").strip():
            missing.append(f"{prog} (its description)")
        for action in p._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
                continue
            if not (action.help or "").strip():
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_command_and_flag_has_help_text():
    missing = _without_help(build_parser())
    assert not missing, f"give these a help text (the reference page and --help show it): {missing}"


def test_the_help_check_finds_a_flag_without_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["list"]
    sub.add_argument("--silent-flag")
    sub.add_argument("--hidden-flag", help=argparse.SUPPRESS)
    assert _without_help(parser) == ["vae list --silent-flag"]


def test_every_config_key_has_help_text():
    missing = [key for key, _, help in describe_keys() if not help.strip()]
    assert not missing, f"give these config keys a help= (the reference page and vae train --help show it): {missing}"


def _example(text):
    """The interactive lines of ``text`` (``>>>`` and the results after them), spaces collapsed."""
    lines, inside = [], False
    for line in text.splitlines():
        line = line.strip()
        inside = line.startswith(">>>") or (inside and bool(line) and not line.startswith("```"))
        if inside:
            lines.append(re.sub(r"\s+", " ", line))
    return lines


def test_the_api_guide_shows_the_example_the_doctest_runs():
    guide = (DOCS / "guides" / "api.md").read_text(encoding="utf-8")
    assert _example(guide) == _example(vae_cli.api.__doc__), "copy vae_cli/api.py's docstring example into api.md"


@pytest.mark.slow
def test_the_site_builds_under_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("MkDocs with the Material theme is not installed: pip install -e '.[docs]'")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
        + ["--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    assert (site / "reference" / "commands.html").is_file()
