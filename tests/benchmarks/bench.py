"""Benchmarks for vae: per-layer cost, training throughput, whole-run times and quality, memory, start-up.

Prints figures; asserts nothing. Run from the repository root with the venv active:

    python tests/benchmarks/bench.py --data-dir ../shared/datasets          # everything (about 1 h)
    python tests/benchmarks/bench.py --only layers,throughput,startup        # the quick parts
    python tests/benchmarks/bench.py --only run --repeats 3                  # classic vs shipped runs

This machine's speed drifts (the same epoch can take 20 s or 40 s), so every figure is a
median of repeated measurements, and the two whole runs compared are run one after the
other, alternating, never at the same time.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import step_costs  # this folder is on sys.path when bench.py runs as a script

ROOT = Path(__file__).resolve().parents[2]
VAE = [sys.executable, "-m", "vae_cli"]
SHIPPED = step_costs.SHIPPED
TMP = Path(tempfile.mkdtemp(prefix="vae-bench-"))


def run_child(cmd):
    """Runs ``cmd`` to completion; returns (wall seconds, peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        actions = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        pid = os.posix_spawn(cmd[0], cmd, dict(os.environ), file_actions=actions)
        _, status, usage = os.wait4(pid, 0)  # this child's own peak memory, not all children's
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"benchmark step failed: {' '.join(map(str, cmd))}\n{err.read()[-3000:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def spread(values, fmt="{:.1f}"):
    return " / ".join(fmt.format(v) for v in values)


# ------------------------------------------------------------------ whole runs
def classic_run(args, seed):
    wall, rss, out = run_child(
        [
            sys.executable,
            str(ROOT / "tests/benchmarks/classic_vae.py"),
            "--data-dir",
            args.data_dir,
            "--seed",
            str(seed),
        ]
    )
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "wall": wall,
        "rss": rss,
        "epochs": result["epochs"],
        "epoch_s": result["seconds_per_epoch"],
        "nelbo": result["negative_elbo"],
    }


def shipped_run(args, seed):
    out_dir = TMP / "runs"
    wall, rss, _ = run_child(
        VAE
        + [
            "train",
            "--config",
            str(SHIPPED),
            "--data-dir",
            args.data_dir,
            "--set",
            f"output.dir={out_dir}",
            "--set",
            f"train.seed={seed}",
        ]
    )
    run_dir = max(out_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    manifest = json.loads((run_dir / "run.json").read_text())
    seconds = [float(r["seconds"]) for r in csv.DictReader((run_dir / "history.csv").open())]
    return {
        "wall": wall,
        "rss": rss,
        "epochs": manifest["epochs_completed"],
        "epoch_s": statistics.median(seconds),
        "nelbo": manifest["test"]["negative_elbo"],
        "run_dir": run_dir,
    }


def bench_runs(args):
    classic, shipped = [], []
    for i in range(args.repeats):
        for name, fn, into in (("classic", classic_run, classic), ("shipped", shipped_run, shipped)):
            result = fn(args, seed=i)  # one seed per repeat: quality varies by about a nat between seeds
            into.append(result)
            print(
                f"  run {i + 1} {name}: {result['wall']:.0f} s, {result['epochs']} epochs, "
                f"{result['epoch_s']:.1f} s/epoch, -ELBO {result['nelbo']:.2f}, peak {result['rss']:.0f} MB",
                flush=True,
            )
    print(f"\n## Whole runs on full MNIST (median of {args.repeats}, seeds 0..{args.repeats - 1}, alternating)\n")
    print("| | epochs | s per epoch | wall time (s) | test -ELBO (nats) | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, runs in (
        ("classic script (batch 32, float32, NumPy)", classic),
        (f"`vae train --config {SHIPPED.relative_to(ROOT)}`", shipped),
    ):
        med = {k: statistics.median(r[k] for r in runs) for k in ("epochs", "epoch_s", "wall", "nelbo", "rss")}
        print(
            f"| {name} | {med['epochs']:.0f} | {med['epoch_s']:.1f} | {med['wall']:.0f} ({spread([r['wall'] for r in runs], '{:.0f}')}) "
            f"| {med['nelbo']:.2f} ({spread([r['nelbo'] for r in runs], '{:.2f}')}) | {med['rss']:.0f} |"
        )
    ratio = statistics.median(r["wall"] for r in classic) / statistics.median(r["wall"] for r in shipped)
    print(f"\nSpeed-up of the whole run (median wall times): {ratio:.2f}x")
    return shipped[-1]["run_dir"]


# ------------------------------------------------------------------ start-up
def bench_startup(args, run_dir):
    n = args.repeats_startup
    out = TMP / "startup.png"
    timings = [
        ("`vae --help`", [run_child(VAE + ["--help"])[0] for _ in range(3 * n)]),
        (
            "`import tensorflow, keras`",
            [run_child([sys.executable, "-c", "import tensorflow, keras"])[0] for _ in range(n)],
        ),
        (
            "`vae sample --grid 15`",
            [
                run_child(VAE + ["sample", "--grid", "15", "--run", str(run_dir), "--out", str(out)])[0]
                for _ in range(n)
            ],
        ),
        (
            "`vae plot-latent`",
            [
                run_child(VAE + ["plot-latent", "--run", str(run_dir), "--data-dir", args.data_dir, "--out", str(out)])[
                    0
                ]
                for _ in range(n)
            ],
        ),
    ]
    print(f"\n## Start-up and figure commands (seconds, median of {n}+)\n")
    print("| command | median | runs |\n| --- | --- | --- |")
    for name, values in timings:
        print(f"| {name} | {statistics.median(values):.2f} | {spread(values, '{:.2f}')} |")
    budget = statistics.median(timings[1][1]) + 2
    print(f"\nTarget for sample and plot-latent: TensorFlow import + 2 s = {budget:.2f} s")


def quick_run(args):
    out_dir = TMP / "quick"
    run_child(
        VAE
        + [
            "train",
            "--config",
            str(SHIPPED),
            "--data-dir",
            args.data_dir,
            "--set",
            "data.limit=2000",
            "--set",
            "train.epochs=1",
            "--set",
            f"output.dir={out_dir}",
        ]
    )
    return next(out_dir.iterdir())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=os.environ.get("VAE_DATA_DIR"),
        help="MNIST IDX folder (default: $VAE_DATA_DIR)",
    )
    parser.add_argument(
        "--only",
        metavar="PARTS",
        default="layers,throughput,run,startup",
        help="comma-separated: layers, throughput, run, startup (default: all)",
    )
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="whole runs of each kind (default: 3)")
    parser.add_argument(
        "--repeats-steps", type=int, default=3, metavar="N", help="passes per throughput case (default: 3)"
    )
    parser.add_argument("--repeats-startup", type=int, default=5, metavar="N", help="start-up repeats (default: 5)")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("bench.py: set --data-dir or $VAE_DATA_DIR to the MNIST IDX files")
    args.data_dir = str(Path(args.data_dir).resolve())
    parts = set(args.only.split(","))
    print(f"# vae benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    if "layers" in parts:
        step_costs.bench_layers(args)
    if "throughput" in parts:
        step_costs.bench_throughput(args)
    run_dir = bench_runs(args) if "run" in parts else None
    if "startup" in parts:
        bench_startup(args, run_dir or quick_run(args))
    print(f"\n(run folders and scratch files in {TMP})")


if __name__ == "__main__":
    main()
