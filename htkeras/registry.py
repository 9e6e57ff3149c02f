"""One registry of factorized linear maps, looked up by name (``"ht"``, and the baselines as they land)."""

from __future__ import annotations

import difflib

from .layers import FactorizedDense, HTDense

LINEAR_MAPS: dict = {"ht": HTDense}


def linear_map_class(name: str) -> type:
    """The ``FactorizedDense`` subclass registered as ``name``."""
    try:
        return LINEAR_MAPS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), LINEAR_MAPS, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"Unknown decomposition {name!r}; known: {sorted(LINEAR_MAPS)}.{hint}") from None


def register_linear_map(name: str, cls: type) -> None:
    """Make ``cls`` (a ``FactorizedDense`` subclass) available to cells and sweeps as ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, FactorizedDense)):
        raise ValueError(f"register_linear_map needs a FactorizedDense subclass, got {cls!r}.")
    LINEAR_MAPS[name] = cls
