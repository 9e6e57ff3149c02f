"""Variance-preserving initialization of factorized weights.

Every entry of a factorized matrix (HT, TT, CP, Tucker, ...) is a sum of ``num_terms`` products, each
taking one entry from every one of the ``num_factors`` factors. With independent zero-mean factor entries
of variance ``v``, an entry of the product has variance ``num_terms * v ** num_factors``. To give the
product the variance that a Keras ``VarianceScaling`` initializer (Glorot, He, LeCun, ...) would give the
dense matrix, ``scale / n`` with ``n`` the fan-in, fan-out or their mean, each factor gets

    v = (scale / n / num_terms) ** (1 / num_factors)

in the initializer's own distribution. That is right on average, but a product of many random factors
has a heavy-tailed norm: one draw can be several times too large or small. ``rescale_factors`` therefore
measures the norm of the drawn product exactly and scales every factor by the same amount so that the
product's mean squared entry equals the target. Any other initializer is applied to each factor as it is.
"""

from __future__ import annotations

import math

import keras

_TRUNCATION_CORRECTION = 0.87962566103423978  # std of a unit normal truncated at +-2 (as in Keras)


def target_variance(initializer, fan_in: int, fan_out: int) -> float:
    """Variance a ``VarianceScaling`` initializer gives a dense ``(fan_in, fan_out)`` kernel."""
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[initializer.mode]
    return initializer.scale / max(1.0, n)


def factor_initializers(initializer, fan_in: int, fan_out: int, num_terms: int, num_factors: int) -> list:
    """One Keras initializer per factor (see the module docstring)."""
    initializer = keras.initializers.get(initializer)
    if not isinstance(initializer, keras.initializers.VarianceScaling):
        return [initializer] * num_factors
    variance = (target_variance(initializer, fan_in, fan_out) / num_terms) ** (1.0 / num_factors)
    std = math.sqrt(variance)
    seed = initializer.seed if isinstance(initializer.seed, int) else None
    result = []
    for k in range(num_factors):
        kseed = None if seed is None else seed + k
        if initializer.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            result.append(keras.initializers.RandomUniform(-limit, limit, seed=kseed))
        elif initializer.distribution == "truncated_normal":
            result.append(keras.initializers.TruncatedNormal(0.0, std / _TRUNCATION_CORRECTION, seed=kseed))
        else:
            result.append(keras.initializers.RandomNormal(0.0, std, seed=kseed))
    return result


def rescale_factors(factors, squared_norm, initializer, fan_in: int, fan_out: int, size: int) -> None:
    """Scale ``factors`` (Keras variables) equally so that ``squared_norm(values) / size`` equals the
    ``VarianceScaling`` target; does nothing for other initializers or an all-zero product."""
    initializer = keras.initializers.get(initializer)
    if not isinstance(initializer, keras.initializers.VarianceScaling):
        return
    values = [keras.ops.convert_to_numpy(f) for f in factors]
    actual = squared_norm(values)
    if actual <= 0.0:
        return
    scale = (target_variance(initializer, fan_in, fan_out) * size / actual) ** (0.5 / len(factors))
    for variable, value in zip(factors, values):
        variable.assign(value * scale)
