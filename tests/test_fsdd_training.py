"""HT-LSTM and FDHT-LSTM trained on real speech (FSDD), tested on a speaker they never heard."""

import os
import time

import keras
import numpy as np
import pytest

import htkeras
from htkeras.datasets import load_fsdd_features, resolve_data_dir
from training.quickstart import build_model


def _fsdd_or_skip():
    try:
        resolve_data_dir(None, "fsdd")
    except FileNotFoundError as error:
        if os.environ.get("HTKERAS_REQUIRE_DATA"):
            raise
        pytest.skip(f"FSDD not available: {error}")


@pytest.fixture(scope="module")
def fsdd():
    _fsdd_or_skip()
    x, y, speakers = load_fsdd_features(num_frames=40)
    test = speakers == "george"
    return x[~test], y[~test], x[test], y[test]


@pytest.mark.parametrize("cell_class", [htkeras.HTLSTMCell, htkeras.FDHTLSTMCell])
def test_beats_chance_on_an_unseen_speaker(cell_class, fsdd):
    x_train, y_train, x_test, y_test = fsdd
    keras.utils.set_random_seed(0)
    model = build_model(cell_class(32, ranks=4), x_train.shape[1:])
    start = time.time()
    model.fit(x_train, y_train, batch_size=32, epochs=6, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"{cell_class.__name__}: {model.count_params()} parameters, unseen-speaker accuracy {accuracy:.3f}, "
          f"{time.time() - start:.0f} s")
    assert accuracy > 0.35  # chance is 0.10
    assert np.isfinite(model.get_weights()[0]).all()
