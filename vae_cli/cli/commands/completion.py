"""``vae completion bash|zsh``: the shell completion script on stdout."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli.arguments import add_parser

DESCRIPTION = """\
Print a completion script for commands, flags, their choices and the config keys after --set.
  bash, this shell:  source <(vae completion bash)
  bash, always:      vae completion bash > ~/.local/share/bash-completion/completions/vae
  zsh, always:       echo 'source <(vae completion zsh)' >> ~/.zshrc"""


def add(sub: Any) -> None:
    from vae_cli.cli.completion import SHELLS

    p = add_parser(sub, "completion", "print a shell completion script (bash or zsh)", DESCRIPTION)
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.cli.completion import script

    print(script(args.shell, args.parser), end="")
    return 0
