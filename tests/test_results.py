import json

import numpy as np
import pytest
import tensorflow as tf

from helpers.results import print_results


def test_prints_one_json_object_with_plain_numbers(capsys):
    print_results(
        {
            "accuracy": np.float32(0.98765432),
            "epochs": np.int64(12),
            "weights": np.array([1.000001, 2.5]),
            "tensor": tf.constant([0.5, 0.25]),
            "ok": np.bool_(True),
            "nested": {"name": "adam", "loss": 0.123456789},
        }
    )
    parsed = json.loads(capsys.readouterr().out)
    assert parsed == {
        "accuracy": 0.9877,
        "epochs": 12,
        "weights": [1.0, 2.5],
        "tensor": [0.5, 0.25],
        "ok": True,
        "nested": {"name": "adam", "loss": 0.1235},
    }


def test_rejects_bad_figures():
    with pytest.raises(ValueError, match="non-empty dict"):
        print_results({})
    with pytest.raises(ValueError, match="not a finite number"):
        print_results({"loss": float("nan")})
    with pytest.raises(TypeError, match="cannot write object"):
        print_results({"thing": object()})


def test_small_numbers_keep_significant_figures(capsys):
    print_results(
        {"diff": 3.2e-6, "tiny": -4.56789e-9, "zero": 0.0, "big": 35811.23456}
    )
    parsed = json.loads(capsys.readouterr().out)
    assert parsed == {
        "diff": 3.2e-6,
        "tiny": -4.568e-9,
        "zero": 0.0,
        "big": 35811.2346,
    }
