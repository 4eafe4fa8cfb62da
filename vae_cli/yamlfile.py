"""Strict, bounded YAML for configs: plain data only, ``1e-3`` read as a float, duplicate keys refused,
size, nesting and alias expansion capped, every problem turned into one ``ConfigError`` line, and
values written back in the same spelling."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from vae_cli.errors import ConfigError, cut, shown
from vae_cli.limits import CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH, CONFIG_MAX_NODES


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float, refuses duplicate keys and caps nesting depth."""

    depth = 0

    def compose_node(self, parent, index):
        # The composer recurses once per level: refuse deep nesting before Python's stack runs out.
        self.depth += 1
        try:
            if self.depth > CONFIG_MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {CONFIG_MAX_DEPTH} levels deep", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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
        try:
            duplicate = key in seen
        except TypeError:  # a list or mapping as a key
            raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {shown(key)}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Values under ``node`` with every alias expanded, counted once per shared node (so it stays linear)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise yaml.composer.ComposerError(None, None, "an alias refers to a node that contains it", node.start_mark)
    open_nodes.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = node.value if isinstance(node, yaml.SequenceNode) else []
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, open_nodes)
        if total > CONFIG_MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {CONFIG_MAX_NODES:,} values once its aliases are expanded", node.start_mark
            )
    open_nodes.discard(key)
    sizes[key] = total
    return total


def parse_yaml(text: str, source: str | Path) -> Any:
    """The plain data in ``text``; ``source`` names it in the one-line error."""
    if len(text) > CONFIG_MAX_BYTES:
        raise ConfigError(f"{source}: over {CONFIG_MAX_BYTES:,} characters; a config is a few keys")
    loader = None
    try:
        loader = _Loader(text)  # a SafeLoader: plain data only, never Python objects
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {cut(problem, 200)}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar its constructor refuses (a date 2001-13-45)
        raise ConfigError(f"{source}: invalid YAML: {cut(str(exc), 120)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text_capped(path: Path) -> str:
    """A config file's text, reading at most one byte past the cap (so ``/dev/zero`` is refused at once)."""
    with open(path, "rb") as f:
        raw = f.read(CONFIG_MAX_BYTES + 1)
    if len(raw) > CONFIG_MAX_BYTES:
        raise ConfigError(f"{path}: over {CONFIG_MAX_BYTES:,} bytes; a config is a few keys")
    return raw.decode("utf-8")


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
