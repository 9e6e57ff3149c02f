"""Published configurations as plain data.

Each preset names a cell class and the keyword arguments that reproduce the paper's layer; build it with
``CellClass.from_preset(name)``. ``notes`` states the assumptions behind the published numbers.
"""

from __future__ import annotations

from .lookup import lookup

PRESETS: dict = {
    "ucf11_ht_lstm": {
        "cell": "HTLSTMCell",
        "paper": 'Yin et al., "Compressing RNNs Using Hierarchical Tucker Tensor Decomposition" (UCF11 HT-LSTM)',
        "input_shape": (6, 57600),
        "config": {
            "units": 256,
            "ranks": 5,
            "input_modes": [8, 20, 20, 18],
            "hidden_modes": [4, 4, 4, 4],
            "map_options": {"leaves": "separate"},
        },
        "input_map_parameters": 1245,
        "notes": (
            "Input: 6 frames per clip, each 160x120x3 = 57,600 values = 8*20*20*18. Hidden size 256 = 4*4*4*4; the "
            "4 gates are folded into the first output mode ([16, 4, 4, 4]). All HT ranks 5, separate leaves (one "
            "per input mode and one per output mode), balanced binary tree over the interleaved leaves "
            "i1, j1, i2, j2, ...: 8 leaves (94 x 5 = 470 weights), 6 inner transfer tensors (6 x 125 = 750) and "
            "the root (5 x 5 = 25): 1,245 weights, no bias, 4 * 57,600 * 256 / 1,245 = 47,375x fewer than the "
            "dense input-to-hidden matrix. The cell's dense 256 x 1,024 recurrent kernel and bias are separate."
        ),
    },
}


def get_preset(name: str) -> dict:
    """The preset called ``name``; a ValueError lists close matches for an unknown name."""
    return lookup(PRESETS, name, "preset")
