"""A study's records read back from its storage, which other processes and people can write to as well.

The definition ``open_study`` records is checked to have the shape it was written in before anything uses
it; what a damaged record makes Optuna raise while it is read (JSON that does not parse, a NULL where a
value must be) becomes one ``RunError`` naming the storage, instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vae_cli.errors import RunError, cut
from vae_cli.limits import MAX_TEXT
from vae_cli.tuning.space import KINDS

# What Optuna raises on a record it cannot read back: JSON that does not parse, a NULL where a value must be,
# a distribution of the wrong shape; and DamagedRecord, for a record of a shape vae does not write.
DAMAGE = (ValueError, TypeError, LookupError, AttributeError, AssertionError)


class DamagedRecord(ValueError):
    """A record in the study's storage that vae did not write as it is: its message says which and how."""


def recorded(study: Any, attribute: str) -> dict | None:
    """The study's definition (its user attribute ``attribute``), checked to be the shape ``open_study``
    writes: space, config and output folder; None when the study has none."""
    found = study.user_attrs.get(attribute)
    if found is None:
        return None

    def damaged(what: str, value: Any) -> DamagedRecord:
        return DamagedRecord(f"study {cut(study.study_name)}'s {attribute} attribute: {what}, got {_kind(value)}")

    if not isinstance(found, dict):
        raise damaged("must be a mapping", found)
    for key in ("space", "config"):
        if not isinstance(found.get(key), dict):
            raise damaged(f"{key} must be a mapping", found.get(key))
    for section, values in found["config"].items():
        if not isinstance(values, dict):
            raise damaged(f"config.{cut(str(section))} must be a mapping", values)
    dimensions = found["space"].get("dimensions", {})
    if not isinstance(dimensions, dict):
        raise damaged("space.dimensions must be a mapping", dimensions)
    for key, entry in dimensions.items():
        if not (isinstance(entry, dict) and len(entry) == 1 and all(k in KINDS for k in entry)) or not all(
            isinstance(v, list) for v in entry.values()
        ):
            raise damaged(f"space.dimensions.{cut(str(key))} must be {{kind: [values]}}", entry)
    if not isinstance(found.get("config_hash", ""), str):
        raise damaged("config_hash must be a string", found["config_hash"])
    out = found.get("output_dir", ".")
    if not isinstance(out, str) or not out or "\x00" in out or len(out) > MAX_TEXT:
        raise damaged(f"output_dir must be a folder's path (a string of 1 to {MAX_TEXT:,} characters)", out)
    return found


def _kind(value: Any) -> str:
    return f"str {cut(repr(value))}" if isinstance(value, str) else type(value).__name__


@contextmanager
def reading(where: str) -> Iterator[None]:
    """Reading records from the storage ``where`` names: a damaged one is a RunError saying so."""
    try:
        yield
    except DAMAGE as exc:
        if isinstance(exc, DamagedRecord):
            detail = str(exc)
        else:
            said = f": {cut(str(exc), 120)}" if str(exc).strip() else ""
            detail = f"Optuna cannot read its records ({type(exc).__name__}{said})"
        raise RunError(
            f"{where} is damaged: {detail}; use another study name, or restore the database from a backup"
        ) from None
