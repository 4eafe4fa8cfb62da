"""The search-space file: what a study searches, how it samples and prunes, checked against the config schema.

A space file is YAML::

    objective: validation_loss        # the best validation -ELBO of a trial (the only objective so far)
    pruner: median                    # median | hyperband | none, or {median: {n_warmup_steps: 2}}
    sampler: tpe                      # tpe | random, or {tpe: {seed: 0}}
    heartbeat_interval: 30            # seconds between a worker's signs of life in the storage
    grace_period: 120                 # a trial silent this long is taken as dead and run again
    space:
      train.learning_rate: {log_uniform: [3.0e-4, 3.0e-3]}
      train.batch_size: {choice: [32, 64, 128]}

Every mistake (an unknown key, a key the config does not have, a value it refuses, an empty
range) is one ``ConfigError`` naming the file and the key, raised before any trial starts.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vae_cli import builtin_configs
from vae_cli.config import Config, from_dict, set_dotted
from vae_cli.errors import ConfigError, Fix, shown
from vae_cli.limits import MAX_EPOCHS
from vae_cli.tuning import algorithms, held_out
from vae_cli.tuning.algorithms import PRUNERS, SAMPLERS
from vae_cli.yamlfile import parse_yaml

OBJECTIVES = {
    "validation_loss": "the best validation score of the trial at beta 1, in nats per image: -ELBO (an iwae "
    "trial: -IWAE bound; an ae: reconstruction)"
}
KINDS = ("choice", "uniform", "log_uniform", "int")
TOP_KEYS = ("objective", "pruner", "sampler", "heartbeat_interval", "grace_period", "space")
HEARTBEAT_INTERVAL, GRACE_PERIOD = 30, 120
FIXED_SECTIONS = ("output",)  # every trial's folder goes under the study's folder
# Each pruner's settings with the least whole number Optuna takes: it checks some only after a trial's first
# epoch (Hyperband's reduction_factor 1 divides by zero). Steps and resources are epochs, at most MAX_EPOCHS.
PRUNER_SETTINGS = {
    "median": {"n_startup_trials": 0, "n_warmup_steps": 0, "interval_steps": 1, "n_min_trials": 1},
    "hyperband": {"min_resource": 1, "max_resource": 1, "reduction_factor": 2, "bootstrap_count": 0},
    "none": {},
}


@dataclass(frozen=True)
class Dimension:
    """One searched config key: ``kind`` (choice, uniform, log_uniform, int) over ``values``."""

    key: str
    kind: str
    values: tuple  # the choices, or (low, high)

    def labels(self) -> list:
        """The choices as Optuna stores them: lists and mappings as their YAML text."""
        return [_label(v) for v in self.values]

    def suggest(self, trial: Any) -> Any:
        """The trial's value for this key, as the config takes it."""
        if self.kind == "choice":
            return self.value_of(trial.suggest_categorical(self.key, self.labels()))
        low, high = self.values
        if self.kind == "int":
            return trial.suggest_int(self.key, low, high)
        return trial.suggest_float(self.key, low, high, log=self.kind == "log_uniform")

    def value_of(self, param: Any) -> Any:
        """A stored parameter back as the config value."""
        return self.values[self.labels().index(param)] if self.kind == "choice" else param

    def text(self) -> str:
        return f"{{{self.kind}: {yaml.safe_dump(list(self.values), default_flow_style=True).strip()}}}"


@dataclass(frozen=True)
class Space:
    path: str
    objective: str
    pruner: str
    pruner_args: dict
    sampler: str
    sampler_args: dict
    heartbeat_interval: int
    grace_period: int
    dimensions: tuple[Dimension, ...]

    def spec(self) -> dict:
        """Everything that defines the search, as plain data: stored with the study and compared on joining it."""
        spec = dataclasses.asdict(self)
        del spec["path"]
        spec["dimensions"] = {d.key: {d.kind: _plain(list(d.values))} for d in self.dimensions}
        return spec

    def config_for(self, base: dict, values: dict[str, Any]) -> Config:
        """The base config (a ``to_dict`` of it) with the searched keys set to ``values``."""
        raw = copy.deepcopy(base)
        for key, value in values.items():
            set_dotted(raw, key, value)
        return from_dict(raw)

    def max_epochs(self, base: Config) -> int:
        for d in self.dimensions:
            if d.key == "train.epochs":
                return int(max(d.values))
        return base.train.epochs

    def make_pruner(self, base: Config) -> Any:
        return algorithms.pruner(self.pruner, self.pruner_args, self.max_epochs(base))

    def make_sampler(self) -> Any:
        return algorithms.sampler(self.sampler, self.sampler_args)


def dimensions_from_spec(spec: dict) -> tuple[Dimension, ...]:
    """The dimensions of a stored ``Space.spec()["dimensions"]``."""
    return tuple(Dimension(key, kind, tuple(values)) for key, entry in spec.items() for kind, values in entry.items())


def read_space(path: str | Path, base: Config) -> Space:
    """Reads and checks a space file against ``base`` (the config every trial starts from)."""
    path = builtin_configs.resolve(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        there = builtin_configs.suggestion(path, spaces=True)
        raise ConfigError(
            f"space file {path} does not exist and is no built-in space ({there})", Fix("space_file")
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read space file {path}: {exc}") from None
    raw = parse_yaml(text, path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with a space: section")
    return parse_space(raw, base, str(path))


def parse_space(raw: dict, base: Config, source: str) -> Space:
    def fail(message: str) -> typing.NoReturn:
        raise ConfigError(f"{source}: {message}")

    for key in raw:
        if key not in TOP_KEYS:
            fail(_unknown(f"key {key}", key, TOP_KEYS))
    objective = raw.get("objective", "validation_loss")
    if objective not in OBJECTIVES:
        fail(f"objective: must be one of {' | '.join(OBJECTIVES)}, got {objective!r}")
    interval = _whole(raw, "heartbeat_interval", HEARTBEAT_INTERVAL, fail)
    grace = _whole(raw, "grace_period", GRACE_PERIOD, fail)
    if grace <= interval:
        fail(f"grace_period: must be longer than heartbeat_interval ({interval}), got {grace}")
    entries = raw.get("space")
    if not isinstance(entries, dict) or not entries:
        fail("space: must map dotted config keys to {choice: [...]}, {uniform: [lo, hi]}, "
             "{log_uniform: [lo, hi]} or {int: [lo, hi]}")  # fmt: skip
    from vae_cli.config import to_dict

    base_raw = to_dict(base)
    dims = tuple(_dimension(str(key), spec, base_raw, fail) for key, spec in entries.items())
    held_out.check(base, [d.values for d in dims if d.key == "data.validation_size"], fail)
    pruner, pruner_args = _named(raw.get("pruner", "median"), "pruner", PRUNERS, fail)
    sampler, sampler_args = _named(raw.get("sampler", "tpe"), "sampler", SAMPLERS, fail)
    space = Space(source, objective, pruner, pruner_args, sampler, sampler_args, interval, grace, dims)
    _check_pruner(pruner, pruner_args, space.max_epochs(base), fail)
    for what, make in (("pruner", lambda: space.make_pruner(base)), ("sampler", space.make_sampler)):
        try:
            make()
        except (TypeError, ValueError) as exc:
            fail(f"{what} {getattr(space, what)}: {exc}")
    return space


def _dimension(key, spec, base_raw, fail):
    section, dot, name = key.partition(".")
    if not dot or not name or "." in name:
        fail(f"space: {key!r} is not a config key SECTION.NAME, for example train.learning_rate")
    if section in FIXED_SECTIONS:
        fail(f"space: {key} cannot be searched: every trial's run folder goes under the study's folder")
    hint = _hint(section, name)
    if hint is None:
        _check_value(key, None, base_raw, fail)  # the config's own message, with its "did you mean"
    if not isinstance(spec, dict) or len(spec) != 1:
        fail(f"space: {key}: must be one of {{choice: [...]}}, {{uniform: [lo, hi]}}, {{log_uniform: [lo, hi]}}, "
             f"{{int: [lo, hi]}}; got {spec!r}")  # fmt: skip
    ((kind, values),) = spec.items()
    if kind not in KINDS:
        fail(f"space: {key}: " + _unknown(f"distribution {kind}", str(kind), KINDS))
    where = f"space: {key}: {{{kind}: ...}}"
    if kind == "choice":
        if not isinstance(values, list) or not values:
            fail(f"{where} needs a non-empty list of values, got {values!r}")
        for i, value in enumerate(values):
            if value in values[:i]:
                fail(f"{where} lists {value!r} twice")
            _check_value(key, value, base_raw, fail)
        return Dimension(key, kind, tuple(values))
    accepted = (int, float) if kind == "int" else (float,)
    if _strip_optional(hint) not in accepted:
        fail(f"space: {key} is {_kind_of(hint)}: search it with {{choice: [...]}}"
             + (" or {int: [lo, hi]}" if _strip_optional(hint) is int else ""))  # fmt: skip
    if not (isinstance(values, list) and len(values) == 2 and all(_is_number(v, kind == "int") for v in values)):
        fail(f"{where} needs [low, high], two {'whole numbers' if kind == 'int' else 'numbers'}, got {values!r}")
    low, high = (float(v) if kind != "int" else v for v in values)
    if not low < high:
        fail(f"{where}: [{values[0]}, {values[1]}] is an empty range; the low end must be below the high end")
    if kind == "log_uniform" and low <= 0:
        fail(f"{where}: the low end must be above 0 for a log scale, got {values[0]}")
    for value in (low, high):
        _check_value(key, value, base_raw, fail)
    return Dimension(key, kind, (low, high))


def _check_pruner(name, args, max_epochs, fail):
    known = PRUNER_SETTINGS[name]
    for key, value in args.items():
        if key not in known:
            fail(f"pruner {name}: " + (_unknown(f"setting {key}", str(key), known) if known else "takes no settings"))
        auto = " or auto" if key == "max_resource" else ""
        if not (auto and value == "auto") and not (_is_number(value, True) and known[key] <= value <= MAX_EPOCHS):
            fail(f"pruner {name}: {key}: must be a whole number from {known[key]} to {MAX_EPOCHS:,}{auto}, "
                 f"got {shown(value)}")  # fmt: skip
    low, high = args.get("min_resource", PRUNERS[name].get("min_resource")), args.get("max_resource", max_epochs)
    if name == "hyperband" and high != "auto" and low > high:
        said = "" if "max_resource" in args else " (the most epochs a trial trains)"
        fail(f"pruner {name}: min_resource {low} is above max_resource {high}{said}; lower min_resource")


def _check_value(key, value, base_raw, fail):
    raw = copy.deepcopy(base_raw)
    set_dotted(raw, key, value)
    try:
        from_dict(raw)
    except ConfigError as exc:
        fail(f"space: {exc}")


def _hint(section, name):
    for f in dataclasses.fields(Config):
        if f.name == section:
            return typing.get_type_hints(f.default_factory).get(name)
    return None


def _strip_optional(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _kind_of(hint):
    hint = _strip_optional(hint)
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + " | ".join(str(a) for a in typing.get_args(hint))
    return {int: "an integer", str: "a string", bool: "true or false"}.get(hint, "a list")


def _is_number(value, whole):
    return isinstance(value, int if whole else (int, float)) and not isinstance(value, bool)


def _whole(raw, key, default, fail):
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        fail(f"{key}: must be a whole number of seconds >= 1, got {value!r}")
    return value


def _named(value, what, known, fail):
    """``name`` or ``{name: {argument: value}}`` -> (name, arguments)."""
    args: Any = {}
    if isinstance(value, dict) and len(value) == 1:
        ((value, args),) = value.items()
        args = args or {}
    if not isinstance(value, str) or not isinstance(args, dict):
        fail(f"{what}: must be a name ({' | '.join(known)}) or {{name: {{argument: value}}}}, got {value!r}")
    if value not in known:
        fail(f"{what}: must be one of {' | '.join(known)}, got {value!r}")
    return value, dict(args)


def _unknown(what, key, known):
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"unknown {what}" + (f"; did you mean {close[0]}?" if close else f"; known: {', '.join(known)}")


def _label(value):
    return yaml.safe_dump(value, default_flow_style=True).strip() if isinstance(value, (list, dict)) else value


def _plain(values):
    return [v if not isinstance(v, tuple) else list(v) for v in values]
