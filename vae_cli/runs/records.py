"""The run folder's JSON records read back with their shape checked: ``run.json``, ``metrics.json``
and the checkpoint's state.

A record is read whole or refused with one ``RunError``: every field a reader uses has
the type it expects, so a damaged or hand-edited file can never surface later as an
``AttributeError`` deep inside a command. Fields this version does not know are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vae_cli.errors import Fix, RunError

MANIFEST = "run.json"
METRICS = "metrics.json"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # far above any record vae writes; a bigger file is not one of them
PRECISIONS = ("float32", "mixed_bfloat16")  # what train.precision resolves to
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
RUNNING, COMPLETE, FAILED, INTERRUPTED = "running", "complete", "failed", "interrupted"

# A check returns None when the value fits, else where and what is wrong: ".dataset.image_shape[0] must
# be >= 1" below an object, " must be a number" for the value itself.
Check = Callable[[Any], str | None]


def _number(value: Any) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return None if ok else " must be a number"


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else " must be a whole number >= 0"


def _positive(value: Any) -> str | None:
    return _count(value) or (None if value > 0 else " must be >= 1")


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else " must be a string"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else " must be true or false"


def _one_of(*choices: str) -> Check:
    return lambda value: None if value in choices else f" must be one of {', '.join(choices)}"


def _list_of(item: Check, length: int | None = None) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or (length is not None and len(value) != length):
            return " must be a list" + (f" of {length}" if length is not None else "")
        return next((f"[{i}]{why}" for i, v in enumerate(value) if (why := item(v))), None)

    return check


def _object(fields: dict[str, Check], required: tuple[str, ...] = (), values: Check | None = None) -> Check:
    """A JSON object whose known ``fields`` fit their checks; ``values`` checks every other value."""

    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return " must be a JSON object"
        missing = [key for key in required if key not in value]
        if missing:
            return f" lacks {missing[0]!r}"
        for key, field in value.items():
            test = fields.get(key, values)
            why = test(field) if test else None
            if why:
                return f".{_key(key)}{why}"
        return None

    return check


def _key(key: str) -> str:
    """A key as a message shows it: plain names as they are, anything else quoted on one line."""
    return key if _PLAIN_KEY.fullmatch(key) else repr(key[:40])


def _shown(why: str, whole: str) -> str:
    """A check's finding as words: ``dataset.sha256 must be a string``, ``the file must be ...``."""
    return (why[1:] if why.startswith(".") else f"{whole}{why}")[:200]


_DATASET = _object(
    {
        "name": _text,
        "title": _text,
        "source": _text,
        "image_shape": _list_of(_positive, 3),
        "class_names": _list_of(_text),
        "train_images": _count,
        "test_images": _count,
        "sha256": _text,
    }
)
_LOSSES = _object({}, values=_number)
_MANIFEST = _object(
    {
        "status": _text,
        "created": _text,
        "finished": _text,
        "command": _text,
        "seed": _count,
        "config_hash": _text,
        "precision": _one_of(*PRECISIONS),
        "epochs_completed": _count,
        "best_epoch": _count,
        "dataset": _DATASET,
        "test": _LOSSES,
        "versions": _object({}, values=_text),
        "reason": _text,
    },
    required=("status", "dataset"),
)
_HISTORY_ROW = _object({"epoch": _positive}, required=("epoch", "seconds"), values=_number)
_STOPPER = _object(
    {"best": _number, "best_epoch": _count, "wait": _count, "stopped": _flag},
    required=("best", "best_epoch", "wait", "stopped"),
)
_STATE = _object(
    {"epoch": _positive, "history": _list_of(_HISTORY_ROW), "early_stopping": _STOPPER},
    required=("epoch", "history", "early_stopping"),
)
_METRICS = _object({}, values=_object({}))


def read_json(path: Path) -> Any:
    """A JSON file's value; a missing file raises FileNotFoundError, anything unreadable RunError."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_RECORD_BYTES:
        raise RunError(f"cannot read {path}: it is over {MAX_RECORD_BYTES // 2**20} MiB")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise RunError(f"cannot read {path}: {reason[:200]}") from None


def read_manifest(run_dir: str | Path) -> dict:
    """The run's ``run.json``, its shape checked (``status`` and ``dataset`` required)."""
    path = Path(run_dir) / MANIFEST
    try:
        manifest = read_json(path)
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a vae run folder (no {MANIFEST})", Fix("pass_run_folder")) from None
    except RunError as exc:
        raise RunError(f"{exc}; the run folder is damaged") from None
    why = _MANIFEST(manifest)
    if why:
        raise RunError(
            f"{path} is not a run record written by vae: {_shown(why, 'the file')}; the run folder is damaged"
        )
    return manifest


def required(manifest: dict, run_dir: str | Path, *keys: str) -> None:
    """Refuses a manifest without the dotted ``keys`` an operation needs (``dataset.sha256``)."""
    for key in keys:
        value: Any = manifest
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            raise RunError(f"{Path(run_dir) / MANIFEST} lacks {key}; the run folder is damaged")


def read_metrics(run_dir: str | Path) -> dict:
    """The run's ``metrics.json`` (one object per kind of evaluation), or {} when there is none yet."""
    path = Path(run_dir) / METRICS
    try:
        recorded = read_json(path)
        problem = _METRICS(recorded) and _shown(_METRICS(recorded), "the file")
    except FileNotFoundError:
        return {}
    except RunError as exc:
        problem = str(exc).removeprefix(f"cannot read {path}: ")
    if problem:
        raise RunError(f"{path} is not a metrics record written by vae ({problem}); move it aside and evaluate again")
    return recorded


def check_state(state: Any, source: str | Path) -> dict:
    """A checkpoint's progress record (epoch, history, early-stopping counters), its shape checked."""
    why = _STATE(state) or (None if len(state["history"]) == state["epoch"] else ".history must hold one row per epoch")
    if why:
        raise RunError(f"cannot read checkpoint {source}: its state {_shown(why, 'record')}; the run cannot be resumed")
    return state
