"""The distillation losses (htkeras.distillation) against plain cross-entropy and hand computations."""

import keras
import numpy as np
import pytest

from htkeras.distillation import BernoulliDistillationLoss, DistillationLoss, pack, packed_accuracy


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def batch(rng):
    student = softmax(rng.standard_normal((6, 5)))
    teacher = softmax(2 * rng.standard_normal((6, 5)))
    labels = rng.integers(0, 5, 6)
    return labels, student.astype("float32"), teacher.astype("float32")


def value(loss, y_true, y_pred):
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def test_alpha_one_is_cross_entropy(batch):
    labels, student, teacher = batch
    expected = value(keras.losses.SparseCategoricalCrossentropy(), labels, student)
    got = value(DistillationLoss(alpha=1.0, temperature=3.0), pack(labels, teacher), student)
    assert got == pytest.approx(expected, rel=1e-5)


def test_hand_computation_at_temperature_two(batch):
    labels, student, teacher = batch
    alpha, t = 0.3, 2.0
    ce = -np.log(student[np.arange(6), labels])
    p_t, q_t = softmax(np.log(student) / t), softmax(np.log(teacher) / t)  # logits are log p up to a constant
    kl = (q_t * (np.log(q_t) - np.log(p_t))).sum(axis=1)
    expected = np.mean(alpha * ce + (1 - alpha) * t * t * kl)
    assert value(DistillationLoss(alpha, t), pack(labels, teacher), student) == pytest.approx(expected, rel=1e-4)
    assert value(DistillationLoss(0.0, t), pack(labels, student), student) == pytest.approx(0.0, abs=1e-5)  # KL(p||p)


def test_bernoulli_form_by_hand(rng):
    targets = rng.integers(0, 2, (3, 4, 7)).astype("float32")
    student = rng.uniform(0.05, 0.95, (3, 4, 7)).astype("float32")
    teacher = rng.uniform(0.05, 0.95, (3, 4, 7)).astype("float32")
    bce = value(keras.losses.BinaryCrossentropy(), targets, student)
    assert value(BernoulliDistillationLoss(1.0, 2.0), pack(targets, teacher), student) == pytest.approx(bce, rel=1e-4)

    def soften(p):
        return 1 / (1 + np.exp(-np.log(p / (1 - p)) / 2.0))

    p, q = soften(student), soften(teacher)
    kl = q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))
    ce = -(targets * np.log(student) + (1 - targets) * np.log(1 - student))
    expected = np.mean(0.25 * ce + 0.75 * 4.0 * kl)
    assert value(BernoulliDistillationLoss(0.25, 2.0), pack(targets, teacher), student) == pytest.approx(expected, rel=1e-4)


def test_packed_accuracy_reads_the_label_column(batch):
    labels, student, teacher = batch
    got = keras.ops.convert_to_numpy(packed_accuracy(pack(labels, teacher), student))
    np.testing.assert_array_equal(got, (student.argmax(axis=1) == labels).astype("float32"))


@pytest.mark.parametrize("alpha, temperature", [(-0.1, 2), (1.5, 2), (0.5, 0.5), ("0.5", 2)])
def test_bad_settings_are_refused(alpha, temperature):
    with pytest.raises(ValueError, match="alpha|temperature"):
        DistillationLoss(alpha, temperature)


def test_loss_round_trips_through_its_config():
    loss = DistillationLoss(0.2, 5.0)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (type(again), again.alpha, again.temperature) == (DistillationLoss, 0.2, 5.0)


def test_pack_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        pack(np.zeros(3), np.zeros((4, 2)))
