"""The flags whose text needs parsing (``--range``, ``--dims``, ``--out``, ``--set``), and the one map
from a core function's parameter to the flag that sets it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vae_cli.defaults import GRID_RANGE
from vae_cli.errors import ConfigError

GRID_RANGE_TEXT = ":".join(str(part) for part in GRID_RANGE)  # "ppf:0.05:0.95"
RANGE_FORMS = "ppf:LOW:HIGH (prior quantiles), linear:MIN:MAX, or data[:LOW:HIGH] (test-set percentiles)"
ACTIVE = "active"

# Core functions name what was wrong by their own parameter; the user typed a flag.
FLAGS = {
    "out": "--out",
    "dims": "--dims",
    "range": "--range",
    "start": "--from",
    "end": "--to",
    "index": "--index",
    "dim": "--dim",
    "label": "--label",
    "classes": "--classes",
}


def grid_range(text: str) -> Any:
    """``--range`` text -> ``GridRange(kind, low, high)``; kinds: ppf, linear, data."""
    from vae_cli.figures.latents import GridRange

    match = re.fullmatch(r"(ppf|linear|data)(?::(-?[\d.]+(?:e-?\d+)?):(-?[\d.]+(?:e-?\d+)?))?", text.strip())
    if not match:
        raise ConfigError(f"--range {text!r}: expected {RANGE_FORMS}")
    kind, low, high = match.group(1), match.group(2), match.group(3)
    if low is None:
        if kind == "linear":
            raise ConfigError(f"--range {text!r}: linear needs its span, for example linear:-4:4")
        low, high = GRID_RANGE[1], GRID_RANGE[2]
    low, high = float(low), float(high)
    if not low < high:
        raise ConfigError(f"--range {text!r}: the low end must be below the high end")
    if kind in ("ppf", "data") and not (0 < low and high < 1):
        raise ConfigError(f"--range {text!r}: {kind} takes probability levels strictly between 0 and 1")
    return GridRange(kind, low, high)


def grid_dims(text: str | None) -> tuple[int, int] | str | None:
    """``--dims`` text -> two different dimensions, ``"active"``, or None (the default, 0 and 1)."""
    if text is None or text == ACTIVE:
        return text
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        dims = ()
    if len(dims) != 2 or dims[0] == dims[1]:
        raise ConfigError(f"--dims {text!r}: expected two different dimensions, for example --dims 0,1")
    return dims


def out_path(text: str | None) -> Path | None:
    """``--out``: a PNG file whose folder exists or can be created; checked before any work starts."""
    if not text:
        return None
    out = Path(text)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {out}: figures are written as PNG; give a file name ending in .png")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name ending in .png")
    existing = next(p for p in out.parents if p.exists())  # missing folders are created
    if not existing.is_dir():
        raise ConfigError(f"--out {out}: {existing} is a file, not a folder")
    return out


def set_override(item: str) -> tuple[str, Any]:
    """``--set SECTION.NAME=VALUE`` -> (dotted key, value read as YAML)."""
    from vae_cli.yamlfile import parse_yaml

    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, for example --set train.epochs=3")
    section, dot, name = key.partition(".")
    if not dot or "." in name:
        raise ConfigError(f"--set {key}: keys are SECTION.NAME, for example train.epochs")
    return key, parse_yaml(text, f"--set {key}")
