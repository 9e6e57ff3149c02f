"""Deployment: a zoo model or any sequence classifier as a TF Serving SavedModel or a TFLite file.

    htkeras.export.export("fsdd-fdht-lstm", "tflite-int8", "out/")      # -> ExportReport

Formats (``FORMATS``):

* ``"saved_model"``: the TF Serving layout ``<out>/<name>/<version>/`` (``saved_model.pb``,
  ``variables/``, ``assets/labels.txt``), any batch size. Signature ``serving_default``
  (``htkeras.deploy.serving``): a waveform model takes raw ``waveform`` ``(batch, samples)`` float32 of any
  length and fits it in the graph as ``zoo.preprocess`` does; others take ``features`` ``(batch, T, F)``;
  outputs ``probabilities`` ``(batch, classes)`` float32, ``class_id`` ``(batch,)`` int64 and ``label``
  ``(batch,)`` string when the class names are known.
* ``"tflite"``: float32, batch 1, a fixed window, builtin ops only; one signature ``serving_default``
  (input ``waveform`` or ``features``, output ``probabilities``: ``with_signature``), the class names in
  ``<name>.labels.txt`` beside it. Keras' names ``litert`` and ``tf_saved_model`` are accepted as well.
* ``"tflite-int8"``: post-training integer quantization calibrated on real inputs: every operator of the
  network is int8 (``TFLITE_BUILTINS_INT8``); input and output stay float32 unless ``int8_io=True``. A
  layer that declares ``keep_float = True`` (the speech embedding's log-mel spectrogram, whose power
  spectrum spans more than 8 bits) stays float32, with builtin ops, and everything else is int8
  (``tf.lite.experimental.QuantizationDebugger`` with those layers' nodes denylisted).

The TFLite graph runs the recurrence as one ``WHILE`` loop over time steps whose body calls the cell (the
HT/FDHT factors stay factors: the file holds the compressed weights, not the dense matrices), instead of
Keras' ``RNN`` loop. Masking (all-zero frames are padding) keeps the state, as Keras does. The loop state
is rotated each step so that no body output is a pass-through of its input: the TFLite calibrator crashes
on those (tensorflow/tensorflow#75140). Flex (TensorFlow) ops are refused unless ``allow_flex=True``.

Every export is written aside, checked, and only then moved to its path (a failed check leaves no file; an
existing export is replaced only with ``overwrite=True``): the file is loaded back (TensorFlow for the
SavedModel, the LiteRT interpreter for TFLite, required) and run on the check inputs next to Keras; the report holds the largest
absolute difference of the probabilities, both accuracies when labels are known, the file size and the
median latency per example. The check and calibration inputs are real examples (``check_data``): the
model's dataset when it is found, else the clips bundled with the package, or the user's labelled clips
(``check_folder``, a fine-tuned model's own labels); otherwise pass ``data=(x, y)``.

Quantization-aware training (``tensorflow-model-optimization``) is Keras-2-only and is not used: see the
README for the post-training path, which is what this module does.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np

from .. import zoo
from ..files import staging_folder, writing
from ..math.tree import positive_int
from ..models import split_backbone
from ..progress import track
from ..timing import median_seconds
from ..zoo.artifact import check_name
from . import ExportError, format_name
from .serving import as_text, read_labels, serving_function, write_labels

PARTS = ("whole", "head")
CALIBRATION_EVERY = 5  # int8: every 5th check example calibrates (a few hundred); the others measure
FLOAT_TOLERANCE = 1e-5  # float exports must reproduce Keras to this (max abs difference of probabilities)
# ... and a model with a signal-processing front-end (a layer that declares keep_float, the speech embedding's
# log-mel stage) to this: TFLite's RFFT2D rounds otherwise than TensorFlow's FFT, and 20 convolutions carry
# it on (on fsdd-embedding-fdht-lstm's 2,500 FSDD clips the float file differs by more than 1e-5)
FRONT_END_TOLERANCE = 1e-4
INT8_ACCURACY_DROP = 0.01  # an int8 export losing more accuracy than this is an error unless allowed



@dataclass
class ExportReport:
    """What was written and how it compares with the Keras model on the check inputs."""

    format: str
    path: str
    bytes: int
    check_examples: int
    max_abs_difference: float
    keras_accuracy: float | None = None
    exported_accuracy: float | None = None
    latency_ms: float | None = None
    operators: list = field(default_factory=list)
    note: str | None = None
    labels: str | None = None  # the class names file (one a line, line i = output i)
    contract: str | None = None  # what the file takes and gives
    usage: str | None = None  # how to run it

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"{self.format}: {self.path} ({self.bytes:,} bytes)"]
        lines.append(f"  checked on {self.check_examples:,} real examples: max |difference| of the probabilities "
                     f"{self.max_abs_difference:.2e}")
        if self.keras_accuracy is not None:
            lines.append(f"  accuracy: Keras {self.keras_accuracy:.1%}, exported {self.exported_accuracy:.1%}")
        if self.latency_ms is not None:
            lines.append(f"  latency: {self.latency_ms:.3f} ms per example (batch 1, 1 thread)")
        if self.operators:
            lines.append(f"  operators: {', '.join(self.operators)}")
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.contract:
            lines.append(f"  contract: {self.contract}")
        if self.labels:
            lines.append(f"  class names: {self.labels} (line i names output i)")
        if self.usage:
            lines.append(f"  run it: {self.usage}")
        return "\n".join(lines)


def _target(model, name, format: str, out, version: int, part: str) -> tuple:
    """``(zoo model or None, export name, path)``: where ``model`` will be written, known before any work."""
    zoo_model = None if isinstance(model, keras.Model) else zoo.resolve(model)  # once: every step takes it
    name = check_name(name or (model.name if zoo_model is None else zoo_model.name), "The export's name")
    name = f"{name}-head" if part == "head" else name
    suffix = {"saved_model": "", "tflite": ".tflite", "tflite-int8": ".int8.tflite"}[format]
    out = Path(out)
    return zoo_model, name, out / name / str(version) if format == "saved_model" else out / f"{name}{suffix}"


def _refuse_existing(path: Path, overwrite: bool, format: str) -> None:
    if path.exists() and not overwrite and (path.is_file() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists: choose another --out{' or --version' if format == 'saved_model' else ''}, "
                              "or pass --overwrite (overwrite=True).")


def _reads_audio(base) -> bool:
    """Whether a model made from ``base`` is fed audio (a folder of labelled clips can check it)."""
    return base.dataset.get("name") == "fsdd"


def labelled_clips(base, labels, folder) -> tuple:
    """``(x, y)`` of a folder of real examples for an audio model: one sub-folder per class, named as in
    ``labels``, of ``.wav`` files (any rate and encoding ``read_wav`` takes), each preprocessed as ``base`` takes it."""
    from ..data.audio import read_wav

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--check-data {folder}: no such folder (it holds one sub-folder of .wav files per label).")
    if not _reads_audio(base):
        raise ValueError(f"--check-data reads folders of audio files; {base.name} takes "
                         f"{base.metrics['data']['features']}: pass data=(x, y) in Python.")
    found = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    unknown = sorted(set(found) - set(labels))
    if unknown:
        raise ValueError(f"--check-data {folder} has folders {unknown} that are not labels of the model "
                         f"({', '.join(labels)}).")
    x, y = [], []
    for name in found:
        for path in sorted((folder / name).glob("*.wav")):
            waveform, rate = read_wav(path)
            x.append(zoo.preprocess(base, [waveform], sample_rate=rate)[0])
            y.append(labels.index(name))
    if not x:
        raise ValueError(f"--check-data {folder} holds no .wav files in folders named after labels ({', '.join(labels)}).")
    return np.stack(x), np.array(y)


def check_data(base, labels, data_dir=None, folder=None, verbose: int = 0) -> tuple:
    """``(x, y or None)``: the real examples an export of a model made from ``base`` (a
    ``ZooModel``) with class names ``labels`` is checked (and int8-calibrated) on: ``folder`` when given
    (``labelled_clips``); for the base's own labels its dataset when it is found here, else the examples
    bundled with the package; for labels of the user's own, the bundled inputs without labels (what a
    float export is compared with Keras on). Never a dataset the machine does not have."""
    if folder is not None:
        return labelled_clips(base, labels, folder)
    task = zoo.get_task(base.dataset["name"])
    own = labels != base.labels or base.has_own_labels  # not the labels of the base's dataset
    if not own and task.evaluation is not None:
        try:
            return zoo.load_data(base, data_dir, verbose=verbose)[:2]
        except FileNotFoundError:
            if task.bundled is None:
                raise
    if task.bundled is None:
        how = "--check-data DIR (one sub-folder of .wav files per label) or " if _reads_audio(base) else ""
        raise ValueError(f"No real examples to check this export of a model made from {base.name} on: pass {how}"
                         "data=(x, y) to htkeras.export.export.")
    x, y, _, _ = task.bundled(base)
    return x, None if own else y


def _resolve_model(model, zoo_model, data, data_dir, folder, verbose):
    """``(keras model, (x, y or None), labels or None, base ZooModel or None)`` for a Keras model or a
    ``ZooModel``."""
    if zoo_model is None:
        base, labels = zoo.origin(model), zoo.model_labels(model)
    else:
        base, labels, model = zoo_model, zoo_model.labels, zoo.load(zoo_model)
    if data is None and folder is None and base is None:
        raise ValueError("Exporting a Keras model needs check inputs: pass data=x or data=(x, y) (real examples).")
    if data is None:
        if labels is None:
            raise ValueError(f"The model has {model.output_shape[-1]} classes and its base {base.name} "
                             f"{len(base.labels)}: which are they? Fine-tune it with zoo.fine_tune(labels=...), or pass "
                             "data=(x, y).")
        data = check_data(base, labels, data_dir, folder, verbose)
    return model, data if isinstance(data, tuple) else (data, None), labels, base


def _accuracy(probabilities, y):
    return None if y is None else float((np.argmax(probabilities, axis=-1) == np.asarray(y)).mean())


def export(model, format: str, out, *, name=None, version: int = 1, data=None, data_dir=None, check_folder=None,
           allow_flex: bool = False, int8_io: bool = False, allow_accuracy_drop: bool = False, overwrite: bool = False,
           part: str = "whole", verbose: int = 0) -> ExportReport:
    """Export ``model`` (a zoo handle or a ``keras.Model`` classifier of sequences) and check the result.

    Args:
        model: a built-in zoo name, ``hf://org/repo[@revision]``, a zoo folder (a fine-tuned one too), or a
            ``keras.Model`` mapping ``(batch, T, F)`` to class probabilities (a model of ``zoo.load`` or
            ``zoo.fine_tune`` is checked on its base's real data and keeps its labels).
        format: one of ``FORMATS``, or Keras' name for it (``litert``, ``tf_saved_model``).
        out: folder to write into (created): ``<out>/<name>/<version>/`` for a SavedModel,
            ``<out>/<name>.tflite`` or ``<out>/<name>.int8.tflite`` otherwise.
        name: file/folder name (default: the zoo name or the model's name).
        version: the TF Serving version folder.
        data: check (and int8 calibration) inputs ``x`` or ``(x, y)``; by default ``check_data``: the model
            dataset's real examples under ``data_dir`` (``HTKERAS_DATA`` or ``../shared/data``) when found, else
            the real clips bundled with the package (FSDD models).
        check_folder: for an audio model, a folder of labelled check clips instead: one sub-folder per label
            of ``.wav`` files (``--check-data``); the way to check and calibrate a fine-tuned model.
        allow_flex: let the TFLite converter fall back to TensorFlow (Flex) ops, which need the Flex
            delegate on the device; off by default, and a model needing them is an error.
        int8_io: for ``tflite-int8``, int8 input and output too (quantization parameters in the file).
        allow_accuracy_drop: keep an int8 file that loses more than ``INT8_ACCURACY_DROP`` of accuracy against
            Keras (by default an ``ExportError``, and no file is left).
        overwrite: replace an existing export at the same path (by default a ``FileExistsError``).
        part: ``"whole"``; or for a model with a pretrained backbone (``fsdd-embedding-*``), ``"head"``: only
            what follows the backbone, on its features (``<name>-head``; the check inputs go through the
            backbone first), for devices that run one shared embedding model and many small heads.
        verbose: 1 shows progress bars (reading the data, checking a TFLite file example by example).
    """
    format = format_name(format)
    version = positive_int(version, "version")
    if part not in PARTS:
        raise ValueError(f"Unknown part {part!r}; choose one of {', '.join(PARTS)}.")
    zoo_model, name, path = _target(model, name, format, out, version, part)
    _refuse_existing(path, overwrite, format)  # before any work
    keras_model, (x, y), labels, base = _resolve_model(model, zoo_model, data, data_dir, check_folder, verbose)
    x = np.asarray(x, np.float32)
    if format == "tflite-int8" and y is None:
        raise ValueError("tflite-int8 is calibrated and its accuracy checked on labelled real examples: pass --check-data "
                         "DIR (one sub-folder of .wav files per label) or data=(x, y).")
    waveform = None  # (window samples, rate) of a waveform model: its SavedModel takes raw audio
    if base is not None and base.dataset.get("input") == "waveform" and part == "whole":
        waveform = int(base.spec["input_shape"][0]), int(base.dataset.get("sample_rate", 16000))
    if part == "head":
        backbone, keras_model = split_backbone(keras_model)
        x = backbone.predict(x, batch_size=64, verbose=0)
    labels_path = None if labels is None or format == "saved_model" else path.parent / f"{name}.labels.txt"
    if labels_path is not None and labels_path.is_file() and not overwrite and read_labels(labels_path) != labels:
        raise FileExistsError(f"{labels_path} names other classes (another model's export of that name?): choose "
                              "another --out, or pass --overwrite (overwrite=True).")
    with writing(path):  # one export to a path at a time; a killed one's staging folder is removed
        _refuse_existing(path, overwrite, format)  # again, inside the lock: another may have finished meanwhile
        staging = staging_folder(path)  # checked here, then moved in
        try:
            if format == "saved_model":
                report = _export_saved_model(keras_model, staging / path.name, x, y, labels, waveform)
            else:
                report = _export_tflite(keras_model, staging / path.name, x, y, format == "tflite-int8", allow_flex,
                                        int8_io, verbose, input_name="waveform" if waveform else "features")
                report = replace(report, contract=_tflite_contract(keras_model, waveform))
            _verify(report, allow_accuracy_drop, FRONT_END_TOLERANCE if _float_scopes(keras_model) else FLOAT_TOLERANCE)
            if labels_path is not None:
                write_labels(staging / labels_path.name, labels)
                os.replace(staging / labels_path.name, labels_path)
            if path.is_dir():
                shutil.rmtree(path)
            os.replace(staging / path.name, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    labels_file = path / "assets" / "labels.txt" if format == "saved_model" and labels is not None else labels_path
    return replace(report, path=str(path), labels=None if labels_file is None else str(labels_file),
                   usage=_usage(format, path, "waveform" if waveform else "features", labels is not None))


def _usage(format: str, path: Path, input_name: str, labelled: bool) -> str:
    """How to run the export at ``path`` and read its outputs, in one line."""
    if format == "saved_model":
        outputs = "'probabilities', 'class_id' and 'label'" if labelled else "'probabilities'"
        return (f"tf.saved_model.load('{path}').signatures['serving_default']({input_name}=x) gives {outputs}; "
                f"TF Serving: POST {{\"instances\": [...]}} to /v1/models/{path.parent.name}:predict")
    return (f"ai_edge_litert.interpreter.Interpreter('{path}').get_signature_runner('serving_default')"
            f"({input_name}=x)['probabilities']" + ("; class names in the labels file above" if labelled else ""))


def _tflite_contract(model, waveform) -> str:
    shape = [1, *model.input_shape[1:]]
    if waveform:
        given = (f"a fixed window: waveform float32 {shape}, {waveform[0] / waveform[1]:g} s at {waveform[1]:,} Hz; fit "
                 "each clip to it as htkeras.zoo.preprocess does (centred, or cut around the speech)")
    else:
        given = f"features float32 {shape} as htkeras.zoo.preprocess gives them"
    return f"{given} -> probabilities float32 [1, {model.output_shape[-1]}]"


# -- SavedModel ----------------------------------------------------------------------------------------
def _export_saved_model(model, path: Path, x, y, labels=None, waveform=None) -> ExportReport:
    """The TF Serving SavedModel (``serving.serving_function``: raw waveforms of any length for a waveform
    model; class names as a ``label`` output and ``assets/labels.txt``), checked through TensorFlow on ``x``."""
    import tensorflow as tf

    serve, spec = serving_function(model, labels, waveform and waveform[0])
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve, input_signature=[spec])
    archive.write_out(str(path), verbose=False)
    if labels is not None:
        (path / "assets").mkdir(exist_ok=True)
        write_labels(path / "assets" / "labels.txt", labels)

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    outputs = [signature(**{spec.name: tf.constant(x[i : i + 256])}) for i in range(0, len(x), 256)]
    exported = np.concatenate([o["probabilities"].numpy() for o in outputs])
    reference = model.predict(x, batch_size=256, verbose=0)
    if labels is not None:
        names = [name for o in outputs for name in as_text(o["label"].numpy())]
        if names != [str(labels[i]) for i in exported.argmax(axis=-1)]:
            raise ExportError("The SavedModel's label output does not name its most probable class; nothing was written.")
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    given = (f"waveform float32 [batch, samples] at {waveform[1]:,} Hz, any length (fitted in the graph as "
             "htkeras.zoo.preprocess does)" if waveform else f"features float32 {[None, *model.input_shape[1:]]}")
    return ExportReport("saved_model", str(path), size, len(x), float(np.abs(exported - reference).max()),
                        _accuracy(reference, y), _accuracy(exported, y),
                        contract=f"serving_default: {given} -> probabilities, class_id"
                        + (", label (class name)" if labels is not None else ""))


# -- TFLite --------------------------------------------------------------------------------------------
def _time_loop(rnn, x, mask):
    """Keras ``RNN(cell)`` (last output, masked steps keep the state) as one ``tf.while_loop``."""
    import tensorflow as tf

    if rnn.return_sequences or rnn.go_backwards or rnn.stateful:
        raise NotImplementedError(
            f"TFLite export runs {rnn.name} as a loop returning the last output only; return_sequences, "
            "go_backwards and stateful RNNs are not supported."
        )
    cell = rnn.cell
    nested = isinstance(cell.state_size, (list, tuple))
    sizes = list(cell.state_size) if nested else [cell.state_size]
    batch, steps = x.shape[0], x.shape[1]
    keep = tf.ones((batch, steps, 1), x.dtype) if mask is None else tf.cast(mask[..., None], x.dtype)
    sequence = tf.concat([x, keep], axis=-1)  # the mask rides along as a last feature

    def body(t, sequence, output, *states):
        step = sequence[:, 0]
        x_t, k = step[:, :-1], step[:, -1:]
        new_output, new_states = cell(x_t, list(states) if nested else states[0], training=False)
        new_states = new_states if nested else [new_states]
        states = [k * new + (1 - k) * old for new, old in zip(new_states, states)]
        output = k * new_output + (1 - k) * output
        sequence = tf.concat([sequence[:, 1:], sequence[:, :1]], axis=1)  # rotate: no pass-through output
        return (t + 1, sequence, output, *states)

    initial = [tf.zeros((batch, size), x.dtype) for size in sizes]
    output = tf.zeros((batch, cell.output_size if hasattr(cell, "output_size") else sizes[0]), x.dtype)
    result = tf.while_loop(lambda t, *_: t < steps, body, (tf.constant(0), sequence, output, *initial))
    return result[2]


def _deploy_function(model):
    """The model's forward pass, layer by layer, with each RNN as ``_time_loop`` (batch 1)."""
    import tensorflow as tf

    layers = model.layers
    if not isinstance(model, keras.Sequential):
        for previous, layer in zip(layers, layers[1:]):
            if layer.input is not previous.output:
                raise NotImplementedError(
                    f"TFLite export runs a chain of layers (Sequential-like); {model.name} feeds {layer.name} "
                    f"from something other than {previous.name}."
                )
    shape = (1, *model.input_shape[1:])

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name="features")])
    def serve(features):
        h, mask = features, None
        for layer in layers:
            if isinstance(layer, keras.layers.Masking):
                mask = tf.reduce_any(tf.not_equal(h, layer.mask_value), axis=-1)
                h = h * tf.cast(mask[..., None], h.dtype)
            elif isinstance(layer, keras.layers.RNN):
                h, mask = _time_loop(layer, h, mask), None
            elif isinstance(layer, keras.layers.InputLayer):
                continue
            else:
                h = layer(h, training=False)
        return {"probabilities": h}

    return serve


def with_signature(flatbuffer: bytes, input_name: str) -> bytes:
    """The TFLite ``flatbuffer`` (one input, one output: a frozen function's conversion, which has no signature
    and an output tensor named ``Identity``) with the signature ``serving_default``: input ``input_name``
    (``waveform`` or ``features``), output ``probabilities``, the tensors named so too. LiteRT's
    ``get_signature_runner()`` then runs it by those names. The graph itself is unchanged."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    graph = model.subgraphs[0]
    (given,), (result,) = graph.inputs, graph.outputs
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = "serving_default", 0
    signature.inputs, signature.outputs = [], []
    for tensor_map, index, name in ((signature.inputs, given, input_name), (signature.outputs, result, "probabilities")):
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = name, int(index)
        tensor_map.append(entry)
        graph.tensors[index].name = name
    model.signatureDefs = [signature]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def operators(flatbuffer: bytes) -> list:
    """Names of the operators in a TFLite flatbuffer, over all subgraphs (custom ops by their custom
    name, e.g. ``FlexEinsum``)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {value: key for key, value in vars(schema.BuiltinOperator).items() if not key.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    found = []
    for code in model.operatorCodes:
        if code.customCode:
            found.append(code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode)
        else:
            found.append(names[max(code.builtinCode, code.deprecatedBuiltinCode)])
    return sorted(set(found))


def interpreter(model_content: bytes):
    """A LiteRT (``ai-edge-litert``) interpreter, one thread: the runtime that phones run, and the one every
    export is checked with (TensorFlow's own ``tf.lite.Interpreter`` gives other int8 results; see the
    README). Without LiteRT an ``ExportError`` says how to install it."""
    try:
        from ai_edge_litert import interpreter as litert
    except ImportError:
        raise ExportError("TFLite exports are checked with the LiteRT interpreter: pip install 'htkeras[export]' "
                          "(ai-edge-litert).") from None
    runner = litert.Interpreter(model_content=model_content, num_threads=1)
    runner.allocate_tensors()
    return runner


def run_tflite(runner, x, verbose: int = 0) -> np.ndarray:
    """Outputs of a batch-1 TFLite classifier for each example of ``x`` (quantizing int8 I/O; ``verbose=1``:
    a progress bar)."""
    (inp,), (out,) = runner.get_input_details(), runner.get_output_details()
    results = []
    for example in track(x, verbose):
        value = example[None]
        if inp["dtype"] == np.int8:
            scale, zero = inp["quantization"]
            value = np.clip(np.round(value / scale + zero), -128, 127)
        runner.set_tensor(inp["index"], value.astype(inp["dtype"]))
        runner.invoke()
        result = runner.get_tensor(out["index"])[0]
        if out["dtype"] == np.int8:
            scale, zero = out["quantization"]
            result = (result.astype(np.float32) - zero) * scale
        results.append(result)
    return np.stack(results)


def _latency_ms(runner, x, repeats: int = 200) -> float:
    return 1000 * median_seconds(lambda i: run_tflite(runner, x[i % len(x) : i % len(x) + 1]), repeats)


def _export_tflite(model, path: Path, x, y, int8: bool, allow_flex: bool, int8_io: bool,
                   verbose: int = 0, input_name: str = "features") -> ExportReport:
    import tensorflow as tf

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    serve = _deploy_function(model)
    # A frozen concrete function: the deploy graph reads no variables (a saved-model conversion keeps
    # resource reads inside the loop body, which the calibrator cannot run).
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if int8 else tf.lite.OpsSet.TFLITE_BUILTINS]
    if allow_flex:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    check = np.arange(len(x))
    if int8:
        calibration = x[::CALIBRATION_EVERY]
        check = np.setdiff1d(check, np.arange(0, len(x), CALIBRATION_EVERY))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([example[None]] for example in calibration)
        if int8_io:
            converter.inference_input_type = converter.inference_output_type = tf.int8
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter's ConverterError names each op it could not map
        missing = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", str(error))))
        if allow_flex or not missing:
            raise
        raise ValueError(
            f"{model.name} uses TensorFlow ops with no TFLite builtin ({', '.join(missing)}); pass allow_flex=True "
            "(--allow-flex) to keep them as Flex ops, which need the Flex delegate on the device."
        ) from error
    scopes = _float_scopes(model)
    if int8 and scopes:
        flatbuffer = _quantize_except(converter, flatbuffer, scopes, calibration, allow_flex)
    flatbuffer = with_signature(flatbuffer, input_name)
    found = operators(flatbuffer)
    flex = [op for op in found if op.startswith("Flex")]
    if flex and not allow_flex:
        raise ValueError(f"The TFLite model needs Flex ops {flex}; pass allow_flex=True to accept them.")
    path.write_bytes(flatbuffer)

    if flex:  # neither LiteRT nor TensorFlow's Python interpreter links the Flex delegate
        return ExportReport("tflite", str(path), len(flatbuffer), 0, float("nan"), operators=found,
                            note="not checked: Flex ops need the Flex delegate, which this Python runtime lacks")
    runner = interpreter(flatbuffer)
    labels = None if y is None else np.asarray(y)[check]
    exported = run_tflite(runner, x[check], verbose)
    reference = model.predict(x[check], batch_size=256, verbose=0)
    report = ExportReport(
        "tflite-int8" if int8 else "tflite", str(path), len(flatbuffer), len(check),
        float(np.abs(exported - reference).max()), _accuracy(reference, labels), _accuracy(exported, labels),
        _latency_ms(runner, x[check]), found,
    )
    return report


def _float_scopes(model) -> list:
    """Names of the layers (at any depth) that declare ``keep_float = True``."""
    return [layer.name for layer in model._flatten_layers() if getattr(layer, "keep_float", False)]


def _quantize_except(converter, quantized: bytes, scopes: list, calibration, allow_flex: bool) -> bytes:
    """The int8 model of ``converter`` with the nodes of the layers named ``scopes`` left in float32: their
    tensors are found by name in the fully ``quantized`` model (``<model>/<layer>[_N]/...``) and denylisted."""
    import tensorflow as tf

    pattern = re.compile("|".join(rf"(^|[/;]){re.escape(name)}(_\d+)?/" for name in scopes))
    names = [d["name"] for d in interpreter(quantized).get_tensor_details() if pattern.search(d["name"])]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS] + (
        [tf.lite.OpsSet.SELECT_TF_OPS] if allow_flex else [])
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=lambda: ([example[None]] for example in calibration),
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=names))
    return debugger.get_nondebug_quantized_model()


def _verify(report: ExportReport, allow_accuracy_drop: bool = False, tolerance: float = FLOAT_TOLERANCE) -> None:
    """Float exports must match Keras; int8 ones must keep the accuracy within ``INT8_ACCURACY_DROP`` unless
    ``allow_accuracy_drop``. An ``ExportError`` otherwise (the caller leaves no file)."""
    if report.format != "tflite-int8" and report.max_abs_difference > tolerance:
        raise ExportError(f"The exported model differs from Keras by {report.max_abs_difference:.2e} "
                          f"(> {tolerance:g}); nothing was written.")
    if report.format == "tflite-int8" and report.keras_accuracy is not None:
        drop = report.keras_accuracy - report.exported_accuracy
        if drop > INT8_ACCURACY_DROP and not allow_accuracy_drop:
            raise ExportError(f"int8 quantization lost {100 * drop:.1f} accuracy points ({report.keras_accuracy:.1%} "
                              f"-> {report.exported_accuracy:.1%}, more than {100 * INT8_ACCURACY_DROP:g}); nothing "
                              "was written. Use the float export, or pass --allow-accuracy-drop to keep it.")
