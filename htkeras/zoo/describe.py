"""``info``: what a zoo model is, from its files alone (no Keras, no TensorFlow: ``htkeras info`` is quick)."""

from __future__ import annotations

from .resolver import resolve
from .tasks import get_task

PAPERS = {  # by the model spec's kind
    "ht": 'Yin et al., "Compressing RNNs Using Hierarchical Tucker Tensor Decomposition"',
    "fdht": 'Yin et al., "Towards Extremely Compact RNNs for Video Recognition with Fully Decomposed '
    'Hierarchical Tucker Structure", CVPR 2021',
    "dense": "Hochreiter and Schmidhuber, 1997 (LSTM baseline)",
}


def info(handle) -> dict:
    """Task, dataset, class labels, metrics with their split, parameters, input spec, licence and paper."""
    zoo_model = resolve(handle)
    metrics, task = zoo_model.metrics, get_task(zoo_model.dataset["name"])
    return {
        "name": zoo_model.name,
        "task": zoo_model.config.get("task"),
        "dataset": metrics["data"]["name"],
        "labels": zoo_model.labels,
        "metrics": {"cross_validation": metrics.get("cross_validation"), "train_accuracy": metrics.get("train_accuracy"),
                    "test_accuracy": metrics.get("test_accuracy"), "nll": metrics.get("nll"),
                    "evaluation": metrics.get("evaluation"), "split": metrics["split"]},
        "base": metrics.get("base"),
        "parameters": metrics["parameters"],
        "trainable_parameters": metrics.get("trainable_parameters", metrics["parameters"]),
        "compression": metrics["compression"],
        "backbone": metrics.get("backbone"),
        "input": {
            "shape": [None, *zoo_model.spec["input_shape"]],
            "dtype": "float32",
            "preprocessing": task.describe_input(zoo_model),
        },
        "licence": {"weights": "Apache-2.0", "data": task.licence},
        "paper": PAPERS.get(zoo_model.spec["kind"]),
        "commit": metrics["commit"],
        "sha256": zoo_model.checksums,
    }
