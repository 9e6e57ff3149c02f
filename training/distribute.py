"""Data-parallel training on the engines that exist: ``tf.distribute`` on the TensorFlow backend,
``keras.distribution`` on JAX. No parallelism of our own.

* ``"none"``: one device, as Keras places it.
* ``"mirrored"``: every local device holds a copy of the weights; each takes an equal part of the global
  batch and the gradients are summed across them (TensorFlow: ``tf.distribute.MirroredStrategy`` over the
  GPUs, or over the logical CPU devices of ``cpu_devices``; JAX: ``keras.distribution.DataParallel`` over
  ``keras.distribution.list_devices()``).
* ``"multi-worker"``: TensorFlow's ``MultiWorkerMirroredStrategy``, one process per machine, the cluster
  read from ``TF_CONFIG`` (``{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker",
  "index": i}}``); the chief (``"chief"``, else worker 0) writes checkpoints and the published folder, the
  others write nothing (they read the chief's checkpoint on ``--resume``: a shared folder).

The batch size of a config is the *global* batch: each of ``N`` replicas computes ``batch / N`` examples and
the summed gradient equals one device's gradient of the whole batch (``keras.losses`` divide by ``N`` under
``tf.distribute``), so one step on ``N`` replicas gives the weights one device gives; the learning rate
therefore stays the config's. Raising the batch with the replica count is a change of the recipe, for which
the usual starting point is to scale the learning rate by the same factor.

``cpu_devices``: split the host CPU into that many logical devices before the engine starts, so that the
strategies run (and are tested) without accelerators. It must be called before TensorFlow or JAX touch a
device.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass

import keras

STRATEGIES = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class Distribution:
    """How a run is spread: ``name`` (one of ``STRATEGIES``), ``strategy`` (the engine's object, or None),
    ``replicas`` (model copies that share each global batch), ``chief`` (whether this process writes) and
    ``engine`` (the public name of the strategy's class, for ``metrics.json``)."""

    name: str
    strategy: object = None
    replicas: int = 1
    chief: bool = True
    engine: str = "none"

    def scope(self):
        """Where the model, its optimizer and a resumed checkpoint must be made (``strategy.scope()`` for
        ``tf.distribute``; JAX's distribution is global, set by ``distribution``)."""
        if self.strategy is not None and hasattr(self.strategy, "scope"):
            return self.strategy.scope()
        return contextlib.nullcontext()

    def prepare(self, model: keras.Model) -> keras.Model:
        """``model`` made ready to ``fit`` under this distribution. Under ``MultiWorkerMirroredStrategy`` Keras
        3.15's TensorFlow trainer fails twice (keras-team/keras#20585), and the model is mended here:

        * it builds the model from a first batch that it reduces across the workers as one nested value,
          which the collective strategy refuses ("unsupported type PerReplica"): the model builds from this
          worker's own part of that batch instead (only its shapes are read);
        * it averages each step's logs over the workers along axis 0, which a scalar (the loss, a metric)
          lacks: the steps return each log as a vector of one.
        """
        if self.name == "multi-worker":
            for name in ("train_step", "test_step"):
                step = getattr(model, name)
                setattr(model, name, lambda data, step=step: keras.tree.map_structure(
                    lambda value: keras.ops.reshape(value, (1,)), step(data)))
            import tensorflow as tf

            def local(value):
                distributed = isinstance(value, tf.distribute.DistributedValues)
                return self.strategy.experimental_local_results(value)[0] if distributed else value

            def symbolic_build(iterator=None, data_batch=None):
                if iterator is not None:
                    for _, _, batches in iterator:
                        data_batch = keras.tree.map_structure(local, next(batches))
                        break
                with self.strategy.scope():
                    model._symbolic_build(data_batch=data_batch)

            model._maybe_symbolic_build = symbolic_build
        return model

    def record(self) -> dict:
        """The ``"distribution"`` entry of ``metrics.json``."""
        return {"strategy": self.engine, "replicas": self.replicas}


ONE_DEVICE = Distribution("none")  # the default: no strategy, Keras places the model


def split_cpu(count: int) -> None:
    """Split the host CPU into ``count`` logical devices (before the backend has started)."""
    if count < 1:
        raise ValueError(f"--cpu-devices must be a positive integer, not {count}.")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        except RuntimeError as error:  # TensorFlow has started already
            raise ValueError(f"The CPU can no longer be split into {count} devices: {error}") from None
    elif backend == "jax":
        import jax

        jax.config.update("jax_num_cpu_devices", count)
    else:
        raise ValueError(f"--cpu-devices needs the TensorFlow or JAX backend, not {backend}.")


def _tensorflow(name: str, cpu_devices: int | None) -> Distribution:
    import tensorflow as tf

    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError('--distribute multi-worker reads the cluster from TF_CONFIG ({"cluster": {"worker": '
                             '["host:port", ...]}, "task": {"type": "worker", "index": i}}); it is not set.')
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as error:
            raise ValueError(f"TF_CONFIG is not JSON ({error}).") from None
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        resolver = strategy.cluster_resolver
        workers_only = "chief" not in resolver.cluster_spec().as_dict()
        chief = resolver.task_type == "chief" or (workers_only and resolver.task_type == "worker" and resolver.task_id == 0)
        return Distribution(name, strategy, strategy.num_replicas_in_sync, chief, "MultiWorkerMirroredStrategy")
    gpus = tf.config.list_logical_devices("GPU")
    if gpus and not cpu_devices:
        strategy = tf.distribute.MirroredStrategy()
    else:  # NCCL is for GPUs: the CPU copies are summed on one device
        devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    return Distribution(name, strategy, strategy.num_replicas_in_sync, engine="MirroredStrategy")


def distribution(name: str = "none", cpu_devices: int | None = None) -> Distribution:
    """The ``Distribution`` for ``--distribute name`` on the running backend (splitting the CPU first when
    ``cpu_devices``). A ValueError names what is missing or not supported."""
    if name not in STRATEGIES:
        raise ValueError(f"Unknown --distribute {name!r}; choose one of {', '.join(STRATEGIES)}.")
    if cpu_devices:
        split_cpu(int(cpu_devices))
    if name == "none":
        return Distribution(name)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow(name, cpu_devices)
    if backend == "jax" and name == "mirrored":
        devices = keras.distribution.list_devices()
        data_parallel = keras.distribution.DataParallel(devices=devices)
        keras.distribution.set_distribution(data_parallel)
        return Distribution(name, data_parallel, len(devices), engine="DataParallel")
    raise ValueError(f"--distribute {name} is not available on the {backend} backend: mirrored runs on TensorFlow "
                     "and JAX, multi-worker on TensorFlow.")
