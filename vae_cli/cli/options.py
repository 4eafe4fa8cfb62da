"""The flags whose text needs parsing (``--range``, ``--dims``, ``--out``, ``--set``), the config overrides
that ``--set``, ``--data-dir`` and ``--output-dir`` make, and the one map from a core function's parameter to
the flag that sets it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vae_cli.defaults import GRID_RANGE
from vae_cli.errors import ConfigError, cut, shown
from vae_cli.limits import MAX_LATENT_DIM, MAX_LATENT_VALUE

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
    "grid": "--grid",
    "random": "--random",
    "n": "-n",
    "steps": "--steps",
    "limit": "--limit",
    "study": "--study",
    "storage": "--storage",
    "label": "--label",
    "classes": "--classes",
}


def _range_end(text: str, end: str, kind: str) -> float:
    try:
        value = float(end)
    except ValueError:
        raise ConfigError(f"--range {shown(text)}: {shown(end)} is not a number; expected {RANGE_FORMS}") from None
    if not math.isfinite(value):
        raise ConfigError(f"--range {shown(text)}: the ends must be finite numbers")
    if kind == "linear" and abs(value) > MAX_LATENT_VALUE:
        raise ConfigError(
            f"--range {shown(text)}: latent values beyond +-{MAX_LATENT_VALUE:g} mean nothing under an N(0, 1) prior"
        )
    return value


def grid_range(text: str) -> Any:
    """``--range`` text -> ``GridRange(kind, low, high)``; kinds: ppf, linear, data."""
    from vae_cli.figures.latents import GridRange

    kind, *ends = text.strip().split(":")
    if kind not in ("ppf", "linear", "data") or len(ends) not in (0, 2):
        raise ConfigError(f"--range {shown(text)}: expected {RANGE_FORMS}")
    if not ends:
        if kind == "linear":
            raise ConfigError(f"--range {shown(text)}: linear needs its span, for example linear:-4:4")
        low, high = GRID_RANGE[1], GRID_RANGE[2]
    else:
        low, high = (_range_end(text, end, kind) for end in ends)
    if not low < high:
        raise ConfigError(f"--range {shown(text)}: the low end must be below the high end")
    if kind in ("ppf", "data") and not (0 < low and high < 1):
        raise ConfigError(f"--range {shown(text)}: {kind} takes probability levels strictly between 0 and 1")
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
        raise ConfigError(f"--dims {shown(text)}: expected two different dimensions, for example --dims 0,1")
    if not all(abs(d) < MAX_LATENT_DIM for d in dims):  # a latent space never has more dimensions
        raise ConfigError(f"--dims {shown(text)}: dimensions run from 0 to {MAX_LATENT_DIM - 1} at most")
    return dims


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")  # matplotlib writes each format its suffix names
SUFFIX_TEXT = "ending in .png, .pdf or .svg"


def out_path(text: str | None) -> Path | None:
    """``--out``: a PNG, PDF or SVG file whose folder exists or can be created; checked before any work."""
    if not text:
        return None
    out = Path(text)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise ConfigError(f"--out {cut(text)}: figures are written as PNG, PDF or SVG; give a file name {SUFFIX_TEXT}")
    if out.is_dir():
        raise ConfigError(f"--out {cut(text)} is a folder; give a file name {SUFFIX_TEXT}")
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
        raise ConfigError(f"--set {shown(item)}: expected KEY=VALUE, for example --set train.epochs=3")
    section, dot, name = key.partition(".")
    if not dot or "." in name:
        raise ConfigError(f"--set {cut(key)}: keys are SECTION.NAME, for example train.epochs")
    return key, parse_yaml(text, f"--set {cut(key)}")


def config_overrides(args: Any) -> list[tuple[str, Any, str]]:
    """``--set`` items, then ``--data-dir`` and ``--output-dir``, as (dotted key, value, the flag that set it)."""
    found = [(*set_override(item), "--set") for item in args.overrides]
    if args.data_dir:
        found.append(("data.data_dir", args.data_dir, "--data-dir"))
    if args.output_dir:  # where the run folders (or the study's folder) go
        found.append(("output.dir", args.output_dir, "--output-dir"))
    return found
