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

ROOT = Path(__file__).resolve().parents[2]
VAE = [sys.executable, "-m", "vae_cli"]
SHIPPED = ROOT / "configs" / "mnist.yaml"
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


# ------------------------------------------------------------------ throughput
def layer_flops(layer):
    """Multiply-adds x 2 per image of one Dense / Conv2D / Conv2DTranspose forward pass, else 0."""
    import keras

    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, h, w, c_in = layer.input.shape
        return 2 * h * w * c_in * layer.filters * layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        return 2 * h * w * c_out * layer.input.shape[-1] * layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def compute_layers(model):
    return [layer for layer in model._flatten_layers(include_self=False) if layer_flops(layer)]


def matmul_gflops(tf, n=2048, repeats=7):
    """The machine's float32 matrix-product rate on all cores: the FLOP floor's denominator."""
    a = tf.random.uniform((n, n))
    (a @ a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def images_per_second(model_cfg, images, batch, policy, numpy_arrays=False, passes=3):
    """Median per-step training rate of a fresh model over ``passes`` epochs of ``images`` (after one warm-up)."""
    import keras
    import numpy as np

    from vae_cli.config import TrainConfig
    from vae_cli.data import to_float
    from vae_cli.model import build_models
    from vae_cli.train import compile_vae, train_pipeline

    class StepClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.stamps = [time.perf_counter()]

        def on_train_batch_end(self, batch, logs=None):
            self.stamps.append(time.perf_counter())

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    vae = build_models(model_cfg, images.shape[1:], seed=0).vae
    compile_vae(vae, TrainConfig(batch_size=batch, learning_rate=1e-3), len(images))
    keras.mixed_precision.set_global_policy("float32")
    clock, steps = StepClock(), []
    for rep in range(passes + 1):
        if numpy_arrays:
            vae.fit(to_float(images), batch_size=batch, epochs=1, verbose=0, callbacks=[clock], shuffle=True)
        else:
            ds = train_pipeline(images, batch, 0, 0, 1)
            vae.fit(ds, epochs=1, steps_per_epoch=-(-len(images) // batch), verbose=0, callbacks=[clock], shuffle=False)
        if rep:  # the first pass traces the graph
            steps.extend(np.diff(clock.stamps))
    return batch / float(np.median(steps))


def bench_throughput(args):
    from vae_cli import backend

    tf = backend.load()
    from vae_cli.config import load_config
    from vae_cli.model import build_models

    cfg = load_config(SHIPPED)
    precision = backend.resolve_precision(cfg.train.precision)
    images = _train_images(args)[:12800]
    model = build_models(cfg.model, (28, 28, 1)).vae
    flops = 3 * sum(layer_flops(layer) for layer in compute_layers(model))  # forward + 2x for the backward pass
    peak = matmul_gflops(tf)
    cases = [
        ("classic: NumPy arrays to fit, float32", 32, "float32", True),
        ("tf.data pipeline, float32", 32, "float32", False),
        (f"tf.data pipeline, {precision}", 32, precision, False),
        ("tf.data pipeline, float32", cfg.train.batch_size, "float32", False),
        (f"shipped: tf.data pipeline, {precision}", cfg.train.batch_size, precision, False),
    ]
    print(f"\n## Training throughput (median over {args.repeats_steps} x {len(images)} images, per-step times)\n")
    print(f"Model: {flops / 1e6:.1f} MFLOP per image per training step; float32 matrix product on this machine: "
          f"{peak:.0f} GFLOP/s, so the floor is {flops * 60000 / peak / 1e9:.1f} s per MNIST epoch.\n")
    print("| setting | batch | images/s | s per 60k epoch (steps only) | fraction of FLOP floor |")
    print("| --- | --- | --- | --- | --- |")
    for name, batch, policy, numpy_arrays in cases:
        rate = images_per_second(cfg.model, images, batch, policy, numpy_arrays, args.repeats_steps)
        print(f"| {name} | {batch} | {rate:.0f} | {60000 / rate:.1f} | {rate * flops / 1e9 / peak:.0%} |", flush=True)


# ------------------------------------------------------------------ per layer
def bench_layers(args):
    """Forward + backward time of each layer alone, at the shipped batch size and precision."""
    from vae_cli import backend

    tf = backend.load()
    import keras

    from vae_cli.config import load_config
    from vae_cli.model import build_models

    cfg = load_config(SHIPPED)
    batch, precision = cfg.train.batch_size, backend.resolve_precision(cfg.train.precision)
    keras.mixed_precision.set_global_policy(precision)
    models = build_models(cfg.model, (28, 28, 1))
    keras.mixed_precision.set_global_policy("float32")
    rows = []
    for layer in compute_layers(models.vae):
        shape = (batch,) + tuple(layer.input.shape[1:])
        x = tf.cast(tf.random.uniform(shape), layer.compute_dtype)
        needs_input_grad = layer.input is not models.encoder.inputs[0]  # nothing flows back into the data

        def step(x, layer=layer, needs_input_grad=needs_input_grad):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(tf.cast(y, "float32") ** 2)
            sources = ([x] if needs_input_grad else []) + layer.trainable_weights
            return [y] + tape.gradient(loss, sources)  # y returned, so the forward pass is timed too

        seconds = _median_call(tf.function(step), x, args.repeats_steps * 5)
        rows.append((layer, seconds))
    total = sum(seconds for _, seconds in rows)
    print(f"\n## Cost of each layer (forward + backward alone, batch {batch}, {precision}, median of "
          f"{args.repeats_steps * 5} x 20 calls)\n")
    print("| layer | shape in -> out | MFLOP per image (fwd) | ms per step | share | GFLOP/s (fwd + bwd) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for layer, seconds in rows:
        fl = layer_flops(layer)
        print(f"| {layer.name} ({layer.__class__.__name__}) | {tuple(layer.input.shape[1:])} -> "
              f"{tuple(layer.output.shape[1:])} | {fl / 1e6:.2f} | {seconds * 1e3:.2f} | {seconds / total:.0%} "
              f"| {3 * fl * batch / seconds / 1e9:.0f} |")
    step_rate = images_per_second(cfg.model, _train_images(args)[:6400], batch, precision, passes=args.repeats_steps)
    print(f"\nSum of the layers: {total * 1e3:.1f} ms; a whole training step: {batch / step_rate * 1e3:.1f} ms "
          "(the rest: sampling, the loss, Adam, the input pipeline, per-step overhead)")


def _median_call(fn, x, repeats, calls=20):
    for _ in range(3):
        fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn(x)
        [o.numpy() for o in out]
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def _train_images(args):
    from vae_cli.config import DataConfig
    from vae_cli.data import load_data

    return load_data(DataConfig(data_dir=args.data_dir)).train.images


# ------------------------------------------------------------------ whole runs
def classic_run(args, seed):
    wall, rss, out = run_child([sys.executable, str(ROOT / "tests/benchmarks/classic_vae.py"),
                                "--data-dir", args.data_dir, "--seed", str(seed)])
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "rss": rss, "epochs": result["epochs"], "epoch_s": result["seconds_per_epoch"],
            "nelbo": result["negative_elbo"]}


def shipped_run(args, seed):
    out_dir = TMP / "runs"
    wall, rss, _ = run_child(VAE + ["train", "--config", str(SHIPPED), "--data-dir", args.data_dir,
                                    "--set", f"output.dir={out_dir}", "--set", f"train.seed={seed}"])
    run_dir = max(out_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    manifest = json.loads((run_dir / "run.json").read_text())
    seconds = [float(r["seconds"]) for r in csv.DictReader((run_dir / "history.csv").open())]
    return {"wall": wall, "rss": rss, "epochs": manifest["epochs_completed"], "epoch_s": statistics.median(seconds),
            "nelbo": manifest["test"]["negative_elbo"], "run_dir": run_dir}


def bench_runs(args):
    classic, shipped = [], []
    for i in range(args.repeats):
        for name, fn, into in (("classic", classic_run, classic), ("shipped", shipped_run, shipped)):
            result = fn(args, seed=i)  # one seed per repeat: quality varies by about a nat between seeds
            into.append(result)
            print(f"  run {i + 1} {name}: {result['wall']:.0f} s, {result['epochs']} epochs, "
                  f"{result['epoch_s']:.1f} s/epoch, -ELBO {result['nelbo']:.2f}, peak {result['rss']:.0f} MB",
                  flush=True)
    print(f"\n## Whole runs on full MNIST (median of {args.repeats}, seeds 0..{args.repeats - 1}, alternating)\n")
    print("| | epochs | s per epoch | wall time (s) | test -ELBO (nats) | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, runs in (("classic script (batch 32, float32, NumPy)", classic), (f"`vae train --config {SHIPPED.relative_to(ROOT)}`", shipped)):
        med = {k: statistics.median(r[k] for r in runs) for k in ("epochs", "epoch_s", "wall", "nelbo", "rss")}
        print(f"| {name} | {med['epochs']:.0f} | {med['epoch_s']:.1f} | {med['wall']:.0f} ({spread([r['wall'] for r in runs], '{:.0f}')}) "
              f"| {med['nelbo']:.2f} ({spread([r['nelbo'] for r in runs], '{:.2f}')}) | {med['rss']:.0f} |")
    ratio = statistics.median(r["wall"] for r in classic) / statistics.median(r["wall"] for r in shipped)
    print(f"\nSpeed-up of the whole run (median wall times): {ratio:.2f}x")
    return shipped[-1]["run_dir"]


# ------------------------------------------------------------------ start-up
def bench_startup(args, run_dir):
    n = args.repeats_startup
    out = TMP / "startup.png"
    timings = [
        ("`vae --help`", [run_child(VAE + ["--help"])[0] for _ in range(3 * n)]),
        ("`import tensorflow, keras`", [run_child([sys.executable, "-c", "import tensorflow, keras"])[0]
                                        for _ in range(n)]),
        ("`vae sample --grid 15`", [run_child(VAE + ["sample", "--grid", "15", "--run", str(run_dir),
                                                     "--out", str(out)])[0] for _ in range(n)]),
        ("`vae plot-latent`", [run_child(VAE + ["plot-latent", "--run", str(run_dir), "--data-dir", args.data_dir,
                                                "--out", str(out)])[0] for _ in range(n)]),
    ]
    print(f"\n## Start-up and figure commands (seconds, median of {n}+)\n")
    print("| command | median | runs |\n| --- | --- | --- |")
    for name, values in timings:
        print(f"| {name} | {statistics.median(values):.2f} | {spread(values, '{:.2f}')} |")
    budget = statistics.median(timings[1][1]) + 2
    print(f"\nTarget for sample and plot-latent: TensorFlow import + 2 s = {budget:.2f} s")


def quick_run(args):
    out_dir = TMP / "quick"
    run_child(VAE + ["train", "--config", str(SHIPPED), "--data-dir", args.data_dir, "--set", "data.limit=2000",
                     "--set", "train.epochs=1", "--set", f"output.dir={out_dir}"])
    return next(out_dir.iterdir())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", metavar="DIR", default=os.environ.get("VAE_DATA_DIR"),
                        help="MNIST IDX folder (default: $VAE_DATA_DIR)")
    parser.add_argument("--only", metavar="PARTS", default="layers,throughput,run,startup",
                        help="comma-separated: layers, throughput, run, startup (default: all)")
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="whole runs of each kind (default: 3)")
    parser.add_argument("--repeats-steps", type=int, default=3, metavar="N", help="passes per throughput case (default: 3)")
    parser.add_argument("--repeats-startup", type=int, default=5, metavar="N", help="start-up repeats (default: 5)")
    args = parser.parse_args()
    if not args.data_dir:
        sys.exit("bench.py: set --data-dir or $VAE_DATA_DIR to the MNIST IDX files")
    args.data_dir = str(Path(args.data_dir).resolve())
    parts = set(args.only.split(","))
    print(f"# vae benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    if "layers" in parts:
        bench_layers(args)
    if "throughput" in parts:
        bench_throughput(args)
    run_dir = bench_runs(args) if "run" in parts else None
    if "startup" in parts:
        bench_startup(args, run_dir or quick_run(args))
    print(f"\n(run folders and scratch files in {TMP})")


if __name__ == "__main__":
    main()
