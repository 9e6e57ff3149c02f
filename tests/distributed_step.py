"""Run by tests/test_distribute.py in a fresh process (devices are split before the backend starts): an
FDHT-LSTM classifier made from seed 0 takes ``--steps`` Adam steps of one global batch each, under
``training.distribute.distribution(--distribute, --cpu-devices)``; its weights before and after, and the
replica count, go to ``--out`` (``.npz``).

    python tests/distributed_step.py --distribute mirrored --cpu-devices 2 --out weights.npz
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

import htkeras
from training.distribute import distribution

BATCH, STEPS, FEATURES, CLASSES = 8, 6, 12, 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--distribute", default="none")
    parser.add_argument("--cpu-devices", type=int, default=None)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    spread = distribution(args.distribute, args.cpu_devices)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * args.steps, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, BATCH * args.steps)
    keras.utils.set_random_seed(0)
    with spread.scope():
        model = keras.Sequential([
            keras.Input((STEPS, FEATURES)),
            htkeras.RNN(htkeras.FDHTLSTMCell(units=8, ranks=2)),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ])
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    before = [np.array(w) for w in model.get_weights()]
    spread.prepare(model).fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    after = model.get_weights()
    np.savez(args.out, replicas=spread.replicas, chief=spread.chief,
             **{f"before_{k}": w for k, w in enumerate(before)}, **{f"after_{k}": w for k, w in enumerate(after)})


if __name__ == "__main__":
    main()
