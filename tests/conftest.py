import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """An empty converted-weights cache (``HTKERAS_CACHE``) for the whole test module, so that the conversion
    of pretrained weights runs, and is tested, there."""
    folder = tmp_path_factory.mktemp("htkeras-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HTKERAS_CACHE", str(folder))
        yield folder
