"""Fine-tuning a speech model on new labels: ``zoo.fine_tune`` (the frozen front-end's features computed once,
the head trained on them) against ``zoo.load(num_classes=K)`` + ``fit`` (the front-end run in every epoch),
side by side in one run, on the same real FSDD clips labelled by speaker.

    python -m benchmarks.fine_tune_speed [--model fsdd-embedding-fdht-lstm] [--clips 400] [--epochs 3]

Per-epoch time: the median of each one's epochs after its first (which compiles), timed by a callback; the
one-off feature pass of ``fine_tune`` is reported apart.
Goal: ``fine_tune`` at least 5× faster per epoch.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from htkeras import zoo
from htkeras.models import split_backbone
from training.run_io import git_commit, hardware, write_json

GOAL = 5.0


class EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fsdd-embedding-fdht-lstm")
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="benchmarks/results/fine_tune_speed.json")
    args = parser.parse_args(argv)
    x, _, speakers = zoo.load_data(args.model, args.data_dir)
    pick = np.random.default_rng(0).permutation(len(x))[: args.clips]
    names = sorted(set(speakers.tolist()))
    x, y = x[pick], np.array([names.index(s) for s in speakers[pick]])

    timer = EpochTimes()
    model = zoo.load(args.model, num_classes=len(names))
    model.fit(x, y, epochs=args.epochs + 1, batch_size=32, callbacks=[timer], verbose=0)
    fit_epoch = float(np.median(timer.seconds[1:]))

    start = time.perf_counter()
    split_backbone(zoo.load(args.model))[0].predict(x, batch_size=64, verbose=0)
    feature_seconds = time.perf_counter() - start
    timer = EpochTimes()
    zoo.fine_tune(args.model, x, y, labels=names, epochs=args.epochs + 1, callbacks=[timer])
    tune_epoch = float(np.median(timer.seconds[1:]))
    ratio = fit_epoch / tune_epoch
    print(f"{args.model}, {len(x)} clips, {len(names)} labels: fit through the front-end {fit_epoch:.2f} s per epoch; "
          f"fine_tune {tune_epoch:.3f} s per epoch after a one-off feature pass of {feature_seconds:.1f} s: "
          f"{ratio:.1f}x per epoch ({'met' if ratio >= GOAL else 'not met'}: goal {GOAL:g}x)")
    write_json(args.out, {"model": args.model, "clips": len(x), "labels": len(names), "epochs": args.epochs,
                          "fit_seconds_per_epoch": fit_epoch, "fine_tune_seconds_per_epoch": tune_epoch,
                          "feature_seconds": feature_seconds, "ratio": ratio, "goal": GOAL,
                          "commit": git_commit(), "hardware": hardware()})


if __name__ == "__main__":
    main()
