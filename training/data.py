"""Datasets for the training scripts: the builder named by the zoo's task table for a config's ``dataset``
section (``htkeras.data.sets``), and length-bucketed batches for long next-step sequences
(``htkeras.data.buckets.LengthBuckets``)."""

from __future__ import annotations

from htkeras.data.buckets import LengthBuckets
from htkeras.data.sets import Dataset, NextStepData
from htkeras.zoo.tasks import get_task


def load_dataset(options: dict, data_dir=None) -> Dataset | NextStepData:
    """The dataset a config's ``dataset`` section describes (``{"name": "fsdd", ...}``)."""
    task = get_task(options["name"])
    if task.training is None:
        raise ValueError(f"The {options['name']!r} task has no training data reader.")
    return task.training(options, data_dir)


__all__ = ["LengthBuckets", "load_dataset"]
