"""SavedModel CNN backbones through TFSMLayer: a local folder and a TF-Hub style .tar.gz URL resolved by
tensorflow_hub from a server on 127.0.0.1, used per frame in front of an HT-LSTM."""

import functools
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import keras
import numpy as np
import pytest

import htkeras
from htkeras.backbones import SavedModelBackbone

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModels need TensorFlow")


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    """A small Keras CNN exported as a SavedModel (signature ``serving_default`` -> ``output_0``)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D()])
    folder = tmp_path_factory.mktemp("cnn") / "saved_model"
    model.export(str(folder), verbose=False)
    return model, folder


def frames(*shape):
    return np.random.default_rng(0).random(shape).astype("float32")


def test_local_saved_model_per_frame_in_front_of_an_ht_lstm(cnn, tmp_path):
    model, folder = cnn
    backbone = SavedModelBackbone(folder)
    np.testing.assert_allclose(backbone(frames(2, 16, 16, 3)), model(frames(2, 16, 16, 3)), atol=1e-6)
    assert not backbone.trainable and backbone.compute_output_shape((None, 16, 16, 3)) == (None, 4)

    video = keras.Input((5, 16, 16, 3))
    features = keras.layers.TimeDistributed(backbone)(video)
    assert tuple(features.shape) == (None, 5, 4)
    hidden = keras.layers.RNN(htkeras.HTLSTMCell(8, ranks=2))(features)
    classifier = keras.Model(video, keras.layers.Dense(3, activation="softmax")(hidden))
    classifier.compile("adam", "sparse_categorical_crossentropy")
    before = [w.numpy().copy() for w in classifier.trainable_weights]
    classifier.fit(frames(4, 5, 16, 16, 3), np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    assert all(not np.allclose(a, b.numpy()) for a, b in zip(before, classifier.trainable_weights))
    assert backbone.weights and not backbone.trainable_weights  # the backbone stays frozen

    classifier.save(tmp_path / "video.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "video.keras")
    again = keras.models.load_model(tmp_path / "video.keras", safe_mode=False)
    x = frames(2, 5, 16, 16, 3)
    np.testing.assert_allclose(again.predict(x, verbose=0), classifier.predict(x, verbose=0), atol=1e-6)


def test_hub_url_resolved_and_cached_by_tensorflow_hub(cnn, tmp_path, monkeypatch):
    model, folder = cnn
    site = tmp_path / "site"
    site.mkdir()
    with tarfile.open(site / "cnn.tar.gz", "w:gz") as archive:
        for path in folder.rglob("*"):
            archive.add(path, arcname=str(path.relative_to(folder)))
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cnn.tar.gz"
    try:
        backbone = SavedModelBackbone(url)
    finally:
        server.shutdown()
        server.server_close()
    np.testing.assert_allclose(backbone(frames(2, 16, 16, 3)), model(frames(2, 16, 16, 3)), atol=1e-6)
    assert list((tmp_path / "cache").glob("*/saved_model.pb"))
    SavedModelBackbone(url)  # the server is gone: the cache answers
    with pytest.raises(ConnectionError, match="local SavedModel folder"):
        SavedModelBackbone(url.replace("cnn", "other"))


def test_errors(cnn, tmp_path):
    _, folder = cnn
    with pytest.raises(FileNotFoundError, match="no saved_model.pb"):
        SavedModelBackbone(tmp_path)
    with pytest.raises(FileNotFoundError, match="neither a SavedModel folder"):
        SavedModelBackbone("not-a-model")
    with pytest.raises(ValueError, match="output_key 'logits' is not an output"):
        SavedModelBackbone(folder, output_key="logits")
