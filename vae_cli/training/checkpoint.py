"""The per-epoch training checkpoint: weights, optimizer state, best weights and progress.

One HDF5 file, written atomically after every completed epoch, so a run killed at
any moment resumes from its last completed epoch with nothing silently reset:
a checkpoint that does not match the model is an error, never a fresh optimizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.errors import Fix, RunError
from vae_cli.runs import atomic, folder, records

FILENAME = "checkpoint.h5"
FORMAT = 1


@dataclass
class Checkpoint:
    variables: list[np.ndarray]  # model.variables order: weights plus the sampler's RNG state
    optimizer: list[np.ndarray]  # optimizer.variables order: iterations, moments ...
    best: list[np.ndarray] | None  # weights of the best epoch so far, for early stopping
    state: dict  # epoch, history rows, early-stopping counters


def save(path: Path, vae: Any, best_weights: list[np.ndarray] | None, state: dict) -> None:
    import h5py
    import keras

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["state"] = json.dumps(state)
            _write_arrays(f.create_group("variables"), [keras.ops.convert_to_numpy(v) for v in vae.variables])
            _write_arrays(f.create_group("optimizer"), [keras.ops.convert_to_numpy(v) for v in vae.optimizer.variables])
            if best_weights is not None:
                _write_arrays(f.create_group("best"), best_weights)

    atomic.atomic_write(path, write)


def _write_arrays(group, arrays):
    for i, array in enumerate(arrays):
        group.create_dataset(str(i), data=np.asarray(array))


def _read_arrays(group):
    return [group[str(i)][()] for i in range(len(group))]


def load(path: str | Path) -> Checkpoint:
    import h5py

    path = Path(path)
    if not path.is_file():
        raise RunError(
            f"{path.parent} has no {FILENAME}: it never finished an epoch, so there is nothing to resume",
            Fix("start_again", path.parent / folder.CONFIG),
        )
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise ValueError(f"unknown checkpoint format {str(f.attrs.get('format'))[:40]!r}")
            state = json.loads(f.attrs["state"])
            loaded = Checkpoint(
                variables=_read_arrays(f["variables"]),
                optimizer=_read_arrays(f["optimizer"]),
                best=_read_arrays(f["best"]) if "best" in f else None,
                state=state,
            )
    except (OSError, KeyError, ValueError, TypeError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise RunError(f"cannot read checkpoint {path}: {reason}; the run cannot be resumed") from None
    records.check_state(loaded.state, path)  # epoch, history and counters of the right types
    return loaded


def restore(vae: Any, checkpoint: Checkpoint, source: str | Path) -> None:
    """Loads weights, RNG state and optimizer state into a compiled ``vae``; refuses any mismatch."""
    _assign(vae.variables, checkpoint.variables, f"{source}: model variables")
    vae.optimizer.build(vae.trainable_variables)
    _assign(vae.optimizer.variables, checkpoint.optimizer, f"{source}: optimizer state")


def check_shapes(variables: list, arrays: list[np.ndarray], what: str) -> None:
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [tuple(a.shape) for a in arrays]:
        raise RunError(f"{what} do not match the model built from the run's config.yaml; was config.yaml edited?")


def _assign(variables, arrays, what):
    check_shapes(variables, arrays, what)
    for variable, array in zip(variables, arrays, strict=True):
        variable.assign(array)
