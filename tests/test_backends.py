"""The layer, cell, baseline and speech-embedding tests again on the JAX backend (Keras picks its backend once per process)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_layers_cells_and_baselines_pass_on_jax():
    try:
        import jax  # noqa: F401  (only whether it imports)
    except ImportError:
        if os.environ.get("HTKERAS_REQUIRE_JAX"):
            raise
        pytest.skip("JAX is not installed (pip install '.[jax]')")
    tests = Path(__file__).parent
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(tests / "test_ht_dense.py"), str(tests / "test_cells.py"), str(tests / "test_baselines.py"),
         str(tests / "test_speech_embedding.py")],
        env=env, capture_output=True, text=True, cwd=tests.parent, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
