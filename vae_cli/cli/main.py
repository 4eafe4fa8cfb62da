"""Command-line entry point: runs the parsed command, maps errors to one stderr line and an exit code.

This layer alone reads argv, prints to the terminal and picks exit codes. It
imports nothing heavy, so ``vae --help`` answers at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from vae_cli.cli.parser import build_parser
from vae_cli.cli.report import error_text
from vae_cli.errors import ConfigError, Interrupted, Terminated, VaeError, one_line
from vae_cli.redaction import command, hide

EXIT_FAILURE = 1  # the command could not do its job (missing data, unreadable model ...)
EXIT_USAGE = 2  # the user asked for something invalid (bad config, bad flag value)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
EXIT_TERMINATED = 143  # SIGTERM (kill, docker stop, Slurm, systemd), as shells report it


def exit_code(exc: VaeError) -> int:
    if isinstance(exc, Interrupted):
        return EXIT_TERMINATED if exc.signum == signal.SIGTERM else EXIT_INTERRUPTED
    return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURE


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated  # unwinds like Ctrl-C's KeyboardInterrupt: temporary files removed, the run marked


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = command(sys.argv[1:] if argv is None else argv)  # recorded in the run's manifest
    args.parser = parser  # for the commands that describe the command line itself (vae completion)
    # Handlers can only be set from the main thread; elsewhere SIGTERM keeps its default.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _run(args)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(args: Any) -> int:
    try:
        return args.handler(args)
    except VaeError as exc:
        kind = "" if isinstance(exc, Interrupted) else "error: "
        print(f"vae {args.command}: {kind}{error_text(exc)}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:  # a file or folder the user named that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"vae {args.command}: error: {one_line(hide(f'{where}{exc.strerror or exc}'))}; check the path, its "
            "permissions and the free space",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("vae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"vae {args.command}: stopped by SIGTERM", file=sys.stderr)
        return EXIT_TERMINATED
