"""The ``htkeras`` command starts quickly and quietly: ``list``, ``info`` and ``--help`` answer without
importing Keras or TensorFlow, and the other commands keep TensorFlow's start-up lines out of the terminal
while their own output and errors still reach it."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = """
import sys, htkeras_cli
try:
    htkeras_cli.main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("IMPORTED", "tensorflow" in sys.modules, "keras" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def htkeras(home, *args, cwd=ROOT, **env):
    """The command in a clean environment (``home``: a fresh HOME, where Keras writes its settings)."""
    return subprocess.run([sys.executable, "-c", RUN, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                                                         "PYTHONPATH": str(ROOT), **env})


@pytest.mark.parametrize("args, expected", [(["list"], "jv-fdht-lstm\n"), (["info", "jv-fdht-lstm"], '"sha256"'),
                                            (["--help"], "usage: htkeras")])
def test_list_info_and_help_do_not_import_tensorflow(args, expected, tmp_path):
    result = htkeras(tmp_path, *args)
    assert result.returncode == 0 and expected in result.stdout
    assert result.stderr == "IMPORTED False False\n"


def test_other_commands_keep_tensorflows_start_up_lines_out_of_the_terminal(tmp_path):
    features = tmp_path / "series.npy"
    np.save(features, np.ones((29, 12), np.float32))
    result = htkeras(tmp_path, "predict", "jv-fdht-lstm", features)
    assert result.returncode == 0 and result.stdout.startswith(f"{features}: ")
    assert result.stderr == "IMPORTED True True\n"  # no I0000 / E0000 / absl lines
    failed = htkeras(tmp_path, "predict", "jv-fdht-lstm", tmp_path)
    assert failed.returncode == 1 and failed.stderr.startswith("error: ") and "is a directory" in failed.stderr


def test_the_main_job_runs_with_nothing_but_the_package(tmp_path):
    """The README's main command in an empty folder with no dataset anywhere and an empty weights cache: it
    classifies the ten bundled real recordings of an unseen voice, says the dataset was not found, and exits
    0."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    command = re.search(r"pip install \. && htkeras (evaluate [\w-]+)\n", readme).group(1).split()
    assert command == ["evaluate", "fsdd-embedding-fdht-lstm"]
    result = htkeras(tmp_path, *command, cwd=tmp_path, HTKERAS_DATA=str(tmp_path), HTKERAS_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fsdd-embedding-fdht-lstm: ") and "trained parameters in the recurrent head" in lines[0]
    assert len([x for x in lines if ".wav: " in x]) == 10
    assert any(x.startswith("accuracy on the bundled recordings: ") for x in lines)
    assert any("not found here; pass --data-dir" in x for x in lines) and lines[-1].startswith("latency: ")
    assert not (tmp_path / "cache").exists()  # the zoo weights hold the front-end: no conversion, no wheel


def test_bundled_recordings_and_their_licence():
    from htkeras.data.bundled import FOLDER, bundled_digits

    waves, digits, rate, names = bundled_digits()
    assert rate == 8000 and digits == list(range(10)) and names == [f"{d}.wav" for d in range(10)]
    assert all(0.5 < len(w) / rate < 1.5 for w in waves)
    assert "Allison Smith" in (FOLDER / "README.md").read_text()
    assert "Attribution-ShareAlike 3.0" in (FOLDER / "LICENSE").read_text()
