"""Plain nested dicts checked against typed dataclass sections: each value against its type hint and
its ``min``/``max``/``choices`` metadata, unknown keys refused. Every error names the full dotted key, because a
silently ignored typo costs a whole training run.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal

from vae_cli import limits
from vae_cli.errors import ConfigError, cut, shown


def build_sections(root: type, raw: dict) -> dict[str, Any]:
    """One checked instance per section field of the dataclass ``root``, from ``raw[section]``."""
    sections = {}
    for f in dataclasses.fields(root):
        values = raw.get(f.name) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"{f.name}: must be a mapping of keys, got {_describe(values)}")
        sections[f.name] = _build_section(f.name, f.default_factory, values)
    unknown = sorted(_key_text(k) for k in set(raw) - set(sections))  # YAML keys need not be strings
    if unknown:
        raise ConfigError(_unknown_message(unknown[0], list(sections)))
    return sections


def _build_section(section, cls, values):
    known = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in known:
            raise ConfigError(_unknown_message(f"{section}.{_key_text(key)}", [f"{section}.{k}" for k in known]))
    checked = {}
    for key, value in values.items():
        checked[key] = _check(f"{section}.{key}", value, hints[key], known[key].metadata)
    return cls(**checked)


def _check(key, value, hint, meta):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return _check(key, value, hint, meta)
    if origin is Literal or meta.get("choices"):  # choices: a callable, for names registered at run time
        known = args if origin is Literal else meta["choices"]()
        if value not in known:
            choices = " | ".join(str(a) for a in known)
            raise ConfigError(f"{key}: must be one of {choices}, got {shown(value)}")
        return value
    if origin is list:
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{key}: must be a non-empty list, got {_describe(value)}")
        if len(value) > limits.MAX_LIST:
            raise ConfigError(f"{key}: at most {limits.MAX_LIST} entries, got {len(value):,}")
        return [_check(f"{key}[{i}]", v, args[0], meta) for i, v in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 2**1023:
            raise ConfigError(f"{key}: must be a finite number, got {_describe(value)}")
        value = float(value)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise ConfigError(f"{key}: must be {_type_name(hint)}, got {_describe(value)}")
    if hint is float and not math.isfinite(value):
        raise ConfigError(f"{key}: must be a finite number, got {value}")
    if hint is str and len(value) > limits.MAX_TEXT:
        raise ConfigError(f"{key}: at most {limits.MAX_TEXT} characters, got {_describe(value)}")
    if hint is str and "\0" in value:  # the OS would cut a path there, or refuse it with a traceback
        raise ConfigError(
            f"{key}: contains a NUL byte (\\x00), which no path or name can hold; remove it from {shown(value)}"
        )
    _check_range(key, value, meta)
    return value


def _check_range(key, value, meta):
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        raise ConfigError(f"{key}: must be >= {low}, got {shown(value)}")
    if high is not None and value > high:
        raise ConfigError(f"{key}: must be <= {high}, got {shown(value)}")


def _type_name(hint):
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping"}
    return names.get(hint, str(hint))


def _describe(value):
    return f"{type(value).__name__} {shown(value)}" if value is not None else "null"


def _key_text(key):
    """A key as one line of an error: plain strings as they are, anything else (null, 1, a line break) as repr."""
    return key if isinstance(key, str) and key.isprintable() else repr(key)


def _unknown_message(key, known):
    import difflib

    key = cut(str(key))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; known keys: {', '.join(known)}"
    return f"unknown config key {key}{hint}"
