"""Disentanglement at one budget: the MIG and the -ELBO of the three sprites configs, seed by seed.

Trains ``sprites_vae``, ``sprites_betavae`` and ``sprites_btcvae`` (the same network, data
and epochs; only the objective differs) for each seed, one run at a time, alternating the
configs within a seed; evaluates each on the 10,000 test images (-ELBO from one sample of
z per image, no NLL: ``--k 0``; the MIG on the latent means); prints every run and the
medians per config. Nothing on the test set chooses anything: every run keeps its last
epoch's weights.

    python tests/benchmarks/disentanglement.py --seeds 0 1 2 --output-dir outputs/disentanglement
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = ("sprites_vae", "sprites_betavae", "sprites_btcvae")


def vae(*args: str) -> str:
    """Runs ``vae ARGS`` in a fresh process and returns its stdout; stops the bench if it fails."""
    done = subprocess.run([sys.executable, "-m", "vae_cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"vae {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def train_and_score(config: str, seed: int, out_dir: Path) -> dict:
    folder = out_dir / f"{config}-seed{seed}"
    began = time.monotonic()
    vae("train", "--config", config, "--set", f"train.seed={seed}", "--output-dir", str(folder))
    seconds = time.monotonic() - began
    (run_dir,) = [p for p in folder.iterdir() if p.is_dir()]
    vae("evaluate", "--run", str(run_dir), "--k", "0", "--samples", "1", "--limit", "all", "--json")
    (entry,) = json.loads((run_dir / "metrics.json").read_text()).values()
    return {
        "config": config,
        "seed": seed,
        "mig": entry["mig"]["score"],
        "per_factor": entry["mig"]["per_factor"],
        "negative_elbo": entry["negative_elbo"],
        "active_units": entry["active_units"],
        "train_seconds": seconds,
        "run_dir": str(run_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/disentanglement"))
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for config in args.configs:
            row = train_and_score(config, seed, args.output_dir)
            rows.append(row)
            factors = ", ".join(f"{k} {v:.2f}" for k, v in row["per_factor"].items())
            print(
                f"{config:<16} seed {seed}  MIG {row['mig']:.3f}  -ELBO {row['negative_elbo']:7.2f}  "
                f"active {row['active_units']:2d}  {row['train_seconds']:5.0f} s  ({factors})",
                flush=True,
            )
    print("\nmedians over seeds " + " ".join(map(str, args.seeds)))
    for config in args.configs:
        mine = [r for r in rows if r["config"] == config]
        print(
            f"{config:<16} MIG {statistics.median(r['mig'] for r in mine):.3f}  "
            f"-ELBO {statistics.median(r['negative_elbo'] for r in mine):7.2f}  "
            f"train {statistics.median(r['train_seconds'] for r in mine):5.0f} s"
        )
    (args.output_dir / "results.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
