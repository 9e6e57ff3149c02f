"""Mixed precision: how far each kind of layer and cell moves from float32 under Keras' ``mixed_float16``
and ``mixed_bfloat16`` policies (variables float32, computation in 16 bits), next to Keras' own Dense, LSTM
and GRU (kind ``dense``) on the same inputs. Error = largest difference / largest float32 output, over a
batch of 32 standard-normal inputs, the same weights in both precisions.

* layer: 1,024 -> 1,024 at ranks 4 (each kind as ``htkeras.make_linear_map`` builds it), and the UCF11 HT
  input map (57,600 -> 1,024, ranks 5);
* cells: LSTM and GRU of 64 units on 40 inputs over 40 steps (the fsdd-fdht-lstm shape), ranks 4, in
  ``htkeras.RNN``.

A kind whose error stays within ``MARGIN`` times the dense error of the same row needs no float32 inside its
contraction; the goal line says whether every kind does.

    python -m benchmarks.precision [--out benchmarks/results/precision.json]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np

import htkeras
from training.run_io import git_commit, hardware, write_json

POLICIES = ("mixed_float16", "mixed_bfloat16")
MARGIN = 3.0


def layer(kind: str):
    options = {} if kind == "dense" else {"ranks": 4}
    return keras.Sequential([keras.Input((1024,)), htkeras.make_linear_map(kind, 1024, **options)])


def ucf11(kind: str):
    return keras.Sequential([keras.Input((57600,)), htkeras.HTDense([8, 20, 20, 18], [16, 4, 4, 4], ranks=5)])


def cell(what: str):
    def make(kind: str):
        options = {} if kind == "dense" else {"ranks": 4}
        return keras.Sequential([keras.Input((40, 40)), htkeras.RNN(htkeras.make_cell(kind, 64, what, **options))])

    return make


SHAPES = {"layer 1024 -> 1024": (layer, (32, 1024)), "LSTM cell, 40 x 40 -> 64": (cell("lstm"), (32, 40, 40)),
          "GRU cell, 40 x 40 -> 64": (cell("gru"), (32, 40, 40))}


def relative_error(make, kind: str, shape: tuple, policy: str) -> float:
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    reference = make(kind)
    expected = keras.ops.convert_to_numpy(reference(x))
    keras.config.set_dtype_policy(policy)
    model = make(kind)
    model.set_weights(reference.get_weights())
    output = keras.ops.convert_to_numpy(keras.ops.cast(model(x), "float32"))
    keras.config.set_dtype_policy("float32")
    return float(np.abs(output - expected).max() / np.abs(expected).max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="benchmarks/results/precision.json")
    args = parser.parse_args(argv)
    rows = {}
    for shape_name, (make, shape) in SHAPES.items():
        for kind in htkeras.factory.KINDS:
            rows.setdefault(shape_name, {})[kind] = {p: relative_error(make, kind, shape, p) for p in POLICIES}
            print(shape_name, kind, rows[shape_name][kind], flush=True)
    rows["UCF11 HT input map 57,600 -> 1,024"] = {"ht": {p: relative_error(ucf11, "ht", (32, 57600), p) for p in POLICIES}}
    within = all(errors[p] <= MARGIN * row["dense"][p] for row in rows.values() if "dense" in row
                 for errors in row.values() for p in POLICIES)
    goal = {f"every kind within {MARGIN:g}x of Keras' dense error (no float32 needed inside the contractions)": within}
    write_json(args.out, {"rows": rows, "policies": list(POLICIES), "goals": goal, "commit": git_commit(),
                          "hardware": hardware(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(f"goal met: {within}; wrote {args.out}")


if __name__ == "__main__":
    main()
