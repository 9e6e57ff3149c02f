"""Attacks and accidents that must end in a one-line error and leave nothing behind: names that would
become paths, exports that fail their checks or would overwrite, a fine-tuned folder evaluated against its
base's data, non-integer sizes, and the command line's bad arguments."""

import json
import shutil

import numpy as np
import pytest

import htkeras
from htkeras import cli, zoo
from htkeras.deploy import export as exporting

from .test_zoo import forge_config

NAME = "jv-fdht-lstm"  # its test split is bundled in aeon: fast, and no ../shared needed


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    error = capsys.readouterr().err
    assert exit_info.value.code == 1 and error.startswith("error: ") and error.count("\n") == 1, error
    return error


def renamed_copy(tmp_path, name):
    """The zoo folder with htkeras.json's name changed and its checksum recomputed (a crafted folder)."""
    folder = shutil.copytree(zoo.resolve(NAME).folder, tmp_path / "crafted")
    forge_config(folder, {**json.loads((folder / "htkeras.json").read_text()), "name": name})
    return folder


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "", ".hidden", "a/b"])
def test_a_name_never_becomes_a_path(name, tmp_path, capsys):
    out = tmp_path / "deep" / "out"
    error = run_cli(["export", str(renamed_copy(tmp_path, name)), "--format", "tflite", "--out", str(out)], capsys)
    assert "'name' must be" in error and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted"]
    with pytest.raises(ValueError, match="must be 1-96 letters"):
        exporting.export(zoo.load(NAME), "tflite", out, name=name or "..", data=np.zeros((1, 29, 12), "float32"))
    with pytest.raises(ValueError, match="'name' must be"):
        zoo.save(zoo.load(NAME), tmp_path / "saved", name=name or "..")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted"]


def test_a_failed_export_check_leaves_no_file_and_exports_never_overwrite(tmp_path, monkeypatch):
    x, y, _ = zoo.load_data(NAME)
    monkeypatch.setattr(exporting, "INT8_ACCURACY_DROP", -1.0)  # any int8 file now fails its accuracy check
    with pytest.raises(exporting.ExportError, match="nothing was written"):
        exporting.export(NAME, "tflite-int8", tmp_path, data=(x, y))
    assert list(tmp_path.iterdir()) == []
    report = exporting.export(NAME, "tflite-int8", tmp_path, data=(x, y), allow_accuracy_drop=True)
    assert report.path == str(tmp_path / f"{NAME}.int8.tflite") and sorted(p.name for p in tmp_path.iterdir()) == [
        f"{NAME}.int8.tflite", f"{NAME}.labels.txt"]
    with pytest.raises(FileExistsError, match="--overwrite"):
        exporting.export(NAME, "tflite-int8", tmp_path, data=(x, y), allow_accuracy_drop=True)
    assert exporting.export(NAME, "tflite-int8", tmp_path, data=(x, y), allow_accuracy_drop=True, overwrite=True)


@pytest.mark.parametrize("format", ["tflite", "saved_model"])
def test_a_write_that_dies_leaves_no_export(format, tmp_path, monkeypatch):
    """Fault injection: the move into place fails; neither the export nor its staging folder is left."""
    x, y, _ = zoo.load_data(NAME)

    def dies(*args):
        raise OSError("killed while moving the export into place")

    monkeypatch.setattr(exporting.os, "replace", dies)
    with pytest.raises(OSError, match="killed"):
        exporting.export(NAME, format, tmp_path / "out", data=(x[:40], y[:40]))
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_tflite_checks_need_litert(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_litert(name, *args, **kwargs):
        if name.startswith("ai_edge_litert"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_litert)
    with pytest.raises(exporting.ExportError, match=r"pip install 'htkeras\[export\]'"):
        exporting.interpreter(b"")


def test_a_fine_tuned_folder_is_not_evaluated_against_its_bases_data(tmp_path, capsys):
    model = zoo.load(NAME, num_classes=3)
    saved = zoo.save(model, tmp_path / "three", labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="predicts its own labels"):
        zoo.load_data(saved)
    assert "predicts its own labels" in run_cli(["evaluate", str(saved)], capsys)
    assert "pass data=(x, y)" in run_cli(["export", str(saved), "--format", "tflite", "--out", str(tmp_path / "out")],
                                         capsys)  # no real examples of its own labels here: named, none guessed
    same = zoo.save(zoo.load(NAME), tmp_path / "same")  # the base's labels: its data still applies
    assert len(zoo.load_data(same)[1]) == 370


def test_sizes_must_be_integers():
    with pytest.raises(ValueError, match="`output_modes` takes positive ints"):
        htkeras.HTDense([4, 4], [2.5, 2, 2])
    with pytest.raises(ValueError, match="`input_modes` takes positive ints"):
        htkeras.FDHTLSTMCell(8, input_modes=[2, 3.5])
    with pytest.raises(ValueError, match="`num_classes` takes positive ints"):
        zoo.load(NAME, num_classes=2.7)


def test_the_command_says_its_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"htkeras {htkeras.__version__}\n"


def test_command_line_errors_are_one_line(tmp_path, capsys):
    assert "is a directory" in run_cli(["predict", "fsdd-lstm", str(tmp_path)], capsys)
    (tmp_path / "file").write_text("x")
    assert "file" in run_cli(["export", NAME, "--format", "tflite", "--out", str(tmp_path / "file" / "below")], capsys)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", NAME, "--format", "saved_model", "--out", str(tmp_path), "--version", "0"])
    assert exit_info.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_ranks_are_bounded_by_the_dense_kernel():
    """A 64 -> 8 map at ranks 100 once built 4 M weights (and ranks 1,000 ran out of memory): now a layer larger
    than its dense kernel is refused before any weight is made, unless asked; ranks above a node's full rank
    are named in a warning."""
    with pytest.warns(UserWarning, match="above the full rank"):
        with pytest.raises(ValueError, match="more than the 512 of a dense kernel"):
            htkeras.HTDense([4, 4, 4], [2, 2, 2], ranks=1000).build((None, 64))
    layer = htkeras.HTDense([4, 4, 4], [2, 2, 2], ranks=2)
    layer.build((None, 64))
    assert layer.count_params() < 64 * 8
    with pytest.warns(UserWarning, match="above the full rank"):
        larger = htkeras.HTDense([4, 4, 4], [2, 2, 2], ranks=8, allow_larger=True)
        larger.build((None, 64))
    assert larger.count_params() > 64 * 8 and larger.get_config()["allow_larger"] is True
    for kind in ("tt", "cp", "tucker", "tr", "bt"):
        with pytest.raises(ValueError, match="allow_larger=True"):
            htkeras.make_linear_map(kind, 8, ranks=10**4, input_modes=[4, 4, 4], output_modes=[2, 2, 2]).build((None, 64))
