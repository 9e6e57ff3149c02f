"""LSTM and GRU cells whose gate matrices are factorized linear maps.

One implementation of each gated cell, parameterised by

* ``decomposition``: the factorized map (``"ht"``, ``"tt"``, ...: a name in ``htkeras.registry``), and
* ``structure``: where it is used, an object of ``htkeras.cells.wiring`` (``WIRINGS``):

  - ``"input"``: the input-to-hidden map ``x_t -> gates`` is factorized (all gates at once, the gate
    factor folded into the first output mode); the hidden-to-hidden kernel is dense (HT-LSTM, Yin et al.);
  - ``"both"``: both maps are factorized, separately (fully decomposed, as Tjandra et al. 2018);
  - ``"joint"``: one "mega" map takes the concatenation ``[x_t, h_{t-1}]`` to all gates
    (integrate-then-decompose: FDHT-LSTM/GRU, Yin et al., CVPR 2021).

Gate order and bias layout follow Keras (LSTM ``i, f, c, o``; GRU ``z, r, h`` with ``reset_after``), so
trained Keras weights map onto these cells one to one. The cells work in ``keras.layers.RNN`` (masking,
``return_sequences``, ``return_state``, ``unroll``, ``go_backwards``) and ``keras.layers.Bidirectional``.

Dropout as in Keras' ``LSTMCell`` / ``GRUCell``: ``dropout`` zeroes (and rescales) input features and
``recurrent_dropout`` state features on the way into the gate maps, in training only, with one mask per
sequence reused at every time step (Gal & Ghahramani, 2016); ``seed`` makes the masks reproducible.
"""

from __future__ import annotations

import contextlib
import math

import keras
from keras import ops

# No public name: keras.layers.RNN draws and resets the dropout masks of cells of this class around its loop
# (before it, so that a JAX loop stays stateless).
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from .. import presets
from ..math.tensorize import default_num_modes, factorize, suggest_modes
from ..math.tree import modes_or_none, positive_int
from ..registry import linear_map_class
from ..stats import CompressionStats
from .wiring import PER_STEP, STRUCTURES, WIRINGS


def dropout_rate(value, name: str) -> float:
    """``value`` as a dropout fraction in ``[0, 1)`` (a ValueError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a fraction in [0, 1), got {value!r}.")
    return float(value)


class FactorizedRNNCell(keras.layers.Layer, DropoutRNNCell):
    """Base of the gated cells (see the module docstring); subclasses set ``gates`` and the gate math.

    Args:
        units: hidden size ``H``.
        ranks: ranks of the factorized map(s) (one int, or as the map accepts).
        input_modes: modes of the input size ``I`` (``structure="joint"``: of the concatenated size
            ``I + H``, which may exceed it when ``pad_inputs``); ``None``: automatic at build time.
        hidden_modes: modes of ``H``; the gate factor is folded into the first one for the output side
            (``[4, 4, 4, 4]`` -> ``[16, 4, 4, 4]`` for an LSTM); ``None``: automatic.
        decomposition: registry name of the factorized map.
        structure: ``"input"``, ``"both"`` or ``"joint"``.
        map_options: extra keyword arguments for the map, e.g. ``{"layout": "paired"}`` or a ``tree``.
        recurrent_ranks: ranks of the hidden-to-hidden map (``structure="both"``); default ``ranks``.
        num_modes: number of modes for automatic tensorization.
        pad_inputs: let automatic input modes zero-pad the map's input to a size that factors well
            (exact). With ``False``, a size that does not factor well is an error naming the padded size.
        activation, recurrent_activation: as in Keras (``recurrent_activation`` is the gate activation:
            ``"sigmoid"`` or ``"hard_sigmoid"``, ...).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, *_regularizer,
        *_constraint: as in Keras. A factorized map takes a ``VarianceScaling`` initializer as the target
            for the product of its factors; a factorized recurrent map (``"both"``) uses
            ``recurrent_initializer`` when it is one, else ``kernel_initializer``.
        dropout, recurrent_dropout: fractions in ``[0, 1)`` of the input and of the state features dropped
            on the way into the gate maps, in training (one mask per sequence, as Keras' cells).
        seed: seed of the dropout masks.
    """

    gates = 1
    _fixed: dict = {}

    def __init__(
        self,
        units,
        ranks=4,
        input_modes=None,
        hidden_modes=None,
        *,
        decomposition=None,
        structure=None,
        map_options=None,
        recurrent_ranks=None,
        num_modes=None,
        pad_inputs=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        map_quantization=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dropout = dropout_rate(dropout, "dropout")
        self.recurrent_dropout = dropout_rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)  # its state is not a weight: weight files are unchanged
        self.map_quantization = map_quantization
        self.units = positive_int(units, "units")
        self.ranks = ranks
        self.input_modes = modes_or_none(input_modes, "input_modes")
        self.hidden_modes = modes_or_none(hidden_modes, "hidden_modes")
        self.decomposition = self._fixed_arg("decomposition", decomposition, "ht")
        self.structure = self._fixed_arg("structure", structure, "input")
        if self.structure not in STRUCTURES:
            raise ValueError(f"`structure` must be one of {STRUCTURES}, got {self.structure!r}.")
        self.wiring = WIRINGS[self.structure]  # builds the maps and wires them into the gates
        self.map_class = linear_map_class(self.decomposition)
        self.map_options = dict(map_options or {})
        self.recurrent_ranks = recurrent_ranks
        self.num_modes = num_modes
        self.pad_inputs = pad_inputs
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self._hidden = self._resolve_hidden_modes()
        self.output_size = units

    def _fixed_arg(self, name, given, default):
        fixed = self._fixed.get(name)
        if fixed is not None and given is not None and given != fixed:
            raise ValueError(
                f"{type(self).__name__} always uses {name}={fixed!r}; got {name}={given!r}. Use "
                f"htkeras.{type(self).__mro__[1].__name__} to choose it."
            )
        return fixed or given or default

    def _resolve_hidden_modes(self) -> tuple:
        if self.hidden_modes is None:
            return factorize(self.units, self.num_modes or default_num_modes(self.units))
        if math.prod(self.hidden_modes) != self.units:
            raise ValueError(
                f"`hidden_modes`={list(self.hidden_modes)} multiply to {math.prod(self.hidden_modes)}, not "
                f"units={self.units}. Use hidden_modes={suggest_modes(self.units, len(self.hidden_modes))} "
                f"or None (automatic)."
            )
        return self.hidden_modes

    @classmethod
    def from_preset(cls, name: str, **overrides):
        """A cell configured as the named published preset (``htkeras.presets.PRESETS``)."""
        preset = presets.get_preset(name)
        if preset["cell"] != cls.__name__:
            raise ValueError(f"Preset {name!r} is a {preset['cell']}, not a {cls.__name__}.")
        return cls(**{**preset["config"], **overrides})

    # -- sizes --------------------------------------------------------------------------------------
    @property
    def state_size(self):
        return self.units

    @property
    def hidden_shape(self) -> tuple:
        """The modes of the hidden size (given, or resolved from ``units``)."""
        return self._hidden

    def _gate_modes(self) -> tuple:
        return (self.gates * self._hidden[0],) + tuple(self._hidden[1:])

    def make_map(self, name, input_modes, initializer, regularizer, constraint, ranks=None):
        """A factorized map of the cell's kind from ``input_modes`` to all gates (for the wiring's ``build``)."""
        return self.map_class(
            input_modes,
            self._gate_modes(),
            self.ranks if ranks is None else ranks,
            num_modes=self.num_modes,
            pad_inputs=self.pad_inputs,
            use_bias=False,
            kernel_initializer=initializer,
            kernel_regularizer=regularizer,
            kernel_constraint=constraint,
            dtype=self._map_policy(),
            name=name,
            **self.map_options,
        )

    def _map_policy(self):
        """The maps' dtype policy: the cell's, or after ``model.quantize("int8")`` (recorded in the config as
        ``map_quantization``) its quantized form, so that a saved quantized cell is rebuilt with int8 maps."""
        if self.map_quantization is None:
            return self.dtype_policy
        from keras import dtype_policies

        return dtype_policies.get(f"{self.map_quantization}_from_{self.dtype_policy.name}")

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known input size, got input shape {input_shape}.")
        self.input_dim = int(input_dim)
        self.wiring.build(self)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    # -- once per sequence ---------------------------------------------------------------------------
    separate_parts = False  # whether the gate math needs W_x x and W_h h apart (GRU with reset_after)

    def prepare_sequence(self, sequences, training=False):
        """What does not depend on the state, computed once for a whole sequence (``wiring.prepare``): returns
        ``(inputs, context)`` for the loop (``with cell.sequence_context(context)``). ``sequences``: ``(batch,
        T, input_dim)``.

        * The map used at every step (``recurrent_map`` for "both", ``joint_map`` for "joint") gets its
          weight-only part contracted once, with the plan chosen for ``T`` steps of this batch size (where the
          trace knows them; ``FactorizedDense.prepare``). Where that plan forms the whole matrix (small maps,
          long sequences), the step is a dense matmul, ``h @ W_h``, as in a Keras cell.
        * ``inputs``: ``W_x x_t`` for all steps in one call of ``batch * T`` rows (planned for that many),
          ``(batch, T, gates * units)``, wherever the step
          keeps it apart from ``W_h h`` (always but for a factorized "joint" map in an LSTM or a GRU without
          ``reset_after``; there ``M([x_t, 0])`` would not save the step's map call); else ``sequences``.

        In training, the input dropout mask (one per sequence) is applied to ``sequences`` first.
        """
        if training and self.dropout > 0:
            mask = self.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * ops.expand_dims(mask, 1)
        return self.wiring.prepare(self, sequences)

    _sequence_context = PER_STEP

    @contextlib.contextmanager
    def sequence_context(self, context):
        """Within this block, ``call`` takes its inputs as prepared by ``prepare_sequence`` with ``context``."""
        object.__setattr__(self, "_sequence_context", context)  # not a tracked attribute
        try:
            yield
        finally:
            object.__setattr__(self, "_sequence_context", PER_STEP)

    def _dropped(self, inputs, h, training, context):
        """``(inputs, h)`` with the dropout masks applied in training (the same masks at every step of a
        sequence). Inputs prepared for the whole sequence (``prepare_sequence``) had theirs applied there."""
        if training and self.dropout > 0 and not context.prepared:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h = h * self.get_recurrent_dropout_mask(h)
        return inputs, h

    # -- inspection -----------------------------------------------------------------------------------
    def compression_stats(self) -> CompressionStats:
        """Parameters, dense-equivalent parameters (a Keras cell of the same sizes) and FLOPs per step."""
        if not self.built:
            raise ValueError(f"{type(self).__name__} is not built yet.")
        stats = CompressionStats(0, 0, 0)
        for layer in self._maps():
            stats = stats + layer.compression_stats()
        stats = self.wiring.dense_stats(self, stats)
        bias = math.prod(self._bias_shape()) if self.use_bias else 0
        return stats + CompressionStats(bias, bias, bias + self._elementwise_flops())

    def _maps(self) -> list:
        """The cell's factorized maps (those its wiring built)."""
        return [getattr(self, a) for a in ("joint_map", "kernel_map", "recurrent_map") if hasattr(self, a)]

    def _elementwise_flops(self) -> int:
        return 0

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "ranks": self.ranks,
                "input_modes": None if self.input_modes is None else list(self.input_modes),
                "hidden_modes": None if self.hidden_modes is None else list(self.hidden_modes),
                "decomposition": self.decomposition,
                "structure": self.structure,
                "map_options": self.map_options,
                "map_quantization": next((m.quantization_mode for m in self._maps() if m.quantization_mode), None),
                "recurrent_ranks": self.recurrent_ranks,
                "num_modes": self.num_modes,
                "pad_inputs": self.pad_inputs,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="htkeras")
class FactorizedLSTMCell(FactorizedRNNCell):
    """LSTM cell (Keras gate order ``i, f, c, o``) with factorized gate matrices.

    ``h_t = o * tanh(c_t)``, ``c_t = f * c_{t-1} + i * tanh(g)``, with ``[i, f, g, o]`` the
    pre-activations ``W_x x_t + W_h h_{t-1} + b``. State: ``[h, c]``.

    Args:
        unit_forget_bias: initialize the forget-gate bias to 1 (Jozefowicz et al., 2015), as Keras does.
        (others: see ``FactorizedRNNCell``.)
    """

    gates = 4

    def __init__(self, units, ranks=4, input_modes=None, hidden_modes=None, *, unit_forget_bias=True, **kwargs):
        self.unit_forget_bias = unit_forget_bias
        super().__init__(units, ranks, input_modes, hidden_modes, **kwargs)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def init(shape, dtype=None):
            return ops.concatenate(
                [base((units,), dtype=dtype), ops.ones((units,), dtype=dtype), base((2 * units,), dtype=dtype)]
            )

        return init

    def _elementwise_flops(self) -> int:
        return 10 * self.units  # gate activations and the c/h updates, roughly

    def call(self, inputs, states, training=False):
        context = self._sequence_context  # set by htkeras.RNN around its loop
        inputs, h_tm1 = self._dropped(inputs, states[0], training, context)
        c_tm1 = states[1]
        z = self.wiring.preactivation(self, inputs, h_tm1, context)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        c = self.recurrent_activation(z_f) * c_tm1 + self.recurrent_activation(z_i) * self.activation(z_c)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


@keras.saving.register_keras_serializable(package="htkeras")
class FactorizedGRUCell(FactorizedRNNCell):
    """GRU cell (Keras gate order ``z, r, h``) with factorized gate matrices.

    ``h_t = z * h_{t-1} + (1 - z) * hh``. With ``reset_after=True`` (Keras' default):
    ``hh = tanh(W_x^h x + b_x^h + r * (W_h^h h + b_h^h))`` and the bias has shape ``(2, 3H)``; with
    ``False`` (Cho et al., 2014): ``hh = tanh(W_x^h x + W_h^h (r * h) + b^h)`` and the bias is ``(3H,)``.
    For ``structure="joint"`` both variants use the one mega map: ``reset_after`` applies it to
    ``[x, 0]`` and ``[0, h]`` in one doubled batch, ``reset_after=False`` to ``[x, h]`` and ``[x, r * h]``.
    """

    gates = 3

    def __init__(self, units, ranks=4, input_modes=None, hidden_modes=None, *, reset_after=True, **kwargs):
        self.reset_after = reset_after
        super().__init__(units, ranks, input_modes, hidden_modes, **kwargs)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _elementwise_flops(self) -> int:
        return 9 * self.units

    @property
    def separate_parts(self):
        return self.reset_after

    def call(self, inputs, states, training=False):
        context = self._sequence_context  # set by htkeras.RNN around its loop
        nested = isinstance(states, (list, tuple))
        h_tm1 = states[0] if nested else states
        inputs, h_in = self._dropped(inputs, h_tm1, training, context)  # h_in: into the maps; h_tm1 carries over
        units = self.units
        if self.reset_after:
            x_part, h_part = self.wiring.parts(self, inputs, h_in, context)
            if self.bias is not None:
                x_part, h_part = x_part + self.bias[0], h_part + self.bias[1]
            z = self.recurrent_activation(x_part[:, :units] + h_part[:, :units])
            r = self.recurrent_activation(x_part[:, units : 2 * units] + h_part[:, units : 2 * units])
            hh = self.activation(x_part[:, 2 * units :] + r * h_part[:, 2 * units :])
        else:
            x_part = self.wiring.step_input(self, inputs, context)
            zr = self.wiring.preactivation(self, inputs, h_in, context, x_part)[:, : 2 * units]
            if self.bias is not None:
                zr = zr + self.bias[: 2 * units]
            z = self.recurrent_activation(zr[:, :units])
            r = self.recurrent_activation(zr[:, units:])
            hh = self.wiring.preactivation(self, inputs, r * h_in, context, x_part)[:, 2 * units :]
            if self.bias is not None:
                hh = hh + self.bias[2 * units :]
            hh = self.activation(hh)
        h = z * h_tm1 + (1.0 - z) * hh
        return h, ([h] if nested else h)

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
