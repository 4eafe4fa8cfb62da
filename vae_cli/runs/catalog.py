"""Runs side by side: one row per run folder (what ``list`` shows), and the curves and differing
settings of several runs (what ``compare`` draws and tabulates). Read from the files alone, without
TensorFlow; a damaged or foreign file leaves its fields empty rather than stopping the listing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vae_cli.config import ModelConfig, TrainConfig
from vae_cli.defaults import OUTPUT_DIR
from vae_cli.errors import Fix, RunError, VaeError, cut
from vae_cli.kinds import KINDS, OBJECTIVES, ModelKind, Score
from vae_cli.runs import folder, records
from vae_cli.runs.history import best_epoch, columns, read_history
from vae_cli.yamlfile import parse_yaml, read_text_capped

# Where data and runs live, not what was trained: never a difference worth a column.
IGNORED_SETTINGS = ("output.", "data.data_dir")


@dataclass
class RunInfo:
    """One run as ``list`` and ``compare`` report it; ``None`` where the run has no such number."""

    name: str
    path: Path
    status: str | None
    created: str | None
    dataset: str | None
    kind: str
    latent_dim: int | None
    epochs: int  # completed (rows of history.csv)
    planned_epochs: int | None
    beta: float
    best_epoch: int | None  # lowest validation score (``kinds.Score``: -ELBO, -IWAE bound, reconstruction)
    best_val_loss: float | None
    test_negative_elbo: float | None  # the saved models, at the end of training (run.json)
    nll: float | None  # importance-weighted, from metrics.json (the largest k over all test images)
    nll_k: int | None
    score_name: str = ""  # what best_val_loss measures
    settings: dict[str, Any] = field(default_factory=dict)  # dotted config keys
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch columns of history.csv
    scores: list[float] = field(default_factory=list)  # per-epoch validation score, as best_val_loss is chosen
    comparable: list[float] = field(default_factory=list)  # per-epoch validation score at beta 1, for any beta

    def record(self) -> dict[str, Any]:
        """The row as plain JSON values (without the settings and the curves)."""
        keys = ("name", "status", "created", "dataset", "kind", "latent_dim", "epochs", "planned_epochs", "beta")
        row = {key: getattr(self, key) for key in keys}
        row["path"] = str(self.path)
        for key in ("best_epoch", "best_val_loss", "score_name", "test_negative_elbo", "nll", "nll_k"):
            row[key] = getattr(self, key)
        return row


def run_folders(output_dir: str | Path = OUTPUT_DIR) -> list[Path]:
    """Every folder under ``output_dir`` with a ``run.json``, trained or not, oldest first."""
    parent = Path(output_dir)
    if not parent.is_dir():
        return []
    found = [p for p in parent.iterdir() if (p / folder.MANIFEST).is_file()]
    return sorted(found, key=lambda p: (str(_read_json(p / folder.MANIFEST).get("created", "")), p.name))


def list_runs(output_dir: str | Path = OUTPUT_DIR) -> list[RunInfo]:
    return [read_run(p) for p in run_folders(output_dir)]


def find_runs(names: list[str], output_dir: str | Path = OUTPUT_DIR) -> list[Path]:
    """Each of ``names`` as a run folder: a path, or a folder name under ``output_dir``; none: every run there."""
    if not names:
        runs = run_folders(output_dir)
        if not runs:
            raise RunError(f"no run found under {output_dir}/", Fix("train_first"))
        return runs
    found = []
    for name in names:
        path = Path(name)
        if not path.is_dir() and (Path(output_dir) / name).is_dir():
            path = Path(output_dir) / name
        folder.read_manifest(folder.existing_folder(path))  # a folder that is not a run stops here
        found.append(path)
    return found


def read_run(path: Path) -> RunInfo:
    manifest = _read_json(path / folder.MANIFEST)
    settings = flatten(_read_yaml(path / folder.CONFIG))
    beta = _number(settings.get("train.beta"), 1.0)
    kind = str(settings.get("model.kind") or ModelConfig.kind)
    try:
        rows = read_history(path / folder.HISTORY)
    except RunError:
        rows = []
    score = score_of(settings, beta)
    best, best_value = best_epoch(rows, score)
    nll, k = evaluated_nll(path)
    dataset = manifest.get("dataset") if isinstance(manifest.get("dataset"), dict) else {}
    test = manifest.get("test") if isinstance(manifest.get("test"), dict) else {}
    return RunInfo(
        name=path.name,
        path=path,
        status=folder.current_status(path, manifest.get("status")),
        created=manifest.get("created"),
        dataset=dataset.get("title") or dataset.get("name") or settings.get("data.dataset"),
        kind=cut(kind),  # as config.yaml spells it, which may be anything: one short printable line
        latent_dim=settings.get("model.latent_dim"),
        epochs=len(rows),
        planned_epochs=settings.get("train.epochs"),
        beta=beta,
        best_epoch=best,
        best_val_loss=best_value,
        score_name=score.name,
        test_negative_elbo=_number(test.get("negative_elbo")),
        nll=nll,
        nll_k=k,
        settings=settings,
        history=columns(rows),
        scores=[score.of(row) for row in rows],
        comparable=[replace(score, beta=1.0).of(row) for row in rows],
    )


def score_of(settings: dict[str, Any], beta: float) -> Score:
    """The run's epoch score from its config's dotted keys. A kind or objective this version does not know
    (a run of a newer version, or of a plug-in not loaded) is scored as the base kind and the ELBO score it."""
    kind = settings.get("model.kind") or ModelConfig.kind
    objective = settings.get("train.objective") or TrainConfig.objective
    return Score(
        KINDS.get(kind) if kind in KINDS else ModelKind(),
        OBJECTIVES.get(objective) if objective in OBJECTIVES else OBJECTIVES.get(TrainConfig.objective),
        beta,
    )


def evaluated_nll(run_dir: Path) -> tuple[float | None, int | None]:
    """The NLL ``vae evaluate`` recorded in the run's metrics.json, and its k (see ``best_nll``); ``(None, None)``
    before any evaluation, or when the file is damaged."""
    return best_nll(_read_json(Path(run_dir) / records.METRICS))


def evaluated_mig(run_dir: Path) -> float | None:
    """The MIG of the run's latest evaluation that scored one (data with known factors); None otherwise."""
    scores = [
        (e.get("date"), _number(e["mig"].get("score")))
        for e in _read_json(Path(run_dir) / records.METRICS).values()
        if isinstance(e, dict) and isinstance(e.get("mig"), dict)
    ]
    scores = [
        (date, score) for date, score in scores if isinstance(date, str) and score is not None and 0 <= score <= 1
    ]
    return max(scores)[1] if scores else None


def best_nll(metrics: dict) -> tuple[float | None, int | None]:
    """The NLL of the evaluation with the largest k over the whole test set (else over a subset)."""
    entries = [
        (_number(e.get("nll")), _number(e.get("images"), 0), _number(e.get("k"), 0))
        for e in metrics.values()
        if isinstance(e, dict)
    ]
    entries = [(nll, images, k) for nll, images, k in entries if nll is not None]
    if not entries:
        return None, None
    most = max(images for _, images, _ in entries)
    nll, _, k = max(entries, key=lambda e: (e[1] == most, e[2]))
    return nll, (int(k) if k else None)


def differing_settings(runs: list[RunInfo]) -> dict[str, list[Any]]:
    """Dotted config keys whose values are not the same in every run, with each run's value."""
    keys = sorted({key for run in runs for key in run.settings})
    keys = [key for key in keys if not key.startswith(IGNORED_SETTINGS)]
    differing = {}
    for key in keys:
        values = [run.settings.get(key) for run in runs]
        if any(v != values[0] for v in values[1:]):
            differing[key] = values
    return differing


def setting_text(value: Any) -> str:
    """A config value as YAML spells it: ``null``, ``true``, ``0.0014``, ``[4, 8]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"model": {"latent_dim": 2}} -> {"model.latent_dim": 2}."""
    if not isinstance(tree, dict):
        return {}
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _number(value: Any, default: float | None = None) -> float | None:
    if isinstance(value, bool):  # true is not 1 nats
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


def _read_json(path: Path) -> dict:
    """A record's JSON object, bounded in size and depth; ``{}`` for a missing or damaged file (or a pipe,
    which would block)."""
    if not path.is_file():
        return {}
    try:
        data = records.read_json(path)
    except (OSError, VaeError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_yaml(path: Path) -> dict:
    """A run's config.yaml as plain data, bounded like any config; ``{}`` for a missing or damaged file (or a
    pipe, which would block)."""
    if not path.is_file():
        return {}
    try:
        data = parse_yaml(read_text_capped(path), path)
    except (OSError, ValueError, VaeError):
        return {}
    return data if isinstance(data, dict) else {}
