"""Build any linear map or recurrent cell by name, with a rank or a parameter budget.

Kinds: ``"dense"`` (Keras' own ``Dense`` / ``LSTMCell`` / ``GRUCell``), ``"ht"``, ``"fdht"`` (for a map the
same HT map; for a cell the fully decomposed joint structure), ``"tt"``, ``"tr"``, ``"bt"``, ``"cp"`` and
``"tucker"``. A sweep over methods is one loop::

    for kind in htkeras.factory.KINDS:
        cell = htkeras.make_cell(kind, units=64, cell="lstm", budget=5000, input_dim=40)
        model = ...keras.layers.RNN(cell)...

``budget`` picks the largest uniform rank whose parameter count (the map, or the whole cell with its
bias) is at most ``budget`` for inputs of size ``input_dim``.
"""

from __future__ import annotations

import keras

from . import cells
from .lookup import lookup
from .registry import linear_map_class

KINDS = ("dense", "ht", "fdht", "tt", "tr", "bt", "cp", "tucker")
MAX_SEARCH_RANK = 256

CELLS = {
    ("lstm", "dense"): keras.layers.LSTMCell,
    ("gru", "dense"): keras.layers.GRUCell,
    ("lstm", "ht"): cells.HTLSTMCell,
    ("gru", "ht"): cells.HTGRUCell,
    ("lstm", "fdht"): cells.FDHTLSTMCell,
    ("gru", "fdht"): cells.FDHTGRUCell,
    ("lstm", "tt"): cells.TTLSTMCell,
    ("gru", "tt"): cells.TTGRUCell,
    ("lstm", "tr"): cells.TRLSTMCell,
    ("gru", "tr"): cells.TRGRUCell,
    ("lstm", "bt"): cells.BTLSTMCell,
    ("gru", "bt"): cells.BTGRUCell,
    ("lstm", "cp"): cells.CPLSTMCell,
    ("gru", "cp"): cells.CPGRUCell,
    ("lstm", "tucker"): cells.TuckerLSTMCell,
    ("gru", "tucker"): cells.TuckerGRUCell,
}


def _check_kind(kind: str) -> str:
    return lookup({k: k for k in KINDS}, kind, "kind")


def _rank_for_budget(make, budget: int, input_dim, what: str) -> int:
    if input_dim is None:
        raise ValueError(f"A parameter budget needs `input_dim` (the input size) to count the {what}'s parameters.")

    def count(rank):
        built = make(rank)
        built.build((None, int(input_dim)))
        return built.count_params()

    smallest = count(1)
    if smallest > budget:
        raise ValueError(f"The smallest {what} (rank 1) has {smallest:,} parameters, over the budget of {budget:,}.")
    rank = 1
    while rank < MAX_SEARCH_RANK and count(rank + 1) <= budget:
        rank += 1
    return rank


def _choose(make, kind, ranks, budget, input_dim, what):
    if kind == "dense":
        if ranks is not None or budget is not None:
            raise ValueError(f'A "dense" {what} has no ranks; drop `ranks` and `budget`.')
        return make(None)
    if budget is not None:
        if ranks is not None:
            raise ValueError("Give `ranks` or `budget`, not both.")
        ranks = _rank_for_budget(make, int(budget), input_dim, what)
    return make(4 if ranks is None else ranks)


def make_linear_map(kind: str, units: int, *, ranks=None, budget=None, input_dim=None, **options):
    """A linear map ``input_dim -> units`` of the given kind (``options`` go to the layer, e.g.
    ``input_modes``, ``use_bias``, ``layout``, ``blocks``, ``leaves``)."""
    kind = _check_kind(kind)
    if kind == "dense":
        return _choose(lambda _: keras.layers.Dense(units, **options), kind, ranks, budget, input_dim, "map")
    cls = linear_map_class("ht" if kind == "fdht" else kind)
    return _choose(lambda r: cls(units=units, ranks=r, **options), kind, ranks, budget, input_dim, "map")


def make_cell(kind: str, units: int, cell: str = "lstm", *, ranks=None, budget=None, input_dim=None, **options):
    """An LSTM or GRU cell (``cell="lstm"|"gru"``) of the given kind; ``options`` go to the cell (e.g.
    ``structure="both"`` for the fully decomposed baselines, ``map_options``, ``hidden_modes``)."""
    kind = _check_kind(kind)
    if cell not in ("lstm", "gru"):
        raise ValueError(f'`cell` must be "lstm" or "gru", got {cell!r}.')
    cls = CELLS[(cell, kind)]
    if kind == "ht" and options.get("structure", "input") != "input":  # HT in both maps: the generic cell
        cls = cells.FactorizedLSTMCell if cell == "lstm" else cells.FactorizedGRUCell
        options = {**options, "decomposition": "ht"}
    if kind == "dense":
        return _choose(lambda _: cls(units, **options), kind, ranks, budget, input_dim, "cell")
    return _choose(lambda r: cls(units, ranks=r, **options), kind, ranks, budget, input_dim, "cell")


__all__ = ["KINDS", "make_cell", "make_linear_map"]
