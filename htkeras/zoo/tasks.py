"""One table of tasks: everything the zoo knows of a dataset, by the name in a config's ``dataset`` section.

A ``Task`` gives the data's licence, the Hub card's tags, the reader of its training data
(``htkeras.data.sets``), the preprocessing bound to a model's weights (raw inputs -> the model's input
batch), the evaluation data (the model's own real data, from local files) and how ``info`` describes the
input. A new dataset is one entry of ``TASKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data import sets
from ..data.audio import checked_waveforms, log_mel_frames, resample, waveform_batch
from ..data.bundled import DESCRIPTION, bundled_digits
from ..data.fashion_mnist import load_fashion_mnist
from ..data.fsdd import SAMPLE_RATE, load_fsdd_features, load_fsdd_waveforms
from ..data.sequences import image_sequences, pad_series, standardize
from ..data.uea import load_uea
from ..lookup import lookup


@dataclass(frozen=True)
class HubTags:
    """The Hub card metadata of a task: pipeline tag (or None), dataset id, cell tag, metric."""

    pipeline: str | None
    dataset: str
    cell: str
    metric: str


@dataclass(frozen=True)
class Task:
    """``training(options, data_dir)``: the training data (``htkeras.data.sets``); ``preprocess(model, inputs,
    sample_rate)``: raw inputs -> the input batch of ``model`` (a ``ZooModel``); ``evaluation(model, data_dir,
    speakers, verbose)``: ``(x, y, groups)``, the model's own real data; ``describe_input(model)``: how
    ``info`` states the input; ``hub_dataset(config)``: the Hub dataset id where it depends on the config;
    ``bundled(model)``: ``(x, y, names, description)``, real examples shipped in the package (no dataset
    needed). None where a task has none. ``use`` and ``limits``: what a model of the task is for, and where
    it is not to be trusted (the cards' "Intended use and limitations", next to the measured figures)."""

    name: str
    licence: str
    hub: HubTags
    use: str
    limits: str
    training: Callable | None = None
    preprocess: Callable | None = None
    evaluation: Callable | None = None
    describe_input: Callable | None = None
    hub_dataset: Callable | None = None
    bundled: Callable | None = None

    def hub_dataset_id(self, config: dict) -> str:
        return self.hub_dataset(config) if self.hub_dataset else self.hub.dataset


# -- FSDD: waveforms -> log-mel frames, or -> 16 kHz waveforms of the input length (a backbone reads them) ----
def _waveform_input(model) -> bool:
    return model.dataset.get("input") == "waveform"


def _waveform_rate(model) -> int:
    """The sample rate of a waveform-input model (its backbone's: 16 kHz unless the config says otherwise)."""
    return int(model.dataset.get("sample_rate", 16000))


def _fsdd_preprocess(model, inputs, sample_rate: int | None) -> np.ndarray:
    if sample_rate is None:
        raise ValueError(f"{model.name} takes waveforms: pass sample_rate=, the rate they were recorded at (the rate "
                         "of the WAV file; FSDD's is 8000), so that they are resampled to the model's rate.")
    dataset = model.dataset
    if _waveform_input(model):
        return waveform_batch(inputs, sample_rate, _waveform_rate(model), model.spec["input_shape"][0])
    batch = [
        log_mel_frames(resample(w, int(sample_rate), SAMPLE_RATE), SAMPLE_RATE, num_mels=dataset["num_mels"],
                       num_frames=dataset["num_frames"])
        for w in checked_waveforms(inputs, sample_rate)
    ]
    return np.stack(batch).astype(np.float32)


def _fsdd_evaluation(model, data_dir, speakers, verbose):
    dataset = model.dataset
    if _waveform_input(model):
        return load_fsdd_waveforms(data_dir, speakers, _waveform_rate(model), model.spec["input_shape"][0], verbose=verbose)
    return load_fsdd_features(data_dir, speakers, num_frames=dataset["num_frames"], num_mels=dataset["num_mels"],
                              verbose=verbose)


def _fsdd_bundled(model):
    waves, digits, rate, names = bundled_digits()
    return _fsdd_preprocess(model, waves, rate), np.array(digits), names, DESCRIPTION


def _fsdd_input(model) -> str:
    if _waveform_input(model):
        return (f"htkeras.zoo.preprocess: a waveform in [-1, 1] at any rate (sample_rate=) -> resampled (polyphase) to "
                f"{_waveform_rate(model) // 1000} kHz and fitted to {model.spec['input_shape'][0]:,} samples: "
                "a shorter clip centred between zeros, a longer one cut around its speech; empty or NaN input refused, "
                "silent input warned")
    return f"htkeras.zoo.preprocess: waveform at 8 kHz -> {model.metrics['data']['features']}"


# -- Fashion-MNIST: images -> row or patch sequences --------------------------------------------------------
def _fashion_preprocess(model, inputs, sample_rate: int) -> np.ndarray:
    return image_sequences(inputs, model.dataset.get("sequence", "rows"))


def _fashion_evaluation(model, data_dir, speakers, verbose):
    images, labels = load_fashion_mnist("test", data_dir)
    return _fashion_preprocess(model, images, None), labels, None


# -- UEA: series -> padded and standardized with the training statistics in htkeras.json -------------------
def _uea_preprocess(model, inputs, sample_rate: int) -> np.ndarray:
    return standardize(pad_series(inputs, model.spec["input_shape"][0]), model.config["preprocessing"])


def _uea_evaluation(model, data_dir, speakers, verbose):
    x, labels, _ = load_uea(model.dataset["set"], "test", data_dir)
    return _uea_preprocess(model, x, None), labels, None


def _features(model) -> str:
    return model.metrics["data"]["features"]


def _music_evaluation(model, data_dir, speakers, verbose):
    return sets.poly_music(model.dataset, data_dir).splits["test"]  # (x, y, mask): the published test split


def _music_set(config: dict) -> str:
    return config["dataset"].get("set", "JSB_Chorales").lower().replace("_", "-")


TASKS = {
    "fsdd": Task("fsdd", "CC BY-SA 4.0 (Free Spoken Digit Dataset)",
                 HubTags("audio-classification", "free-spoken-digit-dataset", "lstm", "accuracy"),
                 "naming the one English digit (0-9) spoken in a short, clean clip, such as a voice prompt or a "
                 "push-to-talk recording",
                 "trained on 2,500 clips of only 5 speakers reading digits in quiet rooms: other voices, accents, "
                 "children, noise, far-field microphones and telephone lines are outside its data, and its accuracy on "
                 "unseen speakers (above) is the one to expect at best; a clip must hold one word: any sound gets one "
                 "of the 10 labels (it is not a keyword spotter for a stream); not for telling speakers apart",
                 sets.fsdd, _fsdd_preprocess, _fsdd_evaluation, _fsdd_input, bundled=_fsdd_bundled),
    "fashion_mnist": Task("fashion_mnist", "MIT (Fashion-MNIST)",
                          HubTags("image-classification", "fashion_mnist", "lstm", "accuracy"),
                          "sorting 28×28 grayscale thumbnails of clothing, centred on a black background as in "
                          "Fashion-MNIST, into its 10 classes",
                          "not for photographs or other image sources: any image gets one of the 10 labels; "
                          "measured on Fashion-MNIST's published test split only",
                          sets.fashion_mnist, _fashion_preprocess, _fashion_evaluation, _features),
    "uea": Task("uea", "see the UEA/UCR archive", HubTags(None, "uea-multivariate-time-series", "lstm", "accuracy"),
                "classifying series of the UEA set it was trained on (its channels, scale and input length)",
                "measured on the set's published test split only; series from other sensors or subjects, or longer "
                "than its input length (refused), are outside what was measured",
                sets.uea, _uea_preprocess, _uea_evaluation, _features),
    "poly_music": Task("poly_music", "see Boulanger-Lewandowski et al. (2012)",
                       HubTags(None, "jsb-chorales", "gru", "negative-log-likelihood"),
                       "research: comparing compressed recurrent cells on next-step prediction of 88-key piano rolls",
                       "a benchmark model of one corpus' style, measured on its published split only; not a "
                       "composition tool",
                       sets.poly_music, evaluation=_music_evaluation, describe_input=_features, hub_dataset=_music_set),
    "video": Task("video", "see the video dataset", HubTags("video-classification", "ucf11", "lstm", "accuracy"),
                  "classifying short clips of the actions of the video set it was trained on",
                  "measured on that set's own groups only; other cameras, actions and settings are outside it",
                  sets.video, describe_input=_features),
}


def get_task(name: str) -> Task:
    """The task of the dataset ``name`` (a config's ``dataset.name``); an unknown name lists the known ones."""
    return lookup(TASKS, name, "dataset")
