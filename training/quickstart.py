"""Main job until the zoo lands: train a small HT-LSTM (or FDHT-LSTM) on real speech and evaluate it.

Trains on four FSDD speakers and tests on the fifth, whom the model never heard; prints the model's
compression summary and its accuracy.

    python -m training.quickstart [--cell ht|fdht] [--data-dir ../shared/data] [--epochs 8]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import htkeras  # noqa: E402
from htkeras.datasets import load_fsdd_features  # noqa: E402
from training.train import compiled_model  # noqa: E402

CELLS = ("ht", "fdht")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", choices=CELLS, default="ht")
    parser.add_argument("--data-dir", default=None, help="folder holding fsdd/ (default: $HTKERAS_DATA or ../shared/data)")
    parser.add_argument("--test-speaker", default="george")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        x, y, speakers = load_fsdd_features(args.data_dir, num_frames=40)
    except FileNotFoundError as error:
        parser.exit(2, f"error: {error}\n")
    test = speakers == args.test_speaker
    if not test.any():
        parser.exit(2, f"error: no recordings of --test-speaker {args.test_speaker!r}; speakers: {sorted(set(speakers.tolist()))}\n")
    print(f"FSDD: {int((~test).sum())} training recordings ({', '.join(sorted(set(speakers[~test])))}), "
          f"{int(test.sum())} test recordings of unseen speaker {args.test_speaker}")

    keras.utils.set_random_seed(args.seed)
    spec = {"kind": args.cell, "units": args.units, "ranks": args.ranks, "input_shape": x.shape[1:], "num_classes": 10}
    model = compiled_model(spec, learning_rate=0.01)
    start = time.time()
    model.fit(x[~test], y[~test], batch_size=32, epochs=args.epochs, verbose=2)
    seconds = time.time() - start
    htkeras.compression_summary(model)
    loss, accuracy = model.evaluate(x[test], y[test], verbose=0)
    print(f"\n{args.cell.upper()}-LSTM: {model.count_params():,} parameters, trained in {seconds:.0f} s on "
          f"{os.cpu_count()} CPU core(s); accuracy on unseen speaker {args.test_speaker}: {accuracy:.1%} (chance 10%)")


if __name__ == "__main__":
    main()
