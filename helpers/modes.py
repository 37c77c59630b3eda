"""Quick and full run modes.

Introduced in chapter 1. The book runs in *full* mode by default: the sizes
and epochs readers see. With ``BOOK_QUICK=1`` in the environment (CI sets it)
the same cells run on less data for fewer epochs. Chapters never test the mode
themselves; they ask these functions for a size and get the right one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

QUICK_ENV = "BOOK_QUICK"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """Return True when ``BOOK_QUICK`` asks for quick mode.

    Raises ValueError for a value that is neither true nor false, so that a
    typo cannot silently start a 15-minute full run.
    """
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{QUICK_ENV}={os.environ[QUICK_ENV]!r} is not understood: "
        f"set it to 1 for quick mode, or unset it (or 0) for full mode."
    )


def mode() -> str:
    """Return ``"quick"`` or ``"full"``."""
    return "quick" if is_quick() else "full"


def choose(full: T, quick: T) -> T:
    """Return ``full`` in full mode and ``quick`` in quick mode."""
    return quick if is_quick() else full


def epochs(full: int, quick: int = 1) -> int:
    """Training epochs: ``full`` normally, ``quick`` in quick mode."""
    for name, value in (("full", full), ("quick", quick)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"epochs({name}={value!r}): epochs must be a positive integer."
            )
    return int(choose(full, quick))


def subset(
    *arrays: np.ndarray, quick: int, full: int | None = None, seed: int = 0
) -> tuple[np.ndarray, ...] | np.ndarray:
    """Take the same random rows from each array.

    In full mode, ``full`` rows (all rows when ``full`` is None, in their
    original order); in quick mode, ``quick`` rows. Inputs must have the same
    length; lists and arrays alike come back as NumPy arrays in both modes. A
    single input gives a single array back.
    """
    if not arrays:
        raise ValueError("subset() needs at least one array.")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"subset(): arrays have different lengths {sorted(lengths)}; "
            "pass matching arrays."
        )
    (length,) = lengths
    n = choose(full, quick)
    if n is None or n >= length:
        picked: Sequence[np.ndarray] = [np.asarray(a) for a in arrays]
    else:
        if n < 1:
            raise ValueError(
                f"subset(): asked for {n} rows; ask for at least 1."
            )
        rows = np.random.default_rng(seed).permutation(length)[:n]
        picked = [np.asarray(a)[rows] for a in arrays]
    return picked[0] if len(picked) == 1 else tuple(picked)
