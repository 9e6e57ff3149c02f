"""``compression_summary``: parameters, dense-equivalent parameters, compression and FLOPs of any layer or
model, htkeras or plain Keras.

FLOPs count 2 per multiply-add, for one example: per call for feed-forward layers and per time step for
recurrent layers. For factorized maps this is the cost at batch size 1 of the contraction order chosen at
build time, with contractions among weights alone counted in full (at larger batches they are shared).
Layers whose FLOPs are not modelled (convolutions, ...) show "?" and are left out of the FLOPs total,
which says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from .stats import CompressionStats

_KERAS_CELL_GATES = {"LSTMCell": 4, "GRUCell": 3, "SimpleRNNCell": 1}


@dataclass(frozen=True)
class SummaryRow:
    name: str
    kind: str
    stats: CompressionStats


@dataclass(frozen=True)
class CompressionReport:
    rows: tuple
    total: CompressionStats
    unknown_flops: int  # rows whose FLOPs are not modelled

    def __str__(self) -> str:
        header = ("layer", "type", "params", "dense-equiv.", "compression", "FLOPs/step")
        lines = [header]
        for row in self.rows + (SummaryRow("total", "", self.total),):
            s = row.stats
            flops = "?" if s.flops is None else f"{s.flops:,}"
            lines.append((row.name, row.kind, f"{s.params:,}", f"{s.dense_params:,}", f"{s.compression:,.1f}x", flops))
        widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
        fmt = lambda line: "  ".join(c.ljust(w) if k < 2 else c.rjust(w) for k, (c, w) in enumerate(zip(line, widths)))
        out = [fmt(lines[0]), "-" * (sum(widths) + 10)] + [fmt(x) for x in lines[1:-1]]
        out += ["-" * (sum(widths) + 10), fmt(lines[-1])]
        if self.unknown_flops:
            out.append(f"(FLOPs of {self.unknown_flops} layer(s) not modelled and not in the total)")
        return "\n".join(out)


def _keras_cell_stats(cell, input_dim) -> CompressionStats:
    params = cell.count_params()
    matrix = (input_dim + cell.units) * _KERAS_CELL_GATES[type(cell).__name__] * cell.units
    bias = params - matrix
    return CompressionStats(params, params, 2 * matrix + bias)


def _rows(layer, prefix=""):
    name = prefix + layer.name
    if hasattr(layer, "compression_stats"):
        yield SummaryRow(name, type(layer).__name__, layer.compression_stats())
    elif isinstance(layer, keras.layers.Bidirectional):
        for sub in (layer.forward_layer, layer.backward_layer):
            yield from _rows(sub, name + "/")
    elif isinstance(layer, keras.layers.RNN):
        cell = layer.cell
        if hasattr(cell, "compression_stats"):
            yield SummaryRow(name, f"RNN({type(cell).__name__})", cell.compression_stats())
        elif type(cell).__name__ in _KERAS_CELL_GATES:
            input_dim = cell.kernel.shape[0]
            yield SummaryRow(name, type(layer).__name__, _keras_cell_stats(cell, input_dim))
        else:
            yield SummaryRow(name, type(layer).__name__, CompressionStats(layer.count_params(), layer.count_params(), None))
    elif isinstance(layer, keras.layers.TimeDistributed):
        yield from _rows(layer.layer, name + "/")
    elif isinstance(layer, keras.layers.Dense):
        params = layer.count_params()
        flops = 2 * layer.kernel.shape[0] * layer.units + (layer.units if layer.use_bias else 0)
        yield SummaryRow(name, "Dense", CompressionStats(params, params, flops))
    elif isinstance(layer, keras.Model):
        for sub in layer.layers:
            yield from _rows(sub, name + "/")
    elif layer.weights:
        params = layer.count_params()
        yield SummaryRow(name, type(layer).__name__, CompressionStats(params, params, None))


def compression_summary(obj, print_fn=print, trainable_only: bool = False) -> CompressionReport:
    """Table of parameters, dense-equivalent parameters, compression ratio and FLOPs per step.

    Args:
        obj: a built layer, cell or model.
        print_fn: called with the table; ``None`` to print nothing.
        trainable_only: leave out the model's frozen layers (a pretrained backbone): the sizes of what was
            trained.

    Returns:
        ``CompressionReport`` with one row per layer that has weights and the totals.
    """
    if not obj.built:
        raise ValueError("compression_summary needs a built layer or model: call it on data or build() it first.")
    top = obj.layers if isinstance(obj, keras.Model) else [obj]
    top = [layer for layer in top if layer.trainable or not trainable_only]
    rows = tuple(row for layer in top for row in _rows(layer))
    known = [r.stats.flops for r in rows if r.stats.flops is not None]
    total = CompressionStats(
        sum(r.stats.params for r in rows), sum(r.stats.dense_params for r in rows), sum(known)
    )
    report = CompressionReport(rows, total, len(rows) - len(known))
    if print_fn is not None:
        print_fn(str(report))
    return report
