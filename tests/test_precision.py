"""Mixed precision: every kind of factorized layer and cell under Keras' ``mixed_float16`` and
``mixed_bfloat16`` policies keeps float32 variables, computes in the policy's 16-bit type, agrees with the
same weights in float32 within the policy's tolerance, and trains (one ``fit`` step changes every weight).
The contraction runs in float32 inside (``float32_contraction``), which keeps a factorized layer as close to
float32 as Keras' own Dense; in 16 bits it is several times further (``benchmarks/precision.py``).

Tolerances (largest difference over the largest float32 output): float16 1e-2, bfloat16 5e-2, five to ten times
each type's rounding unit (float16 2^-10, bfloat16 2^-7); ``benchmarks/precision.py``
measures the errors themselves, next to Keras' own layers.
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


def make(kind: str, what: str, size: int = INPUT, **options) -> keras.Model:
    ranks = {} if kind == "dense" else {"ranks": 3, **options}
    keras.utils.set_random_seed(0)
    if what == "layer":
        return keras.Sequential([keras.Input((size,)), htkeras.make_linear_map(kind, size, **ranks)])
    return keras.Sequential([keras.Input((STEPS, INPUT)), htkeras.RNN(htkeras.make_cell(kind, UNITS, what, **ranks))])


def compare(build, x, policy: str):
    """``(model under policy, its output, relative error)`` against the same weights in float32."""
    keras.config.set_dtype_policy("float32")
    reference = build()
    expected = keras.ops.convert_to_numpy(reference(x))
    keras.config.set_dtype_policy(policy)
    model = build()
    model.set_weights(reference.get_weights())
    output = model(x)
    error = np.abs(keras.ops.convert_to_numpy(keras.ops.cast(output, "float32")) - expected).max() / np.abs(expected).max()
    return model, output, float(error)


@pytest.mark.parametrize("policy", sorted(TOLERANCE), indirect=True)
@pytest.mark.parametrize("what", ["layer", "lstm", "gru"])
@pytest.mark.parametrize("kind", KINDS)
def test_mixed_precision_matches_float32_and_trains(kind, what, policy):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, INPUT) if what == "layer" else (8, STEPS, INPUT)).astype("float32")
    model, output, error = compare(lambda: make(kind, what), x, policy)
    assert {w.dtype for w in model.weights} == {"float32"}
    assert keras.backend.standardize_dtype(output.dtype) == policy.removeprefix("mixed_")
    assert error < TOLERANCE[policy], f"{kind} {what} under {policy}: relative error {error:.2e}"
    assert error > 0  # the computation really ran in 16 bits

    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    model.fit(x, rng.standard_normal(tuple(output.shape)).astype("float32"), batch_size=8, epochs=1, verbose=0)
    unchanged = [w.path for w, b in zip(model.trainable_weights, before) if np.array_equal(keras.ops.convert_to_numpy(w), b)]
    assert not unchanged, f"one fit step under {policy} left these weights unchanged: {unchanged}"
    assert {w.dtype for w in model.weights} == {"float32"}


@pytest.mark.parametrize("policy", sorted(TOLERANCE), indirect=True)
def test_the_log_mel_front_end_stays_float32(policy):
    from htkeras.backbones.speech_embedding import LogMelSpectrogram

    keras.config.set_dtype_policy(policy)
    assert LogMelSpectrogram().compute_dtype == "float32"  # its power spectrum overflows float16


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "dense"])
def test_float32_contraction_keeps_a_layer_as_close_as_keras_dense(kind, policy):
    """The shape of benchmarks/precision.py (1,024 -> 1,024, ranks 4)."""
    x = np.random.default_rng(0).standard_normal((32, 1024)).astype("float32")
    dense = compare(lambda: make("dense", "layer", 1024), x, policy)[2]
    model, _, error = compare(lambda: make(kind, "layer", 1024, ranks=4), x, policy)
    assert model.layers[-1].contracts_in_float32 and error < 3 * dense, (error, dense)
    if kind == "ht" and ON_TF:  # TensorFlow rounds every 16-bit contraction step (JAX and PyTorch on the CPU
        # keep float32 inside their products): more than 3x Keras' error, as benchmarks/precision.py finds
        sixteen = compare(lambda: make(kind, "layer", 1024, ranks=4, float32_contraction=False), x, policy)[2]
        assert sixteen > 3 * dense, (sixteen, dense)
