"""The domain errors: what went wrong, with the facts, and which kind of fix applies.

Nothing here knows about flags, commands or exit codes: the command-line layer
(``vae_cli.cli``) words the fix (``continue with: vae train --resume RUN``) and
picks the exit code from the error's class.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from vae_cli.limits import SHOWN_CHARS


def one_line(text: str) -> str:
    """``text`` with every unprintable character escaped as Python writes it (``\\n``, ``\\x00``): a line
    break in user input (a path, ``--set $'a\\nb=1'``) cannot split a message's one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters, saying how long it was: user input in a message
    stays short."""
    text = one_line(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    try:
        return cut(repr(value), limit)
    except ValueError:  # holds an integer too long for Python to print in decimal
        return "a value too long to show"


@dataclass(frozen=True)
class Fix:
    """A remedy the command line words for the user: ``kind`` names it, the fields fill it in."""

    kind: str
    path: Path | str | None = None  # the run folder or file the remedy names
    first: str | None = None  # what to do before it ("free space")


class VaeError(Exception):
    """A problem the user can fix; its message states what is wrong, ``fix`` how to mend it."""

    def __init__(self, message: str, fix: Fix | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class ConfigError(VaeError):
    """The user asked for something invalid: a bad config value or request."""


class RequestError(ConfigError):
    """A value given for one named request parameter (``dims``, ``out`` ...) that cannot be served.

    ``parameter`` is the function argument's name; the command line maps it to its
    flag and shows ``<flag> <value><problem>``.
    """

    def __init__(self, parameter: str, value: object, problem: str) -> None:
        shown = "" if value is None else f" {value}"
        super().__init__(f"{parameter}{shown}{problem}")
        self.parameter, self.value, self.problem = parameter, value, problem


class DataError(VaeError):
    """A dataset that cannot be found or read."""


class RunError(VaeError):
    """A run folder, model or checkpoint that cannot be created, read or continued."""


class Interrupted(VaeError):
    """A signal stopped a run (Ctrl-C's SIGINT, or SIGTERM from ``kill``, a container or a batch
    system); ``signum`` is that signal. The run folder holds the last completed epoch."""

    def __init__(self, message: str, fix: Fix | None = None, signum: int = signal.SIGINT) -> None:
        super().__init__(message, fix)
        self.signum = signum


class Terminated(BaseException):
    """SIGTERM, raised from its handler wherever the process is, as Python raises KeyboardInterrupt
    for SIGINT: a BaseException, so that no ``except Exception`` swallows it."""
