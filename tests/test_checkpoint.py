"""Checkpoints as one atomic unit: a failure injected between every pair of write steps, then --resume, gives
the uninterrupted run's epochs and optimizer steps exactly; --resume refuses a changed config, a damaged
model file and a model at another step; a folder holding a checkpoint is not trained again without --resume."""

import json

import keras
import numpy as np
import pytest

from training import checkpoint, train
from training.checkpoint import WRITE_STEPS, RunError, latest

CONFIG = {"name": "tiny", "dataset": {"name": "fsdd"}, "model": {"kind": "fdht", "cell": "lstm", "units": 4, "ranks": 2},
          "training": {"epochs": 3, "batch_size": 8, "learning_rate": 0.01}}
SPEC = {**CONFIG["model"], "input_shape": [5, 6], "num_classes": 3}
STEPS_PER_EPOCH = 3  # 24 examples in batches of 8


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((24, 5, 6)).astype("float32"), rng.integers(0, 3, 24), rng.standard_normal((8, 5, 6))


def fit(folder, epochs, resume=False, config=CONFIG):
    x, y, x_val = data()
    keras.utils.set_random_seed(0)
    model = train.compiled_model(SPEC, {"learning_rate": 0.01})
    validation = (x_val.astype("float32"), np.zeros(8, int))
    return train.fit_with_checkpoints(model, x, y, epochs, folder, {"batch_size": 8}, validation, resume, 0,
                                      config=config)


def steps(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


@pytest.mark.parametrize("failing", WRITE_STEPS)
def test_a_failure_between_write_steps_then_resume_gives_the_uninterrupted_run(failing, tmp_path, monkeypatch):
    folder = tmp_path / "checkpoint"
    write_step = checkpoint._step

    def dies_at_epoch_2(name, action):
        if name == failing and list(folder.glob("*epoch-0002*")):
            raise OSError(f"killed during {name}")
        write_step(name, action)

    monkeypatch.setattr(checkpoint, "_step", dies_at_epoch_2)
    with pytest.raises(OSError, match="killed"):
        fit(folder, 3)
    monkeypatch.setattr(checkpoint, "_step", write_step)
    resumed_from = json.loads((latest(folder) / "state.json").read_text())["epochs_done"]
    assert resumed_from == (2 if WRITE_STEPS.index(failing) > WRITE_STEPS.index("point") else 1)
    model, state = fit(folder, 3, resume=True)
    assert steps(model) == 3 * STEPS_PER_EPOCH and state["epochs_done"] == 3 and len(state["history"]["loss"]) == 3
    assert sorted(p.name for p in folder.iterdir()) == ["LATEST", "epoch-0003"]  # no staging or older epoch left
    assert (latest(folder) / "best.weights.h5").is_file()


def test_resume_refuses_a_changed_config_and_names_the_keys(tmp_path):
    folder = tmp_path / "checkpoint"
    fit(folder, 1)
    changed = {**CONFIG, "model": {**CONFIG["model"], "units": 8}, "training": {**CONFIG["training"], "epochs": 3}}
    with pytest.raises(RunError, match=r"differs in: model\.units\)"):
        fit(folder, 3, resume=True, config=changed)
    assert fit(folder, 2, resume=True)[1]["epochs_done"] == 2  # the same config resumes


def test_resume_refuses_a_damaged_or_inconsistent_checkpoint(tmp_path):
    folder = tmp_path / "checkpoint"
    fit(folder, 1)
    state_path = latest(folder) / "state.json"
    state = json.loads(state_path.read_text())
    state_path.write_text(json.dumps({**state, "iterations": 99}))
    with pytest.raises(RunError, match="has taken 3 optimizer steps but .* records 99"):
        fit(folder, 2, resume=True)
    model_path = latest(folder) / "model.keras"
    model_path.write_bytes(model_path.read_bytes()[:100])
    with pytest.raises(RunError, match="model.keras is not a readable Keras model"):
        fit(folder, 2, resume=True)
    (folder / "LATEST").write_text("../../etc\n")
    with pytest.raises(RunError, match="not an epoch folder"):
        fit(folder, 2, resume=True)


def test_the_command_line_refuses_without_resume_and_bad_configs(tmp_path, capsys):
    out = tmp_path / "run"
    fit(out / "checkpoint", 1)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    for argv, message in [([str(config), "--out", str(out)], "holds a checkpoint of an unfinished run"),
                          ([str(tmp_path / "missing.json")], "No such file"),
                          ([str(tmp_path / "run")], "Is a directory")]:
        with pytest.raises(SystemExit) as exit_info:
            train.main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
    for bad, message in [("[1, 2]", "must be a JSON object"), ("{", "Expecting"),
                         (json.dumps({**CONFIG, "name": "../../x"}), "'name' must be")]:
        config.write_text(bad)
        with pytest.raises(SystemExit) as exit_info:
            train.main([str(config), "--out", str(tmp_path / "other")])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
