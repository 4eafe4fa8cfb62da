"""Terminal text: the one-line error with its fix worded, and what each command prints on success."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vae_cli.cli.options import FLAGS
from vae_cli.errors import Fix, RequestError, VaeError, one_line
from vae_cli.redaction import hide

# Each remedy as the user types it; the leading separator joins it to the facts.
_FIXES = {
    "config_file": "; pass an existing file or a built-in config's name to --config (`vae configs` lists them)",
    "data_dir": "; without internet, set data.data_dir, --data-dir or $VAE_DATA_DIR to a folder with the four "
    "IDX files",
    "point_data_dir": "; point --data-dir at the original files",
    "train_or_pass_run": "; train a run with `vae train` or pass --run",
    "train_first": "; train one with `vae train --config mnist` or pass --run DIR",
    "pass_run_folder": "; pass a folder made by `vae train`",
    "retrain": ": re-create it with `vae train`",
    "start_again": "; {first}start it again with `vae train --config {path}`",
    "fresh_process": "; run `vae train` in a fresh process",
    "resume": "; {first}continue with: vae train --resume {path}",
    "onnx": "; vae installs both: reinstall it (pip install --force-reinstall vae-cli), or pick another --format",
    "install_tsne": '; install it with: pip install "vae-cli[tsne]", or use --method pca',
    "space_file": "; pass an existing file or a built-in space's name to --space (`vae configs` lists them)",
    "tune_first": "; start a study with `vae tune --config FILE --space FILE --trials N`, or pass --study/--storage",
    "tune_again": "; {first}continue with the same `vae tune` command: the study resumes where it stopped",
}


def fix_text(fix: Fix) -> str:
    first = f"{fix.first} and " if fix.first else ""
    return _FIXES[fix.kind].format(path=fix.path, first=first)


def error_text(exc: VaeError) -> str:
    """The error's facts, with a request parameter shown as its flag and the fix worded for the shell, on one
    line whatever paths it names, and with no password whatever URL it quotes."""
    if isinstance(exc, RequestError):
        shown = "" if exc.value is None else f" {exc.value}"
        text = f"{FLAGS.get(exc.parameter, exc.parameter)}{shown}{exc.problem}"
    else:
        text = str(exc)
    return one_line(hide(text + (fix_text(exc.fix) if exc.fix else "")))


def print_notes(command: str, notes: Iterable[str]) -> None:
    """What the core passed over on the way (a damaged run folder), one line each on stderr."""
    for note in notes:
        print(f"vae {command}: note: {one_line(hide(note))}", file=sys.stderr)


def print_paths(paths: Iterable[Path]) -> int:
    for path in paths:
        print(path)
    return 0


def print_train_result(result: Any) -> None:
    t = result.test
    epochs = f"{result.epochs} epoch{'s' * (result.epochs != 1)}"
    kept = (
        f"best epoch {result.best_epoch} (on the validation split)"
        if result.chosen
        else "the last epoch's weights kept"
    )
    after = f"after {epochs}, {kept}, "
    if "kl_loss" in t:
        iwae = f"; -IWAE bound {t['iwae_loss']:.2f}" if "iwae_loss" in t else ""
        terms = result.terms or f"reconstruction {t['reconstruction_loss']:.2f} + KL {t['kl_loss']:.2f}"
        print(
            f"\nTest loss: {t['loss']:.2f} nats per image "
            f"({terms}; "
            f"-ELBO {t['reconstruction_loss'] + t['kl_loss']:.2f}{iwae}) {after}"
            f"{result.seconds_per_epoch:.1f} s per epoch"
        )
    else:  # an autoencoder: no KL, no bound
        print(
            f"\nTest reconstruction loss: {t['reconstruction_loss']:.2f} nats per image {after}"
            f"{result.seconds_per_epoch:.1f} s per epoch"
        )
    print(f"Run folder: {result.run_dir}")
    print("Look at it:")
    for name in ("grid.png", "latent.png", "classes.png", "loss.png", "progress.gif"):
        if name != "classes.png" or (result.run_dir / name).exists():
            print(f"  {result.run_dir / name}")
    for command in ("show", "reconstruct", "sample --random 64", "interpolate", "traverse"):
        print(f"  vae {command} --run {result.run_dir}")


def print_config(cfg: Any, sources: dict[str, str]) -> None:
    """The resolved config as YAML that ``--config`` reads back, each key's source as a comment."""
    from vae_cli.config import to_dict
    from vae_cli.yamlfile import annotated_yaml

    print("# The resolved config. After each key, where its value came from: a --config file (later files")
    print("# win), --set, --data-dir or --output-dir (these win over the files), or the built-in default.")
    print(annotated_yaml(to_dict(cfg), sources), end="")


def print_evaluation(run_dir: Path, evaluation: Any) -> None:
    metrics, recon = evaluation.metrics, evaluation.reconstruction
    treated = evaluation.binarize + (
        ""
        if evaluation.binarize == evaluation.trained_with_binarize
        else f" (trained with {evaluation.trained_with_binarize})"
    )
    print(f"{run_dir}: {recon.images} test images, binarize {treated}, nats per image")
    code = "the code" if metrics is None else "z_mean"
    if metrics is None:
        print("  an autoencoder has no prior and no likelihood bound: its reconstruction error alone")
    else:
        given = " given y" if evaluation.conditional else ""
        if given:
            print("  conditional model: every number is given the test image's true class y (log p(x|y), not p(x))")
        print(f"  {'-ELBO' + given:<28}{metrics.negative_elbo:9.2f}   ({metrics.samples} samples of z per image)")
        print(f"    {'reconstruction':<26}{metrics.reconstruction:9.2f}")
        print(f"    {'KL':<26}{metrics.kl:9.2f}")
        if metrics.nll is not None:
            label = f"NLL{given} (IWAE, k={metrics.k})"
            print(f"  {label:<28}{metrics.nll:9.2f}")
    print(f"  {'reconstruction from ' + code:<28}{recon.nats:9.2f}   (no sampling)")
    print(f"  {'squared error per pixel':<28}{recon.squared_error:11.5f}")
    recorded = f"{'not ' if evaluation.not_recorded else ''}recorded in {evaluation.path}"
    gap = evaluation.disentanglement
    if gap is not None:
        print(f"  {'MIG':<28}{gap.score:11.3f}   ({gap.samples:,} test images, z_mean in {gap.bins} bins)")
        for name, value, holder in zip(gap.factor_names, gap.per_factor, _holders(gap), strict=True):
            print(f"    {name:<26}{value:11.3f}   (most in {holder})")
    if evaluation.disentanglement_note:
        print(f"  {'MIG' if gap is None else '':<28}{evaluation.disentanglement_note}")
    if metrics is None:
        print(f"  {recorded}")
        return
    if evaluation.grey_levels and evaluation.likelihood == "bernoulli":
        print("  (grey levels under a Bernoulli likelihood: comparable between runs, not with published NLLs)")
    print(f"  {'active units':<28}{metrics.active_units:6d} of {len(metrics.kl_per_dim)}")
    kl = ", ".join(f"{v:.2f}" for v in metrics.kl_per_dim[:20])
    more = "" if len(metrics.kl_per_dim) <= 20 else f", ... ({len(metrics.kl_per_dim)} in metrics.json)"
    print(f"  {'KL per dimension':<28}{kl}{more}")
    print(f"  {metrics.seconds:.0f} s; {recorded}")


def _holders(gap: Any) -> list[str]:
    """For each factor, the latent dimension that holds the most of it."""
    return [f"z[{d}]" for d in gap.information.argmax(axis=1)]


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def plain(value: Any) -> Any:
    """``value`` as JSON values: paths as text, NumPy numbers as numbers, NaN and infinity as null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # NumPy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(document: Any) -> int:
    """The one JSON document a ``--json`` command prints on stdout."""
    print(json.dumps(plain(document), indent=2, allow_nan=False))
    return 0


def train_record(result: Any) -> dict:
    test = dict(result.test)
    if "reconstruction_loss" in test and "kl_loss" in test:
        test.setdefault("negative_elbo", test["reconstruction_loss"] + test["kl_loss"])
    return {
        "run_dir": result.run_dir,
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "test": test,
        "seconds_per_epoch": None if result.already_finished else result.seconds_per_epoch,
        "resumed_from": result.resumed_from,
        "already_finished": result.already_finished,
    }


def evaluation_record(run_dir: Path, evaluation: Any) -> dict:
    import dataclasses

    return {
        "run_dir": run_dir,
        "metrics_file": None if evaluation.not_recorded else evaluation.path,
        "binarize": evaluation.binarize,
        "trained_with_binarize": evaluation.trained_with_binarize,
        "likelihood": evaluation.likelihood,
        "kind": evaluation.kind,
        "reconstruction_from_mean": dataclasses.asdict(evaluation.reconstruction),
        **(dataclasses.asdict(evaluation.metrics) if evaluation.metrics is not None else {}),
        **({"mig": evaluation.disentanglement.record()} if evaluation.disentanglement is not None else {}),
        **({"mig_note": evaluation.disentanglement_note} if evaluation.disentanglement_note else {}),
    }
