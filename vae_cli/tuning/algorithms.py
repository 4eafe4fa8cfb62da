"""Optuna's samplers and pruners by the names a space file gives them, with this tool's defaults.

Steps are epoch numbers (1, 2, ...): the median pruner's default ``n_warmup_steps: 2``
prunes no trial before its second epoch has ended.
"""

from __future__ import annotations

import warnings
from typing import Any

PRUNERS = {"median": {"n_startup_trials": 5, "n_warmup_steps": 2}, "hyperband": {"min_resource": 1}, "none": {}}
# Constant liar: trials running in parallel count as bad guesses, so workers spread out instead of crowding.
SAMPLERS = {"tpe": {"constant_liar": True}, "random": {}}


def pruner(name: str, args: dict, max_epochs: int) -> Any:
    """``args`` over the defaults; Hyperband's largest budget is the most epochs a trial can train."""
    import optuna

    args = PRUNERS[name] | args
    with _quiet():
        if name == "median":
            return optuna.pruners.MedianPruner(**args)
        if name == "hyperband":
            return optuna.pruners.HyperbandPruner(**({"max_resource": max_epochs} | args))
        return optuna.pruners.NopPruner(**args)


def sampler(name: str, args: dict) -> Any:
    import optuna

    args = SAMPLERS[name] | args
    with _quiet():
        if name == "tpe":
            return optuna.samplers.TPESampler(**args)
        return optuna.samplers.RandomSampler(**args)


class _quiet(warnings.catch_warnings):
    """Optuna marks constant_liar and other arguments experimental and says so on every use."""

    def __enter__(self) -> Any:
        entered = super().__enter__()
        import optuna

        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return entered
