import math

import keras
import numpy as np
import pytest

import htkeras
from htkeras import ht
from htkeras.math.tree import DimensionTree

from .harness import check_model
from .test_ht_math import random_structure


def make_random_layer(rng, layout, dtype="float64"):
    d = int(rng.integers(2, 4))
    ins = [int(v) for v in rng.integers(1, 5, size=d)]
    outs = [int(v) for v in rng.integers(1, 5, size=d if layout == "paired" else int(rng.integers(1, 4)))]
    num = d if layout == "paired" else len(ins) + len(outs)
    structure = random_structure(rng.permutation(num).tolist(), rng)
    layer = htkeras.HTDense(
        ins, outs, ranks=int(rng.integers(1, 5)), layout=layout, tree=structure,
        bias_initializer="random_normal", dtype=dtype, allow_larger=True,  # random small sizes: often larger than dense
    )
    layer.build((None, math.prod(ins)))
    return layer


@pytest.mark.parametrize("layout", ["separate", "paired"])
def test_layer_equals_dense_reconstruction_float64(layout, rng):
    for _ in range(8):
        layer = make_random_layer(rng, layout)
        x = rng.standard_normal((5, layer.input_dim))
        y = keras.ops.convert_to_numpy(layer(x))
        expected = x @ layer.dense_kernel() + keras.ops.convert_to_numpy(layer.bias)
        np.testing.assert_allclose(y, expected, atol=1e-10, rtol=0)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow graphs and XLA")
def test_graph_and_xla_traces_use_their_own_plans(rng):
    """A TensorFlow graph runs the plan with batched matmuls, an XLA compilation the einsum-only plan (the
    faster one for each, ``contraction.matmuls_pay``); both equal the dense product, through the layer and
    through a recurrent layer that prepares the weights once per sequence."""
    import tensorflow as tf

    layer = htkeras.HTDense([4, 6, 5], [3, 2, 4], ranks=3, dtype="float64")
    layer.build((None, 120))
    x = tf.constant(rng.standard_normal((7, 120)))
    expected = x.numpy() @ layer.dense_kernel()
    for jit_compile in (False, True):
        y = tf.function(layer.__call__, jit_compile=jit_compile)(x)
        np.testing.assert_allclose(y.numpy(), expected, atol=1e-10, rtol=0)
    graph_rest, xla_rest = layer.split_plan(1, matmuls=True)[1], layer.split_plan(1, matmuls=False)[1]
    assert any(s.matmul for s in graph_rest.steps) and not any(s.matmul for s in xla_rest.steps)

    rnn = htkeras.RNN(htkeras.FDHTLSTMCell(units=12, ranks=3))
    inputs = tf.constant(rng.standard_normal((4, 5, 20)).astype("float32"))
    eager = keras.ops.convert_to_numpy(rnn(inputs))
    for jit_compile in (False, True):
        traced = tf.function(rnn.__call__, jit_compile=jit_compile)(inputs)
        np.testing.assert_allclose(traced.numpy(), eager, atol=1e-5)


def test_layer_float32_and_leading_dims(rng):
    layer = htkeras.HTDense([4, 5], [3, 2], ranks=3)
    x = rng.standard_normal((2, 7, 20)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == (2, 7, 6) and y.dtype == np.float32
    np.testing.assert_allclose(y, x @ layer.dense_kernel(), atol=1e-5)
    assert layer.compute_output_shape((None, 7, 20)) == (None, 7, 6)


def test_ucf11_input_map_has_1245_weights():
    layer = htkeras.HTDense(input_modes=[8, 20, 20, 18], output_modes=[16, 4, 4, 4], ranks=5, use_bias=False)
    layer.build((None, 57600))
    assert layer.count_params() == 1245
    stats = layer.compression_stats()
    assert stats.dense_params == 4 * 57600 * 256 and round(stats.compression) == 47375


def test_automatic_modes_and_units():
    layer = htkeras.HTDense(units=64, ranks=2)
    layer.build((None, 40))
    assert layer.resolved_input_modes == (5, 8) and layer.resolved_output_modes == (8, 8)
    paired = htkeras.HTDense(units=64, ranks=2, leaves="paired", num_modes=3)
    paired.build((None, 27))
    assert paired.resolved_input_modes == (3, 3, 3) and paired.resolved_output_modes == (4, 4, 4)


def test_padding_is_exact(rng):
    layer = htkeras.HTDense(units=6, ranks=3, pad_inputs=True, num_modes=2, dtype="float64")
    layer.build((None, 53))  # 53 is prime: padded to 54 = 6 x 9
    assert layer.padded_input_dim == 54
    x = rng.standard_normal((4, 53))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x @ layer.dense_kernel(), atol=1e-10)
    assert layer.dense_kernel().shape == (53, 6)


@pytest.mark.parametrize(
    "initializer, target",
    [("glorot_normal", 2.0 / (64 + 32)), ("glorot_uniform", 2.0 / (64 + 32)), ("he_normal", 2.0 / 64),
     ("lecun_uniform", 1.0 / 64)],
)
def test_initializer_gives_the_product_the_dense_variance(initializer, target):
    for seed in range(5):
        init = keras.initializers.get({"class_name": initializer, "config": {"seed": seed}})
        layer = htkeras.HTDense([4, 4, 4], [2, 4, 4], ranks=3, kernel_initializer=init)
        layer.build((None, 64))
        kernel = layer.dense_kernel()
        np.testing.assert_allclose(np.mean(kernel**2), target, rtol=1e-4)
        assert abs(np.mean(kernel)) < 0.2 * np.sqrt(target)
    first, second = (keras.ops.convert_to_numpy(w) for w in layer.weights[:2])
    assert first.shape != second.shape or not np.allclose(first, second)  # factors get different seeds


def test_squared_norm_matches_dense(rng):
    layer = make_random_layer(rng, "separate")
    factors = [keras.ops.convert_to_numpy(f) for f in layer.factors]
    np.testing.assert_allclose(ht.squared_norm(layer.tree, factors), (layer.dense_kernel() ** 2).sum(), rtol=1e-10)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: htkeras.HTDense([4, 4], [2, 2]).build((None, 15)), r"input size 15 .*input_modes=\[3, 5\]"),
        (lambda: htkeras.HTDense([4, 4], [2, 2], ranks=0).build((None, 16)), "ranks"),
        (lambda: htkeras.HTDense([4, 4], [2, 2, 2], layout="paired").build((None, 16)), "as many output modes"),
        (lambda: htkeras.HTDense([4, 4], [2, 2], tree=[[0, 1], 2]).build((None, 16)), "exactly once"),
        (lambda: htkeras.HTDense([4, 4]).build((None, 16)), "output_modes.*or `units`"),
        (lambda: htkeras.HTDense([4, 4], [2, 2], units=5), "does not match"),
        (lambda: htkeras.HTDense(units=4, num_modes=2).build((None, 53)), "pad_inputs=True"),
    ],
)
def test_bad_input_gets_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layout", ["separate", "paired"])
def test_harness(layout, tmp_path, rng):
    ranks = {"separate": 3, "paired": 2}[layout]

    def make_model():
        inputs = keras.Input((12,))
        layer = htkeras.HTDense([3, 4], [2, 5], ranks=ranks, layout=layout, activation="tanh", name="ht")
        return keras.Model(inputs, layer(inputs))

    tree = DimensionTree([3, 4], [2, 5], layout)
    expected = ht.parameter_count(tree, tree.resolve_ranks(ranks)) + 10
    x = rng.standard_normal((8, 12)).astype("float32")
    check_model(make_model, x, expected, tmp_path)


def test_config_round_trip_keeps_structure_and_rank_mapping():
    layer = htkeras.HTDense([2, 3], [4, 5], ranks={0: 2, 2: 3, "0,2": 2, 1: 2, 3: 2, (1, 3): 3}, tree=[[0, 2], [1, 3]])
    clone = htkeras.HTDense.from_config(layer.get_config())
    for a in (layer, clone):
        a.build((None, 6))
    assert clone.node_ranks == layer.node_ranks and clone.tree.structure == layer.tree.structure
    assert clone.count_params() == layer.count_params()


def test_leaves_is_the_former_name_of_layout():
    """``layout`` names the leaf choice as in the other layers; configs written with ``leaves`` still load."""
    layer = htkeras.HTDense([4, 4], [2, 2], ranks=2, leaves="paired")
    assert layer.layout == "paired" and layer.get_config()["layout"] == "paired" and "leaves" not in layer.get_config()
    old = {**layer.get_config(), "leaves": "paired"}
    del old["layout"]
    assert htkeras.HTDense.from_config(old).layout == "paired"
    with pytest.raises(ValueError, match="former name of `layout`"):
        htkeras.HTDense([4, 4], [2, 2], layout="paired", leaves="separate")
