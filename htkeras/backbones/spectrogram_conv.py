"""A small trainable convolutional front-end for spectrogram sequences (the "CNN" of CNN + HT-LSTM audio
classifiers)."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="htkeras")
class SpectrogramConv(keras.layers.Layer):
    """2-D convolutions over (time, frequency) that keep every time step: per entry of ``filters``, a
    ``kernel_size`` x ``kernel_size`` convolution ("same" padding) with batch normalization and ReLU, then
    max pooling by 2 over frequency only.

    Shapes: ``(batch, T, F)`` -> ``(batch, T, (F // 2 ** len(filters)) * filters[-1])``. Because the time
    axis is kept, a padding mask (``Masking`` in front) passes through unchanged to the recurrent layer.

    Cost: ``sum(k * k * c_in * c_out)`` convolution weights (no bias) plus 4 per channel for batch
    normalization (2 trainable); about ``T * F * sum(k * k * c_in * c_out / 2 ** i)`` multiply-adds per
    example.
    """

    def __init__(self, filters=(8, 16), kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = tuple(int(f) for f in filters), int(kernel_size)
        if not self.filters:
            raise ValueError("SpectrogramConv needs at least one entry in filters.")
        self.supports_masking = True
        self.stages = []
        for i, count in enumerate(self.filters):
            self.stages += [
                keras.layers.Conv2D(count, self.kernel_size, padding="same", use_bias=False, name=f"conv{i}"),
                keras.layers.BatchNormalization(name=f"bn{i}"),
                keras.layers.ReLU(name=f"relu{i}"),
                keras.layers.MaxPooling2D((1, 2), name=f"pool{i}"),
            ]

    def build(self, input_shape):
        shape = (*input_shape, 1)
        for stage in self.stages:
            stage.build(shape)
            shape = stage.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = keras.ops.expand_dims(inputs, -1)
        for stage in self.stages:
            x = stage(x, training=training) if isinstance(stage, keras.layers.BatchNormalization) else stage(x)
        batch, steps = keras.ops.shape(x)[0], keras.ops.shape(x)[1]
        return keras.ops.reshape(x, (batch, steps, self.output_features(inputs.shape[-1])))

    def output_features(self, frequencies: int) -> int:
        return (int(frequencies) // 2 ** len(self.filters)) * self.filters[-1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.output_features(input_shape[2]))

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters), "kernel_size": self.kernel_size}
