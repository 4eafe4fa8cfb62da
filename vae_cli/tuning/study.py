"""A study and where it lives: the storage URL, the heartbeat, the sampler and pruner, and who counts.

One storage (SQLite on one machine, PostgreSQL for many) holds the study; any
number of worker processes open it, each taking the next trial. A worker that
stops beating (killed, its machine gone) has its trial marked failed by the
next worker that looks, and a copy of the trial queued to run again.
"""

from __future__ import annotations

import os
import time
import warnings
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vae_cli.config import Config, to_dict
from vae_cli.errors import ConfigError, Fix, RequestError, RunError, cut
from vae_cli.redaction import hide, remember, secrets_in
from vae_cli.runs import folder
from vae_cli.tuning import records
from vae_cli.tuning.space import Space

STORAGE_ENV = "VAE_STORAGE"  # the storage URL when --storage is not given; how --workers hands it to its workers
DATABASE = "study.db"  # the default SQLite file in the study's folder
ATTRS = "vae"  # the study's user attribute holding its definition
MAX_RETRIES = 3  # a trial whose worker dies this often (the kernel's OOM killer, say) is given up
OUTCOME = "outcome"  # trial attribute: why a failed trial failed, when the parameters were the cause
COUNTED_FAILURES = ("diverged", "invalid")  # failed because of the parameters: a result, counted
MAX_NAME = 255  # characters of a study name: the most a folder name may have


def study_folder(output_dir: str | Path, name: str) -> Path:
    return Path(output_dir) / name


def _plain(name: str) -> bool:
    return len(name) <= MAX_NAME and folder.plain_name(name) == name


def check_name(name: str) -> str:
    if len(name) > MAX_NAME:
        raise RequestError("study", cut(name), f": a study name is a folder name of at most {MAX_NAME} characters")
    if folder.plain_name(name) != name:
        raise RequestError("study", cut(name), ": a study name is a plain folder name (letters, digits, '.', '_', '-')")
    return name


def default_storage(output_dir: str | Path, name: str) -> str:
    path = study_folder(output_dir, name) / DATABASE
    return f"sqlite:///{path.as_posix()}"


def given_storage(flag: str | None) -> str | None:
    """The storage URL the user gave: ``--storage``, else ``$VAE_STORAGE`` (which keeps a password out of ``ps``);
    its passwords are hidden in every text from now on."""
    url = flag or os.environ.get(STORAGE_ENV) or None
    if url:
        remember(url)
    return url


def shown(url: str) -> str:
    """The URL with any password hidden, for messages, tables and run.json."""
    return hide(url)


def with_driver(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 means psycopg 3 by it, 2.0 psycopg2."""
    scheme, sep, rest = url.partition("://")
    if scheme != "postgresql" or not sep:
        return url
    import importlib.util

    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    return url


def sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def in_memory(url: str) -> bool:
    """Whether ``url`` names an SQLite database that lives in one process's memory (``sqlite://``,
    ``sqlite:///:memory:``, ``sqlite:///file::memory:?cache=shared``, ``?mode=memory``)."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # not a URL SQLAlchemy reads: the opening will say so
        return False
    if parsed.get_backend_name().lower() != "sqlite":
        return False
    database = (parsed.database or "").removeprefix("file:")
    return database in ("", ":memory:") or parsed.query.get("mode") == "memory"


def quiet_optuna() -> None:
    """The command line reports each trial itself; Optuna's log lines and notes would repeat it."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_storage(url: str, space: Space | None = None, create: bool = True) -> Any:
    """An Optuna RDB storage with heartbeats; ``create`` False refuses a SQLite file that does not exist."""
    import optuna
    import sqlalchemy

    if in_memory(url):
        raise RequestError(
            "storage",
            shown(url),
            ": an in-memory SQLite database cannot hold a study that other processes, or a later look at its "
            "results, can read; use sqlite:///path/study.db",
        )
    quiet_optuna()
    path = sqlite_file(url)
    if path is not None:
        if not create and (not path.is_file() or path.stat().st_size == 0):  # reading never makes one
            raise RunError(f"no study database {path}", Fix("tune_first"))
        path.parent.mkdir(parents=True, exist_ok=True)
    given, url = url, with_driver(url)
    interval = space.heartbeat_interval if space else None
    engine = {"connect_args": {"timeout": 60}} if path is not None else {"pool_pre_ping": True}
    for attempt in range(3):  # processes that start together race to create the tables
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=interval,
                    grace_period=space.grace_period if space else None,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=MAX_RETRIES, inherit_intermediate_values=True
                    ),
                )
        except ImportError:
            raise RunError(
                f"cannot open the study storage {shown(given)}: its database driver is not installed; "
                "for PostgreSQL: pip install 'vae-cli[postgres]'"
            ) from None
        except (sqlalchemy.exc.SQLAlchemyError, ValueError) as exc:
            racing = isinstance(exc, (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError))
            if attempt < 2 and (racing or "already exists" in str(exc) or "locked" in str(exc)):
                time.sleep(1.0)
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            first = hide(first, secrets_in(given))  # a driver may quote the URL, or the password it decoded
            if path is not None and ("not a database" in first or "malformed" in first):  # SQLite's words
                raise RunError(
                    f"{path} is damaged: {first}; use another study name, or restore the database from a backup"
                ) from None
            raise RunError(
                f"cannot open the study storage {shown(given)}: {first}; check the URL, that the server is "
                "running and reachable, and the user's rights"
            ) from None
    raise AssertionError("unreachable")


def open_study(storage: Any, name: str, space: Space, base: Config, output_dir: str) -> Any:
    """Creates the study or joins it, refusing one that was started with another space or config."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=space.make_sampler(),
            pruner=space.make_pruner(base),
            direction="minimize",
            load_if_exists=True,
        )
    mine = {"space": space.spec(), "config": to_dict(base), "config_hash": folder.config_hash(base)}
    recorded = records.recorded(study, ATTRS)
    if recorded is None:
        study.set_user_attr(ATTRS, mine | {"output_dir": str(output_dir)})
        return study
    if recorded.get("space") != mine["space"]:
        differs = _first_difference(recorded.get("space", {}), mine["space"])
        raise ConfigError(
            f"study {name} was started with another search space ({differs} differs from {space.path}); "
            "use the space file it was started with, or another study name"
        )
    if recorded.get("config_hash") not in folder.config_hashes(base, folder.keys_absent_from(recorded.get("config"))):
        differs = _first_difference(recorded.get("config", {}), mine["config"], skip=("output", "data_dir", "path"))
        raise ConfigError(
            f"study {name} was started from another config ({differs} differs); "
            "use the config it was started with, or another study name"
        )
    return study


def load_study(storage: Any, name: str | None, url: str) -> Any:
    """An existing study; without a name, the storage's only one."""
    import optuna

    names = optuna.study.get_all_study_names(storage)
    if name is None:
        if len(names) != 1:
            found = f"studies {', '.join(names)}" if names else "no study"
            raise RequestError("study", None, f" is needed: {shown(url)} holds {found}")
        name = names[0]
        if not _plain(name):
            raise RunError(
                f"{shown(url)} holds one study, named {cut(name)}, which is not a plain folder name (letters, "
                "digits, '.', '_', '-'), so vae writes nothing for it; rename it in the database"
            )
    if name not in names:
        there = f"; it holds {', '.join(names)}" if names else ""
        raise RunError(f"no study named {name} in {shown(url)}{there}", Fix("tune_first"))
    return optuna.load_study(study_name=name, storage=storage)


def definition(study: Any) -> dict:
    """What ``open_study`` recorded: space, config, output folder; empty for a study not made by vae tune.
    Raises DamagedRecord for a record of another shape; read it inside ``reading``."""
    return records.recorded(study, ATTRS) or {}


def reading(url: str) -> AbstractContextManager[None]:
    """Reading the study's records: a damaged one is a RunError naming the database, not a traceback."""
    path = sqlite_file(url)
    return records.reading(str(path) if path is not None else f"the study storage {shown(url)}")


def _first_difference(old: Any, new: Any, prefix: str = "", skip: tuple = ()) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key in skip:
                continue
            found = _first_difference(old.get(key), new.get(key), f"{prefix}{key}.", skip)
            if found:
                return found
        return ""
    return prefix.rstrip(".") if old != new else ""


@dataclass
class Census:
    """The study's trials by what they mean for its total."""

    counted: list = field(default_factory=list)  # finished: complete, pruned, failed because of its parameters
    running: list = field(default_factory=list)
    waiting: list = field(default_factory=list)  # queued again after their worker died
    retried: list = field(default_factory=list)  # died, and queued again under another number
    lost: list = field(default_factory=list)  # failed for a reason not their own, not queued again
    surplus: list = field(default_factory=list)  # started by a race after the total was reached; never run


def census(trials: list) -> Census:
    from optuna.trial import TrialState

    again = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    result = Census()
    for t in trials:
        if t.number in again:
            result.retried.append(t)
        elif t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            result.counted.append(t)
        elif t.state == TrialState.RUNNING:
            result.running.append(t)
        elif t.state == TrialState.WAITING:
            result.waiting.append(t)
        elif t.user_attrs.get(OUTCOME) in COUNTED_FAILURES:
            result.counted.append(t)
        elif t.user_attrs.get(OUTCOME) == "surplus":
            result.surplus.append(t)
        else:
            result.lost.append(t)
    return result


def slots_ahead(trials: list, number: int) -> int:
    """How many trials numbered below ``number`` hold a place in the study's total."""
    c = census([t for t in trials if t.number < number] + [t for t in trials if t.number >= number and _retry(t)])
    return len([t for t in c.counted + c.running + c.waiting if t.number < number])


def _retry(trial: Any) -> bool:
    return bool(trial.system_attrs.get("retry_history"))
