"""A table of named plug-ins (model kinds, objectives, data sources), each built into the package or registered at run time.

Built-in entries are named by the module that defines them and imported on first
use, so the bottom of the package (the config reader, ``vae --help``) can list and
check names without importing Keras or the wings that the plug-ins compose.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

Entry = TypeVar("Entry")


class Registry(Generic[Entry]):
    """Name -> entry; an entry is any object with a ``name`` attribute.

    ``builtins`` maps each built-in name to ``"package.module:ATTRIBUTE"``, the
    entry's one home; ``register`` adds another (a plug-in, or a test's toy).
    """

    def __init__(self, what: str, builtins: dict[str, str]) -> None:
        self.what = what
        self._paths = dict(builtins)
        self._loaded: dict[str, Entry] = {}

    def register(self, entry: Entry) -> Entry:
        """Adds ``entry`` under ``entry.name``, replacing an entry of that name; returns it."""
        name = entry.name  # type: ignore[attr-defined]
        self._paths.pop(name, None)
        self._loaded[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._paths.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self._paths, *self._loaded]))

    def __contains__(self, name: object) -> bool:
        # A name read from a damaged file may be any YAML value: a list, a mapping, a number.
        return isinstance(name, str) and (name in self._paths or name in self._loaded)

    def get(self, name: str) -> Entry:
        """The entry called ``name``; ``KeyError`` naming the known ones if there is none."""
        if name not in self._loaded:
            path = self._paths.get(name)
            if path is None:
                raise KeyError(f"no {self.what} named {name!r}; known: {', '.join(self.names())}")
            module, _, attribute = path.partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attribute)
        return self._loaded[name]

    def __iter__(self) -> Iterator[Entry]:
        return (self.get(name) for name in self.names())

    def find(self, test: Any) -> list[Entry]:
        """The entries for which ``test(entry)`` is true, in registration order."""
        return [entry for entry in self if test(entry)]
