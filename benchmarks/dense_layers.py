"""HTDense against keras Dense, TTDense (t3f) at about the same parameter count, and one read of the input.

The UCF11 input-to-hidden map: 57,600 inputs -> 4 x 256 gate pre-activations, a batch of 96 frames (16 clips
x 6 frames). Each candidate runs as a compiled ``tf.function`` (forward, forward + backward, and forward with
``jit_compile=True``, XLA), measured side by side in this one process and interleaved: in each round every
measurement is the median over repeats after a warm-up; a time is the median over rounds, a ratio the median
of the ratios within each round, kept with their range (``htkeras.timing.interleaved_median_seconds``).
"input read" is one reduction over the input batch, the floor for a layer with ~1 K weights that must read
all of its input. "HTDense, first step alone" is the first step of HTDense's contraction plan that reads the
input (one matmul over its last mode), run alone on weights prepared beforehand: where the layer's time goes.
Peak memory: each layer in a fresh process, the growth of its peak resident set over three calls after a
traced warm-up (forward, and forward + backward); approximate, as the allocator may reuse memory it already
holds.

    python -m benchmarks.dense_layers [--rounds 9] [--repeats 5] [--out benchmarks/results/dense_layers.json]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

import htkeras
from htkeras import timing
from htkeras.math.contraction import ContractionPlan
from training.run_io import git_commit, hardware, write_json

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


def first_step_function(layer):
    """The first step of ``layer``'s plan that reads the input, alone (a compiled function of the input)."""
    prepared = [tf.constant(np.asarray(t)) for t in layer.prepare().tensors]
    first = ContractionPlan(layer.split_plan(1)[1].steps[:1])  # the input's steps, after the weight-only ones

    @tf.function
    def first_step(inputs):
        return first.run([tf.reshape(inputs, (-1, *layer.resolved_input_modes)), *prepared])[-1]

    return first_step


def forward_backward_function(layer):
    @tf.function
    def forward_backward(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(inputs) ** 2)
        return tape.gradient(loss, layer.trainable_variables)[0]

    return forward_backward


def input_batch():
    return tf.constant(np.random.default_rng(0).standard_normal((BATCH, 57600), dtype=np.float32))


def peak_memory_growth(name: str) -> dict:
    """Bytes by which the peak resident set of a fresh process grows over three calls of the candidate
    ``name`` after a traced warm-up call, forward and forward + backward (run there: ``--peak-memory-of``).
    Approximate: the allocator may reuse memory it already holds."""
    command = [sys.executable, "-m", "benchmarks.dense_layers", "--peak-memory-of", name]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _status_bytes(field: str) -> int:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) * 1024


def _measure_peak_memory(name: str) -> None:
    layer, x = candidates()[name], input_batch()
    growth = {}
    for key, step in (("forward", tf.function(layer.__call__)), ("forward_backward", forward_backward_function(layer))):
        np.asarray(step(x))  # traced and run once
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc: give freed memory back, so that reuse shows as growth
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the peak (VmHWM) to the current set
        before = _status_bytes("VmRSS:")
        for _ in range(3):
            np.asarray(step(x))
        growth[key] = _status_bytes("VmHWM:") - before
    print(json.dumps(growth))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=5, help="calls per measurement in each round")
    parser.add_argument("--out", default="benchmarks/results/dense_layers.json")
    parser.add_argument("--peak-memory-of", default=None, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.peak_memory_of:
        return _measure_peak_memory(args.peak_memory_of)
    x = input_batch()
    layers = candidates()
    ht, first_step, read = "HTDense (ranks 5)", "HTDense, first step alone", ("input read", "forward")
    steps, params = {read: tf.function(tf.reduce_sum)}, {"input read": 0, first_step: None}
    for name, layer in layers.items():
        params[name] = int(layer.count_params())
        steps[name, "forward"] = tf.function(layer.__call__)
        steps[name, "forward_backward"] = forward_backward_function(layer)
        steps[name, "forward_xla"] = tf.function(layer.__call__, jit_compile=True)
        if name == ht:
            steps[first_step, "forward"] = first_step_function(layer)
    times = timing.interleaved_median_seconds(
        {key: (lambda _, fn=fn: np.asarray(fn(x))) for key, fn in steps.items()}, args.rounds, args.repeats)
    rows = {}
    for (name, measure), values in times.items():
        rows.setdefault(name, {"params": params[name]})[measure] = float(np.median(values))
    for name in layers:
        rows[name]["peak_memory_growth_bytes"] = peak_memory_growth(name)
    tt = next(name for name in layers if name.startswith("TTDense"))

    pairs = {  # numerator, denominator
        "dense_over_ht_forward": (("Dense", "forward"), (ht, "forward")),
        "dense_over_ht_forward_backward": (("Dense", "forward_backward"), (ht, "forward_backward")),
        "ht_over_input_read": ((ht, "forward"), read),
        "ht_first_step_over_input_read": ((first_step, "forward"), read),
        "tt_over_ht_forward": ((tt, "forward"), (ht, "forward")),
        "dense_over_ht_forward_xla": (("Dense", "forward_xla"), (ht, "forward_xla")),
        "ht_xla_over_input_read": ((ht, "forward_xla"), read),
    }
    per_round = {key: np.divide(times[top], times[bottom]) for key, (top, bottom) in pairs.items()}
    ratios = {key: float(np.median(values)) for key, values in per_round.items()}
    ratio_ranges = {key: [float(values.min()), float(values.max())] for key, values in per_round.items()}
    goals = {
        "HTDense forward >= 20x faster than Dense": ratios["dense_over_ht_forward"] >= 20,
        "HTDense forward <= 3x the input-read time": ratios["ht_over_input_read"] <= 3,
        "with XLA (Keras' default jit_compile='auto' in fit/predict on TensorFlow): HTDense forward >= 20x "
        "faster than Dense": ratios["dense_over_ht_forward_xla"] >= 20,
        "with XLA: HTDense forward <= 3x the input-read time": ratios["ht_xla_over_input_read"] <= 3,
        "HTDense no slower than TTDense (t3f) at about equal parameters": ratios["tt_over_ht_forward"] >= 1,
    }
    result = {"shape": {"input": 57600, "output": 1024, "batch": BATCH}, "rounds": args.rounds,
              "repeats": args.repeats, "rows": rows, "ratios": ratios, "ratio_ranges": ratio_ranges, "goals": goals,
              "commit": git_commit(), "hardware": hardware(),
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_json(args.out, result)
    for name, row in rows.items():
        extra = (f"  fwd+bwd {1000 * row['forward_backward']:8.2f} ms  fwd XLA {1000 * row['forward_xla']:8.2f} ms"
                 if "forward_backward" in row else "")
        if "peak_memory_growth_bytes" in row:
            growth = row["peak_memory_growth_bytes"]
            extra += (f"  peak memory fwd +{growth['forward'] / 2**20:.1f} MiB, "
                      f"fwd+bwd +{growth['forward_backward'] / 2**20:.1f} MiB")
        params = "-" if row["params"] is None else f"{row['params']:,}"
        print(f"{name:34s} {params:>11} params  fwd {1000 * row['forward']:8.2f} ms{extra}")
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}")
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET'}: {goal}")


if __name__ == "__main__":
    main()
