"""htkeras: compact recurrent networks from Hierarchical Tucker and other tensor decompositions (Keras 3)."""

from . import backbones, export, factory, presets, zoo
from .cells import (
    BTGRUCell,
    BTLSTMCell,
    CPGRUCell,
    CPLSTMCell,
    FactorizedGRUCell,
    FactorizedLSTMCell,
    FactorizedRNNCell,
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
from .convert import ConversionReport, from_dense, from_rnn
from .factory import make_cell, make_linear_map
from .layers import (
    BTDense,
    CPDense,
    FactorizedDense,
    HTDense,
    TRDense,
    TTDense,
    TuckerDense,
)
from .registry import linear_map_class, register_linear_map
from .rnn import RNN
from .stats import CompressionStats
from .summary import compression_summary

__version__ = "0.1.0"

__all__ = [
    "BTDense",
    "BTGRUCell",
    "BTLSTMCell",
    "CPDense",
    "CPGRUCell",
    "CPLSTMCell",
    "CompressionStats",
    "ConversionReport",
    "FDHTGRUCell",
    "FDHTLSTMCell",
    "FactorizedDense",
    "FactorizedGRUCell",
    "FactorizedLSTMCell",
    "RNN",
    "FactorizedRNNCell",
    "HTDense",
    "HTGRUCell",
    "HTLSTMCell",
    "TRDense",
    "TRGRUCell",
    "TRLSTMCell",
    "TTDense",
    "TTGRUCell",
    "TTLSTMCell",
    "TuckerDense",
    "TuckerGRUCell",
    "TuckerLSTMCell",
    "backbones",
    "compression_summary",
    "export",
    "factory",
    "from_dense",
    "from_rnn",
    "linear_map_class",
    "make_cell",
    "make_linear_map",
    "presets",
    "register_linear_map",
    "zoo",
]
