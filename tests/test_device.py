import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers import device


def test_setup_reports_the_device_it_finds(capsys, tmp_path, monkeypatch):
    # Runs on whatever machine the tests run on: a CPU or a GPU.
    record = tmp_path / "info.json"
    monkeypatch.setenv("BOOK_RUN_INFO", str(record))
    gpus = tf.config.list_physical_devices("GPU")
    info = device.setup()
    printed = capsys.readouterr().out.strip().splitlines()
    line = printed[0]
    # One line that fits the page, and on a CPU a second saying how to get
    # a GPU on Colab.
    assert printed[1:] == ([] if gpus else [device.COLAB_GPU_HINT])
    assert max(len(text) for text in printed) <= 79
    assert (
        line.startswith("GPU: " if gpus else "CPU: ") and "full mode" in line
    )
    assert (
        f"TensorFlow {tf.__version__}" in line
        and f"Keras {keras.__version__}" in line
    )
    assert info.gpus == len(gpus)
    assert "mirror" not in line  # a build detail, not for readers
    saved = json.loads(record.read_text())
    assert (
        saved["device"] == info.device
        and saved["helpers"] == helpers.__version__
    )


def test_mixed_precision_stays_off_without_a_fast_gpu(monkeypatch):
    monkeypatch.setattr(
        tf.config, "list_physical_devices", lambda kind=None: []
    )
    info = device.setup(mixed_precision=True)
    assert info.gpus == 0 and not info.mixed_precision
    assert keras.mixed_precision.global_policy().name == "float32"


def test_setup_reports_quick_mode_and_rejects_a_bad_one(capsys, monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert device.setup().mode == "quick"
    assert "quick mode" in capsys.readouterr().out
    monkeypatch.setenv("BOOK_QUICK", "fast")
    with pytest.raises(ValueError, match="BOOK_QUICK"):
        device.setup()


def test_setup_fixes_the_seeds():
    device.setup(seed=7)
    first = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    device.setup(seed=7)
    second = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    assert np.array_equal(first[0], second[0]) and np.array_equal(
        first[1], second[1]
    )


@pytest.fixture
def fake_gpu(monkeypatch):
    """Pretend one GPU of a given compute capability is present."""
    grown = []

    def install(capability):
        gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
        monkeypatch.setattr(
            tf.config,
            "list_physical_devices",
            lambda kind=None: [gpu] if kind == "GPU" else [],
        )
        monkeypatch.setattr(
            tf.config.experimental,
            "set_memory_growth",
            lambda d, on: grown.append((d, on)),
        )
        monkeypatch.setattr(
            tf.config.experimental,
            "get_device_details",
            lambda d: {
                "device_name": "Tesla T4",
                "compute_capability": capability,
            },
        )
        return grown

    yield install
    keras.mixed_precision.set_global_policy("float32")


def test_setup_on_a_gpu_turns_on_memory_growth_and_mixed_precision(
    fake_gpu, capsys
):
    grown = fake_gpu((7, 5))
    info = device.setup(mixed_precision=True)
    line = capsys.readouterr().out
    assert info.device == "GPU: Tesla T4" and info.mixed_precision
    assert grown and grown[0][1] is True
    assert "mixed precision" in line and device.COLAB_GPU_HINT not in line
    assert keras.mixed_precision.global_policy().name == "mixed_float16"


def test_mixed_precision_stays_off_on_an_old_gpu_and_without_opt_in(fake_gpu):
    fake_gpu((6, 0))
    assert not device.setup(mixed_precision=True).mixed_precision
    fake_gpu((8, 0))
    assert not device.setup().mixed_precision
    assert keras.mixed_precision.global_policy().name == "float32"


def test_setup_turns_on_the_mirror(mirror, monkeypatch, capsys):
    monkeypatch.setenv("BOOK_DATA_MIRROR", str(mirror["dir"]))
    assert device.setup().mirror == str(mirror["dir"])
    assert "mirror" not in capsys.readouterr().out  # a build detail


def test_quiet_native_logs_drops_only_the_known_chatter(capfd):
    import os

    with device.quiet_native_logs():
        os.write(
            2,
            b"I0000 00:00:1 cudart_stub.cc:31] Could not find cuda drivers"
            b" on your machine\n",
        )
        os.write(
            2, b"E0000 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n"
        )
        os.write(2, b"a real warning the reader must see\n")
    err = capfd.readouterr().err
    assert err == "a real warning the reader must see\n"
