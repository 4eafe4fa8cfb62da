"""Evaluation costs for bench.py: decoded samples per second against the training step's images per second,
and ``vae evaluate --k 1000`` on the whole test set.

Every rate counts the useful work, test images x k importance samples per second, so rows from
different code (``--eval-baseline``: another checkout's ``vae_cli``, e.g. the previous commit's)
compare directly whatever each decodes besides.
"""

import json
import shutil
import statistics
import sys
from pathlib import Path

import step_costs

K = 1000
SAMPLES = 10  # vae evaluate's default ELBO draws


def baseline_command(root):
    """``vae`` as another checkout runs it: its vae_cli first on the path, whatever the current folder."""
    start = f"import sys; sys.path.insert(0, {str(Path(root).resolve())!r}); from vae_cli.cli.main import main; sys.exit(main())"
    return [sys.executable, "-c", start]


def entry_of(run_dir, images=None):
    key = f"k{K}-samples{SAMPLES}-none" + (f"-first{images}" if images else "")
    return json.loads((run_dir / "metrics.json").read_text())[key]


def in_process_rate(view, images, precision, repeats):
    """Median test images x K per second of ``estimate.evaluate`` in ``precision``, and the precision it used."""
    from vae_cli.model.build import logits_of
    from vae_cli.model.estimate import Estimate, evaluate

    decoder = logits_of(view.decoder)
    evaluate(
        view.encoder, decoder, images[:2], Estimate(k=K, samples=SAMPLES, precision=precision)
    )  # traces the graphs
    runs = [
        evaluate(view.encoder, decoder, images, Estimate(k=K, samples=SAMPLES, precision=precision))
        for _ in range(repeats)
    ]
    return statistics.median(len(images) * K / m.seconds for m in runs), runs[0].precision


def bench_evaluate(args, run_dir, tmp, run_child, vae_command):
    """Prints the evaluation table; ``run_dir`` is a finished run of the shipped config (copied, never written)."""
    from vae_cli import backend

    backend.load()
    from vae_cli.config import load_config
    from vae_cli.data.types import prepare
    from vae_cli.runs.evaluation import decode_precision
    from vae_cli.runs.view import RunView

    run = Path(tmp) / "evaluated-run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(run_dir, run)
    cfg = load_config(step_costs.SHIPPED)
    train_precision = backend.resolve_precision(cfg.train.precision)
    train_rate = step_costs.images_per_second(
        cfg.model,
        step_costs._train_images(args)[:12800],
        cfg.train.batch_size,
        train_precision,
        passes=args.repeats_steps,
    )
    view = RunView(run, data_dir=args.data_dir)
    test = view.load(("test",)).test.images
    n = min(args.eval_images, len(test))
    images = prepare(test[:n], "none")
    rows = []
    for precision in dict.fromkeys(["float32", decode_precision(view.manifest)]):
        rate, used = in_process_rate(view, images, precision, args.repeats_steps)
        rows.append((f"this checkout, asked for {precision}, decoded in {used}", rate))
    if args.eval_baseline:
        rates = []
        for _ in range(args.repeats_steps):
            run_child(
                baseline_command(args.eval_baseline)
                + ["evaluate", "--run", str(run), "--k", str(K), "--limit", str(n), "--data-dir", args.data_dir]
            )
            rates.append(n * K / entry_of(run, n)["seconds"])
        rows.append((f"`vae evaluate` of {args.eval_baseline}", statistics.median(rates)))
    print(
        f"\n## Evaluation throughput (k = {K}, {n} test images, median of {args.repeats_steps}; run trained in "
        f"{view.manifest['precision']})\n"
    )
    print(
        f"The training step of the same model runs at {train_rate:.0f} images/s (batch {cfg.train.batch_size}, "
        f"{train_precision}, forward and backward). Each evaluation rate is over a whole call, so it includes "
        "the call's fixed costs (graph tracing; in a mixed precision, the first 16 images decoded twice), which "
        "the whole test set amortises.\n"
    )
    print(
        f"| evaluation | test images x k per second | vs training images/s | all {len(test)} test images, projected |"
    )
    print("| --- | --- | --- | --- |")
    for name, rate in rows:
        print(f"| {name} | {rate:.0f} | {rate / train_rate:.2f}x | {len(test) * K / rate / 60:.1f} min |", flush=True)
    if args.eval_full:
        wall, rss, _ = run_child(
            vae_command + ["evaluate", "--run", str(run), "--k", str(K), "--limit", "all", "--data-dir", args.data_dir]
        )
        entry = entry_of(run)
        print(
            f"\n`vae evaluate --k {K}` on all {entry['images']} test images: {wall / 60:.1f} min for the whole command "
            f"({entry['seconds'] / 60:.1f} min evaluating, decoded in {entry.get('precision', 'float32')}), "
            f"peak {rss:.0f} MB; -ELBO {entry['negative_elbo']:.2f}, NLL {entry['nll']:.2f} nats"
        )
