import keras
import numpy as np
import pytest

import htkeras
from htkeras import ht
from htkeras.math.tree import DimensionTree

from .harness import check_model

I, H, T = 6, 8, 5  # input size, units, time steps  # noqa: E741

CELLS = {
    "HTLSTMCell": (htkeras.HTLSTMCell, 4, "input"),
    "HTGRUCell": (htkeras.HTGRUCell, 3, "input"),
    "FDHTLSTMCell": (htkeras.FDHTLSTMCell, 4, "joint"),
    "FDHTGRUCell": (htkeras.FDHTGRUCell, 3, "joint"),
}


def expected_params(gates, structure, input_modes, hidden_modes, ranks, bias):
    out_modes = [gates * hidden_modes[0]] + list(hidden_modes[1:])
    tree = DimensionTree(input_modes, out_modes)
    count = ht.parameter_count(tree, tree.resolve_ranks(ranks)) + bias
    return count + (H * gates * H if structure == "input" else 0)


def input_modes(structure):
    return [2, 3] if structure == "input" else [2, 7]  # joint: I + H = 14


def cell_params(name, bias):
    """The formula's count for ``CELLS[name]`` at ranks 2, input modes ``input_modes``, hidden modes [2, 4]."""
    _, gates, structure = CELLS[name]
    return expected_params(gates, structure, input_modes(structure), [2, 4], 2, bias)


def sequences(rng, n=4):
    return rng.standard_normal((n, T, I)).astype("float32")


DROPOUT = {"none": {}, "both": {"dropout": 0.25, "recurrent_dropout": 0.25, "seed": 3}}


@pytest.mark.parametrize("dropout", list(DROPOUT))
@pytest.mark.parametrize("rnn", [keras.layers.RNN, htkeras.RNN])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_harness(name, rnn, dropout, tmp_path, rng):
    cls, gates, structure = CELLS[name]

    def make_model():
        inputs = keras.Input((T, I))
        cell = cls(H, ranks=2, input_modes=input_modes(structure), hidden_modes=[2, 4], **DROPOUT[dropout])
        return keras.Model(inputs, rnn(cell)(inputs))

    bias = 2 * 3 * H if gates == 3 else 4 * H  # GRU reset_after: (2, 3H)
    check_model(make_model, sequences(rng), cell_params(name, bias), tmp_path)


@pytest.mark.parametrize("name", ["HTGRUCell", "FDHTGRUCell"])
def test_gru_reset_before_harness(name, tmp_path, rng):
    cls, _, structure = CELLS[name]

    def make_model():
        inputs = keras.Input((T, I))
        cell = cls(H, ranks=2, input_modes=input_modes(structure), hidden_modes=[2, 4], reset_after=False,
                   **DROPOUT["both"])
        return keras.Model(inputs, keras.layers.RNN(cell)(inputs))

    assert make_model().layers[1].cell.bias.shape == (3 * H,)
    check_model(make_model, sequences(rng), cell_params(name, 3 * H), tmp_path)


def keras_reference(name, cell, reset_after=True):
    """The Keras cell with the same dense weights as `cell` (checks the gate math)."""
    gates = CELLS[name][1]
    if CELLS[name][2] == "joint":
        dense = cell.joint_map.dense_kernel()
        kernel, recurrent = dense[:I], dense[I : I + H]
    else:
        kernel, recurrent = cell.kernel_map.dense_kernel(), keras.ops.convert_to_numpy(cell.recurrent_kernel)
    bias = keras.ops.convert_to_numpy(cell.bias)
    ref = keras.layers.LSTMCell(H) if gates == 4 else keras.layers.GRUCell(H, reset_after=reset_after)
    ref.build((None, I))
    ref.set_weights([kernel, recurrent, bias])
    return ref


@pytest.mark.parametrize("name", list(CELLS))
def test_cells_match_keras_cells_with_the_same_dense_weights(name, rng):
    cls = CELLS[name][0]
    cell = cls(H, ranks=3, bias_initializer="random_normal", dtype="float64")
    layer = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((3, T, I))
    ours = keras.ops.convert_to_numpy(layer(x))
    ref = keras.layers.RNN(keras_reference(name, cell), return_sequences=True, dtype="float64")
    ref.build((None, T, I))
    ref.cell.set_weights(keras_reference(name, cell).get_weights())
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(ref(x)), atol=1e-6)


@pytest.mark.parametrize("rnn", [keras.layers.RNN, htkeras.RNN])
@pytest.mark.parametrize("name", list(CELLS))
def test_input_dropout_draws_keras_masks(name, rnn, rng):
    """With the same weights and seed, a cell's input dropout in training is Keras' (one mask per sequence,
    drawn as Keras draws it), through the per-step loop and the once-per-sequence one alike."""
    cls = CELLS[name][0]
    cell = cls(H, ranks=3, bias_initializer="random_normal", dropout=0.4, seed=7)
    x = rng.standard_normal((3, T, I)).astype("float32")
    ours = rnn(cell, return_sequences=True)
    ours.build((None, T, I))
    ref = keras_reference(name, cell)
    keras_cell = type(ref)(H, dropout=0.4, seed=7)
    theirs = keras.layers.RNN(keras_cell, return_sequences=True)
    theirs.build((None, T, I))
    keras_cell.set_weights(ref.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x, training=True))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x, training=True)), expected, atol=1e-5)
    assert np.abs(expected - keras.ops.convert_to_numpy(theirs(x, training=False))).max() > 1e-3


def test_recurrent_dropout_mask_is_the_same_at_every_step(rng):
    """Recurrent dropout draws one mask per sequence: the per-step loop and the once-per-sequence loop, from the
    same seed, give the same training outputs; a second call draws new masks."""
    x = rng.standard_normal((3, T, I)).astype("float32")
    layers = [rnn(htkeras.FDHTGRUCell(H, ranks=3, recurrent_dropout=0.5, dropout=0.2, seed=1), return_sequences=True)
              for rnn in (keras.layers.RNN, htkeras.RNN)]
    for layer in layers:
        layer.build((None, T, I))
    layers[1].set_weights(layers[0].get_weights())
    first = [keras.ops.convert_to_numpy(layer(x, training=True)) for layer in layers]
    np.testing.assert_allclose(first[0], first[1], atol=1e-5)
    assert np.abs(keras.ops.convert_to_numpy(layers[0](x, training=True)) - first[0]).max() > 1e-3


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.5", True])
def test_dropout_rates_are_checked(value):
    with pytest.raises(ValueError, match="fraction in"):
        htkeras.HTLSTMCell(8, dropout=value)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        htkeras.FDHTGRUCell(8, recurrent_dropout=value)


@pytest.mark.parametrize("cls", [htkeras.HTGRUCell, htkeras.FDHTGRUCell])
def test_gru_reset_before_matches_keras(cls, rng):
    cell = cls(H, ranks=3, reset_after=False, bias_initializer="random_normal", dtype="float64")
    layer = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((3, T, I))
    ours = keras.ops.convert_to_numpy(layer(x))
    name = cls.__name__
    ref = keras.layers.RNN(keras_reference(name, cell, reset_after=False), return_sequences=True, dtype="float64")
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(ref(x)), atol=1e-6)


@pytest.mark.parametrize("name", list(CELLS))
def test_rnn_options(name, rng):
    cls = CELLS[name][0]
    x = sequences(rng)
    x[1, 3:] = 0.0  # padded tail, masked below
    cell = cls(H, ranks=2)
    seq_layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    outputs = seq_layer(x)
    assert outputs[0].shape == (4, T, H) and all(s.shape == (4, H) for s in outputs[1:])

    rnn = keras.layers.RNN(cls.from_config(cell.get_config()))
    masked = keras.Sequential([keras.Input((T, I)), keras.layers.Masking(0.0), rnn])
    short = masked.predict(x[1:2, :3], verbose=0)  # same weights on the unpadded prefix
    full = masked.predict(x[1:2], verbose=0)
    np.testing.assert_allclose(short, full, atol=1e-5)

    rolled = keras.layers.RNN(cell)
    unrolled = keras.layers.RNN(cell, unroll=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rolled(x)), keras.ops.convert_to_numpy(unrolled(x)), atol=1e-5)

    backwards = keras.layers.RNN(cell, go_backwards=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(backwards(x)), keras.ops.convert_to_numpy(rolled(x[:, ::-1])), atol=1e-5
    )


@pytest.mark.parametrize("name", ["HTLSTMCell", "FDHTGRUCell"])
def test_bidirectional_harness(name, tmp_path, rng):
    cls, gates, structure = CELLS[name]

    def make_model():
        inputs = keras.Input((T, I))
        cell = cls(H, ranks=2, input_modes=input_modes(structure), hidden_modes=[2, 4], recurrent_activation="hard_sigmoid")
        return keras.Model(inputs, keras.layers.Bidirectional(keras.layers.RNN(cell))(inputs))

    bias = 2 * 3 * H if gates == 3 else 4 * H
    check_model(make_model, sequences(rng), 2 * cell_params(name, bias), tmp_path)  # forward and backward cells


def test_ucf11_preset_and_fdht_default():
    cell = htkeras.HTLSTMCell.from_preset("ucf11_ht_lstm")
    cell.build((None, 57600))
    assert cell.kernel_map.count_params() == 1245
    assert cell.kernel_map.resolved_output_modes == (16, 4, 4, 4)
    fdht = keras.layers.RNN(htkeras.FDHTLSTMCell(units=64, ranks=4))
    assert fdht(np.zeros((2, 3, 40), "float32")).shape == (2, 64)
    with pytest.raises(ValueError, match="is a HTLSTMCell"):
        htkeras.FDHTLSTMCell.from_preset("ucf11_ht_lstm")
    with pytest.raises(ValueError, match="Did you mean"):
        htkeras.HTLSTMCell.from_preset("ucf11_ht_lsmt")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: htkeras.HTLSTMCell(8, hidden_modes=[3, 3]), r"hidden_modes.*units=8"),
        (lambda: htkeras.HTLSTMCell(8, structure="joint"), "always uses structure='input'"),
        (lambda: htkeras.HTLSTMCell(0), "units"),
        (lambda: htkeras.FactorizedLSTMCell(8, decomposition="htt"), "Did you mean"),
        (lambda: keras.layers.RNN(htkeras.FDHTLSTMCell(53, ranks=2, pad_inputs=False))(np.zeros((1, 2, 53))), "pad_inputs=True"),
        (lambda: keras.layers.RNN(htkeras.HTLSTMCell(8, input_modes=[2, 2]))(np.zeros((1, 2, 6))), r"input size 6"),
    ],
)
def test_bad_cell_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- htkeras.RNN: the state-independent work once per sequence ---------------------------------------------
SEQUENCE_CASES = {
    "HT-LSTM": ("ht", "lstm", {}),
    "HT-GRU, reset before": ("ht", "gru", {"reset_after": False}),
    "FDHT-LSTM": ("fdht", "lstm", {}),
    "FDHT-GRU": ("fdht", "gru", {}),
    "FDHT-GRU, reset before": ("fdht", "gru", {"reset_after": False}),
    "TR-GRU, both maps": ("tr", "gru", {"structure": "both"}),
    "CP-LSTM, joint map": ("cp", "lstm", {"structure": "joint"}),
}


@pytest.mark.parametrize("input_dim", [6, 20000])  # small: the step forms W_h; large: factorized steps
@pytest.mark.parametrize("case", list(SEQUENCE_CASES))
def test_htkeras_rnn_equals_keras_rnn(case, input_dim, rng):
    kind, cell_type, options = SEQUENCE_CASES[case]
    cell = htkeras.make_cell(kind, H, cell_type, ranks=2, **options)
    x = rng.standard_normal((3, T, input_dim)).astype("float32")
    x[1, 3:] = 0.0
    masked = keras.layers.Masking(0.0)(x)
    for kwargs in ({}, {"return_sequences": True}, {"go_backwards": True}, {"unroll": True}):
        expected = keras.ops.convert_to_numpy(keras.layers.RNN(cell, **kwargs)(masked))
        got = keras.ops.convert_to_numpy(htkeras.RNN(cell, **kwargs)(masked))
        np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)
    if cell.structure == "joint":  # both regimes are exercised: the whole matrix only for the small map
        assert cell.joint_map.forms_matrix(T) == (input_dim == 6)


def test_htkeras_rnn_harness_and_weights_interchangeable_with_keras_rnn(tmp_path, rng):
    def make_model(layer=htkeras.RNN):
        inputs = keras.Input((T, I))
        cell = htkeras.FDHTGRUCell(H, ranks=2, input_modes=input_modes("joint"), hidden_modes=[2, 4])
        return keras.Model(inputs, layer(cell)(inputs))

    model = check_model(make_model, sequences(rng), cell_params("FDHTGRUCell", 2 * 3 * H), tmp_path)
    model.save_weights(tmp_path / "m.weights.h5")
    plain = make_model(keras.layers.RNN)
    plain.load_weights(tmp_path / "m.weights.h5")  # same paths: Keras names saved weights by class name
    x = sequences(rng)
    np.testing.assert_allclose(plain.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_htkeras_rnn_computes_the_input_map_once_per_sequence(rng):
    cell = htkeras.HTLSTMCell(H, ranks=2)
    calls = []
    cell.build((None, I))
    original = cell.kernel_map.apply
    cell.kernel_map.apply = lambda x, *a, **k: calls.append(tuple(x.shape)) or original(x, *a, **k)
    htkeras.RNN(cell)(sequences(rng))
    assert calls == [(4, T, I)]  # one call on all steps, none inside the loop
