"""Factorized linear layers."""

from .factorized import FactorizedDense
from .ht_dense import HTDense

__all__ = ["FactorizedDense", "HTDense"]
