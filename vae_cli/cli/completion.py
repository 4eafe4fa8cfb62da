"""Shell completion scripts for bash and zsh, generated from the parser itself: every command, every flag,
each flag's choices, and the config keys after ``--set``; a new flag completes without an edit here."""

from __future__ import annotations

import argparse
import shlex

from vae_cli import __version__
from vae_cli.builtin_configs import all_builtins
from vae_cli.config import describe_keys

SHELLS = ("bash", "zsh")
_DIRECTORY_METAVARS = ("DIR", "RUN", "RUN_DIR")
_FILE_METAVARS = ("FILE", "PATH")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _words(items: list[str]) -> str:
    return shlex.quote(" ".join(items))


def _value_rule(action: argparse.Action, builtins: list[str], spaces: list[str]) -> str | None:
    """The bash line that fills COMPREPLY for the value after this flag, or for this positional; None: no value."""
    if action.nargs == 0:
        return None
    flag = action.option_strings[0] if action.option_strings else None
    if flag == "--set":
        keys = [f"{key}=" for key, *_ in describe_keys()]
        return f'COMPREPLY=($(compgen -W {_words(keys)} -- "$cur")); _vae_nospace'
    if flag in ("--config", "--space") or (flag is None and action.metavar == "NAME"):
        names = spaces if flag == "--space" else builtins + spaces * (flag is None)
        return f'COMPREPLY=($(compgen -W {_words(names)} -- "$cur") $(compgen -f -- "$cur"))'
    if action.choices:
        return f'COMPREPLY=($(compgen -W {_words([str(c) for c in action.choices])} -- "$cur"))'
    if action.metavar in _DIRECTORY_METAVARS:
        return 'COMPREPLY=($(compgen -d -- "$cur"))'
    if action.metavar in _FILE_METAVARS:
        return 'COMPREPLY=($(compgen -f -- "$cur"))'
    return "COMPREPLY=()"  # a number, a name, a URL: nothing to offer


def bash_script(parser: argparse.ArgumentParser) -> str:
    builtins = [b.name for b in all_builtins() if not b.is_space]
    spaces = [b.name for b in all_builtins() if b.is_space]
    commands = _subparsers(parser)
    values, flags = [], []
    for name, sub in commands.items():
        options = [s for a in sub._actions for s in a.option_strings if a.help != argparse.SUPPRESS]
        positional = next((a for a in sub._actions if not a.option_strings), None)
        plain = (
            _value_rule(positional, builtins, spaces) if positional else 'COMPREPLY=($(compgen -W "$opts" -- "$cur"))'
        )
        flags.append(
            f"        {shlex.quote(name)}) opts={_words(options)}; [[ $cur == -* ]] || {{ {plain}; return; }} ;;"
        )
        for action in sub._actions:
            rule = _value_rule(action, builtins, spaces) if action.option_strings else None
            if rule is not None and action.help != argparse.SUPPRESS:
                patterns = "|".join(f"{name}:{s}" for s in action.option_strings)
                values.append(f"        {patterns}) {rule}; return ;;")
    return "\n".join(
        [
            f"# vae {__version__} completion for bash (and zsh through bashcompinit); made by `vae completion`.",
            "_vae_nospace() { compopt -o nospace 2>/dev/null; }",
            "_vae() {",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" opts',
            "    if [[ $COMP_CWORD -eq 1 ]]; then",
            f'        COMPREPLY=($(compgen -W {_words([*commands, "--help", "--version"])} -- "$cur")); return',
            "    fi",
            '    case "${COMP_WORDS[1]}:$prev" in',
            *values,
            "    esac",
            '    case "${COMP_WORDS[1]}" in',
            *flags,
            "        *) return ;;",
            "    esac",
            '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
            "}",
            "complete -F _vae vae",
            "",
        ]
    )


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    if shell == "zsh":  # zsh runs bash's completion functions through its own bashcompinit
        preamble = "autoload -U +X compinit && compinit -u\nautoload -U +X bashcompinit && bashcompinit\n"
        return preamble + bash_script(parser)
    return bash_script(parser)
