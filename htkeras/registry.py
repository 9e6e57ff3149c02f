"""One registry of decompositions: every kind of gate matrix, by name.

A kind (``Kind``) names its linear map (a ``FactorizedDense`` subclass; Keras' ``Dense`` for ``"dense"``),
the map its cells use, and its named LSTM and GRU cells. Built in, in this order: ``"dense"``, ``"ht"``,
``"fdht"`` (the HT map in the fully decomposed joint structure), ``"tt"``, ``"tr"``, ``"bt"``, ``"cp"``,
``"tucker"``. The cells attach themselves (``htkeras.cells``); a kind registered without cells gets the
generic ``FactorizedLSTMCell`` / ``FactorizedGRUCell`` on its map.

Registering a kind (``register_linear_map``) makes it available everywhere kinds are taken by name:
``make_linear_map``, ``make_cell``, the cells' ``decomposition=`` argument, ``from_dense`` / ``from_rnn``
(when the map implements ``FactorizedDense.decompose``) and sweeps over ``kinds()`` (``htkeras.factory.KINDS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import keras

from .layers import BTDense, CPDense, FactorizedDense, HTDense, TRDense, TTDense, TuckerDense
from .lookup import lookup

CELL_TYPES = ("lstm", "gru")


@dataclass(frozen=True)
class Kind:
    """A registered kind: ``linear_map`` (the layer class), ``decomposition`` (the registry name of the map
    its cells use: the kind's own name, ``"ht"`` for ``"fdht"``, None for ``"dense"``), ``structure`` (the
    cell structure the kind stands for, or None: the cell's default) and ``cells`` (``{"lstm": class,
    "gru": class}``, empty when the generic cells serve)."""

    name: str
    linear_map: type
    decomposition: str | None
    structure: str | None = None
    cells: dict = field(default_factory=dict)

    @property
    def factorized(self) -> bool:
        return self.decomposition is not None

    @property
    def converts(self) -> bool:
        """Whether trained dense weights convert into this kind (``FactorizedDense.decompose``)."""
        return self.factorized and self.linear_map.decompose is not FactorizedDense.decompose


_KINDS: dict = {
    "dense": Kind("dense", keras.layers.Dense, None, cells={"lstm": keras.layers.LSTMCell, "gru": keras.layers.GRUCell}),
    "ht": Kind("ht", HTDense, "ht"),
    "fdht": Kind("fdht", HTDense, "ht", structure="joint"),
    "tt": Kind("tt", TTDense, "tt"),
    "tr": Kind("tr", TRDense, "tr"),
    "bt": Kind("bt", BTDense, "bt"),
    "cp": Kind("cp", CPDense, "cp"),
    "tucker": Kind("tucker", TuckerDense, "tucker"),
}


def kinds() -> tuple:
    """The names of every registered kind, built-in ones first."""
    return tuple(_KINDS)


def get_kind(name: str) -> Kind:
    """The ``Kind`` registered as ``name``; an unknown name lists the known ones and close matches."""
    return lookup(_KINDS, name, "kind")


def linear_map_class(name: str) -> type:
    """The ``FactorizedDense`` subclass that the cells' ``decomposition=name`` uses."""
    maps = {kind.decomposition: kind.linear_map for kind in _KINDS.values() if kind.factorized}
    return lookup(maps, name, "decomposition")


def register_linear_map(name: str, cls: type) -> Kind:
    """Register ``cls`` (a ``FactorizedDense`` subclass) as the kind ``name``; returns its ``Kind``."""
    if not (isinstance(cls, type) and issubclass(cls, FactorizedDense)):
        raise ValueError(f"register_linear_map needs a FactorizedDense subclass, got {cls!r}.")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"A kind's name is a Python identifier such as 'lowrank', got {name!r}.")
    if name in _KINDS and _KINDS[name].linear_map is not cls:
        raise ValueError(f"{name!r} is registered already, as {_KINDS[name].linear_map.__name__}.")
    _KINDS.setdefault(name, Kind(name, cls, name))
    return _KINDS[name]


def register_cells(name: str, **cells) -> None:
    """Attach named cell classes (``lstm=``, ``gru=``) to the registered kind ``name``."""
    unknown = set(cells) - set(CELL_TYPES)
    if unknown:
        raise ValueError(f"Cells are {CELL_TYPES}, got {sorted(unknown)}.")
    kind = get_kind(name)
    _KINDS[name] = replace(kind, cells={**kind.cells, **cells})
