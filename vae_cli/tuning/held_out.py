"""A study's trials are judged on the validation split, never on the test set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NoReturn

from vae_cli.config import Config


def check(base: Config, searched_sizes: Sequence[tuple], fail: Callable[[str], NoReturn]) -> None:
    """Refuses a study whose trials could have no validation split: ``data.validation_size`` 0 in ``base`` (and
    not searched), or a searched range (``searched_sizes``: each dimension's values) that reaches 0."""
    if base.data.validation_size == 0 and not searched_sizes:
        fail(
            "data.validation_size 0 leaves no validation split, so the trials would be judged on the test set; "
            "hold out validation images (data.validation_size, 5000 by default)"
        )
    if any(min(values) <= 0 for values in searched_sizes):
        fail(
            "space: data.validation_size: 0 leaves no validation split, so that trial would be judged on the "
            "test set; search sizes of at least 1"
        )
