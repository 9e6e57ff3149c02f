"""Polyphonic music: the real JSB Chorales splits, next-step batches and the frame-level NLL."""

import math

import keras
import numpy as np
import pytest

import htkeras
from htkeras.data import frame_nll, load_poly_music, next_step_batch

from .test_fsdd_training import data_or_skip


@pytest.fixture(scope="module")
def jsb():
    data_or_skip("poly_music")
    return {split: load_poly_music("JSB_Chorales", split) for split in ("train", "valid", "test")}


def test_jsb_splits_are_the_published_ones(jsb):
    assert [len(jsb[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    for rolls in jsb.values():
        assert all(r.shape[1] == 88 and r.dtype == np.float32 and set(np.unique(r)) <= {0.0, 1.0} for r in rolls)
    assert np.mean([r.sum(axis=1).mean() for r in jsb["train"]]) == pytest.approx(4, abs=0.5)  # four voices


def test_next_step_batch_and_nll(jsb):
    rolls = jsb["valid"][:3]
    x, y, mask = next_step_batch(rolls)
    assert x.shape == y.shape == (3, max(len(r) for r in rolls) - 1, 88)
    np.testing.assert_array_equal(y[0, : len(rolls[0]) - 1], rolls[0][1:])
    np.testing.assert_array_equal(x[1, : len(rolls[1]) - 1], rolls[1][:-1])
    assert mask.sum() == sum(len(r) - 1 for r in rolls) and not x[mask == 0].any()
    assert frame_nll(np.full_like(y, 0.5), y, mask) == pytest.approx(88 * math.log(2))
    # The key frequencies of the training set beat a coin flip on unseen chorales.
    frequency = np.concatenate(jsb["train"]).mean(axis=0)
    assert frame_nll(np.broadcast_to(frequency, y.shape), y, mask) < 0.5 * 88 * math.log(2)


def test_ht_gru_trains_on_next_step_prediction(jsb):
    x, y, mask = next_step_batch(jsb["train"][:32], max_steps=64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((None, 88)),
        keras.layers.RNN(htkeras.make_cell("ht", 32, "gru", ranks=3), return_sequences=True),
        keras.layers.Dense(88, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    before = frame_nll(model.predict(x, verbose=0), y, mask)
    model.fit(x, y, sample_weight=mask, epochs=5, batch_size=16, verbose=0)
    after = frame_nll(model.predict(x, verbose=0), y, mask)
    assert after < before - 10, (before, after)


def test_chunk_rolls_keep_every_transition_once():
    from htkeras.data import chunk_rolls

    roll = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 88), np.float32)
    pieces = chunk_rolls([roll, roll[:2]], steps=4)
    assert [p[:, 0].tolist() for p in pieces] == [[0, 1, 2, 3, 4], [4, 5, 6, 7, 8], [8, 9], [0, 1]]
    x, y, mask = next_step_batch(pieces)
    assert int(mask.sum()) == 9 + 1  # the transitions of both rolls, none twice
    with pytest.raises(ValueError, match="at least 1"):
        chunk_rolls([roll], 0)
