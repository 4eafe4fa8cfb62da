"""What a study found: one row per trial, the best trial's config as ``best.yaml``, the figures.

Written at the end of a search and again on request; each file atomically, so
several processes finishing one study at once leave whole files.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vae_cli.config import dump_yaml, from_dict, set_dotted
from vae_cli.runs.atomic import write_text
from vae_cli.tuning import records
from vae_cli.tuning import study as study_mod
from vae_cli.tuning.space import Dimension, dimensions_from_spec
from vae_cli.tuning.trial import EPOCHS, MESSAGE, RUN_DIR, SECONDS, STOPPED

BEST = "best.yaml"


@dataclass
class Row:
    number: int
    state: str  # complete, pruned, diverged, invalid, killed (no heartbeat), stopped, running, waiting
    params: dict[str, Any]
    value: float | None  # the objective; a pruned trial's last reported value
    epochs: int | None
    seconds: float | None  # training time, summed over epochs (a resumed trial's too)
    run_dir: str | None
    retry_of: int | None = None
    rerun_as: int | None = None  # a killed trial: the trial that ran it again
    message: str = ""


@dataclass
class Findings:
    name: str
    storage: str
    folder: Path  # where best.yaml and the figures go
    rows: list[Row]
    counted: int  # trials towards the total: complete, pruned, diverged, invalid
    best: Row | None
    definition: dict = field(default_factory=dict)  # what the study recorded: space, config, output folder
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "study": self.name,
            "storage": self.storage,
            "folder": str(self.folder),
            "counted": self.counted,
            "best": asdict(self.best) if self.best else None,
            "files": [str(p) for p in self.files],
            "notes": self.notes,
            "trials": [asdict(r) for r in self.rows],
        }


def findings(study: Any, url: str, folder: Path) -> Findings:
    """The study's rows (trials closed unrun by a race left out) and its best complete trial; a record that
    cannot be read is a RunError naming the damaged storage."""
    from optuna.trial import TrialState

    with study_mod.reading(url):
        spec = study_mod.definition(study)
        trials = study.get_trials(deepcopy=False)
        count = study_mod.census(trials)
        rerun = {}
        for t in trials:
            history = t.system_attrs.get("retry_history", [])
            if history:
                rerun[history[-1]] = t.number
        surplus = {t.number for t in count.surplus}
        rows = [_row(t, rerun.get(t.number), TrialState) for t in trials if t.number not in surplus]
    complete = [r for r in rows if r.state == "complete" and r.value is not None and math.isfinite(r.value)]
    best = min(complete, key=lambda r: (r.value, r.number)) if complete else None
    return Findings(study.study_name, study_mod.shown(url), folder, rows, len(count.counted), best, spec)


def _row(t: Any, rerun_as: int | None, states: Any) -> Row:
    attrs = t.user_attrs
    if t.state == states.FAIL:
        died = "killed" if rerun_as is not None else "failed"  # no heartbeat: the process or machine died
        state = attrs.get(study_mod.OUTCOME) or ("stopped" if attrs.get(STOPPED) else died)
    else:
        state = t.state.name.lower()
    value = t.value if t.state in (states.COMPLETE, states.PRUNED) else None
    row = Row(
        t.number,
        state,
        dict(t.params),
        value,
        attrs.get(EPOCHS),
        attrs.get(SECONDS),
        attrs.get(RUN_DIR),
        t.system_attrs.get("failed_trial"),
        rerun_as,
        attrs.get(MESSAGE) or attrs.get(STOPPED) or "",
    )
    for name, kinds in _ROW_TYPES.items():  # what the table and best.yaml format, as the trial wrote them
        got = getattr(row, name)
        if not isinstance(got, kinds) or isinstance(got, bool):
            raise records.DamagedRecord(f"trial {t.number}'s {name} has the wrong type ({type(got).__name__})")
    return row


_ROW_TYPES = {
    "state": str,
    "value": (int, float, type(None)),
    "epochs": (int, type(None)),
    "seconds": (int, float, type(None)),
    "run_dir": (str, type(None)),
    "retry_of": (int, type(None)),
    "message": str,
}


def write_reports(study: Any, found: Findings) -> Findings:
    """best.yaml and the figures into the study's folder; what could not be drawn becomes a note."""
    from vae_cli.tuning.figures import draw_all

    spec = found.definition
    dims = dimensions_from_spec(spec.get("space", {}).get("dimensions", {}))
    if found.best is not None and "config" in spec:
        found.files.append(write_best(found, spec["config"], dims))
    elif found.best is None:
        found.notes.append("no trial has completed yet, so there is no best.yaml")
    else:
        found.notes.append("the study records no config to start from (not made by vae tune), so there is no best.yaml")
    paths, notes = draw_all(study, found, dims)
    found.files += paths
    found.notes += notes
    return found


def write_best(found: Findings, base: dict, dims: tuple[Dimension, ...]) -> Path:
    """The base config with the best trial's values: a config that trains the best trial again."""
    best = found.best
    assert best is not None
    raw = {section: dict(values) for section, values in base.items()}
    for d in dims:
        if d.key in best.params:
            set_dotted(raw, d.key, d.value_of(best.params[d.key]))
    cfg = from_dict(raw)
    searched = ", ".join(f"{d.key}={d.value_of(best.params[d.key])}" for d in dims if d.key in best.params)
    where = os.path.relpath(best.run_dir) if best.run_dir else "unknown"
    header = (
        f"# The best trial of study {found.name}: trial {best.number}, validation -ELBO {best.value:.2f} "
        f"nats per image (best of {best.epochs} epochs).\n"
        f"# Searched: {searched}\n# Its run folder: {where}\n"
        "# A complete config: training with it reproduces the trial (same seed, same machine).\n"
    )
    return write_text(found.folder / BEST, header + dump_yaml(cfg))
