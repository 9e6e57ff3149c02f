"""Build any linear map or recurrent cell by name, with a rank or a parameter budget.

Kinds: every name in ``htkeras.registry`` (``KINDS``): ``"dense"`` (Keras' own ``Dense`` / ``LSTMCell`` /
``GRUCell``), ``"ht"``, ``"fdht"`` (for a map the same HT map; for a cell the fully decomposed joint
structure), ``"tt"``, ``"tr"``, ``"bt"``, ``"cp"``, ``"tucker"``, and any kind registered later. A sweep over
methods is one loop::

    for kind in htkeras.factory.KINDS:
        cell = htkeras.make_cell(kind, units=64, cell="lstm", budget=30_000, input_dim=40)
        model = ...keras.layers.RNN(cell)...

``budget`` picks the largest uniform rank whose parameter count (the map, or the whole cell with its
bias) is at most ``budget`` for inputs of size ``input_dim``; a ``"dense"`` map or cell is checked against it.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cells
from .layers.factorized import LargerThanDenseError
from .registry import CELL_TYPES, get_kind, kinds

MAX_SEARCH_RANK = 256


class _Kinds(Sequence):
    """The registered kinds' names (``htkeras.registry.kinds()``), read at each use: a kind registered later
    shows up in every loop over ``KINDS``."""

    def __getitem__(self, index):
        return kinds()[index]

    def __len__(self):
        return len(kinds())

    def __repr__(self):
        return repr(kinds())


KINDS = _Kinds()


def _count(make, rank, input_dim, what: str) -> int:
    if input_dim is None:
        raise ValueError(f"A parameter budget needs `input_dim` (the input size) to count the {what}'s parameters.")
    built = make(rank)
    built.build((None, int(input_dim)))
    return built.count_params()


def _rank_for_budget(make, budget: int, input_dim, what: str) -> int:
    def count(rank):
        try:
            return _count(make, rank, input_dim, what)
        except LargerThanDenseError:  # more weights than dense: past any budget worth choosing (rank 1 says so)
            if rank == 1:
                raise
            return float("inf")

    smallest = count(1)
    if smallest > budget:
        raise ValueError(f"The smallest {what} (rank 1) has {smallest:,} parameters, over the budget of {budget:,}.")
    rank = 1
    while rank < MAX_SEARCH_RANK and count(rank + 1) <= budget:
        rank += 1
    return rank


def _choose(make, kind, ranks, budget, input_dim, what):
    if not kind.factorized:
        if ranks is not None:
            raise ValueError(f'A "{kind.name}" {what} has no ranks; drop `ranks`.')
        count = None if budget is None else _count(make, None, input_dim, what)
        if count is not None and count > budget:
            raise ValueError(f'The "{kind.name}" {what} has {count:,} parameters, over the budget of {int(budget):,}.')
        return make(None)
    if budget is not None:
        if ranks is not None:
            raise ValueError("Give `ranks` or `budget`, not both.")
        ranks = _rank_for_budget(make, int(budget), input_dim, what)
    return make(4 if ranks is None else ranks)


def make_linear_map(kind: str, units: int, *, ranks=None, budget=None, input_dim=None, **options):
    """A linear map ``input_dim -> units`` of the registered ``kind`` (``options`` go to the layer, e.g.
    ``input_modes``, ``use_bias``, ``layout``, ``blocks``)."""
    kind = get_kind(kind)
    cls = kind.linear_map
    if not kind.factorized:
        return _choose(lambda _: cls(units, **options), kind, ranks, budget, input_dim, "map")
    return _choose(lambda r: cls(units=units, ranks=r, **options), kind, ranks, budget, input_dim, "map")


def make_cell(kind: str, units: int, cell: str = "lstm", *, ranks=None, budget=None, input_dim=None, **options):
    """An LSTM or GRU cell (``cell="lstm"|"gru"``) of the registered ``kind``; ``options`` go to the cell
    (e.g. ``structure="both"`` for the fully decomposed baselines, ``map_options``, ``hidden_modes``). A kind
    without a named cell, or a structure its named cell does not have, gets the generic
    ``FactorizedLSTMCell`` / ``FactorizedGRUCell`` on the kind's map."""
    kind = get_kind(kind)
    if cell not in CELL_TYPES:
        raise ValueError(f'`cell` must be "lstm" or "gru", got {cell!r}.')
    cls = kind.cells.get(cell)
    if not kind.factorized:
        return _choose(lambda _: cls(units, **options), kind, ranks, budget, input_dim, "cell")
    fixed = getattr(cls, "_fixed", {}).get("structure")
    if cls is None or (fixed and options.get("structure", fixed) != fixed):
        cls = cells.FactorizedLSTMCell if cell == "lstm" else cells.FactorizedGRUCell
        options = {"decomposition": kind.decomposition, **({"structure": kind.structure} if kind.structure else {}),
                   **options}
    return _choose(lambda r: cls(units, ranks=r, **options), kind, ranks, budget, input_dim, "cell")


__all__ = ["KINDS", "make_cell", "make_linear_map"]
