"""The layer, cell, baseline, mixed-precision and speech-embedding tests again on the JAX and PyTorch backends
(Keras picks its backend once per process). CI installs both (``HTKERAS_REQUIRE_JAX``,
``HTKERAS_REQUIRE_TORCH``: a missing one fails instead of skipping)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = ("test_ht_dense.py", "test_cells.py", "test_baselines.py", "test_precision.py", "test_speech_embedding.py")
BACKENDS = {  # backend: (module, extra environment, what installs it)
    "jax": ("jax", {"JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}, "pip install '.[jax]'"),
    "torch": ("torch", {"CUDA_VISIBLE_DEVICES": ""}, "pip install torch (CI: the CPU build, torch==2.13.0)"),
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_layers_cells_and_baselines_pass_on_backend(backend):
    module, extra, install = BACKENDS[backend]
    if importlib.util.find_spec(module) is None:  # found, not imported: TensorFlow runs in this process
        if os.environ.get(f"HTKERAS_REQUIRE_{backend.upper()}"):
            pytest.fail(f"{module} is not installed ({install}) and HTKERAS_REQUIRE_{backend.upper()} is set")
        pytest.skip(f"{module} is not installed ({install})")
    tests = Path(__file__).parent
    env = {**os.environ, "KERAS_BACKEND": backend, **extra}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *(str(tests / t) for t in TESTS)],
        env=env, capture_output=True, text=True, cwd=tests.parent,  # no timeout: a loaded machine is slow
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
