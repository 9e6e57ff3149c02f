"""How HTDense's forward time scales with the input size, the rank and the tree, next to Dense and one read
of the input, all measured side by side in this one process (compiled ``tf.function``, median of repeats).

Sweeps (batch 96, output 1,024 = 16 x 4 x 4 x 4, four input modes):
  * input size 1 K - 64 K at rank 4;
  * rank 2 - 16 at input 16 K;
  * tree shape at input 16 K, rank 4: balanced (each input mode paired with an output mode first),
    inputs-then-outputs (the input modes grouped in one subtree), and a linear (caterpillar) tree.

Writes ``benchmarks/results/scaling.json`` (rows with provenance), ``scaling.csv`` and ``scaling.png``.

    python -m benchmarks.scaling [--repeats 10]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

import htkeras
from training.run_io import atomic_write, git_commit, hardware, write_json

from .dense_layers import median_seconds

BATCH, OUTPUT_MODES = 96, [16, 4, 4, 4]
INPUT_MODES = {1024: [4, 4, 8, 8], 4096: [8, 8, 8, 8], 16384: [8, 8, 16, 16], 65536: [16, 16, 16, 16]}
TREES = {  # separate leaves: inputs 0-3, outputs 4-7
    "balanced": None,
    "inputs then outputs": [[[0, 1], [2, 3]], [[4, 5], [6, 7]]],
    "linear": [[[[[[[0, 4], 1], 5], 2], 6], 3], 7],
}
COLUMNS = ["sweep", "input_dim", "rank", "tree", "ht_params", "ht_ms", "dense_ms", "read_ms"]


def measure(input_dim, rank, tree, repeats, dense_cache):
    x = tf.constant(np.random.default_rng(0).standard_normal((BATCH, input_dim)).astype("float32"))
    ht = htkeras.HTDense(INPUT_MODES[input_dim], OUTPUT_MODES, ranks=rank, tree=TREES[tree], use_bias=False)
    ht.build((None, input_dim))
    if input_dim not in dense_cache:
        dense = keras.layers.Dense(1024, use_bias=False)
        dense.build((None, input_dim))
        dense_cache[input_dim] = (median_seconds(tf.function(dense.__call__), x, repeats),
                                  median_seconds(tf.function(tf.reduce_sum), x, repeats))
    dense_s, read_s = dense_cache[input_dim]
    return {"input_dim": input_dim, "rank": rank, "tree": tree, "ht_params": int(ht.count_params()),
            "ht_ms": 1000 * median_seconds(tf.function(ht.__call__), x, repeats), "dense_ms": 1000 * dense_s,
            "read_ms": 1000 * read_s}


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    size = [r for r in rows if r["sweep"] == "input size"]
    dims = [r["input_dim"] for r in size]
    for key, label in (("ht_ms", "HTDense (rank 4)"), ("dense_ms", "Dense"), ("read_ms", "input read")):
        axes[0].plot(dims, [r[key] for r in size], "o-", label=label)
    axes[0].set(xscale="log", yscale="log", xlabel="input size", ylabel="forward (ms)", title="input size")
    axes[0].legend()
    rank = [r for r in rows if r["sweep"] == "rank"]
    axes[1].plot([r["rank"] for r in rank], [r["ht_ms"] for r in rank], "o-", label="HTDense")
    axes[1].axhline(rank[0]["read_ms"], color="gray", linestyle="--", label="input read")
    axes[1].set(xlabel="rank", ylabel="forward (ms)", title=f"rank (input {rank[0]['input_dim']:,})")
    axes[1].legend()
    trees = [r for r in rows if r["sweep"] == "tree"]
    axes[2].bar([r["tree"] for r in trees], [r["ht_ms"] for r in trees])
    axes[2].set(ylabel="forward (ms)", title=f"tree (input {trees[0]['input_dim']:,}, rank 4)")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    out, dense_cache, rows = Path(args.out), {}, []
    sweeps = [("input size", dim, 4, "balanced") for dim in INPUT_MODES]
    sweeps += [("rank", 16384, rank, "balanced") for rank in (2, 4, 8, 16)]
    sweeps += [("tree", 16384, 4, tree) for tree in TREES]
    for sweep, dim, rank, tree in sweeps:
        rows.append({"sweep": sweep, **measure(dim, rank, tree, args.repeats, dense_cache)})
        print(", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in rows[-1].items()))
    write_json(out / "scaling.json", {"batch": BATCH, "output_modes": OUTPUT_MODES, "repeats": args.repeats,
                                      "rows": rows, "commit": git_commit(), "hardware": hardware(),
                                      "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def write_csv(tmp):
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(out / "scaling.csv", write_csv)
    plot(rows, out / "scaling.png")
    print(f"wrote {out}/scaling.json, scaling.csv and scaling.png")


if __name__ == "__main__":
    main()
