"""A real TensorBoard serves the logs a short Keras run writes (chapter 8).

The test trains a tiny model with ``keras.callbacks.TensorBoard`` into a
temporary folder, starts the ``tensorboard`` command on a free port of
127.0.0.1 over that folder, and asks its HTTP API for the runs, the scalar
tags and the values of ``epoch_loss``. The server (and the data server it
may start) is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboard")
keras = pytest.importorskip("keras")

EPOCHS = 2
STARTUP_SECONDS = 120  # the machine may be busy; TensorBoard starts in ~5 s


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tensorboard_command() -> list[str]:
    """The ``tensorboard`` script next to this Python, or its module."""
    script = Path(sys.executable).with_name("tensorboard")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "tensorboard.main"]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode("utf-8"))


def _train(logdir: Path):
    """Two epochs of a tiny model on random data, logged for TensorBoard."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model.fit(
        x,
        y,
        validation_split=0.25,
        epochs=EPOCHS,
        batch_size=32,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(logdir))],
        verbose=0,
    )


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and its process group (the data server it started)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def test_tensorboard_serves_runs_and_scalars(tmp_path):
    logdir = tmp_path / "logs"
    history = _train(logdir / "tiny")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = tmp_path / "tensorboard.log"
    with open(server_log, "wb") as log:
        process = subprocess.Popen(
            [
                *_tensorboard_command(),
                "--logdir",
                str(logdir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--reload_interval",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, to stop it all
        )
    try:
        expected_runs = {"tiny/train", "tiny/validation"}
        runs: list[str] = []
        tags: dict = {}
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, (
                "tensorboard exited early:\n" + server_log.read_text()
            )
            try:
                runs = _get_json(base + "/data/runs")
                tags = _get_json(base + "/data/plugin/scalars/tags")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                runs, tags = [], {}
            if expected_runs <= set(runs) and all(
                "epoch_loss" in tags.get(run, {}) for run in expected_runs
            ):
                break
            time.sleep(1)
        assert expected_runs <= set(runs), (
            f"runs served: {runs}\n" + server_log.read_text()
        )
        for run in expected_runs:
            assert {"epoch_loss", "epoch_accuracy"} <= set(tags[run]), tags

        # The served values are the History's, epoch by epoch.
        for run, key in (
            ("tiny/train", "loss"),
            ("tiny/validation", "val_loss"),
        ):
            query = urllib.parse.urlencode({"run": run, "tag": "epoch_loss"})
            points = _get_json(f"{base}/data/plugin/scalars/scalars?{query}")
            steps = [point[1] for point in points]
            values = [point[2] for point in points]
            assert steps == list(range(EPOCHS))
            np.testing.assert_allclose(values, history.history[key], rtol=1e-6)
    finally:
        _stop(process)
    assert process.poll() is not None
