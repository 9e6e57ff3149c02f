"""One registry of decompositions: a kind registered once works through every entry point that takes kinds by
name (``make_linear_map``, ``make_cell``, a cell's ``decomposition``, ``from_dense``, ``from_rnn``, sweeps over
``KINDS``)."""

import keras
import numpy as np
import pytest

import htkeras
from htkeras import registry
from htkeras.layers import NetworkDense
from htkeras.layers.factorized import MatrixFit
from htkeras.math import networks

from .harness import check_model

I, H, T = 6, 8, 5  # noqa: E741  (input size, units, time steps)


class LowRankDense(NetworkDense):
    """``W = A B`` with ``A`` ``(input_dim, r)`` and ``B`` ``(r, units)``: a small format written for this test."""

    _layout_argument = False
    adaptive_ranks = True

    def _build_network(self, input_modes, output_modes):
        sizes = {**networks.physical_sizes(input_modes, output_modes), "rank": int(self.ranks)}
        rows = tuple(("in", k) for k in range(len(input_modes)))
        cols = tuple(("out", k) for k in range(len(output_modes)))
        return networks.Network((rows + ("rank",), ("rank",) + cols), sizes, tuple(input_modes), tuple(output_modes))

    def _factor_names(self):
        return ["left", "right"]

    def _num_terms(self):
        return int(self.ranks)

    def decompose(self, matrix, max_rank=None, rtol=None):
        u, s, vt = np.linalg.svd(matrix, full_matrices=False)
        tails = np.sqrt(np.cumsum((s**2)[::-1])[::-1] / (s**2).sum())  # tails[r]: error when keeping r
        rank = len(s) if rtol is None else next((r for r in range(1, len(s)) if tails[r] <= rtol), len(s))
        rank = min(rank, int(max_rank)) if max_rank else rank
        error = float(tails[rank]) if rank < len(s) else 0.0
        return MatrixFit(rank, [u[:, :rank] * s[:rank], vt[:rank]], error)


@pytest.fixture
def lowrank(monkeypatch):
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))  # registered for this test only
    return htkeras.register_linear_map("lowrank", LowRankDense)


def test_a_registered_kind_is_a_map_and_a_sweep_entry(lowrank, rng):
    assert lowrank.converts and lowrank.factorized and lowrank.cells == {}
    assert list(htkeras.factory.KINDS)[-1] == "lowrank" and htkeras.linear_map_class("lowrank") is LowRankDense
    layer = htkeras.make_linear_map("lowrank", 12, ranks=3, input_modes=[4, 5], output_modes=[3, 4])
    layer.build((None, 20))
    assert layer.count_params() == 20 * 3 + 3 * 12 + 12
    x = rng.standard_normal((3, 20)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)),
                               x @ layer.dense_kernel() + keras.ops.convert_to_numpy(layer.bias), atol=1e-5)
    by_budget = htkeras.make_linear_map("lowrank", 12, budget=150, input_dim=20)
    assert by_budget.ranks == 4  # 4 * 32 + 12 = 140 <= 150 < 5 * 32 + 12
    counts = {kind: htkeras.make_cell(kind, H, "gru", ranks=None if kind == "dense" else 2) for kind in htkeras.factory.KINDS}
    assert isinstance(counts["lowrank"], htkeras.FactorizedGRUCell) and counts["lowrank"].decomposition == "lowrank"


@pytest.mark.parametrize("cell, structure", [("lstm", "input"), ("gru", "joint")])
def test_a_registered_kind_makes_cells_that_train_and_serialize(lowrank, cell, structure, rng, tmp_path):
    modes = [2, 3] if structure == "input" else [2, 7]  # joint: the map takes [x, h], 6 + 8 = 14

    def make_model():
        inputs = keras.Input((T, I))
        made = htkeras.make_cell("lowrank", H, cell, ranks=2, structure=structure, input_modes=modes,
                                 hidden_modes=[2, 4])
        return keras.Model(inputs, htkeras.RNN(made)(inputs))

    gates = 4 if cell == "lstm" else 3
    width = gates * H
    if structure == "input":  # W_x (6 x r, r x 4H), dense W_h, bias 4H
        expected = 2 * (I + width) + H * width + width
    else:  # one map on [x, h]: (14 x r, r x 3H), GRU bias (2, 3H)
        expected = 2 * (I + H + width) + 2 * width
    check_model(make_model, rng.standard_normal((4, T, I)).astype("float32"), expected, tmp_path)


def test_a_registered_kind_converts_trained_weights(lowrank, rng):
    dense = keras.layers.Dense(12)
    dense.build((None, 20))
    x = rng.standard_normal((4, 20)).astype("float32")
    exact, report = htkeras.from_dense(dense, "lowrank", tolerance=0)
    assert isinstance(exact, LowRankDense) and report.relative_error < 1e-6
    np.testing.assert_allclose(keras.ops.convert_to_numpy(exact(x)), keras.ops.convert_to_numpy(dense(x)), atol=1e-5)
    small, report = htkeras.from_dense(dense, "lowrank", rank=2)
    assert small.ranks == 2 and 0 < report.relative_error < 1

    lstm = keras.layers.LSTM(H)
    sequences = rng.standard_normal((3, T, I)).astype("float32")
    expected = keras.ops.convert_to_numpy(lstm(sequences))
    rnn, report = htkeras.from_rnn(lstm, "lowrank", tolerance=0)
    assert rnn.cell.decomposition == "lowrank" and report.relative_error < 1e-6
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rnn(sequences)), expected, atol=1e-5)


def test_registration_is_checked(lowrank):
    with pytest.raises(ValueError, match="FactorizedDense subclass"):
        htkeras.register_linear_map("plain", keras.layers.Dense)
    with pytest.raises(ValueError, match="registered already"):
        htkeras.register_linear_map("ht", LowRankDense)
    with pytest.raises(ValueError, match="Did you mean"):
        htkeras.make_cell("lowrnk", H)
