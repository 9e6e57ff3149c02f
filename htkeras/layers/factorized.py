"""``FactorizedDense``: the base of every factorized linear layer (HT here; TT, TR, BT, CP, Tucker plug in).

A subclass describes its factors and the tensor network of ``y = x @ W``; the base does everything else:
mode resolution (automatic tensorization, padding, errors that name the fix), weights made in ``build()``
with ``add_weight``, variance-preserving initialization, the contraction plan, bias, activation,
``get_config``, ``compute_output_shape`` and the compression statistics used by ``htkeras.summary``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from ..math.contraction import NOMINAL_BATCH, MatrixNetwork, matmuls_pay
from ..math.tensorize import default_num_modes, factorize, suggest_modes, tensorize
from ..math.tree import modes_or_none, positive_int
from ..stats import CompressionStats
from .initializers import factor_initializers, rescale_factors


class LargerThanDenseError(ValueError):
    """A factorized layer that would hold more weights than the dense kernel it stands for."""


class PreparedMap(NamedTuple):
    """``FactorizedDense.prepare``'s result: the weight-only part of ``x @ W`` (``tensors``) with the rest of
    the plan it was contracted for (``rest``: runs ``[x, *tensors]``; None where the format contracts its
    factors itself). ``apply`` takes it as it is: the plan travels with its tensors, so no caller passes the
    steps and batch size it was chosen for a second time."""

    tensors: list
    rest: object = None


class MatrixFit(NamedTuple):
    """A layer's structure fitted to a dense matrix (``FactorizedDense.decompose``): ``ranks`` for the
    constructor, ``factors`` (NumPy, in the order of the layer's weights) and the fit's relative Frobenius
    error."""

    ranks: object
    factors: list
    relative_error: float


class FactorizedDense(keras.layers.Layer):
    """Base class: ``y = activation(x @ W + b)`` with ``W`` of shape ``(prod(input_modes),
    prod(output_modes))`` stored as factors.

    Args:
        input_modes: factors of the input size; ``None`` tensorizes the input size at build time.
        output_modes: factors of the output size; ``None`` tensorizes ``units``.
        ranks: the decomposition's ranks (meaning set by the subclass).
        units: output size; needed when ``output_modes`` is None, else must equal ``prod(output_modes)``.
        num_modes: number of modes for automatic tensorization (default: about one per factor of 8).
        pad_inputs: allow zero-padding the input up to ``prod(input_modes)`` (exact: padded rows of ``W``
            only ever meet zeros). With automatic input modes the padded size is chosen to factor well.
        use_bias, activation: as in ``keras.layers.Dense``.
        kernel_initializer: a ``VarianceScaling`` initializer (Glorot, He, LeCun, by name or instance)
            sets the variance of the *product* of the factors (see ``htkeras.initializers``); any other
            initializer is applied to each factor.
        kernel_regularizer, kernel_constraint: applied to each factor.
        bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: as in Dense.
        allow_larger: build even when the factors hold more weights than the dense kernel they stand for
            (by default a ``LargerThanDenseError``, raised before any weight is made).
        float32_contraction: under a mixed-precision policy (float32 variables, 16-bit computation), contract
            the input with the factors in float32 and give the result in the 16-bit type (the bias and
            activation follow in it). A chain of contractions rounds to 16 bits after every step, which puts
            some formats several times further from float32 than Keras' ``Dense`` (``benchmarks/precision.py``
            measures which). False: contract in the 16-bit type. No effect otherwise.
    """

    def _same_num_modes(self) -> bool:
        """True where the format needs as many input as output modes (HT paired leaves, TT matrices)."""
        return False

    def __init__(
        self,
        input_modes=None,
        output_modes=None,
        ranks=4,
        *,
        units=None,
        num_modes=None,
        pad_inputs=False,
        use_bias=True,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        allow_larger=False,
        float32_contraction=True,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.allow_larger = bool(allow_larger)
        self.float32_contraction = bool(float32_contraction)
        self.input_modes = modes_or_none(input_modes, "input_modes")
        self.output_modes = modes_or_none(output_modes, "output_modes")
        self.ranks = ranks
        self.units = None if units is None else positive_int(units, "units")
        self.num_modes = None if num_modes is None else positive_int(num_modes, "num_modes")
        self.pad_inputs = bool(pad_inputs)
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self._resolved_output_modes = self._resolve_output_modes()
        self.output_dim = math.prod(self._resolved_output_modes)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    # -- modes --------------------------------------------------------------------------------------
    def _resolve_output_modes(self) -> tuple:
        if self.output_modes is None:
            if self.units is None:
                raise ValueError(
                    f"{type(self).__name__} needs `output_modes` (e.g. [4, 8, 8]) or `units` (e.g. 256, "
                    "tensorized automatically)."
                )
            d = self.num_modes
            if d is None and self._same_num_modes() and self.input_modes is not None:
                d = len(self.input_modes)
            return factorize(self.units, d or default_num_modes(self.units))
        if self.units is not None and self.units != math.prod(self.output_modes):
            raise ValueError(
                f"`units`={self.units} does not match prod(output_modes)={math.prod(self.output_modes)} "
                f"for output_modes={list(self.output_modes)}; drop `units` or use output_modes="
                f"{suggest_modes(self.units, len(self.output_modes))}."
            )
        return self.output_modes

    def _resolve_input_modes(self, input_dim: int) -> tuple:
        if self.input_modes is None:
            d = self.num_modes
            if d is None:
                d = len(self._resolved_output_modes) if self._same_num_modes() else default_num_modes(input_dim)
            return tensorize(input_dim, d, pad=self.pad_inputs)
        size = math.prod(self.input_modes)
        if size == input_dim or (self.pad_inputs and size > input_dim):
            return self.input_modes
        hint = "" if self.pad_inputs or size < input_dim else " or pass pad_inputs=True to zero-pad the input"
        raise ValueError(
            f"{type(self).__name__}: the input size {input_dim} must equal prod(input_modes) = {size} for "
            f"input_modes={list(self.input_modes)}. Use input_modes={suggest_modes(input_dim, len(self.input_modes))}"
            f" (or input_modes=None to choose automatically){hint}."
        )

    # -- subclass interface ---------------------------------------------------------------------------
    def _setup(self, input_modes: tuple, output_modes: tuple) -> None:
        """Validate the structure; set whatever ``_factor_shapes`` and ``_matrix_network`` need."""
        raise NotImplementedError

    def _factor_shapes(self) -> list:
        """``[(name, shape), ...]``: the stored factors."""
        raise NotImplementedError

    def _num_terms(self) -> int:
        """Products summed per entry of ``W`` (see ``htkeras.initializers``)."""
        raise NotImplementedError

    def _matrix_network(self) -> MatrixNetwork:
        """The tensor network of ``y = x @ W`` (``htkeras.math.contraction.MatrixNetwork``)."""
        raise NotImplementedError

    def _prepare_factors(self, factors, steps: int, batch_size: int | None = None) -> PreparedMap:
        """The factors (in network shapes) with the weight-only steps of the plan for ``steps`` (and
        ``batch_size``) done, and the rest of that plan."""
        weights, rest = self.split_plan(steps, batch_size=batch_size)
        return PreparedMap(weights.run(factors), rest)

    def _contract(self, x, prepared: PreparedMap):
        """``x @ W`` for ``x`` of shape ``(batch, *input_modes)`` and ``_prepare_factors``' result."""
        return prepared.rest([x] + prepared.tensors)

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """This (built) layer's structure fitted to the NumPy ``(padded_input_dim, units)`` ``matrix``
        (``htkeras.convert`` uses it): the ranks are capped by ``max_rank`` (int or None) and, where the format
        supports it (``adaptive_ranks``), chosen to meet the relative error ``rtol``. A format that cannot be
        fitted does not override this method."""
        raise NotImplementedError(f"{type(self).__name__} cannot be fitted to a dense matrix.")

    adaptive_ranks = False  # whether decompose chooses ranks from a tolerance (else convert searches)

    def _dense_from_factors(self, factors) -> np.ndarray:
        """NumPy dense kernel ``(prod(input_modes), prod(output_modes))`` from NumPy factors."""
        raise NotImplementedError

    def _squared_norm(self, factors) -> float:
        """``||W||_F^2`` from NumPy factors; subclasses override with a cheaper formula."""
        return float((self._dense_from_factors(factors).astype("float64") ** 2).sum())

    # -- Keras --------------------------------------------------------------------------------------
    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known last input dimension, got {input_shape}.")
        self.input_dim = int(input_dim)
        self.resolved_input_modes = self._resolve_input_modes(self.input_dim)
        self.resolved_output_modes = self._resolved_output_modes
        self.padded_input_dim = math.prod(self.resolved_input_modes)
        self._setup(self.resolved_input_modes, self.resolved_output_modes)
        shapes = self._factor_shapes()
        weights, dense = sum(math.prod(shape) for _, shape in shapes), self.input_dim * self.output_dim
        if weights > dense and not self.allow_larger:
            raise LargerThanDenseError(
                f"{type(self).__name__} with ranks {self.ranks} has {weights:,} factor weights for a {self.input_dim} x "
                f"{self.output_dim} map, more than the {dense:,} of a dense kernel: lower the ranks, or pass "
                "allow_larger=True."
            )
        inits = factor_initializers(
            self.kernel_initializer, self.input_dim, self.output_dim, self._num_terms(), len(shapes)
        )
        self.factors = [
            self.add_weight(
                name=name,
                shape=shape,
                initializer=init,
                regularizer=self.kernel_regularizer,
                constraint=self.kernel_constraint,
                autocast=not self.contracts_in_float32,  # read as float32 inside a mixed-precision call
            )
            for (name, shape), init in zip(shapes, inits)
        ]
        rescale_factors(
            self.factors, self._squared_norm, self.kernel_initializer, self.input_dim, self.output_dim,
            self.padded_input_dim * self.output_dim,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=(self.output_dim,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.matrix_network = self._matrix_network()
        self._plan = self.matrix_network.plan()
        self._split_plans = {}
        self._matrix_plan = None  # made on first use of matrix()
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: self.input_dim})
        if self.quantization_mode == "int8":  # a quantized layer from a config: its int8 factors are loaded next
            self._quantize_factors()

    # -- Keras' quantize("int8") ----------------------------------------------------------------------
    def quantize(self, mode=None, type_check=True, config=None):
        """Keras' ``layer.quantize("int8")`` (and ``model.quantize("int8")``, which reaches every factorized
        layer, inside the RNN cells too): each factor is stored as int8 with a float32 scale per slice of its
        last axis (abs-max, ``keras.quantizers.abs_max_quantize``); the layer contracts the dequantized
        factors (weight-only quantization: 4x smaller factors, the same contraction plan). The bias stays
        float. A quantized layer saves, loads and trains its bias as any Keras quantized layer. Other modes
        are refused with a ValueError: an integer TFLite file comes from ``htkeras export --format
        tflite-int8``."""
        if mode != "int8":
            raise ValueError(f"{type(self).__name__} '{self.name}' implements quantize('int8') only, not {mode!r}; for a "
                             "fully integer model use `htkeras export MODEL --format tflite-int8`.")
        self._check_quantize_args(mode, self.compute_dtype)
        self._quantize_factors()
        from keras import dtype_policies

        self.dtype_policy = dtype_policies.get(f"int8_from_{self.dtype_policy.name}")

    def _quantize_factors(self) -> None:
        """Replace the float factor weights by int8 ones and their scales (``factor_scales``)."""
        values = [ops.convert_to_numpy(f).astype("float32") for f in self.factors]
        self._tracker.unlock()
        for factor in self.factors:
            self._untrack_variable(factor)
        shapes = self._factor_shapes()
        self.factors = [self.add_weight(name=name, shape=shape, initializer="zeros", dtype="int8", trainable=False)
                        for name, shape in shapes]
        self.factor_scales = [self.add_weight(name=f"{name}_scale", shape=shape[-1:], initializer="ones",
                                              trainable=False) for name, shape in shapes]
        for factor, scale, value in zip(self.factors, self.factor_scales, values):
            quantized, inverse = keras.quantizers.abs_max_quantize(value, axis=tuple(range(value.ndim - 1)),
                                                                   to_numpy=True)
            factor.assign(quantized)
            scale.assign(np.reshape(1.0 / inverse, scale.shape))
        self._tracker.lock()
        self._is_quantized = True

    def _int8_call(self, inputs, training=None):
        return self.call(inputs)

    def _factor_values(self) -> list:
        """The factors as tensors: the weights, or a quantized layer's int8 factors times their scales."""
        if not getattr(self, "_is_quantized", False):
            return list(self.factors)
        dtype = "float32" if self.contracts_in_float32 else self.compute_dtype
        return [ops.cast(ops.cast(q, "float32") * s, dtype) for q, s in zip(self.factors, self.factor_scales)]

    def split_plan(self, steps: int = 1, matmuls: bool | None = None, batch_size: int | None = None) -> tuple:
        """``(weights, rest)``: ``ContractionPlan.split`` of the plan chosen for weights shared by ``steps``
        calls of ``batch_size`` rows each (None: the planner's nominal batch of ``NOMINAL_BATCH``), with batched
        matmuls or einsums only (``matmuls``; None: as the running trace wants, ``contraction.matmuls_pay``).
        ``weights`` contracts the factors alone (``prepare``), ``rest`` the input with its results (``apply``).
        Cached per ``(steps, matmuls, batch_size)``."""
        batch = NOMINAL_BATCH if batch_size is None else max(1, int(batch_size))
        key = (max(1, int(steps)), matmuls_pay() if matmuls is None else bool(matmuls), batch)
        if key not in self._split_plans:
            plan = (self._plan if key == (1, True, NOMINAL_BATCH)
                    else self.matrix_network.plan(weight_reuse=key[0], matmuls=key[1], batch_size=batch))
            self._split_plans[key] = plan.split(len(self.matrix_network.inputs))
        return self._split_plans[key]

    def prepare(self, steps: int = 1, batch_size: int | None = None) -> PreparedMap:
        """The weight-only part of ``x @ W``, for ``apply``: computed once and shared by ``steps`` calls (a
        recurrent layer's time steps) of ``batch_size`` rows (both choose the contraction plan, which the
        result carries)."""
        return self._prepare_factors(self._network_factors(), steps, batch_size)

    def _network_factors(self) -> list:
        """The factor weights in the shapes they take in the tensor network."""
        return [ops.reshape(f, s) for f, s in zip(self._factor_values(), self.matrix_network.factor_shapes)]

    def forms_matrix(self, steps: int = 1, batch_size: int | None = None) -> bool:
        """Whether the plan for weights shared by ``steps`` calls of ``batch_size`` rows forms the whole matrix
        before meeting the input (then ``matrix()`` and a matmul per call are that plan)."""
        return len(self.split_plan(steps, batch_size=batch_size)[1].steps) == 1

    def matrix(self):
        """The ``(input_dim, units)`` kernel as a tensor of the factors (differentiable; padding rows
        dropped). ``dense_kernel`` gives it as NumPy."""
        if self._matrix_plan is None:
            self._matrix_plan = self.matrix_network.weights_plan()
        matrix = self._matrix_plan(self._network_factors())
        return ops.reshape(matrix, (self.padded_input_dim, self.output_dim))[: self.input_dim]

    @property
    def contracts_in_float32(self) -> bool:
        """Whether the contraction runs in float32 while the layer computes in 16 bits (``float32_contraction``
        under a mixed-precision policy); ``matrix()`` and ``prepare()`` then give float32 tensors."""
        return self.float32_contraction and self.variable_dtype == "float32" and self.compute_dtype != "float32"

    def apply(self, inputs, prepared: PreparedMap):
        """``activation(inputs @ W + b)`` from ``prepare``'s result (for the plan it was prepared with);
        ``inputs``: ``(..., input_dim)``. Called directly, outside ``__call__`` (as ``htkeras.RNN`` does inside
        its loop)."""
        x = ops.cast(inputs, "float32") if self.contracts_in_float32 else inputs
        lead = ops.shape(x)[:-1]
        if self.padded_input_dim > self.input_dim:
            pad = [[0, 0]] * (len(x.shape) - 1) + [[0, self.padded_input_dim - self.input_dim]]
            x = ops.pad(x, pad)
        x = ops.reshape(x, (-1,) + tuple(self.resolved_input_modes))
        y = ops.reshape(self._contract(x, prepared), tuple(lead) + (self.output_dim,))
        if self.contracts_in_float32:
            y = ops.cast(y, self.compute_dtype)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y

    def call(self, inputs):
        return self.apply(inputs, self.prepare())

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_modes": None if self.input_modes is None else list(self.input_modes),
                "output_modes": None if self.output_modes is None else list(self.output_modes),
                "ranks": self.ranks,
                "units": self.units,
                "num_modes": self.num_modes,
                "pad_inputs": self.pad_inputs,
                "use_bias": self.use_bias,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "allow_larger": self.allow_larger,
                "float32_contraction": self.float32_contraction,
            }
        )
        return config

    # -- inspection ---------------------------------------------------------------------------------
    def dense_kernel(self):
        """The dense ``(input_dim, units)`` kernel this layer represents (NumPy; padding rows dropped)."""
        self._require_built()
        factors = [ops.convert_to_numpy(f) for f in self._factor_values()]
        return self._dense_from_factors(factors)[: self.input_dim]

    @property
    def num_factor_parameters(self) -> int:
        self._require_built()
        return sum(math.prod(shape) for _, shape in self._factor_shapes())

    def compression_stats(self) -> CompressionStats:
        """Parameters, dense-equivalent parameters and FLOPs per example (one call)."""
        self._require_built()
        bias = self.output_dim if self.use_bias else 0
        return CompressionStats(
            params=self.num_factor_parameters + bias,
            dense_params=self.input_dim * self.output_dim + bias,
            flops=self._flops_per_example() + bias,
        )

    def _flops_per_example(self) -> int:
        """FLOPs of one ``x @ W`` for one example (the plan's, weight-only steps counted in full)."""
        return self._plan.flops(1)

    def _require_built(self):
        if not self.built:
            raise ValueError(f"{type(self).__name__} is not built yet: call it on an input or call build().")
