"""Pretrained CNN front-ends for per-frame features: EfficientNet-Lite0 rebuilt in Keras with ImageNet
weights (``efficientnet_lite0``), and any TensorFlow SavedModel as a layer (``SavedModelBackbone``)."""

from .efficientnet_lite import (clip_features, decode_predictions, efficientnet_lite0, imagenet_classes,
                                preprocess_images)
from .saved_model import SavedModelBackbone, resolve_saved_model
from .torch_checkpoint import read_legacy_torch_checkpoint

__all__ = [
    "SavedModelBackbone", "clip_features", "decode_predictions", "efficientnet_lite0", "imagenet_classes", "preprocess_images",
    "read_legacy_torch_checkpoint", "resolve_saved_model",
]
