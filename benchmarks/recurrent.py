"""Recurrent layers per time step: ``keras.layers.RNN(cell)`` against ``htkeras.RNN(cell)`` (the
cell's state-independent work once per sequence) and a dense Keras LSTM, measured side by side in one
process (compiled ``tf.function`` forward, median over repeats after a warm-up; per step = per call / T).

* FDHT-LSTM as in ``fsdd-fdht-lstm`` (40 log-mel inputs, 64 units, ranks 6, T = 40) at batch 1 and 32.
* HT-LSTM of the UCF11 shape (57,600 inputs, 256 units, ranks 5, T = 6) at batch 16 (96 frames): the
  input-to-hidden map once on all 96 frames against once per step.

    python -m benchmarks.recurrent [--repeats 20] [--out benchmarks/results/recurrent.json]
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
from training.run_io import git_commit, hardware, write_json

from .dense_layers import median_seconds

CASES = {
    "FDHT-LSTM (fsdd-fdht-lstm shape)": {
        "cell": lambda: htkeras.make_cell("fdht", 64, "lstm", ranks=6), "dense_units": 64,
        "input": 40, "steps": 40, "batches": (1, 32),
    },
    "HT-LSTM (UCF11 shape)": {
        "cell": lambda: htkeras.make_cell("ht", 256, "lstm", ranks=5, input_modes=[8, 20, 20, 18]),
        "dense_units": 256, "input": 57600, "steps": 6, "batches": (16,),
    },
}


def per_step_ms(layer, x, repeats: int) -> float:
    layer(x[:1])  # built eagerly
    return 1000 * median_seconds(tf.function(layer.__call__), x, repeats) / x.shape[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/recurrent.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    for name, case in CASES.items():
        cell = case["cell"]()
        layers = {
            "keras.layers.RNN (per step)": keras.layers.RNN(cell),
            "htkeras.RNN (once per sequence)": htkeras.RNN(cell),
            "dense keras LSTM": keras.layers.LSTM(case["dense_units"]),
        }
        for batch in case["batches"]:
            x = tf.constant(rng.standard_normal((batch, case["steps"], case["input"])).astype("float32"))
            row = {"case": name, "batch": batch, "steps": case["steps"], "ms_per_step": {}, "params": {}}
            for label, layer in layers.items():
                row["ms_per_step"][label] = per_step_ms(layer, x, args.repeats)
                row["params"][label] = int(layer.count_params())
            times = row["ms_per_step"]
            row["speedup"] = times["keras.layers.RNN (per step)"] / times["htkeras.RNN (once per sequence)"]
            rows.append(row)
            print(f"{name}, batch {batch}: " + ", ".join(f"{k} {v:.3f} ms/step" for k, v in times.items())
                  + f"; htkeras.RNN speed-up {row['speedup']:.2f}x")
    write_json(args.out, {"rows": rows, "repeats": args.repeats, "commit": git_commit(), "hardware": hardware(),
                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
