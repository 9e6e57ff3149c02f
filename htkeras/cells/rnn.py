"""``htkeras.RNN``: ``keras.layers.RNN`` that does the state-independent work of a factorized cell once
per sequence instead of once per time step.

With a ``FactorizedRNNCell`` (HT-LSTM, FDHT-GRU, TT-GRU, ...), before the loop:

* the input-to-hidden map ``W_x x_t`` runs on all ``T`` steps in one call (a batch of ``batch * T``
  examples; it does not depend on ``h``): for ``structure`` "input" and "both", and for "joint" GRU cells
  with ``reset_after`` (as ``M([x_t, 0])``);
* the weight-only part of every map used inside the loop is contracted once, with the plan chosen for
  ``T`` steps of the batch size at hand (which may form the whole matrix when that is cheaper over the
  sequence); ``keras.layers.RNN`` runs every step with the plan of one call of a nominal 32 rows.

Inside the loop the cell then runs only what depends on ``h``. The results equal ``keras.layers.RNN`` with
the same cell up to float rounding; any other cell runs exactly as in ``keras.layers.RNN``. Every
``keras.layers.RNN`` argument works (masking, ``return_sequences``, ``return_state``, ``go_backwards``,
``unroll``, ``stateful``, ``Bidirectional``). The class is named ``RNN`` on purpose: Keras addresses saved
weights by class name, so weight files of ``keras.layers.RNN`` and ``htkeras.RNN`` models are
interchangeable.
"""

from __future__ import annotations

import keras

from .factorized import FactorizedRNNCell


@keras.saving.register_keras_serializable(package="htkeras")
class RNN(keras.layers.RNN):
    """``keras.layers.RNN(cell, ...)`` with the once-per-sequence work of a ``FactorizedRNNCell`` done
    before the loop (see the module docstring). Same arguments as ``keras.layers.RNN``.

    Cost per sequence, for a map ``M`` with weight-only plan part ``F`` and per-example part ``P``:
    ``F + T * batch * P`` instead of ``T * (F + batch * P)``; the input map as one call on ``T * batch``
    examples instead of ``T`` calls on ``batch``.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if not isinstance(cell, FactorizedRNNCell):
            return super().inner_loop(sequences, initial_state, mask, training)
        inputs, context = cell.prepare_sequence(sequences, training)
        with cell.sequence_context(context):
            return super().inner_loop(inputs, initial_state, mask, training)
