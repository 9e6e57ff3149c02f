"""How a factorized cell wires its maps into the gate pre-activations ``W_x x_t + W_h h_{t-1}``: one object
per structure (``WIRINGS``), chosen by the cell's ``structure`` string once, in its constructor.

* ``InputWiring`` (``"input"``): the input-to-hidden map ``x_t -> gates`` is factorized (``kernel_map``: all
  gates at once); the hidden-to-hidden kernel is dense (``recurrent_kernel``; HT-LSTM, Yin et al.).
* ``BothWiring`` (``"both"``): both maps are factorized, separately (``kernel_map``, ``recurrent_map``; fully
  decomposed, as Tjandra et al. 2018).
* ``JointWiring`` (``"joint"``): one "mega" map takes ``[x_t, h_{t-1}]`` to all gates (``joint_map``;
  integrate-then-decompose: FDHT-LSTM/GRU, Yin et al., CVPR 2021).

Each builds the cell's weights (the names, and so the weight files, are the cell's as they always were),
prepares what does not depend on the state once per sequence (``prepare``: a ``SequenceContext``), and gives
the pre-activations inside the loop (``preactivation``; ``parts``: ``W_x x`` and ``W_h h`` apart, for a GRU
with ``reset_after``). The objects hold no state: the cell is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import ops

from ..stats import CompressionStats


@dataclass(frozen=True)
class SequenceContext:
    """What a cell computed once for a sequence (``FactorizedRNNCell.prepare_sequence``): ``weights`` (map name
    -> ``FactorizedDense.prepare`` result, which carries the plan it was made for), ``projected`` (whether the
    step inputs are already ``W_x x_t``), ``recurrent`` (``W_h`` as a matrix, or None) and ``prepared``
    (whether the inputs passed through ``prepare_sequence``, which applied the input dropout mask)."""

    weights: dict
    projected: bool
    recurrent: object = None
    prepared: bool = True


PER_STEP = SequenceContext({}, False, prepared=False)  # nothing prepared: each step applies the maps itself


def apply_map(cell, name: str, x, context: SequenceContext):
    """The cell's map ``name`` applied to ``x``, from the sequence's prepared weights when there are some."""
    layer = getattr(cell, name)
    return layer(x) if name not in context.weights else layer.apply(x, context.weights[name])


class Wiring:
    """The shared part of the three wirings (see the module docstring)."""

    name = ""
    step_map: str | None = None  # the map applied at every step, prepared once per sequence (None: none)

    def build(self, cell) -> None:
        raise NotImplementedError

    @staticmethod
    def _input_map(cell, name: str, size: int):
        """The cell's map ``name`` from ``size`` inputs (``x``, or ``[x, h]``) to all gates, with the kernel's
        initializer, regularizer and constraint, built."""
        layer = cell.make_map(name, cell.input_modes, cell.kernel_initializer, cell.kernel_regularizer,
                              cell.kernel_constraint)
        layer.build((None, size))
        return layer

    def projects_inputs(self, cell) -> bool:
        """Whether ``W_x x_t`` is computed for all time steps before the loop (it never depends on ``h``)."""
        return True

    def prepare(self, cell, sequences) -> tuple:
        """``(inputs, context)`` for the loop, ``sequences`` ``(batch, T, input_dim)``: the step map's
        weight-only part contracted once for ``T`` steps of this batch (a dense ``h @ W_h`` where that plan forms
        the whole matrix), and ``W_x x_t`` for all steps in one call of ``batch * T`` rows where the step keeps
        it apart."""
        batch, steps = sequences.shape[0], sequences.shape[1] or 1
        recurrent = self._dense_recurrent(cell)
        step_map = None if self.step_map is None else getattr(cell, self.step_map)
        if step_map is not None and step_map.forms_matrix(steps, batch):
            recurrent = ops.cast(step_map.matrix(), cell.compute_dtype)  # a dense matmul, as in Keras
        split = self._split_matrix(cell, sequences, recurrent)
        if split is not None:
            return split
        weights = {} if step_map is None or recurrent is not None else {self.step_map: step_map.prepare(steps, batch)}
        context = SequenceContext(weights, self.projects_inputs(cell), recurrent)
        if not context.projected:
            return sequences, context
        rows = None if batch is None or sequences.shape[1] is None else batch * steps  # all steps in one call
        return self._project(cell, sequences, rows), context

    def _dense_recurrent(self, cell):
        return None

    def _split_matrix(self, cell, sequences, recurrent):
        """``(inputs, context)`` when the step map formed as a matrix splits into ``W_x`` and ``W_h``; else None."""
        return None

    def _project(self, cell, sequences, rows):
        """``W_x x_t`` for every step at once (``rows``: the rows of that one call where known)."""
        layer = cell.kernel_map
        return layer.apply(sequences, layer.prepare(1, rows))  # called directly: ``sequences`` may carry a mask

    def input_part(self, cell, x, context=PER_STEP):
        """``W_x x`` for all gates, or ``x`` itself when already projected."""
        return x if context.projected else apply_map(cell, "kernel_map", x, context)

    def recurrent_part(self, cell, h, context=PER_STEP):
        if context.recurrent is not None:
            return ops.matmul(h, context.recurrent)
        return self._recurrent_map(cell, h, context)

    def _recurrent_map(self, cell, h, context):
        raise NotImplementedError

    def step_input(self, cell, x, context=PER_STEP):
        """What the step shares between its two pre-activations (a GRU without ``reset_after``): ``W_x x``,
        or None where the map takes ``x`` with ``h`` (joint)."""
        return self.input_part(cell, x, context)

    def preactivation(self, cell, x, h, context=PER_STEP, x_part=None):
        """``W_x x + W_h h`` for all gates (``x_part``: ``step_input``'s result, when computed already)."""
        return (self.input_part(cell, x, context) if x_part is None else x_part) + self.recurrent_part(cell, h, context)

    def parts(self, cell, x, h, context=PER_STEP):
        """``(W_x x, W_h h)`` separately."""
        return self.input_part(cell, x, context), self.recurrent_part(cell, h, context)

    def dense_stats(self, cell, maps: CompressionStats) -> CompressionStats:
        """The cell's parameters, dense-equivalent parameters and FLOPs per step from its maps' (``maps``),
        before the bias and the elementwise work."""
        return maps


class InputWiring(Wiring):
    name = "input"

    def build(self, cell) -> None:
        cell.kernel_map = self._input_map(cell, "kernel_map", cell.input_dim)
        cell.recurrent_kernel = cell.add_weight(
            name="recurrent_kernel",
            shape=(cell.units, cell.gates * cell.units),
            initializer=cell.recurrent_initializer,
            regularizer=cell.recurrent_regularizer,
            constraint=cell.recurrent_constraint,
        )

    def _dense_recurrent(self, cell):
        return cell.recurrent_kernel

    def _recurrent_map(self, cell, h, context):
        return ops.matmul(h, cell.recurrent_kernel)

    def dense_stats(self, cell, maps):
        dense = cell.units * cell.gates * cell.units
        return maps + CompressionStats(dense, dense, 2 * dense)


class BothWiring(Wiring):
    name = "both"
    step_map = "recurrent_map"

    def build(self, cell) -> None:
        cell.kernel_map = self._input_map(cell, "kernel_map", cell.input_dim)
        init = cell.recurrent_initializer
        if not isinstance(init, keras.initializers.VarianceScaling):
            init = cell.kernel_initializer
        cell.recurrent_map = cell.make_map("recurrent_map", cell.hidden_shape, init, cell.recurrent_regularizer,
                                           cell.recurrent_constraint, cell.recurrent_ranks)
        cell.recurrent_map.build((None, cell.units))

    def _recurrent_map(self, cell, h, context):
        return apply_map(cell, "recurrent_map", h, context)


class JointWiring(Wiring):
    """One map ``M`` on ``[x, h]``: ``W_x x = M([x, 0])`` and ``W_h h = M([0, h])`` by linearity."""

    name = "joint"
    step_map = "joint_map"

    def build(self, cell) -> None:
        cell.joint_map = self._input_map(cell, "joint_map", cell.input_dim + cell.units)

    def projects_inputs(self, cell) -> bool:
        return cell.separate_parts  # only a GRU with reset_after keeps W_x x apart; else M([x_t, 0]) saves nothing

    def _split_matrix(self, cell, sequences, recurrent):
        if recurrent is None:
            return None
        kernel, recurrent = recurrent[: cell.input_dim], recurrent[cell.input_dim :]  # M = [W_x; W_h]
        return ops.matmul(sequences, kernel), SequenceContext({}, True, recurrent)

    def _project(self, cell, sequences, rows):
        zeros = ops.zeros(tuple(ops.shape(sequences)[:2]) + (cell.units,), dtype=sequences.dtype)
        layer = cell.joint_map
        return layer.apply(ops.concatenate([sequences, zeros], axis=-1), layer.prepare(1, rows))  # M([x_t, 0])

    def step_input(self, cell, x, context=PER_STEP):
        return None

    def preactivation(self, cell, x, h, context=PER_STEP, x_part=None):
        if context.recurrent is None:
            return apply_map(cell, "joint_map", ops.concatenate([x, h], axis=-1), context)
        return super().preactivation(cell, x, h, context, x_part)

    def input_part(self, cell, x, context=PER_STEP):
        return x  # only ever asked once projected (prepare, or a formed matrix)

    def _recurrent_map(self, cell, h, context):
        zeros = ops.zeros((ops.shape(h)[0], cell.input_dim), dtype=h.dtype)
        return apply_map(cell, "joint_map", ops.concatenate([zeros, h], axis=-1), context)

    def parts(self, cell, x, h, context=PER_STEP):
        """By linearity, ``M([x, 0])`` and ``M([0, h])``: in one call on a doubled batch unless ``M([x, 0])``
        was computed for the whole sequence."""
        if context.projected:
            return x, self.recurrent_part(cell, h, context)
        stacked = ops.concatenate([ops.concatenate([x, ops.zeros_like(h)], axis=-1),
                                   ops.concatenate([ops.zeros_like(x), h], axis=-1)], axis=0)
        both = apply_map(cell, "joint_map", stacked, context)
        n = ops.shape(x)[0]
        return both[:n], both[n:]

    def dense_stats(self, cell, maps):  # the dense equivalent has separate x and h parts, not the padding
        return CompressionStats(maps.params, (cell.input_dim + cell.units) * cell.gates * cell.units, maps.flops)


WIRINGS = {wiring.name: wiring for wiring in (InputWiring(), BothWiring(), JointWiring())}
STRUCTURES = tuple(WIRINGS)
