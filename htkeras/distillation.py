"""Knowledge distillation (Hinton et al., 2015): a compact student trained on the labels and on a teacher's
softened outputs.

For a classifier with ``C`` classes (``DistillationLoss``)::

    loss = alpha * CE(label, p) + (1 - alpha) * T**2 * KL(q_T || p_T)

where ``p`` is the student's softmax output, ``q`` the teacher's, and ``x_T = softmax(log(x) / T)`` (the
softmax of the logits divided by ``T``: the logits are ``log(x)`` up to a constant, which the softmax
cancels). For a next-step model with ``K`` independent binary outputs (piano keys; ``BernoulliDistillationLoss``)
the same holds per output with ``x_T = sigmoid(logit(x) / T)``, the cross-entropy and the KL divergence of
two Bernoulli distributions averaged over the outputs, as ``binary_crossentropy`` averages them.

The teacher's outputs are computed once per example and travel with the labels (``pack``): ``y_true`` is
``(N, 1 + C)`` (the label index, then the teacher's probabilities) for a classifier and ``(..., 2K)`` (the
targets, then the teacher's probabilities) for a next-step model. ``packed_accuracy`` is the accuracy of the
label column. At ``alpha = 1`` each loss is the plain cross-entropy. Cost: ``O(N * C)`` per batch.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before their logarithm


def check_distill(alpha, temperature, where: str = "distill") -> tuple:
    """``(alpha, temperature)`` as floats, ``0 <= alpha <= 1`` and ``temperature >= 1`` (a ValueError naming
    ``where`` otherwise)."""
    for name, value, low, high in (("alpha", alpha, 0.0, 1.0), ("temperature", temperature, 1.0, 100.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{where}.{name} must be a number in [{low:g}, {high:g}], got {value!r}.")
    return float(alpha), float(temperature)


def pack(labels, teacher_probabilities) -> np.ndarray:
    """``y_true`` for a distillation loss: a classifier's label indices ``(N,)`` before the teacher's
    probabilities ``(N, C)`` (``(N, 1 + C)``), or next-step targets ``(..., K)`` before the teacher's ``(..., K)``
    (``(..., 2K)``)."""
    labels, teacher = np.asarray(labels, np.float32), np.asarray(teacher_probabilities, np.float32)
    if labels.ndim == teacher.ndim - 1:
        labels = labels[..., None]
    if labels.shape[:-1] != teacher.shape[:-1]:
        raise ValueError(f"Labels of shape {labels.shape} do not match the teacher's outputs of shape {teacher.shape}.")
    return np.concatenate([labels, teacher], axis=-1)


def _log(p):
    return ops.log(ops.clip(p, EPSILON, 1.0 - EPSILON))


class _Distillation(keras.losses.Loss):
    def __init__(self, alpha=0.5, temperature=4.0, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha, self.temperature = check_distill(alpha, temperature, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="htkeras")
class DistillationLoss(_Distillation):
    """``alpha * CE + (1 - alpha) * T**2 * KL(q_T || p_T)`` for a softmax classifier (module docstring).
    ``y_true``: ``(N, 1 + C)``, the label index then the teacher's probabilities (``pack``); ``y_pred``: the
    student's probabilities ``(N, C)``. Returns ``(N,)``."""

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        labels, teacher = ops.cast(y_true[:, 0], "int32"), y_true[:, 1:]
        log_p = _log(y_pred)
        loss = -ops.take_along_axis(log_p, labels[:, None], axis=-1)[:, 0]
        if self.alpha < 1.0:
            t = self.temperature
            log_student = ops.log_softmax(log_p / t, axis=-1)
            log_teacher = ops.log_softmax(_log(teacher) / t, axis=-1)
            kl = ops.sum(ops.exp(log_teacher) * (log_teacher - log_student), axis=-1)
            loss = self.alpha * loss + (1.0 - self.alpha) * t * t * kl
        return loss


@keras.saving.register_keras_serializable(package="htkeras")
class BernoulliDistillationLoss(_Distillation):
    """The per-output Bernoulli form for sigmoid outputs (next-step piano rolls; module docstring).
    ``y_true``: ``(..., 2K)``, the binary targets then the teacher's probabilities; ``y_pred``: ``(..., K)``.
    Returns the mean over the ``K`` outputs, ``(...)``."""

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        k = ops.shape(y_pred)[-1]
        targets, teacher = y_true[..., :k], y_true[..., k:]
        loss = -(targets * _log(y_pred) + (1.0 - targets) * _log(1.0 - y_pred))
        if self.alpha < 1.0:
            t = self.temperature
            student = ops.sigmoid((_log(y_pred) - _log(1.0 - y_pred)) / t)
            softened = ops.sigmoid((_log(teacher) - _log(1.0 - teacher)) / t)
            kl = softened * (_log(softened) - _log(student)) + (1.0 - softened) * (_log(1.0 - softened) - _log(1.0 - student))
            loss = self.alpha * loss + (1.0 - self.alpha) * t * t * kl
        return ops.mean(loss, axis=-1)


@keras.saving.register_keras_serializable(package="htkeras")
def packed_accuracy(y_true, y_pred):
    """The accuracy of the label column of a packed ``y_true`` (``pack``) against the probabilities ``y_pred``."""
    return ops.cast(ops.equal(ops.cast(y_true[:, 0], "int32"), ops.cast(ops.argmax(y_pred, axis=-1), "int32")), "float32")


def distillation_loss(head: str, alpha: float, temperature: float) -> keras.losses.Loss:
    """The distillation loss for a model of ``head`` (``"label"`` or ``"next_step"``)."""
    return (BernoulliDistillationLoss if head == "next_step" else DistillationLoss)(alpha, temperature)


__all__ = ["BernoulliDistillationLoss", "DistillationLoss", "check_distill", "distillation_loss", "pack", "packed_accuracy"]
