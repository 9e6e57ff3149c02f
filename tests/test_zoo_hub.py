"""hf:// handles through the real huggingface_hub client against a local Hub on 127.0.0.1: download,
cache hit, revision pinning, offline use of the cache, and the error for an uncached model offline."""

import json
import os
import subprocess
import sys

import numpy as np

import htkeras.zoo as zoo

from .hub_server import LocalHub, folder_files

CLIENT = """
import json, sys
import numpy as np
import htkeras.zoo as zoo
x = np.random.default_rng(0).standard_normal((2, 40, 40)).astype("float32")
out = {}
for handle in sys.argv[1:]:
    try:
        out[handle] = zoo.load(handle).predict(x, verbose=0).tolist()
    except ConnectionError as error:
        out[handle] = str(error)
print("RESULT" + json.dumps(out))
"""


def run_client(tmp_path, endpoint, *handles, offline=False):
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_OFFLINE": "1" if offline else "0"}
    result = subprocess.run([sys.executable, "-c", CLIENT, *handles], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.split("RESULT", 1)[1])


def local_predictions(name):
    x = np.random.default_rng(0).standard_normal((2, 40, 40)).astype("float32")
    return zoo.load(name).predict(x, verbose=0)


def test_hub_download_cache_revision_and_offline(tmp_path):
    repos = {"org/digits": {"main": folder_files(zoo.resolve("fsdd-fdht-lstm")),
                            "v1": folder_files(zoo.resolve("fsdd-lstm"))}}
    with LocalHub(repos) as hub:
        out = run_client(tmp_path, hub.url, "hf://org/digits", "hf://org/digits@v1")
        np.testing.assert_allclose(out["hf://org/digits"], local_predictions("fsdd-fdht-lstm"), atol=1e-6)
        np.testing.assert_allclose(out["hf://org/digits@v1"], local_predictions("fsdd-lstm"), atol=1e-6)
        downloads = dict(hub.requests)
        assert downloads[("org/digits", "model.weights.h5")] == 2  # one per revision
        run_client(tmp_path, hub.url, "hf://org/digits")
        assert hub.requests == downloads  # the second load is a cache hit
        url = hub.url
    out = run_client(tmp_path, url, "hf://org/digits", "hf://org/other", offline=True)  # the server is gone
    np.testing.assert_allclose(out["hf://org/digits"], local_predictions("fsdd-fdht-lstm"), atol=1e-6)
    assert "no network (or HF_HUB_OFFLINE=1) and no cached copy" in out["hf://org/other"]
