"""Mixed precision: how far each kind of layer and cell moves from float32 under Keras' ``mixed_float16``
and ``mixed_bfloat16`` policies (variables float32, computation in 16 bits), next to Keras' own Dense, LSTM
and GRU (kind ``dense``) on the same inputs, with the contraction in float32 (``float32_contraction=True``,
the default) and in the 16-bit type. Error = largest difference / largest float32 output, over a batch of
32 standard-normal inputs, the same weights in both precisions.

* layer: 1,024 -> 1,024 at ranks 4 (each kind as ``htkeras.make_linear_map`` builds it);
* cells: LSTM and GRU of 64 units on 40 inputs over 40 steps (the fsdd-fdht-lstm shape), ranks 4, in
  ``htkeras.RNN``.

A kind is as accurate as Keras where its error is at most ``MARGIN`` times the dense error of the same row
and policy; the goal lines say whether every kind is, with each contraction precision.

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
CONTRACTIONS = {"float32 contraction": True, "16-bit contraction": False}
MARGIN = 3.0


def options(kind: str, float32_contraction: bool) -> dict:
    return {} if kind == "dense" else {"ranks": 4, "float32_contraction": float32_contraction}


def layer(kind: str, float32_contraction: bool):
    return keras.Sequential([keras.Input((1024,)), htkeras.make_linear_map(kind, 1024, **options(kind, float32_contraction))])


def cell(what: str):
    def make(kind: str, float32_contraction: bool):
        extra = options(kind, float32_contraction)
        if "float32_contraction" in extra:  # a cell passes it to its maps
            extra["map_options"] = {"float32_contraction": extra.pop("float32_contraction")}
        return keras.Sequential([keras.Input((40, 40)), htkeras.RNN(htkeras.make_cell(kind, 64, what, **extra))])

    return make


SHAPES = {"layer 1024 -> 1024": (layer, (32, 1024)), "LSTM cell, 40 x 40 -> 64": (cell("lstm"), (32, 40, 40)),
          "GRU cell, 40 x 40 -> 64": (cell("gru"), (32, 40, 40))}


def relative_error(make, kind: str, shape: tuple, policy: str, float32_contraction: bool) -> float:
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    reference = make(kind, float32_contraction)
    expected = keras.ops.convert_to_numpy(reference(x))
    keras.config.set_dtype_policy(policy)
    model = make(kind, float32_contraction)
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
            contractions = {"float32 contraction": True} if kind == "dense" else CONTRACTIONS
            rows.setdefault(shape_name, {})[kind] = {
                name: {p: relative_error(make, kind, shape, p, wide) for p in POLICIES} for name, wide in contractions.items()
            }
            print(shape_name, kind, rows[shape_name][kind], flush=True)
    factorized = [(shape, kind) for shape, kinds in rows.items() for kind in kinds if kind != "dense"]

    def far(name: str) -> list:  # the factorized rows further than MARGIN times Keras' error with this contraction
        return [f"{kind} ({shape})" for shape, kind in factorized if any(
            rows[shape][kind][name][p] > MARGIN * rows[shape]["dense"]["float32 contraction"][p] for p in POLICIES)]

    misses = far("float32 contraction")
    goals = {f"every factorized kind within {MARGIN:g}x of Keras' own error with the default float32 contraction "
             f"({len(factorized) - len(misses)} of {len(factorized)})": not misses}
    write_json(args.out, {"rows": rows, "policies": list(POLICIES), "margin": MARGIN, "goals": goals,
                          "need_float32_contraction": far("16-bit contraction"), "commit": git_commit(),
                          "hardware": hardware(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print(goals, "\nneed float32 inside:", far("16-bit contraction"), f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
