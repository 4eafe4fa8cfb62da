"""The configs shipped inside the package, found by name wherever the tool is installed.

``--config mnist`` (or ``mnist.yaml``, ``configs/mnist.yaml``, ``seeds/seed_003_tf2_conv_vae``) names
one when no file of that name exists; a file always wins, so a user's own ``mnist.yaml`` is never
shadowed. Search-space files (``vae tune --space``) ship the same way.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "configs"
SUFFIX = ".yaml"
_SPACE_KEY = "space:"  # a search-space file's own top-level section


@dataclass(frozen=True)
class BuiltIn:
    name: str  # relative to the configs folder, without .yaml: "mnist", "seeds/seed_000_keras_conv_vae"
    path: Path

    @property
    def is_space(self) -> bool:
        return any(line.startswith(_SPACE_KEY) for line in self.path.read_text(encoding="utf-8").splitlines())

    def summary(self) -> str:
        """The file's first comment line: what it trains, in one line."""
        first = self.path.read_text(encoding="utf-8").partition("\n")[0]
        return first.lstrip("# ").strip() if first.startswith("#") else ""


def all_builtins() -> list[BuiltIn]:
    paths = sorted(FOLDER.rglob(f"*{SUFFIX}"), key=lambda p: (len(p.relative_to(FOLDER).parts), str(p)))
    return [BuiltIn(p.relative_to(FOLDER).with_suffix("").as_posix(), p) for p in paths]


def find(given: str) -> BuiltIn | None:
    """The built-in ``given`` names, spelled with or without ``configs/`` and ``.yaml``."""
    name = given.strip().removeprefix("configs/").removesuffix(SUFFIX)
    return next((b for b in all_builtins() if b.name == name), None)


def resolve(given: str | Path) -> Path:
    """``given`` as a path when something is there, else the built-in it names, else ``given`` unchanged."""
    path = Path(given)
    if path.exists():
        return path
    found = find(str(given))
    return found.path if found else path


def suggestion(given: str | Path, spaces: bool = False) -> str:
    """The built-ins of one sort for an error line: the closest name first when one is close."""
    names = [b.name for b in all_builtins() if b.is_space == spaces]
    close = difflib.get_close_matches(Path(str(given)).stem, names, n=1)
    listed = ", ".join(names)
    return f"did you mean {close[0]}? built-in: {listed}" if close else f"built-in: {listed}"
