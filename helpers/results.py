"""The chapter's key figures as one JSON object.

Introduced in chapter 1: the last cell of every chapter (tagged ``results``)
passes its figures to :func:`print_results`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _round(value: float, digits: int) -> float:
    """``digits`` decimals, but at least ``digits`` significant figures.

    0.987654 -> 0.9877 and 35811.234 -> 35811.234 keep 4 decimals; 3.2e-6
    stays 3.2e-06 instead of vanishing to 0.0, so that a check such as
    ``diff < 1e-6`` still sees the number.
    """
    if value == 0.0:
        return 0.0
    magnitude = math.floor(math.log10(abs(value)))
    return round(value, max(digits, digits - 1 - magnitude))


def _plain(value: Any, digits: int) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v, digits) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist(), digits)
    if isinstance(value, (list, tuple)):
        return [_plain(v, digits) for v in value]
    if hasattr(value, "numpy"):  # a TensorFlow or Keras tensor
        return _plain(np.asarray(value.numpy()).tolist(), digits)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(
                f"print_results(): {value} is not a finite number; a result "
                "must be one."
            )
        return _round(value, digits)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(
        f"print_results(): cannot write {type(value).__name__} as JSON; pass "
        "numbers, "
        f"strings, lists or dicts."
    )


def print_results(figures: Mapping[str, Any], digits: int = 4) -> None:
    """Print ``figures`` as one indented JSON object.

    Floats keep ``digits`` decimals, or ``digits`` significant figures when
    they are smaller than 1 in magnitude, so small differences stay visible.
    """
    if not isinstance(figures, Mapping) or not figures:
        raise ValueError(
            "print_results() needs a non-empty dict of the chapter's key "
            "figures."
        )
    print(json.dumps(_plain(figures, digits), indent=2))
