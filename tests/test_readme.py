"""The README's Python blocks run as written (documentation tests), with the names they leave to the reader
(waveforms, images, a trained LSTM) defined first. The blocks that need a Hub, downloaded weights or a
SavedModel of the reader's are run by their own tests (named in OTHER_TESTS), so that a new block cannot go
untested."""

import re
from pathlib import Path

import keras
import numpy as np
import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
OTHER_TESTS = {  # how the block starts: the tests that run its calls
    'htkeras.zoo.push("runs/fsdd-fdht-lstm", "my-org/fsdd-fdht-lstm")': "tests/test_zoo_hub.py, tests/test_zoo.py",
    "from htkeras.backbones import decode_predictions, efficientnet_lite0, preprocess_images": "tests/test_efficientnet.py",
    'backbone = htkeras.backbones.SavedModelBackbone("path/or/handle")': "tests/test_backbones.py",
    "from htkeras.data.streaming import stream_video_dataset": "tests/test_video.py",
    "from htkeras import zoo\nfrom htkeras.deploy import ExportError": "tests/test_fine_tune_deploy.py",
}


def reader_names():
    rng = np.random.default_rng(0)
    trained_lstm = keras.layers.LSTM(16)
    trained_lstm(rng.standard_normal((2, 5, 12)).astype("float32"))
    return {
        "list_of_float_waveforms": [0.1 * rng.standard_normal(n).astype("float32") for n in (6000, 8000)],
        "waves_16k": 0.1 * rng.standard_normal((2, 16000)).astype("float32"),
        "uint8_images_28x28": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "trained_lstm": trained_lstm,
    }


def run_elsewhere(block: str) -> bool:
    return any(block.startswith(start) for start in OTHER_TESTS)


def test_every_block_is_run_here_or_by_a_named_test():
    assert len(BLOCKS) >= 5 and sum(map(run_elsewhere, BLOCKS)) == len(OTHER_TESTS)


@pytest.mark.parametrize("index", [i for i, block in enumerate(BLOCKS) if not run_elsewhere(block)])
def test_readme_block_runs(index):
    namespace = reader_names()
    for k, block in enumerate(BLOCKS[:index + 1]):  # a block may use what an earlier one defined (``import htkeras``)
        if not run_elsewhere(block):
            exec(compile(block, f"README.md block {k}", "exec"), namespace)
