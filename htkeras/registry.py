"""One registry of factorized linear maps, looked up by name (``"ht"``, and the baselines as they land)."""

from __future__ import annotations

from .layers import FactorizedDense, HTDense
from .lookup import lookup

LINEAR_MAPS: dict = {"ht": HTDense}


def linear_map_class(name: str) -> type:
    """The ``FactorizedDense`` subclass registered as ``name``."""
    return lookup(LINEAR_MAPS, name, "decomposition")


def register_linear_map(name: str, cls: type) -> None:
    """Make ``cls`` (a ``FactorizedDense`` subclass) available to cells and sweeps as ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, FactorizedDense)):
        raise ValueError(f"register_linear_map needs a FactorizedDense subclass, got {cls!r}.")
    LINEAR_MAPS[name] = cls
