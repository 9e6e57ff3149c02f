"""TFLite size and latency of the zoo models, float32 and int8, next to Keras in the same process.

Each model is exported with ``htkeras.export`` (which checks it against Keras on the real FSDD recordings),
and timed per clip at batch 1 on one thread (LiteRT) and through Keras' compiled ``predict_on_batch``. A
model with a pretrained front-end (``fsdd-embedding-*``, waveform in) gets a second row: its head alone on
the front-end's features (``part="head"``).

    python -m benchmarks.tflite [--data-dir ../shared/data] [--out benchmarks/results/tflite.json]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from htkeras import zoo
from htkeras.cli import latency_ms
from htkeras.deploy.export import export
from htkeras.models import split_backbone
from training.run_io import git_commit, hardware, write_json

TARGETS = ({"model": "fsdd-fdht-lstm", "max_bytes": 32 * 1024, "max_ms": 1.0},
           {"model": "fsdd-embedding-fdht-lstm", "max_bytes": 1024 * 1024, "max_drop_points": 1.0})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="benchmarks/results/tflite.json")
    args = parser.parse_args(argv)
    rows, data = {}, {}  # data: the features, read once per input shape (the zoo models share one)
    for name in zoo.list_models():
        info = zoo.info(name)
        if not info["labels"]:  # the FSDD classifiers; the next-step models run whole sequences
            continue
        shape = tuple(info["input"]["shape"][1:])
        if shape not in data:
            data[shape] = zoo.load_data(name, args.data_dir)[:2]
        x, y = data[shape]
        model = zoo.load(name)
        timed = {"whole": (model, x[:1])}  # part -> (Keras model, one example of its input)
        if info["backbone"]:
            backbone, head = split_backbone(model)
            timed["head"] = (head, backbone.predict(x[:1], verbose=0))
        for part, (keras_model, example) in timed.items():
            row_name = name if part == "whole" else f"{name} (head only)"
            row = {"parameters": info["trainable_parameters"], "keras_ms": latency_ms(keras_model, example)}
            with tempfile.TemporaryDirectory() as out:
                for fmt in ("tflite", "tflite-int8"):
                    report = export(name, fmt, out, data=(x, y), allow_accuracy_drop=True, part=part)  # drop reported
                    row[fmt] = {k: getattr(report, k) for k in ("bytes", "latency_ms", "max_abs_difference",
                                                                 "keras_accuracy", "exported_accuracy", "check_examples")}
                    print(f"{row_name} {fmt}: {report.bytes:,} bytes, {report.latency_ms:.3f} ms, accuracy "
                          f"{report.keras_accuracy:.1%} -> {report.exported_accuracy:.1%}")
            rows[row_name] = row
    small, speech = (rows[target["model"]]["tflite-int8"] for target in TARGETS)
    drop = 100 * (speech["keras_accuracy"] - speech["exported_accuracy"])
    goals = {
        f"{TARGETS[0]['model']} int8 TFLite <= 32 KB": small["bytes"] <= TARGETS[0]["max_bytes"],
        f"{TARGETS[0]['model']} int8 TFLite <= 1 ms per clip on one core": small["latency_ms"] <= TARGETS[0]["max_ms"],
        f"{TARGETS[1]['model']} int8 TFLite (waveform to probabilities) <= 1 MiB": speech["bytes"] <= TARGETS[1]["max_bytes"],
        f"{TARGETS[1]['model']} int8 TFLite within 1 point of Keras in LiteRT (measured {drop:+.1f})":
            drop <= TARGETS[1]["max_drop_points"],
    }
    write_json(args.out, {"rows": rows, "goals": goals, "commit": git_commit(), "hardware": hardware(),
                          "data": "FSDD, all 2,500 recordings of the 5 shared speakers (int8: every 5th calibrates, "
                                  "the other 2,000 measure); parameters: the trained ones (a frozen front-end left out)"})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
