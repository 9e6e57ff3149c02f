"""Mixed precision: every kind of factorized layer and cell under Keras' ``mixed_float16`` and
``mixed_bfloat16`` policies keeps float32 variables, computes in the policy's 16-bit type, agrees with the
same weights in float32 within the policy's tolerance, and trains (one ``fit`` step changes every weight).

Tolerances (largest difference over the largest float32 output): float16 1e-2, bfloat16 5e-2, a few times
the error measured on these shapes (float16 about 2e-3, bfloat16 about 2e-2, as for Keras' own Dense and
LSTM): the contractions need no float32 inside (``benchmarks/precision.py`` measures the published shapes).
"""

import keras
import numpy as np
import pytest

import htkeras

ON_TF = keras.backend.backend() == "tensorflow"
KINDS = [kind for kind in htkeras.factory.KINDS if kind != "tt" or ON_TF]  # TT runs on t3f (TensorFlow only)
TOLERANCE = {"mixed_float16": 1e-2, "mixed_bfloat16": 5e-2}
INPUT, STEPS, UNITS = 48, 5, 16


@pytest.fixture
def policy(request):
    yield request.param
    keras.config.set_dtype_policy("float32")


def make(kind: str, what: str) -> keras.Model:
    ranks = {} if kind == "dense" else {"ranks": 3}
    keras.utils.set_random_seed(0)
    if what == "layer":
        return keras.Sequential([keras.Input((INPUT,)), htkeras.make_linear_map(kind, 4 * UNITS, **ranks)])
    return keras.Sequential([keras.Input((STEPS, INPUT)), htkeras.RNN(htkeras.make_cell(kind, UNITS, what, **ranks))])


@pytest.mark.parametrize("policy", sorted(TOLERANCE), indirect=True)
@pytest.mark.parametrize("what", ["layer", "lstm", "gru"])
@pytest.mark.parametrize("kind", KINDS)
def test_mixed_precision_matches_float32_and_trains(kind, what, policy):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, INPUT) if what == "layer" else (8, STEPS, INPUT)).astype("float32")
    keras.config.set_dtype_policy("float32")
    reference = make(kind, what)
    expected = keras.ops.convert_to_numpy(reference(x))
    keras.config.set_dtype_policy(policy)
    model = make(kind, what)
    model.set_weights(reference.get_weights())
    assert {w.dtype for w in model.weights} == {"float32"}
    output = model(x)
    assert keras.backend.standardize_dtype(output.dtype) == policy.removeprefix("mixed_")
    error = np.abs(keras.ops.convert_to_numpy(keras.ops.cast(output, "float32")) - expected).max() / np.abs(expected).max()
    assert error < TOLERANCE[policy], f"{kind} {what} under {policy}: relative error {error:.2e}"
    assert error > 0  # the computation really ran in 16 bits

    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    model.fit(x, rng.standard_normal(expected.shape).astype("float32"), batch_size=8, epochs=1, verbose=0)
    unchanged = [w.path for w, b in zip(model.trainable_weights, before) if np.array_equal(keras.ops.convert_to_numpy(w), b)]
    assert not unchanged, f"one fit step under {policy} left these weights unchanged: {unchanged}"
    assert {w.dtype for w in model.weights} == {"float32"}


@pytest.mark.parametrize("policy", sorted(TOLERANCE), indirect=True)
def test_the_log_mel_front_end_stays_float32(policy):
    from htkeras.backbones.speech_embedding import LogMelSpectrogram

    keras.config.set_dtype_policy(policy)
    assert LogMelSpectrogram().compute_dtype == "float32"  # its power spectrum overflows float16
