"""The argparse definition of ``vae``: its own options, then each command's subparser; imports nothing heavy."""

from __future__ import annotations

import argparse

from vae_cli import __version__
from vae_cli.cli.arguments import Formatter, Parser
from vae_cli.cli.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="vae",
        formatter_class=Formatter,
        description="Train Variational Autoencoders with Keras 3 and look at what they learned.",
        epilog="examples:\n  vae train --config mnist\n  vae configs\n  vae sample --grid 15\n  vae plot-latent\n"
        "  vae reconstruct\n  vae show\n  vae list\n  vae compare RUN RUN\n"
        "  vae tune --config mnist --space tune_mnist --trials 30",
    )
    parser.add_argument("--version", action="version", version=f"vae {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add(sub)
    return parser
