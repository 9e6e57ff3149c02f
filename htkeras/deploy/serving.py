"""The TF Serving contract of an export: one ``serving_default`` function that a client cannot feed wrongly.

* A waveform model (the ``fsdd-embedding-*`` zoo models) takes raw audio: ``waveform`` float32
  ``[batch, samples]`` in [-1, 1] at the model's rate (16 kHz), any number of samples (one length per
  request). The graph fits each clip to the model's window exactly as ``htkeras.zoo.preprocess`` does
  (``htkeras.data.audio.fit_to_length``: a shorter clip centred between zeros, a longer one cut around its
  speech), so a client sends its recording as it is.
* Any other model takes its ``features`` batch as ``htkeras.zoo.preprocess`` gives it.

Outputs: ``probabilities`` ``[batch, classes]`` float32, ``class_id`` ``[batch]`` int64 and, when the class
names are known, ``label`` ``[batch]`` string (also written to ``assets/labels.txt``, a name a line).
"""

from __future__ import annotations

import numpy as np


def fit_to_length(x, samples: int):
    """``htkeras.data.audio.fit_to_length`` of every row of ``x`` ``[batch, length]`` as TensorFlow ops, to
    ``[batch, samples]``: a length up to ``samples`` is centred between zeros; a longer clip is cut at the
    window of highest energy (float64, the first of equal ones, as ``numpy.argmax``), moved to centre the
    energy it holds (rounded half to even, as Python's ``round``) and kept within the recording. O(batch ·
    length)."""
    import tensorflow as tf

    length = tf.shape(x)[1]

    def centred():
        before = (samples - length) // 2
        return tf.pad(x, [[0, 0], [before, samples - length - before]])

    def cut():
        power = tf.square(tf.cast(x, tf.float64))
        energy = tf.pad(tf.cumsum(power, axis=1), [[0, 0], [1, 0]])
        windows = energy[:, samples:] - energy[:, :-samples]
        positions = tf.range(tf.shape(windows)[1])
        best = tf.reduce_max(windows, axis=1, keepdims=True)
        loudest = tf.reduce_min(tf.where(windows == best, positions[None], tf.shape(windows)[1]), axis=1)
        span = loudest[:, None] + tf.range(samples)[None]
        held = tf.gather(power, span, batch_dims=1)
        total = tf.reduce_sum(held, axis=1)
        weighted = tf.reduce_sum(held * tf.range(samples, dtype=tf.float64)[None], axis=1)
        offset = tf.where(total > 0, weighted / tf.where(total > 0, total, 1.0), samples / 2)
        centre = tf.cast(loudest, tf.float64) + offset
        start = tf.clip_by_value(tf.cast(tf.round(centre - samples / 2), tf.int32), 0, length - samples)
        return tf.gather(x, start[:, None] + tf.range(samples)[None], batch_dims=1)

    fitted = tf.cond(length <= samples, centred, cut)
    return tf.ensure_shape(fitted, [None, samples])


def serving_function(model, labels=None, waveform_samples: int | None = None):
    """``(function, input spec)``: the ``serving_default`` of ``model`` (see the module docstring); raw
    waveforms fitted to ``waveform_samples`` when given, else the model's own input batch."""
    import tensorflow as tf

    names = None if labels is None else tf.constant([str(label) for label in labels])

    def outputs(probabilities):
        result = {"probabilities": probabilities, "class_id": tf.argmax(probabilities, axis=-1)}
        if names is not None:
            result["label"] = tf.gather(names, result["class_id"])
        return result

    if waveform_samples:
        spec = tf.TensorSpec((None, None), tf.float32, name="waveform")

        def serve(waveform):
            return outputs(model(fit_to_length(waveform, int(waveform_samples)), training=False))
    else:
        spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="features")

        def serve(features):
            return outputs(model(features, training=False))

    return serve, spec


def write_labels(path, labels) -> None:
    """``labels``, one a line (line i names output i), to ``path``; a name holding a line break is refused."""
    labels = [str(label) for label in labels]
    if any("\n" in label or "\r" in label for label in labels):
        raise ValueError("A class name holds a line break; it cannot be written one a line.")
    path.write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")


def read_labels(path) -> list:
    """The class names in a labels file that ``write_labels`` wrote."""
    return path.read_text(encoding="utf-8").splitlines()


def as_text(values) -> list:
    """String tensor values (bytes) as ``str``."""
    return [value.decode("utf-8") for value in np.asarray(values).reshape(-1)]
