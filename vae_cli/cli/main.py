"""Command-line entry point: runs the parsed command, maps errors to one stderr line and an exit code.

This layer alone reads argv, prints to the terminal and picks exit codes. It
imports nothing heavy, so ``vae --help`` answers at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from vae_cli.cli import figure_commands, run_commands, training_commands, tuning_commands
from vae_cli.cli.parser import build_parser
from vae_cli.cli.report import error_text
from vae_cli.errors import ConfigError, Interrupted, VaeError

EXIT_FAILURE = 1  # the command could not do its job (missing data, unreadable model ...)
EXIT_USAGE = 2  # the user asked for something invalid (bad config, bad flag value)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

_HANDLERS = {
    "train": training_commands.train,
    "sample": figure_commands.sample,
    "plot-latent": figure_commands.plot_latent,
    "reconstruct": figure_commands.reconstruct,
    "interpolate": figure_commands.interpolate,
    "traverse": figure_commands.traverse,
    "evaluate": run_commands.evaluate,
    "show": run_commands.show,
    "tune": tuning_commands.tune,
}


def exit_code(exc: VaeError) -> int:
    if isinstance(exc, Interrupted):
        return EXIT_INTERRUPTED
    return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the run's manifest
    try:
        return _HANDLERS[args.command](args)
    except VaeError as exc:
        kind = "" if isinstance(exc, Interrupted) else "error: "
        print(f"vae {args.command}: {kind}{error_text(exc)}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:  # a file or folder the user named that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"vae {args.command}: error: {where}{exc.strerror or exc}; check the path, its permissions and "
            "the free space",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("vae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
