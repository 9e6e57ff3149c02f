"""hf:// handles through the real huggingface_hub client against a local Hub on 127.0.0.1: download,
cache hit, revision pinning, offline use of the cache, the error for an uncached model offline, and
``zoo.push`` (upload, then load back)."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

import htkeras
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


def hub_env(tmp_path, endpoint, offline=False):
    return {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_OFFLINE": "1" if offline else "0",
            "HTKERAS_ALLOW_HTTP_HUB": "1"}  # the local Hub is plain http


def run_client(tmp_path, endpoint, *handles, offline=False, script=CLIENT):
    result = subprocess.run([sys.executable, "-c", script, *handles], env=hub_env(tmp_path, endpoint, offline),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.split("RESULT", 1)[1])


def local_predictions(name):
    x = np.random.default_rng(0).standard_normal((2, 40, 40)).astype("float32")
    return zoo.load(name).predict(x, verbose=0)


def test_hub_download_cache_revision_and_offline(tmp_path):
    repos = {"org/digits": {"main": folder_files(zoo.resolve("fsdd-fdht-lstm").folder),
                            "v1": folder_files(zoo.resolve("fsdd-lstm").folder)}}
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


PUSH = """
import sys
import htkeras.zoo as zoo
print(zoo.push(sys.argv[1], sys.argv[2]))
""" + CLIENT.replace("sys.argv[1:]", "sys.argv[3:]")


def test_push_then_load_from_the_hub(tmp_path):
    with LocalHub({}) as hub:
        out = run_client(tmp_path, hub.url, "fsdd-fdht-lstm", "org/pushed", "hf://org/pushed", script=PUSH)
        np.testing.assert_allclose(out["hf://org/pushed"], local_predictions("fsdd-fdht-lstm"), atol=1e-6)
        files = hub.commits[("org/pushed", hub.refs[("org/pushed", "main")])]
        assert hub.messages[-1] == ("org/pushed", f"Upload fsdd-fdht-lstm with htkeras {htkeras.__version__}")
    local = zoo.resolve("fsdd-fdht-lstm").folder
    assert set(files) == {"htkeras.json", "config.json", "model.weights.h5", "metrics.json", "README.md", "cv.json", "curves.png",
                          "metadata.json"}
    assert files["model.weights.h5"] == (local / "model.weights.h5").read_bytes()
    assert files["README.md"].decode().startswith("---\nlibrary_name: keras\n")
    metadata = json.loads(files["metadata.json"])
    assert metadata["library"] == "htkeras" and metadata["name"] == "fsdd-fdht-lstm"
    assert metadata["sha256"]["model.weights.h5"] == hashlib.sha256(files["model.weights.h5"]).hexdigest()


PUSH_MODEL = """
import json, sys
import numpy as np
import keras
import htkeras.zoo as zoo
model = zoo.load("fsdd-fdht-lstm", num_classes=3)
print(zoo.push(model, "org/tuned", labels=["a", "b", "c"]))
x = np.random.default_rng(0).standard_normal((2, 40, 40)).astype("float32")
print("RESULT" + json.dumps({"pushed": model.predict(x, verbose=0).tolist(),
                             "loaded": zoo.load("hf://org/tuned").predict(x, verbose=0).tolist(),
                             "keras": keras.saving.load_model("hf://org/tuned").predict(x, verbose=0).tolist(),
                             "labels": zoo.info("hf://org/tuned")["labels"]}))
"""


def test_push_an_in_memory_model(tmp_path):
    """A model changed in memory (here a new head) is saved as a zoo folder and uploaded in one call; the
    repo loads with htkeras and with Keras alone (``keras.saving.load_model("hf://...")``)."""
    with LocalHub({}) as hub:
        out = run_client(tmp_path, hub.url, script=PUSH_MODEL)
        files = hub.commits[("org/tuned", hub.refs[("org/tuned", "main")])]
    np.testing.assert_allclose(out["loaded"], out["pushed"], atol=1e-6)
    np.testing.assert_allclose(out["keras"], out["pushed"], atol=1e-6)
    assert out["labels"] == ["a", "b", "c"]
    assert set(files) == {"htkeras.json", "config.json", "model.weights.h5", "metrics.json", "README.md", "metadata.json"}
    assert json.loads(files["metrics.json"])["base"] == "fsdd-fdht-lstm"
    checksums = json.loads(files["metadata.json"])["sha256"]
    assert all(checksums[name] == hashlib.sha256(files[name]).hexdigest() for name in set(files) - {"metadata.json"})


EXPORT = """
import json, sys
from htkeras import cli
from htkeras.zoo import artifact
import hashlib
reads, read_json = [], artifact._read_json  # each read by the SHA-1 of what it read (in the cache, a blob's name)
artifact._read_json = lambda path: reads.append(hashlib.sha1(path.read_bytes()).hexdigest()) or read_json(path)
cli.main(["export", sys.argv[1], "--format", "tflite", "--out", sys.argv[2]])
print("RESULT" + json.dumps(reads))
"""


def test_export_of_a_hub_handle_downloads_once_and_reads_its_config_once(tmp_path):
    """``htkeras export hf://...`` resolves the handle once: each file is downloaded once, config.json is
    parsed once, and the export (loaded back and checked on the real test split) is written."""
    files = folder_files(zoo.resolve("jv-fdht-lstm").folder)
    with LocalHub({"org/vowels": {"main": files}}) as hub:
        reads = run_client(tmp_path, hub.url, "hf://org/vowels", str(tmp_path / "out"), script=EXPORT)
        downloads = dict(hub.requests)
    assert downloads == {("org/vowels", name): 1 for name in files}
    sha1 = {name: hashlib.sha1(data).hexdigest() for name, data in files.items()}
    assert reads.count(sha1["config.json"]) == 1 and reads.count(sha1["metadata.json"]) == 1
    assert (tmp_path / "out" / "jv-fdht-lstm.tflite").stat().st_size > 0
