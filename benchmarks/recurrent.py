"""Recurrent layers per time step: ``keras.layers.RNN(cell)`` against ``htkeras.RNN(cell)`` (the
cell's state-independent work once per sequence, its plans chosen for the sequence's length and batch size)
and a dense Keras LSTM or GRU, measured side by side in one process: compiled ``tf.function`` forward,
interleaved rounds (every layer once per round, the median of ``--repeats`` calls each after a warm-up);
per step = per call / T; the speed-up is the median over rounds of the ratio within a round.

* FDHT-LSTM as in ``fsdd-fdht-lstm`` (40 log-mel inputs, 64 units, ranks 6, T = 40);
* FDHT-GRU as in ``jsb-fdht-gru`` (88 keys, 128 units, ranks 6, T = 64);
* HT-LSTM of the UCF11 shape (57,600 inputs, 256 units, ranks 5, T = 6): the input-to-hidden map once on
  all ``batch * 6`` frames against once per step;

each at batch 1, 32 and 256. Goal: ``htkeras.RNN`` at least as fast as ``keras.layers.RNN`` in every row.

    python -m benchmarks.recurrent [--rounds 5] [--repeats 10] [--out benchmarks/results/recurrent.json]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

import htkeras
from htkeras.timing import interleaved_median_seconds
from training.run_io import git_commit, hardware, write_json

BATCHES = (1, 32, 256)
CASES = {
    "FDHT-LSTM (fsdd-fdht-lstm shape)": {
        "cell": lambda: htkeras.make_cell("fdht", 64, "lstm", ranks=6), "dense": lambda: keras.layers.LSTM(64),
        "input": 40, "steps": 40,
    },
    "FDHT-GRU (jsb-fdht-gru shape)": {
        "cell": lambda: htkeras.make_cell("fdht", 128, "gru", ranks=6), "dense": lambda: keras.layers.GRU(128),
        "input": 88, "steps": 64,
    },
    "HT-LSTM (UCF11 shape)": {
        "cell": lambda: htkeras.make_cell("ht", 256, "lstm", ranks=5, input_modes=[8, 20, 20, 18]),
        "dense": lambda: keras.layers.LSTM(256), "input": 57600, "steps": 6,
    },
}
KERAS_RNN, HTKERAS_RNN = "keras.layers.RNN (per step)", "htkeras.RNN (once per sequence)"


def compiled_forward(layer, x):
    layer(x[:1])  # built eagerly
    forward = tf.function(layer.__call__)
    return lambda _: np.asarray(forward(x))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results/recurrent.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    for name, case in CASES.items():
        cell = case["cell"]()
        layers = {KERAS_RNN: keras.layers.RNN(cell), HTKERAS_RNN: htkeras.RNN(cell), "dense Keras layer": case["dense"]()}
        for batch in BATCHES:
            x = tf.constant(rng.standard_normal((batch, case["steps"], case["input"])).astype("float32"))
            steps = {label: compiled_forward(layer, x) for label, layer in layers.items()}
            rounds = interleaved_median_seconds(steps, args.rounds, args.repeats)
            row = {
                "case": name, "batch": batch, "steps": case["steps"],
                "ms_per_step": {label: 1000 * float(np.median(t)) / case["steps"] for label, t in rounds.items()},
                "params": {label: int(layer.count_params()) for label, layer in layers.items()},
                "speedup": float(np.median(np.array(rounds[KERAS_RNN]) / np.array(rounds[HTKERAS_RNN]))),
            }
            rows.append(row)
            print(f"{name}, batch {batch}: " + ", ".join(f"{k} {v:.3f} ms/step" for k, v in row["ms_per_step"].items())
                  + f"; htkeras.RNN speed-up {row['speedup']:.2f}x", flush=True)
    goal = {"htkeras.RNN at least as fast as keras.layers.RNN in every row": all(r["speedup"] >= 1.0 for r in rows)}
    write_json(args.out, {"rows": rows, "rounds": args.rounds, "repeats": args.repeats, "goals": goal,
                          "commit": git_commit(), "hardware": hardware(),
                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"goal met: {all(goal.values())}; wrote {args.out}")


if __name__ == "__main__":
    main()
