"""HT-LSTM and FDHT-LSTM trained on real speech (FSDD), tested on a speaker they never heard."""

import os
import time

import keras
import numpy as np
import pytest

import htkeras
from htkeras.data import load_fsdd_features, resolve_data_dir
from training.train import compiled_model


def data_or_skip(subdir: str):
    """The real dataset folder ``subdir`` of the data root; a skip when it is missing, but an error in CI
    (``HTKERAS_REQUIRE_DATA``), where the shared data must be there."""
    try:
        return resolve_data_dir(None, subdir)
    except FileNotFoundError as error:
        if os.environ.get("HTKERAS_REQUIRE_DATA"):
            raise
        pytest.skip(f"{subdir} not available: {error}")


def _fsdd_or_skip():
    data_or_skip("fsdd")


@pytest.fixture(scope="module")
def fsdd():
    _fsdd_or_skip()
    x, y, speakers = load_fsdd_features(num_frames=40)
    test = speakers == "george"
    return x[~test], y[~test], x[test], y[test]


def classifier(kind, input_shape, **spec):
    spec = {"kind": kind, "units": 32, "input_shape": input_shape, "num_classes": 10, **spec}
    return compiled_model(spec, {"learning_rate": 0.01})


@pytest.mark.parametrize("kind", ["ht", "fdht"])
def test_beats_chance_on_an_unseen_speaker(kind, fsdd):
    x_train, y_train, x_test, y_test = fsdd
    keras.utils.set_random_seed(0)
    model = classifier(kind, x_train.shape[1:], ranks=4)
    start = time.time()
    model.fit(x_train, y_train, batch_size=32, epochs=6, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"{kind}-LSTM: {model.count_params()} parameters, unseen-speaker accuracy {accuracy:.3f}, "
          f"{time.time() - start:.0f} s")
    assert accuracy > 0.35  # chance is 0.10
    assert np.isfinite(model.get_weights()[0]).all()


def test_trained_keras_lstm_converts_to_ht_lstm(fsdd):
    """A Keras LSTM trained here on real speech: exact at full rank; at reduced rank the report states the
    error, the model still beats chance, and a short fine-tune recovers most of the gap."""
    x_train, y_train, x_test, y_test = fsdd
    keras.utils.set_random_seed(0)
    original = classifier("dense", x_train.shape[1:])
    original.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0)
    base = original.evaluate(x_test, y_test, verbose=0)[1]

    def converted(**size):
        rnn, report = htkeras.from_rnn(original.get_layer("dense_lstm"), "ht", input_modes=[2, 4, 5], hidden_modes=[2, 4, 4],
                                       **size)
        model = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.Masking(0.0), rnn,
                                  keras.layers.Dense(10, activation="softmax")])
        model.layers[-1].set_weights(original.layers[-1].get_weights())
        model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model, report

    exact, report = converted(tolerance=0)
    np.testing.assert_allclose(exact.predict(x_test, verbose=0), original.predict(x_test, verbose=0), atol=1e-4)
    assert report.relative_error < 1e-5

    reduced, report = converted(rank=12)
    start = reduced.evaluate(x_test, y_test, verbose=0)[1]
    reduced.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0)
    tuned = reduced.evaluate(x_test, y_test, verbose=0)[1]
    print(f"LSTM {original.count_params()} params {base:.3f}; {report}; converted {start:.3f}, fine-tuned {tuned:.3f}")
    assert report.params < original.get_layer("dense_lstm").count_params() and report.relative_error > 0.1
    assert start > 0.2  # twice chance
    assert tuned - start >= 0.5 * (base - start) > 0
