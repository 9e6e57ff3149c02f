"""Factorized linear layers."""

from .cp_dense import CPDense
from .factorized import FactorizedDense
from .ht_dense import HTDense
from .network_dense import NetworkDense
from .tr_dense import TRDense
from .tt_dense import TTDense
from .tucker_dense import BTDense, TuckerDense

__all__ = ["BTDense", "CPDense", "FactorizedDense", "HTDense", "NetworkDense", "TRDense", "TTDense", "TuckerDense"]
