"""The baseline formats (TT on t3f, TR, Block-Term, CP, Tucker): layers, cells, presets and the registry."""

import math

import keras
import numpy as np
import pytest

import htkeras
from htkeras import networks

from .harness import check_model

ON_TF = keras.backend.backend() == "tensorflow"
needs_tf = pytest.mark.skipif(not ON_TF, reason="TTDense runs on t3f (TensorFlow only)")

# (class, extra options, paired?) for every flat format and layout
FORMATS = {
    "tt": (htkeras.TTDense, {}, True),
    "tr-separate": (htkeras.TRDense, {"layout": "separate"}, False),
    "tr-paired": (htkeras.TRDense, {"layout": "paired"}, True),
    "tucker-paired": (htkeras.TuckerDense, {"layout": "paired"}, True),
    "tucker-separate": (htkeras.TuckerDense, {"layout": "separate"}, False),
    "bt": (htkeras.BTDense, {"blocks": 3}, True),
    "cp-paired": (htkeras.CPDense, {"layout": "paired"}, True),
    "cp-separate": (htkeras.CPDense, {"layout": "separate"}, False),
}


format_params = pytest.mark.parametrize("name", [pytest.param(n, marks=needs_tf) if n == "tt" else n for n in FORMATS])


def random_layer(name, rng, dtype="float64"):
    cls, options, paired = FORMATS[name]
    d = int(rng.integers(2, 4))
    ins = [int(v) for v in rng.integers(1, 5, size=d)]
    outs = [int(v) for v in rng.integers(1, 5, size=d if paired else int(rng.integers(1, 4)))]
    layer = cls(ins, outs, ranks=int(rng.integers(1, 4)), bias_initializer="random_normal", dtype=dtype,
                allow_larger=True, **options)  # random small sizes: often larger than a dense kernel
    layer.build((None, math.prod(ins)))
    return layer


@format_params
def test_layer_equals_dense_reconstruction_float64(name, rng):
    for _ in range(6):
        layer = random_layer(name, rng)
        x = rng.standard_normal((5, layer.input_dim))
        expected = x @ layer.dense_kernel() + keras.ops.convert_to_numpy(layer.bias)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-10, rtol=0)


@format_params
def test_squared_norm_and_initial_variance(name, rng):
    layer = random_layer(name, rng)
    factors = [keras.ops.convert_to_numpy(f) for f in layer.factors]
    dense = layer._dense_from_factors(factors)
    assert layer._squared_norm(factors) == pytest.approx(float((dense**2).sum()), rel=1e-10)
    # Glorot uniform: the product's mean square equals 2 / (fan_in + fan_out), exactly after rescaling
    assert (dense**2).mean() == pytest.approx(2.0 / (layer.input_dim + layer.output_dim), rel=1e-6)


@needs_tf
def test_tt_dense_equals_t3f_full_float32(rng):
    import t3f

    layer = htkeras.TTDense([4, 5, 3], [2, 3, 4], ranks=[3, 2], use_bias=False)
    x = rng.standard_normal((6, 60)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    full = keras.ops.convert_to_numpy(t3f.full(layer.tensor_train()))
    assert full.shape == (60, 24) and layer.tt_ranks == (1, 3, 2, 1)
    np.testing.assert_allclose(y, x @ full, atol=1e-5)
    np.testing.assert_allclose(layer.dense_kernel(), full, atol=1e-6)


@needs_tf
def test_tt_counts_published_by_yang_et_al():
    layer = htkeras.TTDense(input_modes=[8, 20, 20, 18], output_modes=[16, 4, 4, 4], ranks=4, use_bias=False)
    layer.build((None, 57600))
    assert layer.count_params() == 3360
    assert [tuple(f.shape) for f in layer.factors] == [(1, 8, 16, 4), (4, 20, 4, 4), (4, 20, 4, 4), (4, 18, 4, 1)]


@pytest.mark.parametrize(
    "preset", [pytest.param(p, marks=needs_tf) if "_tt_" in p else p for p in htkeras.presets.PRESETS]
)
def test_presets_have_the_published_input_map_counts(preset):
    spec = htkeras.presets.get_preset(preset)
    cell = getattr(htkeras, spec["cell"]).from_preset(preset)
    cell.build((None, spec["input_shape"][-1]))
    assert cell.kernel_map.count_params() == spec["input_map_parameters"]


def test_block_term_ucf11_count():
    layer = htkeras.BTDense([8, 20, 20, 18], [16, 4, 4, 4], ranks=4, blocks=2, use_bias=False)
    layer.build((None, 57600))
    assert layer.count_params() == 3392


@format_params
def test_layer_harness(name, tmp_path, rng):
    cls, options, paired = FORMATS[name]
    outs = [2, 3] if paired else [6]

    def make_model():
        inputs = keras.Input((12,))
        layer = cls([3, 4], outs, ranks=2, activation="tanh", allow_larger=True, **options)  # BT: 2 blocks > dense
        return keras.Model(inputs, layer(inputs))

    probe = make_model().layers[1]
    expected = probe.num_factor_parameters + 6
    assert expected == sum(math.prod(s) for s in probe.network.shapes) + 6
    check_model(make_model, rng.standard_normal((8, 12)).astype("float32"), expected, tmp_path)


CELL_KINDS = ["tt", "tr", "bt", "cp", "tucker"]


def cell_params(kinds):
    return pytest.mark.parametrize("kind", [pytest.param(k, marks=needs_tf) if k == "tt" else k for k in kinds])


@cell_params(CELL_KINDS)
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("structure", ["input", "both"])
def test_cell_harness(kind, cell, structure, tmp_path, rng):
    def make_model():
        inputs = keras.Input((5, 6))
        layer = htkeras.make_cell(kind, 8, cell, ranks=2, structure=structure, input_modes=[2, 3], hidden_modes=[2, 4])
        return keras.Model(inputs, keras.layers.RNN(layer)(inputs))

    model = make_model()
    built = model.layers[1].cell
    gates = 4 if cell == "lstm" else 3
    maps = sum(m.count_params() for m in built._maps())
    recurrent = 8 * gates * 8 if structure == "input" else 0
    bias = gates * 8 * (2 if cell == "gru" else 1)
    assert type(built).__name__.lower().startswith(kind) and built.structure == structure
    check_model(make_model, rng.standard_normal((4, 5, 6)).astype("float32"), maps + recurrent + bias, tmp_path)


def test_named_cells_fix_their_decomposition():
    cell = htkeras.TRGRUCell(8)
    assert cell.decomposition == "tr" and cell.structure == "input"
    with pytest.raises(ValueError, match="always uses decomposition='tr'"):
        htkeras.TRGRUCell(8, decomposition="ht")


@cell_params(["ht", "tr", "cp"])
def test_factorized_cells_match_keras_with_the_same_dense_weights(kind, rng):
    """The baseline cells run the same gate math as Keras' LSTM on their dense weights."""
    cell = htkeras.make_cell(kind, 8, "lstm", ranks=3, structure="both", bias_initializer="random_normal", dtype="float64")
    ours = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((3, 5, 6))
    y = keras.ops.convert_to_numpy(ours(x))
    ref_cell = keras.layers.LSTMCell(8, dtype="float64")
    ref_cell.build((None, 6))
    ref_cell.set_weights(
        [cell.kernel_map.dense_kernel(), cell.recurrent_map.dense_kernel(), keras.ops.convert_to_numpy(cell.bias)]
    )
    ref = keras.layers.RNN(ref_cell, return_sequences=True, dtype="float64")
    # Keras 3.15's own LSTMCell computes float64 products in float32 on PyTorch (its ops.matmul casts them)
    atol = 1e-7 if keras.backend.backend() == "torch" else 1e-10
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(ref(x)), atol=atol)


# -- the registry -----------------------------------------------------------------------------------
@cell_params(["ht", "fdht", "tt", "tr", "bt", "cp", "tucker"])
def test_budget_picks_the_largest_rank_that_fits(kind):
    cell = htkeras.make_cell(kind, 32, "gru", budget=4000, input_dim=40)
    bigger = htkeras.make_cell(kind, 32, "gru", ranks=cell.ranks + 1)
    for c in (cell, bigger):
        c.build((None, 40))
    assert cell.count_params() <= 4000 < bigger.count_params()


def test_make_linear_map_by_name():
    for kind in ["dense", "ht", "fdht", "tr", "bt", "cp", "tucker"] + (["tt"] if ON_TF else []):
        layer = htkeras.make_linear_map(kind, 24, **({} if kind == "dense" else {"ranks": 2}))
        assert layer(np.zeros((2, 30), "float32")).shape == (2, 24)
    layer = htkeras.make_linear_map("tr", 24, budget=200, input_dim=30)
    layer.build((None, 30))
    assert layer.count_params() <= 200
    assert isinstance(htkeras.make_cell("dense", 16, "gru"), keras.layers.GRUCell)


def test_registry_errors_are_helpful():
    with pytest.raises(ValueError, match=r"Did you mean \['tucker'\]"):
        htkeras.make_cell("tuker", 8)
    with pytest.raises(ValueError, match="has no ranks"):
        htkeras.make_cell("dense", 8, ranks=2)
    with pytest.raises(ValueError, match="needs `input_dim`"):
        htkeras.make_cell("ht", 8, budget=100)
    with pytest.raises(ValueError, match="over the budget"):
        htkeras.make_cell("ht", 64, budget=10, input_dim=40)
    with pytest.raises(ValueError, match='"lstm" or "gru"'):
        htkeras.make_cell("ht", 8, cell="rnn")
    with pytest.raises(ValueError, match="paired layout needs as many input as output modes"):
        htkeras.TuckerDense([2, 3], [6], ranks=2).build((None, 6))
    with pytest.raises(ValueError, match="3 inner ranks"):
        networks.tt_ranks([2, 2], 4)
    if ON_TF:
        with pytest.raises(ValueError, match="at least 2 modes"):
            htkeras.TTDense([6], [4]).build((None, 6))


@pytest.mark.skipif(ON_TF, reason="checks the error on the other backends")
def test_tt_dense_names_the_backend_problem():
    with pytest.raises(RuntimeError, match="TensorFlow only.*TRDense"):
        htkeras.TTDense([2, 3], [2, 3])
