"""Write ``benchmarks/README.md`` (every table) and the headline ratios of the front-page README (between the
markers) from ``benchmarks/results/*.json``, misses included; nothing in either is typed by hand.

    python -m benchmarks.report
"""

from __future__ import annotations

import json
from pathlib import Path

from training.run_io import replace_block


def dense_layers_section(result: dict) -> list:
    shape, hw = result["shape"], result["hardware"]
    lines = [
        f"HT input-to-hidden map of the UCF11 shape ({shape['input']:,} -> {shape['output']:,}, batch {shape['batch']}), "
        f"TensorFlow, {hw['cpu_cores']} CPU cores ({hw['cpu']}), {result['rounds']} interleaved rounds of the median of "
        f"{result['repeats']} compiled calls (times: median over rounds; ratios: median of the ratios within a round), "
        f"commit `{result['commit'][:12]}` (`python -m benchmarks.dense_layers`):",
        "",
        "| layer | parameters | forward (ms) | forward + backward (ms) | forward, XLA (ms) "
        "| peak memory growth, forward / forward + backward (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in result["rows"].items():
        backward, xla = (f"{1000 * row[key]:.2f}" if key in row else "–" for key in ("forward_backward", "forward_xla"))
        growth = row.get("peak_memory_growth_bytes")
        memory = f"{growth['forward'] / 2**20:.1f} / {growth['forward_backward'] / 2**20:.1f}" if growth else "–"
        params = "–" if row["params"] is None else f"{row['params']:,}"
        lines.append(f"| {name} | {params} | {1000 * row['forward']:.2f} | {backward} | {xla} | {memory} |")
    lines.append("")
    lines += [f"- {'met' if met else '**not met**'}: {goal}" for goal, met in result["goals"].items()]
    ratios = result["ratios"]
    lines.append(
        f"- measured: Dense / HTDense forward {ratios['dense_over_ht_forward']:.1f}×, forward + backward "
        f"{ratios['dense_over_ht_forward_backward']:.1f}×; HTDense / input read {ratios['ht_over_input_read']:.1f}×; "
        f"TTDense / HTDense forward {ratios['tt_over_ht_forward']:.2f}×."
    )
    lines.append(f"- with XLA (`jit_compile=True`): Dense / HTDense forward {ratios['dense_over_ht_forward_xla']:.1f}×, "
                 f"HTDense / input read {ratios['ht_xla_over_input_read']:.1f}×.")
    span = lambda key: "–".join(f"{v:.1f}" for v in result["ratio_ranges"][key])
    lines.append(f"- the same ratios in each of the {result['rounds']} rounds, lowest to highest (this shared machine's "
                 f"speed drifts): Dense / HTDense forward {span('dense_over_ht_forward')}×, HTDense / input read "
                 f"{span('ht_over_input_read')}×; with XLA {span('dense_over_ht_forward_xla')}× and "
                 f"{span('ht_xla_over_input_read')}×.")
    rows = result["rows"]
    rest = rows["HTDense (ranks 5)"]["forward"] - rows["HTDense, first step alone"]["forward"]
    lines.append(f"- HTDense's first step alone (one matmul over the input's last mode) / input read "
                 f"{ratios['ht_first_step_over_input_read']:.1f}×; the rest of its plan adds about {1000 * rest:.2f} ms.")
    return lines


def tflite_section(result: dict) -> list:
    hw = result["hardware"]
    lines = [
        f"Zoo models as TFLite files, batch 1, one thread (LiteRT), next to Keras `predict_on_batch` on "
        f"{hw['cpu_cores']} cores ({hw['cpu']}); {result['data']}; commit `{result['commit'][:12]}` "
        "(`python -m benchmarks.tflite`):",
        "",
        "| model | parameters | Keras (ms/clip) | float32 file | float32 (ms/clip) | int8 file | int8 (ms/clip) "
        "| accuracy Keras -> int8 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in result["rows"].items():
        f32, i8 = row["tflite"], row["tflite-int8"]
        lines.append(
            f"| {name} | {row['parameters']:,} | {row['keras_ms']:.2f} | {f32['bytes'] / 1024:.1f} KB | "
            f"{f32['latency_ms']:.3f} | {i8['bytes'] / 1024:.1f} KB | {i8['latency_ms']:.3f} | "
            f"{100 * i8['keras_accuracy']:.1f}% -> {100 * i8['exported_accuracy']:.1f}% |"
        )
    lines.append("")
    lines += [f"- {'met' if met else '**not met**'}: {goal}" for goal, met in result["goals"].items()]
    return lines


def scaling_section(result: dict) -> list:
    hw = result["hardware"]
    lines = [
        f"Scaling of the HTDense forward pass (batch {result['batch']}, output 1,024), next to Dense and one read of "
        f"the input, {hw['cpu_cores']} CPU cores, median of {result['repeats']}, commit `{result['commit'][:12]}` "
        "(`python -m benchmarks.scaling`; all rows in `benchmarks/results/scaling.csv`):",
        "",
        "| sweep | input | rank | tree | HT parameters | HTDense (ms) | Dense (ms) | input read (ms) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['sweep']} | {row['input_dim']:,} | {row['rank']} | {row['tree']} | {row['ht_params']:,} | "
                     f"{row['ht_ms']:.2f} | {row['dense_ms']:.2f} | {row['read_ms']:.2f} |")
    lines += ["", "![scaling curves](results/scaling.png)", "",
              "The \"inputs then outputs\" tree is faster but its matrix has rank at most the root's child ranks; the "
              "balanced tree (each input mode paired with an output mode, the papers' layout) keeps a high matrix rank."]
    return lines


def recurrent_section(result: dict) -> list:
    hw = result["hardware"]
    labels = list(result["rows"][0]["ms_per_step"])
    lines = [
        f"Recurrent layers, forward, milliseconds per time step (compiled; {result['rounds']} interleaved rounds, "
        f"the median of {result['repeats']} calls each), {hw['cpu_cores']} CPU cores, commit "
        f"`{result['commit'][:12]}` (`python -m benchmarks.recurrent`); `htkeras.RNN` does the cell's "
        "state-independent work once per sequence, with plans chosen for the sequence's length and batch; the "
        "speed-up is `keras.layers.RNN` over `htkeras.RNN` with the same cell (the median of the rounds' ratios):",
        "",
        "| cell | batch | steps | " + " | ".join(labels) + " | speed-up |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in labels) + " | ---: |",
    ]
    for row in result["rows"]:
        times = " | ".join(f"{row['ms_per_step'][label]:.3f}" for label in labels)
        lines.append(f"| {row['case']} | {row['batch']} | {row['steps']} | {times} | {row['speedup']:.2f}× |")
    lines += ["", *(f"- Goal: {goal}: {'met' if met else '**not met**'}." for goal, met in result["goals"].items())]
    return lines


def tflite_runtimes_section(result: dict) -> list:
    versions = result["versions"]
    lines = [
        f"One int8 TFLite file of {result['model']} in two Python runtimes (LiteRT {versions['ai_edge_litert']}, "
        f"TensorFlow {versions['tensorflow']}'s `tf.lite.Interpreter`), on the export's {result['examples']:,} check "
        f"examples (Keras: {100 * result['keras_accuracy']:.1f}%), commit `{result['commit'][:12]}` "
        "(`python -m benchmarks.tflite_runtimes`):",
        "",
        "| runtime, op resolver | accuracy |",
        "| --- | ---: |",
        *(f"| {name} | {100 * accuracy:.1f}% |" for name, accuracy in result["accuracy"].items()),
        "",
        "The runtimes agree without their default delegates and with the reference kernels; TensorFlow's "
        "interpreter differs only with its default delegate (XNNPACK, which it applies by default). htkeras "
        "checks every TFLite export with LiteRT.",
    ]
    return lines


def precision_section(result: dict) -> list:
    policies = result["policies"]
    contractions = ["float32 contraction", "16-bit contraction"]
    columns = [f"{policy}, {name}" for name in contractions for policy in policies]
    lines = [
        "Mixed precision: the largest difference from float32 over the largest float32 output, same weights and "
        f"inputs (batch 32), TensorFlow on {result['hardware']['cpu_cores']} CPU cores, commit "
        f"`{result['commit'][:12]}` (`python -m benchmarks.precision`); kind `dense` is Keras' own Dense, LSTM or "
        "GRU; the factorized layers contract in float32 by default (`float32_contraction`):",
        "",
        "| shape | kind | " + " | ".join(columns) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for shape, kinds in result["rows"].items():
        for kind, errors in kinds.items():
            cells = [f"{errors[name][p]:.1e}" if name in errors else "–" for name in contractions for p in policies]
            lines.append(f"| {shape} | {kind} | " + " | ".join(cells) + " |")
    lines += ["", *(f"- Goal: {goal}: {'met' if met else '**not met**'}." for goal, met in result["goals"].items()),
              f"- Further than {result['margin']:g}x from Keras' error with a 16-bit contraction, so float32 inside is "
              f"the default: {', '.join(result['need_float32_contraction']) or 'none'}."]
    return lines


def fine_tune_speed_section(result: dict) -> list:
    hw = result["hardware"]
    return [
        f"Fine-tuning {result['model']} on {result['labels']} new labels (who speaks), {result['clips']} real FSDD clips, "
        f"batch 32, {hw['cpu_cores']} CPU cores, {hw['backend']} backend, commit `{result['commit'][:12]}` "
        "(`python -m benchmarks.fine_tune_speed`; the median epoch after the first of each):",
        "",
        "| route | seconds per epoch | one-off |",
        "| --- | ---: | ---: |",
        f"| `zoo.load(num_classes=K)` + `fit` (front-end in every epoch) | {result['fit_seconds_per_epoch']:.2f} | – |",
        f"| `zoo.fine_tune` (features once, head trained on them) | {result['fine_tune_seconds_per_epoch']:.3f} | "
        f"{result['feature_seconds']:.1f} s of features |",
        "",
        f"- Goal: fine_tune at least {result['goal']:g}× faster per epoch: "
        f"{'met' if result['ratio'] >= result['goal'] else '**not met**'} ({result['ratio']:.1f}×).",
    ]


SECTIONS = {"dense_layers": dense_layers_section, "recurrent": recurrent_section, "scaling": scaling_section,
            "tflite": tflite_section, "tflite_runtimes": tflite_runtimes_section, "precision": precision_section,
            "fine_tune_speed": fine_tune_speed_section}


def headline(results: dict) -> list:
    """The front page's few lines: the UCF11-shape layer, the HT-LSTM speed-up and the deployed FSDD model."""
    lines = []
    if "dense_layers" in results:
        result = results["dense_layers"]
        rows, ratios = result["rows"], result["ratios"]
        ht, dense = rows["HTDense (ranks 5)"], rows["Dense"]
        missed = sum(not met for met in result["goals"].values())
        lines.append(
            f"- UCF11-shape input map (57,600 -> 1,024, batch {result['shape']['batch']}): HTDense, {ht['params']:,} "
            f"weights, {1000 * ht['forward']:.2f} ms forward against {1000 * dense['forward']:.1f} ms for Dense "
            f"({dense['params']:,} weights): {ratios['dense_over_ht_forward']:.1f}× faster, "
            f"{ratios['dense_over_ht_forward_backward']:.1f}× with the backward pass; "
            f"{missed} of its {len(result['goals'])} speed goals not met (see the tables)."
        )
    if "recurrent" in results:
        speedups = [row["speedup"] for row in results["recurrent"]["rows"]]
        lines.append(f"- `htkeras.RNN` against `keras.layers.RNN` with the same cell: {min(speedups):.2f}× to "
                     f"{max(speedups):.2f}× the speed over {len(speedups)} shapes (FDHT-LSTM, FDHT-GRU, HT-LSTM of the "
                     "UCF11 shape at batch 1, 32 and 256).")
    if "tflite" in results:
        row = results["tflite"]["rows"].get("fsdd-fdht-lstm")
        if row:
            int8 = row["tflite-int8"]
            lines.append(f"- fsdd-fdht-lstm as an int8 TFLite file: {int8['bytes'] / 1024:.1f} KB, "
                         f"{int8['latency_ms']:.3f} ms per clip on one core.")
        row = results["tflite"]["rows"].get("fsdd-embedding-fdht-lstm")
        if row:
            int8 = row["tflite-int8"]
            lines.append(f"- fsdd-embedding-fdht-lstm, waveform to probabilities with the speech front-end, as an int8 "
                         f"TFLite file: {int8['bytes'] / 1024:.0f} KB, {int8['latency_ms']:.1f} ms per 1.5 s clip on one "
                         f"core, accuracy {100 * int8['keras_accuracy']:.1f}% -> {100 * int8['exported_accuracy']:.1f}% "
                         "(the FSDD clips, all in its training data).")
    if "fine_tune_speed" in results:
        result = results["fine_tune_speed"]
        lines.append(f"- `zoo.fine_tune` of {result['model']} on new labels: {result['fine_tune_seconds_per_epoch']:.2f} s per "
                     f"epoch against {result['fit_seconds_per_epoch']:.1f} s for `fit` through the frozen front-end "
                     f"({result['ratio']:.0f}×), after a one-off feature pass of {result['feature_seconds']:.0f} s.")
    commits = sorted({result["commit"][:12] for result in results.values()})
    lines.append(f"- Measured on {results[next(iter(results))]['hardware']['cpu_cores']} CPU cores at commit(s) "
                 f"{', '.join(f'`{c}`' for c in commits)}; every table, with how it was measured: "
                 "[benchmarks/README.md](benchmarks/README.md).")
    return lines


def main():
    results = {name: json.loads(path.read_text()) for name in SECTIONS
               if (path := Path(f"benchmarks/results/{name}.json")).exists()}
    body = [line for name, result in results.items() for line in [*SECTIONS[name](result), ""]]
    page = ["# Benchmarks", "", "Generated by `python -m benchmarks.report` from the result files in `results/`, which "
            "the measuring scripts wrote (commit, hardware and settings inside). Speed goals are met only in these "
            "side-by-side runs, never in timed unit tests.", "", *(body or ["No results yet."])]
    Path("benchmarks/README.md").write_text("\n".join(page).rstrip() + "\n")
    replace_block(Path("README.md"), "benchmarks", headline(results) or ["No results yet."])
    print("benchmarks/README.md and the README's headline written")


if __name__ == "__main__":
    main()
