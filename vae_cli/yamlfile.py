"""Strict YAML for configs: plain data only, ``1e-3`` read as a float, duplicate keys refused,
and every syntax error turned into one ``ConfigError`` line with its position; values written
back in the same spelling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from vae_cli.errors import ConfigError


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float and refuses duplicate keys."""


# YAML 1.1 wants a dot in every float ("1.0e-3"); people write "1e-3".
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str | Path) -> Any:
    """The plain data in ``text``; ``source`` names it in the one-line error."""
    loader = None
    try:
        loader = _Loader(text)  # a SafeLoader: plain data only, never Python objects
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_text(value: Any) -> str:
    """``value`` in YAML flow spelling, as a config file would hold it: null, true, [500, 500], '/gpu:0'."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10**6).strip()[1:-1]
    if isinstance(value, str) and parse_yaml(text, "") != value:  # "1e-3" would read back as a number here
        text = "'" + value.replace("'", "''") + "'"
    return text


def annotated_yaml(sections: dict[str, dict[str, Any]], comments: dict[str, str]) -> str:
    """Two-level YAML (section: key: value), each key followed by ``# comments["section.key"]``."""
    lines = []
    for section, values in sections.items():
        lines.append(f"{section}:")
        for key, value in values.items():
            line = f"  {key}: {yaml_text(value)}"
            comment = comments.get(f"{section}.{key}")
            lines.append(f"{line:<40} # {comment}" if comment else line)
    return "\n".join(lines) + "\n"
