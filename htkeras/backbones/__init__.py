"""Front-ends that turn raw frames into feature sequences for the recurrent heads: EfficientNet-Lite0 rebuilt
in Keras with ImageNet weights (``efficientnet_lite0``), any TensorFlow SavedModel as a layer
(``SavedModelBackbone``), Google's pretrained speech embedding rebuilt in Keras (``speech_embedding``:
16 kHz waveform -> 96-d vectors every 80 ms), and a small trainable convolutional front-end for spectrograms
(``SpectrogramConv``)."""

from .efficientnet_lite import (
                                clip_features,
                                decode_predictions,
                                efficientnet_lite0,
                                imagenet_classes,
                                preprocess_images,
)
from .saved_model import SavedModelBackbone, resolve_saved_model
from .spectrogram_conv import SpectrogramConv
from .speech_embedding import LogMelSpectrogram, SpeechEmbedding, speech_embedding
from .torch_checkpoint import read_legacy_torch_checkpoint

__all__ = [
    "LogMelSpectrogram", "SavedModelBackbone", "SpectrogramConv", "SpeechEmbedding", "clip_features",
    "decode_predictions", "efficientnet_lite0", "imagenet_classes", "preprocess_images",
    "read_legacy_torch_checkpoint", "resolve_saved_model", "speech_embedding",
]
