"""htkeras: compact recurrent networks from Hierarchical Tucker and other tensor decompositions (Keras 3)."""

from . import presets
from .cells import (
    FactorizedGRUCell,
    FactorizedLSTMCell,
    FactorizedRNNCell,
    FDHTGRUCell,
    FDHTLSTMCell,
    HTGRUCell,
    HTLSTMCell,
)
from .layers import FactorizedDense, HTDense
from .registry import linear_map_class, register_linear_map
from .stats import CompressionStats
from .summary import compression_summary

__version__ = "0.1.0"

__all__ = [
    "CompressionStats",
    "FDHTGRUCell",
    "FDHTLSTMCell",
    "FactorizedDense",
    "FactorizedGRUCell",
    "FactorizedLSTMCell",
    "FactorizedRNNCell",
    "HTDense",
    "HTGRUCell",
    "HTLSTMCell",
    "compression_summary",
    "linear_map_class",
    "presets",
    "register_linear_map",
]
