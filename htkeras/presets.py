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
            "map_options": {"layout": "separate"},
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
    "ucf11_tt_lstm": {
        "cell": "TTLSTMCell",
        "paper": 'Yang et al., "Tensor-Train Recurrent Neural Networks for Video Classification", ICML 2017 (UCF11)',
        "input_shape": (6, 57600),
        "config": {"units": 256, "ranks": 4, "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4]},
        "input_map_parameters": 3360,
        "notes": (
            "TT matrix with input modes [8, 20, 20, 18] and output modes [16, 4, 4, 4] (the 4 gates folded into "
            "the first mode), TT ranks [1, 4, 4, 4, 1]: cores 8*16*4 + 4*20*4*4 + 4*20*4*4 + 4*18*4 = 3,360 weights, "
            "no bias. Dense 256 x 1,024 recurrent kernel and bias separate."
        ),
    },
    "ucf11_tt_gru": {
        "cell": "TTGRUCell",
        "paper": 'Yang et al., "Tensor-Train Recurrent Neural Networks for Video Classification", ICML 2017 (UCF11)',
        "input_shape": (6, 57600),
        "config": {"units": 256, "ranks": 4, "input_modes": [8, 20, 20, 18], "hidden_modes": [4, 4, 4, 4]},
        "input_map_parameters": 3232,
        "notes": (
            "As ucf11_tt_lstm with 3 gates: output modes [12, 4, 4, 4]: 8*12*4 + 1,280 + 1,280 + 288 = 3,232 weights."
        ),
    },
    "youtube_tt_lstm": {
        "cell": "TTLSTMCell",
        "paper": 'Yang et al., ICML 2017 (YouTube Celebrities Face; the same shape serves HMDB51)',
        "input_shape": (6, 57600),
        "config": {"units": 256, "ranks": 4, "input_modes": [4, 20, 20, 36], "hidden_modes": [4, 4, 4, 4]},
        "input_map_parameters": 3392,
        "notes": (
            "Input modes [4, 20, 20, 36], output [16, 4, 4, 4], TT ranks 4: 4*16*4 + 1,280 + 1,280 + 4*36*4 = 3,392."
        ),
    },
    "ucf11_bt_lstm": {
        "cell": "BTLSTMCell",
        "paper": 'Ye et al., "Learning Compact Recurrent Neural Networks with Block-Term Tensor Decomposition", '
        "CVPR 2018 (UCF11)",
        "input_shape": (6, 57600),
        "config": {
            "units": 256,
            "ranks": 4,
            "input_modes": [8, 20, 20, 18],
            "hidden_modes": [4, 4, 4, 4],
            "map_options": {"blocks": 2, "layout": "paired"},
        },
        "input_map_parameters": 3392,
        "notes": (
            "Two Tucker blocks over the mode pairs (8*16, 20*4, 20*4, 18*4) = (128, 80, 80, 72), Tucker ranks 4: "
            "2 * (4^4 + (128 + 80 + 80 + 72) * 4) = 3,392 weights."
        ),
    },
}


def get_preset(name: str) -> dict:
    """The preset called ``name``; a ValueError lists close matches for an unknown name."""
    return lookup(PRESETS, name, "preset")
