"""Conversion of trained Keras weights: from_dense and from_rnn."""

import keras
import numpy as np
import pytest

import htkeras

ON_TF = keras.backend.backend() == "tensorflow"
ADAPTIVE = ["ht", "tr", "tucker"] + (["tt"] if ON_TF else [])


def dense_layer(rng, units=24, input_dim=30):
    layer = keras.layers.Dense(units, activation="relu")
    layer.build((None, input_dim))
    layer.bias.assign(rng.standard_normal(units).astype("float32"))
    return layer


def outputs(layer, x):
    return keras.ops.convert_to_numpy(layer(x))


@pytest.mark.parametrize("kind", ADAPTIVE)
def test_from_dense_at_tolerance_zero_is_exact(kind, rng):
    dense = dense_layer(rng)
    new, report = htkeras.from_dense(dense, kind, tolerance=0)
    x = rng.standard_normal((4, 30)).astype("float32")
    np.testing.assert_allclose(outputs(new, x), outputs(dense, x), atol=1e-5)
    assert report.relative_error < 1e-6 and report.params == new.count_params()
    assert new.activation is dense.activation


@pytest.mark.parametrize("kind", ADAPTIVE + ["bt", "cp"])
def test_from_dense_tolerance_and_rank(kind, rng):
    dense = dense_layer(rng)
    kernel = keras.ops.convert_to_numpy(dense.kernel).astype("float64")
    exact = htkeras.from_dense(dense, kind, tolerance=0)[1] if kind in ADAPTIVE else None
    loose, report = htkeras.from_dense(dense, kind, tolerance=0.6)
    measured = np.linalg.norm(loose.dense_kernel() - kernel) / np.linalg.norm(kernel)
    assert report.relative_error == pytest.approx(measured, rel=1e-4)
    assert 0 < report.relative_error <= 0.6 + 1e-6
    if exact is not None:  # the tolerance really lowers the ranks (t3f ignores its own `epsilon`)
        assert report.params < exact.params
    _, report2 = htkeras.from_dense(dense, kind, rank=2)
    assert report2.relative_error > 0 and max(np.ravel(report2.ranks["kernel"])) <= 2


def test_tt_tolerance_gives_the_ranks_tt_svd_chooses(rng):
    if not ON_TF:
        pytest.skip("t3f is TensorFlow only")
    dense = dense_layer(rng, units=64, input_dim=64)
    new, report = htkeras.from_dense(dense, "tt", tolerance=0.5, input_modes=[4, 4, 4], output_modes=[4, 4, 4])
    assert new.tt_ranks[0] == new.tt_ranks[-1] == 1 and max(new.tt_ranks) < 16
    assert report.relative_error <= 0.5


def test_from_dense_budget(rng):
    dense = dense_layer(rng)
    for kind in ["ht", "tr", "cp"]:
        new, report = htkeras.from_dense(dense, kind, budget=300)
        assert report.params <= 300 and new.count_params() == report.params


def test_from_dense_errors(rng):
    dense = dense_layer(rng)
    with pytest.raises(ValueError, match="exactly one of"):
        htkeras.from_dense(dense, "ht")
    with pytest.raises(ValueError, match="exactly one of"):
        htkeras.from_dense(dense, "ht", rank=2, budget=100)
    with pytest.raises(ValueError, match="already dense"):
        htkeras.from_dense(dense, "dense", rank=2)
    with pytest.raises(ValueError, match="built keras.layers.Dense"):
        htkeras.from_dense(keras.layers.Dense(3), "ht", rank=2)
    with pytest.raises(ValueError, match="built keras.layers.LSTM or GRU"):
        htkeras.from_rnn(dense, "ht", rank=2)


RNNS = {
    "lstm": lambda: keras.layers.LSTM(8, return_sequences=True),
    "gru": lambda: keras.layers.GRU(8),
    "gru-reset-before": lambda: keras.layers.GRU(8, reset_after=False, go_backwards=True),
}
CONVERSIONS = [("ht", {}), ("fdht", {}), ("tr", {"structure": "both"}), ("tucker", {"structure": "joint"})]
if ON_TF:
    CONVERSIONS.append(("tt", {"structure": "both"}))


@pytest.mark.parametrize("rnn", list(RNNS))
@pytest.mark.parametrize("kind,options", CONVERSIONS)
def test_from_rnn_at_tolerance_zero_reproduces_the_layer(rnn, kind, options, rng):
    layer = RNNS[rnn]()
    x = rng.standard_normal((3, 5, 6)).astype("float32")
    expected = outputs(layer, x)
    new, report = htkeras.from_rnn(layer, kind, tolerance=0, **options)
    np.testing.assert_allclose(outputs(new, x), expected, atol=1e-5)
    assert report.relative_error < 1e-6
    assert new.return_sequences == layer.return_sequences and new.go_backwards == layer.go_backwards
    if kind == "fdht":
        assert list(report.ranks) == ["joint_map"]


def test_from_rnn_reduced_rank_report_and_dropout_kept(rng):
    layer = keras.layers.LSTM(8, dropout=0.2, recurrent_dropout=0.1, seed=5)
    layer.build((None, 5, 6))
    new, report = htkeras.from_rnn(layer, "ht", rank=1)
    assert (new.cell.dropout, new.cell.recurrent_dropout, new.cell.seed) == (0.2, 0.1, 5)
    kernel = keras.ops.convert_to_numpy(layer.cell.kernel)
    recurrent = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
    error = np.linalg.norm(new.cell.kernel_map.dense_kernel() - kernel)
    assert report.relative_error == pytest.approx(error / np.linalg.norm(np.concatenate([kernel, recurrent])), rel=1e-4)
    assert report.map_errors["recurrent_kernel"] == 0.0 and report.compression > 1
    assert "relative error" in str(report)
