"""Data-parallel training (``training.distribute``) on logical CPU devices, each run in fresh processes
(devices are split before the backend starts): a mirrored step equals one device's step of the same global
batch (TensorFlow and JAX), two MultiWorkerMirroredStrategy workers on 127.0.0.1 end with the same weights
(those of one device after the same global batches); the training CLI under ``--distribute mirrored`` writes
a folder that ``zoo.load`` reads and resumes a killed run inside the strategy, and under ``multi-worker`` only
the chief writes the run folder."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import htkeras
from training.checkpoint import latest

ROOT = Path(__file__).resolve().parents[1]
STEP = Path(__file__).with_name("distributed_step.py")


def backend_env(backend: str = "tensorflow", **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CONFIG", "XLA_FLAGS")}
    return {**env, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu", **extra}


def run_step(out: Path, *options, backend: str = "tensorflow") -> dict:
    result = subprocess.run([sys.executable, str(STEP), "--out", str(out), *options], env=backend_env(backend),
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dict(np.load(out))


def cli(*options) -> list:
    return [sys.executable, "-m", "training.train", "training/configs/jv_fdht_lstm.json", *map(str, options), "--quiet"]


def free_ports(count: int) -> list:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def weights(saved: dict, when: str) -> list:
    return [saved[f"{when}_{k}"] for k in range(sum(key.startswith(when) for key in saved))]


def assert_same_weights(a: list, b: list, atol: float):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_mirrored_step_on_two_devices_equals_one_device(backend, tmp_path):
    if backend == "jax" and not os.environ.get("HTKERAS_REQUIRE_JAX"):
        pytest.importorskip("jax")
    one = run_step(tmp_path / "one.npz", "--distribute", "none", backend=backend)
    two = run_step(tmp_path / "two.npz", "--distribute", "mirrored", "--cpu-devices", "2", backend=backend)
    assert int(one["replicas"]) == 1 and int(two["replicas"]) == 2
    assert_same_weights(weights(one, "before"), weights(two, "before"), atol=0)
    moved = max(np.abs(a - b).max() for a, b in zip(weights(one, "after"), weights(one, "before")))
    assert moved > 1e-3  # the step did something, so the comparison below can fail
    assert_same_weights(weights(one, "after"), weights(two, "after"), atol=1e-5)


def test_two_workers_on_localhost_end_with_the_same_weights(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        out = tmp_path / f"worker-{index}.npz"
        command = [sys.executable, str(STEP), "--distribute", "multi-worker", "--steps", "3", "--out", str(out)]
        workers.append((subprocess.Popen(command, env=backend_env(TF_CONFIG=config), cwd=ROOT, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True), out))
    try:
        logs = [process.communicate(timeout=300)[0] for process, _ in workers]
    finally:
        for process, _ in workers:
            process.kill()
    for (process, _), log in zip(workers, logs):
        assert process.returncode == 0, log[-3000:]
    first, second = (dict(np.load(out)) for _, out in workers)
    assert int(first["replicas"]) == 2 and bool(first["chief"]) and not bool(second["chief"])
    assert_same_weights(weights(first, "after"), weights(second, "after"), atol=0)
    assert max(np.abs(a - b).max() for a, b in zip(weights(first, "after"), weights(first, "before"))) > 1e-3
    alone = run_step(tmp_path / "alone.npz", "--distribute", "none", "--steps", "3")  # the same 3 global batches
    assert_same_weights(weights(first, "after"), weights(alone, "after"), atol=1e-5)


def test_training_cli_under_mirrored_strategy_writes_a_loadable_folder(tmp_path):
    out = tmp_path / "jv"
    command = cli("--out", out, "--distribute", "mirrored", "--cpu-devices", "2", "--epochs", "2")
    result = subprocess.run(command, env=backend_env(), capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["distribution"] == {"strategy": "MirroredStrategy", "replicas": 2}
    assert metrics["epochs"] == 2 and metrics["precision"] == "float32"
    assert not (out / "checkpoint").exists()
    model = htkeras.zoo.load(out)
    assert model.count_params() == metrics["parameters"]


def test_a_killed_mirrored_run_resumes_under_the_strategy(tmp_path):
    out = tmp_path / "jv"
    options = ("--out", out, "--distribute", "mirrored", "--cpu-devices", "2", "--epochs", "40")
    process = subprocess.Popen(cli(*options), env=backend_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)

    def epochs_done() -> int:
        epoch = latest(out / "checkpoint") if (out / "checkpoint").is_dir() else None
        return json.loads((epoch / "state.json").read_text())["epochs_done"] if epoch else 0

    deadline = time.time() + 300
    while time.time() < deadline and epochs_done() < 2 and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = epochs_done()
    assert killed >= 2 and not (out / "metrics.json").exists(), "the run finished before it could be killed"
    result = subprocess.run(cli(*options, "--resume"), env=backend_env(), capture_output=True, text=True, cwd=ROOT,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Resuming after epoch {killed}" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["distribution"]["replicas"] == 2 and len(htkeras.zoo.load(out).weights) > 0


def test_only_the_chief_worker_writes_the_run_folder(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    out = tmp_path / "jv"
    processes = [
        subprocess.Popen(cli("--out", out, "--distribute", "multi-worker", "--epochs", "2"), cwd=ROOT, text=True,
                         env=backend_env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": k}})),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for k in range(2)
    ]
    try:
        logs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    assert f"written to {out}" in logs[0]
    elsewhere = Path(logs[1].rsplit("written to ", 1)[1].split()[0])  # the other worker's private folder
    assert elsewhere != out and not elsewhere.exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["distribution"] == {"strategy": "MultiWorkerMirroredStrategy", "replicas": 2}
    htkeras.zoo.load(out)


def test_distribution_errors_name_the_fix(monkeypatch):
    import tensorflow as tf

    from training.distribute import distribution

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribution("multi-worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not JSON"):
        distribution("multi-worker")
    with pytest.raises(ValueError, match="choose one of none, mirrored, multi-worker"):
        distribution("horovod")
    tf.constant(1.0)  # TensorFlow has started: its devices are fixed
    with pytest.raises(ValueError, match="can no longer be split"):
        distribution("mirrored", cpu_devices=3)
