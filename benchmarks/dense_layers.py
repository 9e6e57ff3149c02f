"""HTDense against keras Dense, TTDense (t3f) at about the same parameter count, and one read of the input.

The UCF11 input-to-hidden map: 57,600 inputs -> 4 x 256 gate pre-activations, a batch of 96 frames (16 clips
x 6 frames). Each candidate runs as a compiled ``tf.function`` (forward, forward + backward, and forward with
``jit_compile=True``, XLA), measured side by side in this one process: median over repeats after a warm-up.
"input read" is one reduction over the input batch, the floor for a layer with ~1 K weights that must read
all of its input.

    python -m benchmarks.dense_layers [--repeats 20] [--out benchmarks/results/dense_layers.json]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import htkeras  # noqa: E402
from htkeras import timing  # noqa: E402
from training.run_io import git_commit, hardware, write_json  # noqa: E402

INPUT_MODES, OUTPUT_MODES, BATCH = [8, 20, 20, 18], [16, 4, 4, 4], 96


def median_seconds(fn, x, repeats: int) -> float:
    """Median seconds of ``fn(x)`` brought to NumPy (the work done), after a warm-up (``htkeras.timing``)."""
    return timing.median_seconds(lambda _: np.asarray(fn(x)), repeats)


def candidates():
    ht = htkeras.HTDense(INPUT_MODES, OUTPUT_MODES, ranks=5, use_bias=False)
    tt = htkeras.make_linear_map("tt", 1024, budget=1245 + 200, input_dim=57600,
                                 input_modes=INPUT_MODES, output_modes=OUTPUT_MODES, use_bias=False)
    dense = keras.layers.Dense(1024, use_bias=False)
    layers = {"Dense": dense, "HTDense (ranks 5)": ht, f"TTDense (t3f, ranks {tt.ranks})": tt}
    for layer in layers.values():
        if not layer.built:
            layer.build((None, 57600))
    return layers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/dense_layers.json")
    args = parser.parse_args(argv)
    x = tf.constant(np.random.default_rng(0).standard_normal((BATCH, 57600)).astype("float32"))
    rows = {"input read": {"params": 0, "forward": median_seconds(tf.function(tf.reduce_sum), x, args.repeats)}}
    for name, layer in candidates().items():
        forward = tf.function(layer.__call__)

        @tf.function
        def forward_backward(inputs, layer=layer):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(layer(inputs) ** 2)
            return tape.gradient(loss, layer.trainable_variables)[0]

        rows[name] = {
            "params": int(layer.count_params()),
            "forward": median_seconds(forward, x, args.repeats),
            "forward_backward": median_seconds(forward_backward, x, args.repeats),
            "forward_xla": median_seconds(tf.function(layer.__call__, jit_compile=True), x, args.repeats),
        }
    dense, ht, read = rows["Dense"], rows["HTDense (ranks 5)"], rows["input read"]["forward"]
    tt = next(v for k, v in rows.items() if k.startswith("TTDense"))
    ratios = {
        "dense_over_ht_forward": dense["forward"] / ht["forward"],
        "dense_over_ht_forward_backward": dense["forward_backward"] / ht["forward_backward"],
        "ht_over_input_read": ht["forward"] / read,
        "tt_over_ht_forward": tt["forward"] / ht["forward"],
        "dense_over_ht_forward_xla": dense["forward_xla"] / ht["forward_xla"],
        "ht_xla_over_input_read": ht["forward_xla"] / read,
    }
    goals = {
        "HTDense forward >= 20x faster than Dense": ratios["dense_over_ht_forward"] >= 20,
        "HTDense forward <= 3x the input-read time": ratios["ht_over_input_read"] <= 3,
        "HTDense no slower than TTDense (t3f) at about equal parameters": ratios["tt_over_ht_forward"] >= 1,
    }
    result = {"shape": {"input": 57600, "output": 1024, "batch": BATCH}, "repeats": args.repeats, "rows": rows,
              "ratios": ratios, "goals": goals, "commit": git_commit(), "hardware": hardware(),
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_json(args.out, result)
    for name, row in rows.items():
        extra = (f"  fwd+bwd {1000 * row['forward_backward']:8.2f} ms  fwd XLA {1000 * row['forward_xla']:8.2f} ms"
                 if "forward_backward" in row else "")
        print(f"{name:34s} {row['params']:>11,} params  fwd {1000 * row['forward']:8.2f} ms{extra}")
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}")
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET'}: {goal}")


if __name__ == "__main__":
    main()
