"""Conversion of trained Keras weights into factorized layers and cells.

``from_dense(dense_layer, kind, ...)`` turns a trained ``keras.layers.Dense`` into an ``HTDense``,
``TTDense``, ... and ``from_rnn(lstm_or_gru, kind, ...)`` a trained ``keras.layers.LSTM`` / ``GRU`` into the
HT-, FDHT-, TT-, ... variant, by decomposing the kernels:

* ``"ht"`` / ``"fdht"``: HT-SVD (``htkeras.ht.ht_svd``); ``"tt"``: TT-SVD by t3f (``to_tt_matrix``);
  ``"tr"``: TT-SVD closed into a ring; ``"tucker"``: ST-HOSVD; ``"bt"``: greedy block terms; ``"cp"``: ALS.
* Exactly one way to choose the size: ``rank`` (a cap on every rank), ``budget`` (the largest uniform
  rank whose layer or cell fits in that many parameters) or ``tolerance`` (a relative Frobenius error: HT,
  TT, TR and Tucker choose each rank to meet it; BT and CP take the smallest uniform rank that meets it).
  ``tolerance=0`` gives an exact (full-rank) conversion for the SVD-based kinds.

Biases and a cell's dense recurrent kernel are copied. A conversion may give maps with more weights than the
dense ones (an exact fit of a small matrix does): the report's ``compression`` (below 1) says so. Every call
returns ``(new_layer, report)``; the report's error is measured on the new layer's weights against the
original ones.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import keras
import numpy as np

from . import factory
from .cells import RNN

MAX_SEARCH_RANK = 64
EXACT = 1e-10  # a searched rank whose fit is this close counts as exact (float64 round-off)


@dataclass(frozen=True)
class ConversionReport:
    """``params`` / ``dense_params``: trainable parameters of the new and the original layer;
    ``relative_error``: ``||W - W_new|| / ||W||`` over all converted weight matrices together (for a cell,
    ``[W_x; W_h]``); ``ranks``: the ranks of each factorized map; ``map_errors``: each map's own error."""

    kind: str
    params: int
    dense_params: int
    relative_error: float
    ranks: dict
    map_errors: dict = field(default_factory=dict)

    @property
    def compression(self) -> float:
        return self.dense_params / self.params

    def __str__(self) -> str:
        return (
            f"{self.kind}: {self.params:,} parameters (from {self.dense_params:,}, {self.compression:.1f}x), "
            f"relative error {self.relative_error:.3g}, ranks {self.ranks}"
        )


def _numpy(variable) -> np.ndarray:
    return keras.ops.convert_to_numpy(variable)


def _size_arguments(rank, budget, tolerance) -> None:
    given = [name for name, value in (("rank", rank), ("budget", budget), ("tolerance", tolerance)) if value is not None]
    if len(given) != 1:
        raise ValueError(
            "Give exactly one of `rank`, `budget` or `tolerance` (tolerance=0 converts exactly)"
            + (f"; got {given}." if given else ".")
        )


def _fit(probe, matrix, rank, tolerance):
    """``(ranks, factors)`` of ``probe``'s format fitted to ``matrix`` (rows padded to the map's input)."""
    padded = np.zeros((probe.padded_input_dim, matrix.shape[1]))
    padded[: matrix.shape[0]] = matrix
    if tolerance is None or probe.adaptive_ranks:
        return probe.decompose(padded, rank, tolerance)[:2]
    for r in range(1, MAX_SEARCH_RANK + 1):
        ranks, factors, error = probe.decompose(padded, r, None)
        if error <= max(tolerance, EXACT):
            return ranks, factors
    warnings.warn(
        f"{type(probe).__name__}: rank {MAX_SEARCH_RANK} reaches a relative error of {error:.3g}, above the "
        f"tolerance {tolerance}; using rank {MAX_SEARCH_RANK}.",
        stacklevel=3,
    )
    return ranks, factors


def _assign(layer, factors) -> None:
    for variable, value in zip(layer.factors, factors):
        variable.assign(np.reshape(value, variable.shape).astype(variable.dtype))


def _squared_error(layer, matrix) -> float:
    return float(((layer.dense_kernel().astype(np.float64) - matrix) ** 2).sum())


def _report(kind, new, old_params, parts, ranks) -> ConversionReport:
    """``parts``: ``{weight name: (squared error, squared norm of the original)}``."""
    error_sq, norm_sq = (sum(values) for values in zip(*parts.values()))
    map_errors = {name: math.sqrt(err / norm) if norm else 0.0 for name, (err, norm) in parts.items()}
    total = math.sqrt(error_sq / norm_sq) if norm_sq else 0.0
    return ConversionReport(kind, new.count_params(), old_params, total, ranks, map_errors)


def from_dense(layer, kind: str, *, rank=None, budget=None, tolerance=None, **options):
    """Convert a built ``keras.layers.Dense`` into a factorized map of ``kind`` (see the module docstring).

    ``options`` go to the new layer (``input_modes``, ``output_modes``, ``layout``, ``tree``,
    ``blocks``, ``pad_inputs``, ...). Returns ``(layer, ConversionReport)``; the new layer is built, with
    the Dense layer's activation and bias.
    """
    if not isinstance(layer, keras.layers.Dense) or not layer.built:
        raise ValueError(f"from_dense needs a built keras.layers.Dense, got {layer!r}.")
    if kind == "dense":
        raise ValueError('The layer is already dense; choose a factorized kind ("ht", "tt", "tr", ...).')
    _size_arguments(rank, budget, tolerance)
    kernel = _numpy(layer.kernel).astype(np.float64)
    input_dim, units = kernel.shape
    options = {"use_bias": layer.use_bias, "activation": layer.activation, "dtype": layer.dtype_policy,
               "allow_larger": True, **options}  # asked for: an exact fit of a small matrix may be larger than it
    if budget is not None:
        probe = factory.make_linear_map(kind, units, budget=budget, input_dim=input_dim, **options)
        rank = probe.ranks
    probe = factory.make_linear_map(kind, units, ranks=1, **options)
    probe.build((None, input_dim))
    ranks, factors = _fit(probe, kernel, rank, tolerance)
    new = type(probe).from_config({**probe.get_config(), "ranks": ranks, "name": f"{layer.name}_{kind}"})
    new.build((None, input_dim))
    _assign(new, factors)
    if layer.use_bias:
        new.bias.assign(_numpy(layer.bias))
    parts = {"kernel": (_squared_error(new, kernel), float((kernel**2).sum()))}
    return new, _report(kind, new, layer.count_params(), parts, {"kernel": ranks})


_RNN_CELLS = {keras.layers.LSTMCell: "lstm", keras.layers.GRUCell: "gru"}


def from_rnn(layer, kind: str, *, rank=None, budget=None, tolerance=None, **options):
    """Convert a built ``keras.layers.LSTM`` or ``GRU`` (or ``RNN`` of an ``LSTMCell`` / ``GRUCell``) into
    an ``htkeras.RNN`` (a ``keras.layers.RNN``) of the ``kind`` cell, decomposing its kernels.

    ``options`` go to the cell: ``structure`` (``"input"``, the default: the input kernel is factorized
    and the recurrent kernel copied; ``"both"``: both factorized; ``"joint"``, fixed for ``"fdht"``: the
    stacked ``[W_x; W_h]`` factorized as one map), ``input_modes``, ``hidden_modes``, ``map_options``.
    Sequence options (``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, ``unroll``)
    and the cell's ``dropout``, ``recurrent_dropout`` and ``seed`` are kept.

    Returns ``(htkeras.RNN, ConversionReport)``; ``report.relative_error`` is over ``[W_x; W_h]``.
    """
    cell = getattr(layer, "cell", None)
    cell_type = next((name for cls, name in _RNN_CELLS.items() if type(cell) is cls), None)
    if cell_type is None or not layer.built:
        raise ValueError(f"from_rnn needs a built keras.layers.LSTM or GRU, got {layer!r}.")
    if kind == "dense":
        raise ValueError('The layer is already dense; choose a factorized kind ("ht", "fdht", "tt", ...).')
    _size_arguments(rank, budget, tolerance)
    kernel, recurrent = _numpy(cell.kernel).astype(np.float64), _numpy(cell.recurrent_kernel).astype(np.float64)
    input_dim, units = kernel.shape[0], cell.units
    options = {
        "activation": cell.activation,
        "recurrent_activation": cell.recurrent_activation,
        "use_bias": cell.use_bias,
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
        "seed": cell.seed,
        "dtype": cell.dtype_policy,
        "map_options": {"allow_larger": True, **options.pop("map_options", {})},  # as in from_dense
        **({"unit_forget_bias": cell.unit_forget_bias} if cell_type == "lstm" else {"reset_after": cell.reset_after}),
        **options,
    }
    if budget is not None:
        sized = factory.make_cell(kind, units, cell_type, budget=budget, input_dim=input_dim, **options)
        rank = sized.ranks
    probe = factory.make_cell(kind, units, cell_type, ranks=1, **options)
    probe.build((None, input_dim))
    matrices = {
        "joint_map": np.concatenate([kernel, recurrent]),
        "kernel_map": kernel,
        "recurrent_map": recurrent,
    }
    fitted = {name: _fit(getattr(probe, name), matrices[name], rank, tolerance) for name in matrices if hasattr(probe, name)}
    config = {**probe.get_config(), "name": f"{cell.name}_{kind}"}
    config["ranks"] = fitted["joint_map" if "joint_map" in fitted else "kernel_map"][0]
    if "recurrent_map" in fitted:
        config["recurrent_ranks"] = fitted["recurrent_map"][0]
    new_cell = type(probe).from_config(config)
    new_cell.build((None, input_dim))
    parts, ranks = {}, {}
    for name, (map_ranks, factors) in fitted.items():
        _assign(getattr(new_cell, name), factors)
        parts[name] = (_squared_error(getattr(new_cell, name), matrices[name]), float((matrices[name] ** 2).sum()))
        ranks[name] = map_ranks
    if hasattr(new_cell, "recurrent_kernel"):
        new_cell.recurrent_kernel.assign(recurrent)
        parts["recurrent_kernel"] = (0.0, float((recurrent**2).sum()))
    if cell.use_bias:
        new_cell.bias.assign(_numpy(cell.bias))
    rnn = RNN(
        new_cell,
        return_sequences=layer.return_sequences,
        return_state=layer.return_state,
        go_backwards=layer.go_backwards,
        stateful=layer.stateful,
        unroll=layer.unroll,
        name=f"{layer.name}_{kind}",
    )
    return rnn, _report(kind, new_cell, layer.count_params(), parts, ranks)
