"""One training run from a fresh or resumed state to a finished run folder.

After every completed epoch the run folder is brought up to date (``publish``),
so whatever stops the process (SIGKILL, Ctrl-C, SIGTERM, a full disk, a NaN) the
folder holds the last completed epoch, loadable, and a resumed run continues from it.
Whatever ends a run early is recorded in its run.json (interrupted, diverged, failed
with the reason), and the run folder's lock is held from start to end: one writer.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vae_cli import __version__, kinds
from vae_cli.config import Config, ModelConfig, dump_yaml
from vae_cli.data.load import load_data
from vae_cli.data.types import check_splits
from vae_cli.errors import Fix, Interrupted, RunError, Terminated, VaeError
from vae_cli.model.size import check_buildable
from vae_cli.runs import folder, records
from vae_cli.runs.atomic import write_json, write_text
from vae_cli.runs.lock import RunLock
from vae_cli.runs.records import COMPLETE, FAILED, INTERRUPTED, RUNNING
from vae_cli.sources import SOURCES
from vae_cli.training import checkpoint, distribution
from vae_cli.training.loop import RunLoop, TrainResult, stopped_by
from vae_cli.training.manifest import new_manifest
from vae_cli.training.phases import PhaseClock


@dataclass
class Hooks:
    """What a caller adds to a run (a tuning trial): entries of run.json, Keras callbacks that see
    each epoch before it is saved, and a function told the run folder as soon as it exists."""

    manifest: dict = field(default_factory=dict)
    callbacks: list = field(default_factory=list)
    on_folder: Callable[[Path], None] | None = None
    on_note: Callable[[str], None] | None = None  # told advice on the settings before a new run trains


COLOUR_LATENT_DIM = 16  # what a colour dataset's latent size should start from
SMALL_COLOUR_LATENT_DIM = 8  # below it, colour images decode as blurred blobs of their mean colour


def settings_note(model: ModelConfig, image_shape: tuple[int, ...]) -> str | None:
    """Advice on a new run's settings for its data, or None: a colour dataset needs a larger latent space
    than the 2-D one that suits MNIST's digits."""
    if image_shape[-1] == 3 and model.latent_dim < SMALL_COLOUR_LATENT_DIM:
        return (
            f"colour images need more latent dimensions than model.latent_dim {model.latent_dim}, or they decode "
            f"as blurred blobs; set model.latent_dim to {COLOUR_LATENT_DIM} or more (the 2-D manifold plots "
            "need latent_dim 2)"
        )
    return None


def start(cfg: Config, argv: Sequence[str] = (), verbose: int = 2, hooks: Hooks | None = None) -> TrainResult:
    """Trains from a validated config into a new run folder. ``verbose`` as for ``fit``."""
    hooks = hooks or Hooks()
    clock = PhaseClock()
    distribution.prepare_devices(cfg.train)
    # Everything that can fail on bad input happens before the run folder exists.
    with clock.phase("data"):
        data = load_data(cfg.data, seed=cfg.train.seed)
    check_splits(data)
    check_buildable(cfg.model, data.image_shape)
    kinds.check_data(cfg.model, data.image_shape, data.class_names, data.source)
    note = settings_note(cfg.model, data.image_shape)
    if note and hooks.on_note:
        hooks.on_note(note)
    manifest = new_manifest(cfg, data, argv) | hooks.manifest
    named_after_path = SOURCES.get(cfg.data.dataset).user_images  # the folder or file read, else the dataset
    run_dir = folder.create_run_dir(cfg.output, folder.plain_name(data.title) if named_after_path else data.name)
    with RunLock(run_dir):
        write_text(run_dir / folder.CONFIG, "# Resolved configuration of this run.\n" + dump_yaml(cfg))
        write_json(run_dir / folder.MANIFEST, manifest)
        if hooks.on_folder:
            hooks.on_folder(run_dir)
        return _recorded(
            run_dir, clock, lambda: _trained(clock, verbose, run_dir, cfg, data, manifest, None, hooks.callbacks)
        )


def resume(
    run_dir: str | Path, data_dir: str | None = None, verbose: int = 2, hooks: Hooks | None = None
) -> TrainResult:
    """Continues an interrupted run from its last completed epoch, holding the run folder's lock."""
    hooks = hooks or Hooks()
    run_dir = folder.existing_folder(run_dir)
    records.read_manifest(run_dir)  # a run folder: only then is a lock file made in it
    with RunLock(run_dir) as lock:
        return _resume(run_dir, lock, data_dir, verbose, hooks)


def _resume(run_dir: Path, lock: RunLock, data_dir: str | None, verbose: int, hooks: Hooks) -> TrainResult:
    manifest = records.read_manifest(run_dir)  # again: another writer may have ended since
    cfg, absent = folder.read_config_as_written(run_dir)
    if manifest["status"] == COMPLETE:
        epochs = manifest.get("epochs_completed", 0)
        return TrainResult(
            run_dir,
            epochs,
            manifest.get("best_epoch", epochs),
            manifest.get("test", {}),
            0.0,
            epochs,
            already_finished=True,
        )
    recorded = manifest.get("config_hash")
    same_version = manifest.get("versions", {}).get("vae_cli", __version__) == __version__  # new keys change hashes
    if recorded and same_version and recorded not in folder.config_hashes(cfg, absent):
        raise RunError(
            f"{run_dir / folder.CONFIG} has changed since this run started, so its checkpoint no longer fits it; "
            "undo the edit, or train a new run with the new settings"
        )
    state = checkpoint.load(run_dir / checkpoint.FILENAME)
    records.required(manifest, run_dir, "precision", "dataset.sha256")
    folder.writable_subfolder(run_dir, folder.SAMPLES)
    if cfg.output.tensorboard:
        folder.writable_subfolder(run_dir, folder.TENSORBOARD)
    lock.remove_stale_temporaries()
    clock = PhaseClock()
    distribution.prepare_devices(cfg.train)
    with clock.phase("data"):
        data = load_data(folder.data_config_for_run(cfg, manifest, data_dir), seed=cfg.train.seed)
    if data.checksum() != manifest["dataset"]["sha256"]:
        made_by = manifest.get("versions", {}).get("vae_cli", __version__)
        if made_by != __version__:  # the data may be the same files, split differently by that version
            raise RunError(
                f"{run_dir} was trained by vae {made_by}, which held out its data differently from vae "
                f"{__version__}, so this version cannot continue it; resume it with vae {made_by}, or train a new run"
            )
        raise RunError(
            f"the {data.title} data found in {data.source} differs from the data this run "
            "was trained on (sha256 in run.json)",
            Fix("point_data_dir"),
        )
    kinds.check_data(cfg.model, data.image_shape, data.class_names, data.source)
    manifest["status"] = RUNNING  # until this process records how it ended
    manifest.pop("reason", None)
    manifest.update(hooks.manifest)
    write_json(run_dir / folder.MANIFEST, manifest)
    if hooks.on_folder:
        hooks.on_folder(run_dir)
    return _recorded(
        run_dir, clock, lambda: _trained(clock, verbose, run_dir, cfg, data, manifest, state, hooks.callbacks)
    )


def _recorded(run_dir: Path, clock: PhaseClock, work: Callable[[], TrainResult]) -> TrainResult:
    """``work()``, with how it ended recorded in run.json if it did not record that itself: a signal
    that escaped the step-boundary handler becomes ``interrupted``, any other exception ``failed``
    with its reason, and is raised on. ``clock`` watches its phases for stalls meanwhile."""
    clock.watch(run_dir)
    try:
        return work()
    except (KeyboardInterrupt, Terminated) as exc:
        recorded = folder.mark_ended(run_dir, INTERRUPTED)
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        done = (run_dir / checkpoint.FILENAME).is_file()
        stop = Interrupted(
            f"{stopped_by(signum)}; "
            + ("the run folder holds its last completed epoch" if done else "no epoch was completed"),
            Fix("resume", run_dir) if done else Fix("start_again", run_dir / folder.CONFIG),
            signum,
        )
        raise (stop if recorded else _unrecorded(stop)) from None
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, VaeError) else f"{type(exc).__name__}: {str(exc).strip()}"
        if not folder.mark_ended(run_dir, FAILED, reason=" ".join(reason.split())[:500]):
            _unrecorded(exc)
        raise
    finally:
        clock.close()


def _trained(clock: PhaseClock, verbose: int, *loop_args: Any) -> TrainResult:
    """A ``RunLoop(*loop_args)`` built and trained, its phases timed by ``clock``."""
    with clock.phase("models"):
        loop = RunLoop(*loop_args)
    return loop.train(verbose, clock)


UNRECORDED = "its run.json could not be updated and still says running (vae list and vae show call the run stopped)"


def _unrecorded(exc: BaseException) -> BaseException:
    """``exc`` saying that run.json could not record how the run ended: its one line for the user's errors."""
    if isinstance(exc, VaeError):
        exc.args = (f"{exc}; {UNRECORDED}",)
    else:
        exc.add_note(UNRECORDED)
    return exc
