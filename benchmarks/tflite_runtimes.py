"""Why an int8 TFLite file can score differently in two Python runtimes: the same file of a zoo model run
through LiteRT (``ai-edge-litert``) and TensorFlow's own ``tf.lite.Interpreter``, each with its default
delegates, without them, and with the reference kernels, on the export's check examples (every FSDD
recording but the calibration ones).

    python -m benchmarks.tflite_runtimes [--model fsdd-fdht-lstm] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf
from ai_edge_litert import interpreter as litert

from htkeras import zoo
from htkeras.deploy.export import CALIBRATION_EVERY, export, run_tflite
from training.run_io import git_commit, hardware, write_json

RUNTIMES = {"LiteRT": (litert.Interpreter, litert.OpResolverType),
            "tf.lite (TensorFlow)": (tf.lite.Interpreter, tf.lite.experimental.OpResolverType)}
RESOLVERS = {"default delegates": "AUTO", "no default delegates": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
             "reference kernels": "BUILTIN_REF"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fsdd-fdht-lstm")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="benchmarks/results/tflite_runtimes.json")
    args = parser.parse_args(argv)
    x, y, _ = zoo.load_data(args.model, args.data_dir)
    with tempfile.TemporaryDirectory() as out:
        report = export(args.model, "tflite-int8", out, data=(x, y), allow_accuracy_drop=True)
        flatbuffer = open(report.path, "rb").read()
    check = np.setdiff1d(np.arange(len(x)), np.arange(0, len(x), CALIBRATION_EVERY))  # as the export checks
    keras_accuracy = float((zoo.load(args.model).predict(x[check], verbose=0).argmax(1) == y[check]).mean())
    rows = {}
    for runtime, (make, resolvers) in RUNTIMES.items():
        for label, resolver in RESOLVERS.items():
            runner = make(model_content=flatbuffer, num_threads=1,
                          experimental_op_resolver_type=getattr(resolvers, resolver))
            runner.allocate_tensors()
            accuracy = float((run_tflite(runner, x[check]).argmax(1) == y[check]).mean())
            rows[f"{runtime}, {label}"] = accuracy
            print(f"{runtime}, {label}: {accuracy:.1%}")
    import ai_edge_litert

    write_json(args.out, {"model": args.model, "examples": len(check), "keras_accuracy": keras_accuracy,
                          "accuracy": rows, "versions": {"tensorflow": tf.__version__,
                                                         "ai_edge_litert": ai_edge_litert.__version__},
                          "commit": git_commit(), "hardware": hardware()})


if __name__ == "__main__":
    main()
