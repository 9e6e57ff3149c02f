"""One registry of factorized linear maps, looked up by name (``"ht"``, ``"tt"``, ``"tr"``, ``"bt"``,
``"cp"``, ``"tucker"``); cells and ``htkeras.factory`` build their maps from it."""

from __future__ import annotations

from .layers import (
    BTDense,
    CPDense,
    FactorizedDense,
    HTDense,
    TRDense,
    TTDense,
    TuckerDense,
)
from .lookup import lookup

LINEAR_MAPS: dict = {
    "ht": HTDense,
    "tt": TTDense,
    "tr": TRDense,
    "bt": BTDense,
    "cp": CPDense,
    "tucker": TuckerDense,
}


def linear_map_class(name: str) -> type:
    """The ``FactorizedDense`` subclass registered as ``name``."""
    return lookup(LINEAR_MAPS, name, "decomposition")


def register_linear_map(name: str, cls: type) -> None:
    """Make ``cls`` (a ``FactorizedDense`` subclass) available to cells and sweeps as ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, FactorizedDense)):
        raise ValueError(f"register_linear_map needs a FactorizedDense subclass, got {cls!r}.")
    LINEAR_MAPS[name] = cls
