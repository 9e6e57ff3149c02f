"""htkeras: compact recurrent networks from Hierarchical Tucker and other tensor decompositions (Keras 3).

Packages: ``math`` (trees, HT and the flat formats, contraction plans), ``layers`` (factorized linear maps),
``cells`` (the LSTM/GRU cells and ``RNN``), ``backbones`` (front-ends), ``data`` (preprocessing and local
dataset readers), ``zoo`` (pretrained models), ``deploy`` (SavedModel and TFLite export). The math modules
are also reachable as ``htkeras.ht``, ``htkeras.tree``, ... and ``htkeras.datasets`` is ``htkeras.data``.
"""

from . import backbones, data, factory, presets, zoo
from .cells import (
    RNN,
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
from .deploy import export
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
from .math import contraction, decompositions, ht, networks, tensorize, tree
from .registry import linear_map_class, register_linear_map
from .stats import CompressionStats
from .summary import compression_summary
from .version import __version__

datasets = data  # the package's name before 0.2

__all__ = [
    "__version__",
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
    "contraction",
    "data",
    "datasets",
    "decompositions",
    "export",
    "factory",
    "from_dense",
    "from_rnn",
    "ht",
    "linear_map_class",
    "make_cell",
    "make_linear_map",
    "networks",
    "presets",
    "register_linear_map",
    "tensorize",
    "tree",
    "zoo",
]
