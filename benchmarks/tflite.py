"""TFLite size and latency of the zoo models, float32 and int8, next to Keras in the same process.

Each model is exported with ``htkeras.export`` (which checks it against Keras on the real FSDD recordings),
and timed per clip at batch 1 on one thread (LiteRT) and through Keras' compiled ``predict_on_batch``.

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
from training.run_io import git_commit, hardware, write_json

TARGET = {"model": "fsdd-fdht-lstm", "max_bytes": 32 * 1024, "max_ms": 1.0}


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
        row = {"parameters": info["parameters"], "keras_ms": latency_ms(zoo.load(name), x[:1])}
        with tempfile.TemporaryDirectory() as out:
            for fmt in ("tflite", "tflite-int8"):
                report = export(name, fmt, out, data=(x, y), allow_accuracy_drop=True)  # the drop is reported
                row[fmt] = {k: getattr(report, k) for k in ("bytes", "latency_ms", "max_abs_difference",
                                                             "keras_accuracy", "exported_accuracy", "check_examples")}
                print(f"{name} {fmt}: {report.bytes:,} bytes, {report.latency_ms:.3f} ms, accuracy "
                      f"{report.keras_accuracy:.1%} -> {report.exported_accuracy:.1%}")
        rows[name] = row
    target = rows[TARGET["model"]]["tflite-int8"]
    goals = {
        f"{TARGET['model']} int8 TFLite <= 32 KB": target["bytes"] <= TARGET["max_bytes"],
        f"{TARGET['model']} int8 TFLite <= 1 ms per clip on one core": target["latency_ms"] <= TARGET["max_ms"],
    }
    write_json(args.out, {"rows": rows, "goals": goals, "commit": git_commit(), "hardware": hardware(),
                          "data": "FSDD, all 2,500 recordings of the 5 shared speakers (int8: every 5th calibrates, "
                                  "the other 2,000 measure)"})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
