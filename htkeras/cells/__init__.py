"""Recurrent cells whose gate matrices are factorized linear maps, and the ``RNN`` layer that runs them.

``factorized``: the one LSTM and GRU implementation, parameterised by the map (``decomposition``) and where it
is used (``structure``: one ``wiring`` object each, input, both or joint); ``named``: the published cells (HT,
FDHT, TT, TR, BT, CP, Tucker) with their map fixed; ``rnn``: ``htkeras.RNN``, which does a cell's
state-independent work once per sequence.
"""

from .factorized import FactorizedGRUCell, FactorizedLSTMCell, FactorizedRNNCell
from .named import (
    BTGRUCell,
    BTLSTMCell,
    CPGRUCell,
    CPLSTMCell,
    FDHTGRUCell,
    FDHTLSTMCell,
    HTGRUCell,
    HTLSTMCell,
    TRGRUCell,
    TRLSTMCell,
    TTGRUCell,
    TTLSTMCell,
    TuckerGRUCell,
    TuckerLSTMCell,
)
from .rnn import RNN
from .wiring import WIRINGS, SequenceContext

__all__ = [
    "BTGRUCell", "BTLSTMCell", "CPGRUCell", "CPLSTMCell", "FDHTGRUCell", "FDHTLSTMCell", "FactorizedGRUCell",
    "FactorizedLSTMCell", "FactorizedRNNCell", "HTGRUCell", "HTLSTMCell", "RNN", "SequenceContext", "TRGRUCell",
    "TRLSTMCell", "TTGRUCell", "TTLSTMCell", "TuckerGRUCell", "TuckerLSTMCell", "WIRINGS",
]
