"""Benchmarks for vae: per-layer cost, training throughput, whole runs against the baseline, evaluation, start-up.

Prints figures; asserts nothing. Run from the repository root with the venv active:

    python tests/benchmarks/bench.py --data-dir ../shared/datasets          # everything (about 1.5 h)
    python tests/benchmarks/bench.py --only layers,throughput,startup        # the quick parts
    python tests/benchmarks/bench.py --only run --repeats 3                  # the blog script vs shipped runs
    python tests/benchmarks/bench.py --only evaluate --run outputs/mnist-...  # evaluation rates, k = 1000
    python tests/benchmarks/bench.py --only peer --torch-python ../torch/bin/python  # PyTorch's example VAE

The baseline is a blog post's Keras VAE script ported to Keras 3 with the fewest changes
(``blog_vae.py``): the code users copy. Its training time (``fit``, 10 epochs) is compared
with the whole ``vae train --config configs/mnist.yaml`` command, and both runs' test -ELBO
is measured with sampled z, as ``vae evaluate`` measures it.

This machine's speed drifts (the same epoch can take 20 s or 40 s), and anything running
beside a timing distorts it, so every figure is a median of repeated measurements, the two
whole runs compared are run one after the other, alternating, never at the same time, and
the machine should be otherwise idle.
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

import eval_costs  # this folder is on sys.path when bench.py runs as a script
import step_costs

ROOT = Path(__file__).resolve().parents[2]
VAE = [sys.executable, "-m", "vae_cli"]  # run from ROOT, so this checkout's vae_cli, not an installed one
SHIPPED = step_costs.SHIPPED
TMP = Path(tempfile.mkdtemp(prefix="vae-bench-"))


def run_child(cmd):
    """Runs ``cmd`` to completion; returns (wall seconds, peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        actions = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        pid = os.posix_spawn(cmd[0], cmd, env, file_actions=actions)  # scripts import this checkout's vae_cli
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
def blog_run(args, seed):
    """The baseline: the blog post's script (blog_vae.py), 10 epochs as written."""
    wall, rss, out = run_child(
        [sys.executable, str(ROOT / "tests/benchmarks/blog_vae.py"), "--data-dir", args.data_dir, "--seed", str(seed)]
    )
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "wall": wall,
        "train": result["training_seconds"],
        "rss": rss,
        "epochs": result["epochs"],
        "epoch_s": result["seconds_per_epoch"],
        "nelbo": result["negative_elbo"],
    }


def train_shipped(args, out_dir, *overrides):
    """The command line of ``vae train`` on the shipped config into ``out_dir``, with ``--set`` overrides."""
    sets = [item for override in (f"output.dir={out_dir}", *overrides) for item in ("--set", override)]
    return [*VAE, "train", "--config", str(SHIPPED), "--data-dir", args.data_dir, *sets]


def shipped_run(args, seed):
    out_dir = TMP / "runs"
    wall, rss, _ = run_child(train_shipped(args, out_dir, f"train.seed={seed}"))
    run_dir = max(out_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    manifest = json.loads((run_dir / "run.json").read_text())
    seconds = [float(r["seconds"]) for r in csv.DictReader((run_dir / "history.csv").open())]
    return {
        "wall": wall,
        "train": sum(seconds),
        "rss": rss,
        "epochs": manifest["epochs_completed"],
        "epoch_s": statistics.median(seconds),
        "nelbo": manifest["test"]["negative_elbo"],
        "run_dir": run_dir,
        "phases": manifest.get("phases", {}),
    }


BEFORE = ("data", "models", "first_step")  # run.json's phases before the first epoch's steady steps
AFTER = ("test_evaluation", "final_models", "onnx_copies", "figures")


def outside_epochs(run):
    """Seconds of the whole command outside its epochs' steps and validation, the TensorFlow import aside:
    the wall time less the import and the epochs, plus the first step (tracing), which Keras counts in epoch 1."""
    phases = run["phases"]
    return run["wall"] - phases.get("tensorflow_import", 0.0) - run["train"] + phases.get("first_step", 0.0)


def print_phases(runs):
    """Each run's time outside the epochs, phase by phase (run.json's ``phases``)."""
    print("\n## Time outside the epochs (seconds; run.json's phases)\n")
    names = ["tensorflow_import", *BEFORE, "epoch_saves", *AFTER]
    print("| run | " + " | ".join(names) + " | rest | outside the epochs, import aside |")
    print("| --- " * (len(names) + 3) + "|")
    for i, run in enumerate(runs):
        phases = run["phases"]
        known = sum(phases.get(n, 0.0) for n in names[1:])
        outside = outside_epochs(run)
        cells = " | ".join(f"{phases.get(n, float('nan')):.2f}" for n in names)
        print(f"| {i + 1} | {cells} | {outside - known:.2f} | {outside:.2f} |")
    print(f"\nMedian outside the epochs, import aside: {statistics.median(outside_epochs(r) for r in runs):.2f} s")


def bench_runs(args):
    blog, shipped = [], []
    for i in range(args.repeats):
        for name, fn, into in (("blog script", blog_run, blog), ("shipped", shipped_run, shipped)):
            result = fn(args, seed=i)  # one seed per repeat: quality varies by about a nat between seeds
            into.append(result)
            print(
                f"  run {i + 1} {name}, seed {i}: whole command {result['wall']:.0f} s, training {result['train']:.0f} s, "
                f"{result['epochs']} epochs, {result['epoch_s']:.1f} s/epoch, -ELBO {result['nelbo']:.2f}, "
                f"peak {result['rss']:.0f} MB",
                flush=True,
            )
    print(f"\n## Whole runs on full MNIST (median of {args.repeats}, seeds 0..{args.repeats - 1}, alternating)\n")
    print("| | epochs | s per epoch | training (s) | whole command (s) | test -ELBO (nats) | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, runs in (
        ("blog script, Keras 3 port (`tests/benchmarks/blog_vae.py`)", blog),
        (f"`vae train --config {SHIPPED.relative_to(ROOT)}`", shipped),
    ):
        med = {k: statistics.median(r[k] for r in runs) for k in ("epochs", "epoch_s", "train", "wall", "nelbo", "rss")}
        print(
            f"| {name} | {med['epochs']:.0f} | {med['epoch_s']:.1f} | {med['train']:.0f} ({spread([r['train'] for r in runs], '{:.0f}')}) "
            f"| {med['wall']:.0f} ({spread([r['wall'] for r in runs], '{:.0f}')}) "
            f"| {med['nelbo']:.2f} ({spread([r['nelbo'] for r in runs], '{:.2f}')}) | {med['rss']:.0f} |"
        )
    print_phases(shipped)
    ratio = statistics.median(r["train"] for r in blog) / statistics.median(r["wall"] for r in shipped)
    gain = statistics.median(r["nelbo"] for r in blog) - statistics.median(r["nelbo"] for r in shipped)
    print(
        f"\nSpeed-up: the blog script's training time over the whole `vae train` command (medians): {ratio:.2f}x; "
        f"the blog script's test -ELBO minus the shipped run's (medians): {gain:+.2f} nats (positive: shipped better)."
    )
    return shipped[-1]["run_dir"]


# ------------------------------------------------------------------ the peer framework
PEER_RECIPE = (  # PyTorch's example VAE (pytorch_vae.py) as vae settings: the same network, loss, optimiser, data
    "model.architecture=mlp",
    "model.hidden_units=[400]",
    "model.latent_dim=20",
    "model.activation=relu",
    "train.batch_size=128",
    "train.learning_rate=1e-3",
    "train.lr_schedule=constant",
    "train.epochs=10",
    "train.beta=1.0",
    "train.precision=float32",
    "train.early_stopping_patience=null",
    "data.validation_size=0",  # all 60,000 training images, as the example trains on
)


def pytorch_run(args, seed):
    """The peer: PyTorch's example, run by the interpreter of an environment that has torch."""
    script = str(ROOT / "tests/benchmarks/pytorch_vae.py")
    cmd = [args.torch_python, script, "--data-dir", args.data_dir, "--seed", str(seed), "--results", str(TMP / "peer")]
    wall, rss, out = run_child(cmd)
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "rss": rss, "nelbo": result["test_loss"], "epoch_s": result["seconds_per_epoch"]}


def vae_peer_run(args, seed):
    out_dir = TMP / "peer-runs"
    wall, rss, _ = run_child(train_shipped(args, out_dir, *PEER_RECIPE, f"train.seed={seed}"))
    run_dir = max(out_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    manifest = json.loads((run_dir / "run.json").read_text())
    seconds = [float(r["seconds"]) for r in csv.DictReader((run_dir / "history.csv").open())]
    return {"wall": wall, "rss": rss, "nelbo": manifest["test"]["loss"], "epoch_s": statistics.median(seconds)}


def bench_peer(args):
    """PyTorch's example and ``vae train`` on its recipe, alternating, seeds 0 .. repeats - 1."""
    if not args.torch_python:
        sys.exit("bench.py: --only peer needs --torch-python, the python of an environment with torch and torchvision")
    peer, ours = [], []
    for i in range(args.repeats):
        for name, fn, into in (("PyTorch example", pytorch_run, peer), ("vae train", vae_peer_run, ours)):
            result = fn(args, seed=i)
            into.append(result)
            print(
                f"  run {i + 1} {name}, seed {i}: whole process {result['wall']:.1f} s, {result['epoch_s']:.2f} s/epoch, "
                f"test -ELBO {result['nelbo']:.2f}, peak {result['rss']:.0f} MB",
                flush=True,
            )
    print(f"\n## The peer's recipe (median of {args.repeats}, seeds 0..{args.repeats - 1}, alternating)\n")
    print("| | whole process (s) | s per epoch | test -ELBO (nats) | peak RSS (MB) |\n| --- | --- | --- | --- | --- |")
    for name, runs in (
        ("PyTorch example (`tests/benchmarks/pytorch_vae.py`)", peer),
        ("`vae train`, its recipe", ours),
    ):
        med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "epoch_s", "nelbo", "rss")}
        print(
            f"| {name} | {med['wall']:.1f} ({spread([r['wall'] for r in runs])}) | {med['epoch_s']:.2f} "
            f"| {med['nelbo']:.2f} ({spread([r['nelbo'] for r in runs], '{:.2f}')}) | {med['rss']:.0f} |"
        )
    ratio = statistics.median(r["wall"] for r in peer) / statistics.median(r["wall"] for r in ours)
    gap = statistics.median(r["nelbo"] for r in ours) - statistics.median(r["nelbo"] for r in peer)
    print(
        f"\nThe example's whole process over vae train's (medians): {ratio:.2f}x; vae's test -ELBO minus the example's: {gap:+.2f} nats"
    )


# ------------------------------------------------------------------ start-up
def timed(cmd, n, env=None):
    """Wall seconds of ``n`` runs of ``cmd``, with ``env`` added to the environment."""
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        return [run_child(cmd)[0] for _ in range(n)]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def bench_startup(args, run_dir):
    """Whole-command times of the figure and reading commands; the figures through the run's ONNX copies
    (the default) and through Keras (``VAE_INFERENCE=keras``, which imports TensorFlow)."""
    n = args.repeats_startup
    out = str(TMP / "startup.png")
    run = ["--run", str(run_dir)]
    figures = [
        ("sample --grid 15", ["sample", "--grid", "15", *run, "--out", out]),
        ("sample --random 64", ["sample", "--random", "64", *run, "--out", out]),
        ("plot-latent", ["plot-latent", *run, "--data-dir", args.data_dir, "--out", out]),
        ("reconstruct", ["reconstruct", *run, "--data-dir", args.data_dir, "--out", out]),
        ("interpolate", ["interpolate", *run, "--data-dir", args.data_dir, "--out", out]),
        ("traverse", ["traverse", *run, "--out", out]),
    ]
    readers = [
        ("--help", ["--help"]),
        ("show", ["show", *run]),
        ("list", ["list", "--output-dir", str(Path(run_dir).parent)]),
        ("compare", ["compare", str(run_dir), str(run_dir), "--out", out]),
    ]
    print(f"\n## Start-up and figure commands (whole command, seconds, median of {n})\n")
    print("| command | ONNX copies (default): median | runs | Keras (`VAE_INFERENCE=keras`): median | runs |")
    print("| --- | --- | --- | --- | --- |")
    for name, cmd in figures:
        light, keras = timed(VAE + cmd, n), timed(VAE + cmd, n, {"VAE_INFERENCE": "keras"})
        print(
            f"| `vae {name}` | {statistics.median(light):.2f} | {spread(light, '{:.2f}')} "
            f"| {statistics.median(keras):.2f} | {spread(keras, '{:.2f}')} |",
            flush=True,
        )
    for name, cmd in readers:
        values = timed(VAE + cmd, n)
        print(f"| `vae {name}` | {statistics.median(values):.2f} | {spread(values, '{:.2f}')} | | |", flush=True)
    tf = timed([sys.executable, "-c", "import tensorflow, keras"], n)
    print(f"| `import tensorflow, keras` | | | {statistics.median(tf):.2f} | {spread(tf, '{:.2f}')} |")


def quick_run(args):
    out_dir = TMP / "quick"
    run_child(train_shipped(args, out_dir, "data.limit=2000", "train.epochs=1"))
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
        default="layers,throughput,run,evaluate,startup",
        help="comma-separated: layers, throughput, run, evaluate, startup, peer (default: all but peer)",
    )
    parser.add_argument(
        "--run",
        metavar="DIR",
        default=None,
        help="a finished run of configs/mnist.yaml for the evaluate part (default: the run part's last, else one trained now)",
    )
    parser.add_argument(
        "--eval-images", type=int, default=200, metavar="N", help="test images per evaluation-rate pass (default: 200)"
    )
    parser.add_argument(
        "--eval-baseline",
        metavar="DIR",
        default=None,
        help="another checkout (e.g. the previous commit's) whose `vae evaluate` is timed beside this one",
    )
    parser.add_argument(
        "--no-eval-full",
        dest="eval_full",
        action="store_false",
        help="skip `vae evaluate --k 1000` on the whole test set (minutes)",
    )
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="whole runs of each kind (default: 3)")
    parser.add_argument(
        "--repeats-steps", type=int, default=3, metavar="N", help="passes per throughput case (default: 3)"
    )
    parser.add_argument("--repeats-startup", type=int, default=5, metavar="N", help="start-up repeats (default: 5)")
    parser.add_argument(
        "--torch-python",
        metavar="PATH",
        default=os.environ.get("TORCH_PYTHON"),
        help="peer: the python of an environment with torch and torchvision (default: $TORCH_PYTHON)",
    )
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
    run_dir = bench_runs(args) if "run" in parts else args.run
    if "evaluate" in parts:
        run_dir = run_dir or shipped_run(args, seed=0)["run_dir"]
        eval_costs.bench_evaluate(args, run_dir, TMP, run_child, VAE)
    if "startup" in parts:
        bench_startup(args, run_dir or quick_run(args))
    if "peer" in parts:
        bench_peer(args)
    print(f"\n(run folders and scratch files in {TMP})")


if __name__ == "__main__":
    main()
