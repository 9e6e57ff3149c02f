"""The named cells: HT-LSTM/GRU, FDHT-LSTM/GRU (Yin et al.) and one LSTM and GRU cell per baseline
decomposition (TT, TR, BT, CP, Tucker), each a ``FactorizedLSTMCell`` / ``FactorizedGRUCell`` with its map
fixed; every one is attached to its kind in ``htkeras.registry``."""

from __future__ import annotations

import keras

from ..registry import register_cells
from .factorized import FactorizedGRUCell, FactorizedLSTMCell


@keras.saving.register_keras_serializable(package="htkeras")
class HTLSTMCell(FactorizedLSTMCell):
    """LSTM cell with a Hierarchical Tucker input-to-hidden map covering all four gates at once (the gate
    factor folded into the first output mode) and a dense hidden-to-hidden kernel (Yin et al.,
    "Compressing RNNs Using Hierarchical Tucker Tensor Decomposition").

    ``HTLSTMCell(units, ranks=4, input_modes=None, hidden_modes=None, **kwargs)``; see
    ``FactorizedRNNCell`` and ``htkeras.HTDense`` (e.g. ``map_options={"layout": "paired"}``).
    Published configuration: ``HTLSTMCell.from_preset("ucf11_ht_lstm")``.
    """

    _fixed = {"decomposition": "ht", "structure": "input"}


@keras.saving.register_keras_serializable(package="htkeras")
class HTGRUCell(FactorizedGRUCell):
    """GRU cell with a Hierarchical Tucker input-to-hidden map covering all three gates and a dense
    hidden-to-hidden kernel; see ``HTLSTMCell`` and ``FactorizedGRUCell``."""

    _fixed = {"decomposition": "ht", "structure": "input"}


@keras.saving.register_keras_serializable(package="htkeras")
class FDHTLSTMCell(FactorizedLSTMCell):
    """Fully decomposed HT LSTM cell: one HT "mega" map takes the concatenation ``[x_t, h_{t-1}]``
    (zero-padded to a size that factors well unless ``pad_inputs=False``) to all four gates
    (integrate-then-decompose; Yin et al., "Towards Extremely Compact RNNs for Video Recognition with Fully
    Decomposed Hierarchical Tucker Structure", CVPR 2021).

    ``FDHTLSTMCell(units, ranks=4, input_modes=None, hidden_modes=None, **kwargs)``: ``input_modes`` are the
    modes of the (padded) concatenated size ``I + H``. ``FDHTLSTMCell(units=64, ranks=4)`` picks all modes.
    """

    _fixed = {"decomposition": "ht", "structure": "joint"}


@keras.saving.register_keras_serializable(package="htkeras")
class FDHTGRUCell(FactorizedGRUCell):
    """Fully decomposed HT GRU cell: one HT mega map on ``[x_t, h_{t-1}]`` for all three gates; see
    ``FDHTLSTMCell`` and, for how the reset gate meets the mega map, ``FactorizedGRUCell``."""

    _fixed = {"decomposition": "ht", "structure": "joint"}


# -- the baselines: one named LSTM and GRU cell per decomposition ------------------------------------------
_BASELINES = {
    "tt": ("TT", "a Tensor-Train (``htkeras.TTDense``, t3f; Yang et al. 2017, Tjandra et al. 2017/2018)"),
    "tr": ("TR", "a Tensor Ring (``htkeras.TRDense``; Pan et al. 2019)"),
    "bt": ("BT", "a Block-Term (``htkeras.BTDense``; Ye et al. 2018)"),
    "cp": ("CP", "a CP (``htkeras.CPDense``; Tjandra et al. 2018)"),
    "tucker": ("Tucker", "a Tucker (``htkeras.TuckerDense``; Tjandra et al. 2018)"),
}


def _named_cell(base: type, decomposition: str) -> type:
    prefix, what = _BASELINES[decomposition]
    kind = base.__name__.replace("Factorized", "").replace("Cell", "")
    name = f"{prefix}{kind}Cell"
    doc = (
        f"{kind} cell whose gate matrices are {what} map: by default the input-to-hidden map (all gates at "
        f'once, dense hidden-to-hidden kernel); ``structure="both"`` factorizes the hidden-to-hidden map too '
        f'(fully decomposed, as Tjandra et al. 2018) and ``structure="joint"`` uses one map on '
        f"``[x_t, h_{{t-1}}]``.\n\n    ``{name}(units, ranks=4, input_modes=None, hidden_modes=None, **kwargs)``; "
        f"see ``{base.__name__}`` and ``FactorizedRNNCell`` (``map_options`` go to the map)."
    )
    cls = type(name, (base,), {"_fixed": {"decomposition": decomposition}, "__doc__": doc, "__module__": __name__})
    return keras.saving.register_keras_serializable(package="htkeras")(cls)


def _named_cells(decomposition: str) -> tuple:
    """The LSTM and GRU cell of a baseline decomposition, attached to its kind in the registry."""
    lstm, gru = (_named_cell(base, decomposition) for base in (FactorizedLSTMCell, FactorizedGRUCell))
    register_cells(decomposition, lstm=lstm, gru=gru)
    return lstm, gru


register_cells("ht", lstm=HTLSTMCell, gru=HTGRUCell)
register_cells("fdht", lstm=FDHTLSTMCell, gru=FDHTGRUCell)
TTLSTMCell, TTGRUCell = _named_cells("tt")
TRLSTMCell, TRGRUCell = _named_cells("tr")
BTLSTMCell, BTGRUCell = _named_cells("bt")
CPLSTMCell, CPGRUCell = _named_cells("cp")
TuckerLSTMCell, TuckerGRUCell = _named_cells("tucker")
