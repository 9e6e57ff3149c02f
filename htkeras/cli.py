"""The ``htkeras`` command: ``list``, ``info``, ``predict``, ``evaluate`` and ``export`` for zoo models.

    htkeras list
    htkeras info fsdd-fdht-lstm
    htkeras predict fsdd-fdht-lstm recording.wav [more.wav | features.npy ...]
    htkeras evaluate fsdd-fdht-lstm [--data-dir ../shared/data] [--speakers george ...]
    htkeras evaluate fashion-fdht-lstm     (the published test split of Fashion-MNIST or a UEA set)
    htkeras evaluate jsb-fdht-gru          (a music model: NLL on its published test split)
    htkeras export fsdd-fdht-lstm --format saved_model|tflite|tflite-int8 --out exported/ [--version 1] [--part head]
    htkeras export my-tuned-folder --format tflite-int8 --out exported/ --check-data clips/   (clips/<label>/*.wav)
    htkeras migrate old-folder [--out new-folder]   (a zoo folder of htkeras 0.5 or earlier -> the Keras layout)

A zoo folder is also a Keras save: keras.saving.load_model(folder) after `import htkeras`.
Exit status: 0 done, 1 an error while running (named in one line), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .text import printable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


MAX_NPY_BYTES = 1 << 30


def _features(zoo_model, path):
    """``(names, batch)`` of a ``.npy`` file of model inputs: one example of the model's input shape or a
    batch of them, finite values only (the file is read as a regular file, never as a pickle)."""
    import numpy as np

    from .files import open_regular
    from .zoo.loading import check_finite

    with open_regular(path, MAX_NPY_BYTES) as f:
        try:
            array = np.load(f, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise ValueError(f"{path} is not a readable .npy array ({error}).") from None
    shape = tuple(zoo_model.spec["input_shape"])
    single = array.ndim == len(shape)
    batch = check_finite(array[None] if single else array, str(path))
    fits = batch.ndim == len(shape) + 1 and all(d is None or d == n for d, n in zip(shape, batch.shape[1:]))
    if not fits:
        raise ValueError(f"{path} holds an array of shape {array.shape}; the model takes {list(shape)} per example "
                         f"(or a batch of them).")
    return [str(path)] if single else [f"{path}[{i}]" for i in range(len(batch))], batch


def _inputs(zoo, zoo_model, paths):
    """``(names, model input batch, failed)``: every input preprocessed, except those that cannot be read or
    are silent wav files, which get no label (``failed``: a one-line message for each, in order; the others
    go on)."""
    import warnings

    import numpy as np

    from .data.audio import SILENCE_DBFS, peak_dbfs, read_wav

    batches, names, failed = [], [], []
    for path in paths:
        try:
            if str(path).endswith(".npy"):
                more, batch = _features(zoo_model, path)
            else:
                waveform, rate = read_wav(path)  # checked: finite, bounded, any PCM or float encoding
                level = peak_dbfs(waveform)
                if level < SILENCE_DBFS:
                    failed.append(f"{path} is silent (peak {level:.0f} dBFS): no label")
                    continue
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    batch = zoo.preprocess(zoo_model, [waveform], sample_rate=rate)
                for warning in caught:  # e.g. a clip far shorter than a word: said next to its file
                    print(f"warning: {printable(path)}: {printable(warning.message)}", file=sys.stderr)
                more = [path]
        except (ValueError, OSError) as error:
            failed.append(str(error))
            continue
        names += more
        batches.append(batch)
    return names, np.concatenate(batches) if batches else None, failed


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _progress() -> int:
    """Progress bars in a terminal only (no escape codes in logs and pipes)."""
    return 1 if sys.stdout.isatty() else 0


def latency_ms(model, example, repeats: int = 50) -> float:
    """Median wall time of one compiled ``predict_on_batch`` call (batch 1), in milliseconds, after a warm-up."""
    from .timing import median_seconds

    return 1000 * median_seconds(lambda _: model.predict_on_batch(example), repeats)


def main(argv=None):
    from .version import __version__

    parser = argparse.ArgumentParser(prog="htkeras", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"htkeras {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the built-in models, one name a line")
    helps = {"info": "what a model is: task, data, sizes, measured metrics (JSON)",
             "predict": "label .wav files or .npy feature arrays",
             "evaluate": "accuracy on the bundled recordings and on the model's dataset where found, and latency "
                         "(a music model: its test NLL)",
             "export": "a SavedModel (TF Serving) or TFLite file, checked against the Keras model",
             "migrate": "convert a zoo folder of htkeras 0.5 or earlier into the Keras-native layout"}
    for name, text in helps.items():
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("model", help="built-in name, hf://org/repo[@revision] or a folder")
        if name == "migrate":
            sub.add_argument("--out", default=None, help="a new folder to write (default: convert the folder in place; "
                             "required for hf://)")
        if name == "predict":
            sub.add_argument("inputs", nargs="+", help=".wav files or .npy feature arrays")
        if name == "evaluate":
            sub.add_argument("--data-dir", default=None, help="data root (default: $HTKERAS_DATA or ../shared/data)")
            sub.add_argument("--speakers", nargs="*", default=None, help="only these FSDD speakers")
        if name == "export":
            from .deploy import ALIASES, FORMATS

            sub.add_argument("--format", required=True, choices=(*FORMATS, *ALIASES),
                             help="litert is tflite, tf_saved_model is saved_model (Keras' names)")
            sub.add_argument("--out", required=True, help="output folder")
            sub.add_argument("--version", type=_positive, default=1, help="TF Serving version folder (saved_model), >= 1")
            sub.add_argument("--overwrite", action="store_true", help="replace an existing export at the same path")
            sub.add_argument("--allow-accuracy-drop", action="store_true",
                             help="tflite-int8: keep a file that loses more accuracy than the check allows")
            sub.add_argument("--data-dir", default=None, help="data root of the model's dataset for the check and int8 "
                             "calibration (default: $HTKERAS_DATA or ../shared/data, else the clips bundled with htkeras)")
            sub.add_argument("--check-data", default=None, metavar="DIR",
                             help="labelled clips to check and calibrate on instead: one sub-folder of .wav files per "
                             "label (a fine-tuned model's own labels)")
            sub.add_argument("--allow-flex", action="store_true", help="accept TensorFlow (Flex) ops in TFLite")
            sub.add_argument("--int8-io", action="store_true", help="tflite-int8: int8 input and output too")
            sub.add_argument("--part", choices=("whole", "head"), default="whole",
                             help="head: only what follows a pretrained backbone, on its features")
    args = parser.parse_args(argv)

    from . import zoo
    from .deploy import ExportError

    try:
        run(zoo, args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to say, to anyone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (ValueError, OSError, ConnectionError, ExportError) as error:  # FileNotFoundError etc. are OSErrors
        parser.exit(1, f"error: {printable(error)}\n")


def run(zoo, args) -> None:
    """The subcommand ``args.command``."""
    if args.command == "list":
        for name in zoo.list_models():
            print(name)
        return
    if args.command == "migrate":
        migrated = zoo.migrate(args.model, args.out)
        print(f"{migrated.folder}: {migrated.name} in the Keras-native layout; load it with "
              f"keras.saving.load_model({str(migrated.folder)!r}) after `import htkeras`, or htkeras.zoo.load.")
        return
    zoo_model = zoo.resolve(args.model)  # once: every command below takes the ZooModel
    if args.command == "info":
        print(json.dumps(zoo.info(zoo_model), indent=2))
    elif args.command == "predict":
        labels = zoo_model.labels
        if not zoo_model.is_classifier:
            raise ValueError(f"{args.model} predicts next frames, not labels: load it with htkeras.zoo.load and "
                             "call it on (batch, T, 88) piano rolls.")
        names, x, failed = _inputs(zoo, zoo_model, args.inputs)
        for path, p in zip(names, zoo.load(zoo_model).predict(x, verbose=0) if names else []):
            print(f"{printable(path)}: {printable(labels[int(p.argmax())])} ({p.max():.2f})")
        if failed and len(args.inputs) == 1:
            raise ValueError(failed[0])
        if failed:
            sys.stdout.flush()
            for message in failed:  # each on its own line, after every label that could be given
                print(f"error: {printable(message)}", file=sys.stderr)
            raise ValueError(f"{len(failed)} of {len(args.inputs)} inputs got no label (above).")
    elif args.command == "evaluate":
        evaluate(zoo, zoo_model, args)
    else:
        from .deploy.export import export

        print(export(zoo_model, args.format, args.out, version=args.version, data_dir=args.data_dir,
                     check_folder=args.check_data,
                     allow_flex=args.allow_flex, int8_io=args.int8_io, allow_accuracy_drop=args.allow_accuracy_drop,
                     overwrite=args.overwrite, part=args.part, verbose=_progress()))


def evaluate(zoo, zoo_model, args) -> None:
    """Accuracy and latency of a classifier: on the real examples bundled with the package (FSDD models: a voice
    none was trained on), then on its dataset's own data when that is found (a missing dataset is then no
    error)."""
    if not zoo_model.is_classifier:
        return evaluate_next_step(zoo, zoo_model, args)
    details, model, labels = zoo.info(zoo_model), zoo.load(zoo_model), zoo_model.labels
    dataset = printable(details["dataset"])
    bundled = zoo.get_task(zoo_model.dataset["name"]).bundled
    backbone = zoo_model.spec.get("backbone")
    if backbone:
        trained = details["trainable_parameters"]
        print(f"{details['name']}: {trained:,} trained parameters in the recurrent head ({details['compression']:.1f}x "
              f"compression) after the frozen {backbone} front-end ({details['parameters'] - trained:,}); "
              f"{details['parameters']:,} parameters in all")
    else:
        print(f"{details['name']}: {details['parameters']:,} parameters ({details['compression']:.1f}x compression)")
    example = None
    if bundled is not None and not zoo_model.has_own_labels:
        x, y, names, description = bundled(zoo_model)
        probabilities = model.predict(x, verbose=0)
        print(f"{description}:")
        for name, truth, p in zip(names, y, probabilities):
            print(f"  {name}: {printable(labels[int(p.argmax())])} ({p.max():.2f})"
                  + ("" if p.argmax() == truth else f", spoken: {printable(labels[int(truth)])}"))
        print(f"accuracy on the bundled recordings: {float((probabilities.argmax(axis=1) == y).mean()):.1%}")
        example = x[:1]
    try:
        x, y, speakers = zoo.load_data(zoo_model, args.data_dir, args.speakers, verbose=_progress())
    except FileNotFoundError:
        if example is None:
            raise
        print(f"{dataset}: not found here; pass --data-dir (or set HTKERAS_DATA) to measure the model on it "
              "too.")
    else:
        start = time.perf_counter()
        accuracy = float((model.predict(x, batch_size=256, verbose=0).argmax(axis=1) == y).mean())
        seconds = time.perf_counter() - start
        tested = details["metrics"]["test_accuracy"]
        if speakers is None:
            print(f"accuracy on the {len(y):,} examples of the published test split of {dataset}: "
                  f"{accuracy:.1%}" + ("" if tested is None else f" (measured after training: {tested:.1%})"))
        else:
            print(f"accuracy on {len(y):,} FSDD recordings ({', '.join(sorted(set(speakers.tolist())))}): {accuracy:.1%}"
                  " (these speakers were in its training data)")
        print(f"  {1000 * seconds / len(y):.2f} ms per example in batches of 256")
        example = x[:1] if example is None else example
    cv = details["metrics"]["cross_validation"]
    if cv:
        print("its accuracy on a speaker it never heard, by leave-one-speaker-out cross-validation: "
              f"{100 * cv['accuracy_mean']:.1f}% +- {100 * cv['accuracy_std']:.1f}")
    print(f"latency: {latency_ms(model, example):.2f} ms per example at batch 1, on {os.cpu_count()} CPU core(s)")

def evaluate_next_step(zoo, zoo_model, args) -> None:
    """The NLL of a next-step model on its dataset's published test split (nats per predicted frame, summed
    over the keys), beside the one measured after training, and its time per frame."""
    from .data.buckets import model_nll

    details, model = zoo.info(zoo_model), zoo.load(zoo_model)
    print(f"{details['name']}: {details['parameters']:,} parameters ({details['compression']:.1f}x compression)")
    x, y, mask = zoo.load_data(zoo_model, args.data_dir)
    start = time.perf_counter()
    nll = model_nll(model, x, y, mask)
    seconds = time.perf_counter() - start
    measured = (details["metrics"].get("nll") or {}).get("test")
    print(f"NLL on the {len(x):,} sequences ({int(mask.sum()):,} predicted frames) of the published test split of "
          f"{printable(details['dataset'])}: {nll:.3f} nats per frame"
          + ("" if measured is None else f" (measured after training: {measured:.3f})"))
    print(f"  {1e6 * seconds / mask.sum():.1f} µs per predicted frame, whole sequences in length buckets of 64")


if __name__ == "__main__":
    sys.exit(main())
