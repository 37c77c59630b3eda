import numpy as np
import pytest

from helpers import modes


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_quick_values(monkeypatch, value):
    monkeypatch.setenv("BOOK_QUICK", value)
    assert modes.is_quick() and modes.mode() == "quick"


@pytest.mark.parametrize("value", ["", "0", "false", "off"])
def test_full_values(monkeypatch, value):
    monkeypatch.setenv("BOOK_QUICK", value)
    assert not modes.is_quick() and modes.mode() == "full"


def test_unset_is_full():
    assert modes.mode() == "full"


def test_bad_value_says_what_to_do(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "maybe")
    with pytest.raises(ValueError, match="set it to 1 for quick mode"):
        modes.is_quick()


def test_choose_and_epochs(monkeypatch):
    assert modes.choose("big", "small") == "big"
    assert modes.epochs(12) == 12 and modes.epochs(12, 3) == 12
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert modes.choose("big", "small") == "small"
    assert modes.epochs(12) == 1 and modes.epochs(12, 3) == 3


@pytest.mark.parametrize("full, quick", [(0, 1), (5, 0), (2.5, 1), (-1, 1)])
def test_epochs_rejects_non_positive(full, quick):
    with pytest.raises(ValueError, match="positive integer"):
        modes.epochs(full, quick)


def test_subset_full_mode_keeps_everything_in_order():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    xs, ys = modes.subset(x, y, quick=10)
    assert xs is x and ys is y


def test_subset_full_mode_with_a_size():
    x, y = np.arange(50), np.arange(50) * 10
    xs, ys = modes.subset(x, y, quick=5, full=20)
    assert len(xs) == 20 and np.array_equal(ys, xs * 10)


def test_subset_quick_mode_takes_matching_random_rows(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    x, y = np.arange(1000), np.arange(1000) * 2
    xs, ys = modes.subset(x, y, quick=30)
    assert len(xs) == 30 and np.array_equal(ys, xs * 2)
    assert not np.array_equal(
        xs, np.arange(30)
    )  # random rows, not the first ones
    again, _ = modes.subset(x, y, quick=30)
    assert np.array_equal(xs, again)  # the same rows every time


def test_subset_single_array_comes_back_alone(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    out = modes.subset(np.arange(10), quick=3)
    assert isinstance(out, np.ndarray) and out.shape == (3,)


def test_subset_errors():
    with pytest.raises(ValueError, match="at least one array"):
        modes.subset(quick=3)
    with pytest.raises(ValueError, match="different lengths"):
        modes.subset(np.arange(3), np.arange(4), quick=2)
    with pytest.raises(ValueError, match="at least 1"):
        modes.subset(np.arange(3), quick=1, full=0)


@pytest.mark.parametrize("quick", ["0", "1"])
def test_subset_gives_arrays_in_both_modes(monkeypatch, quick):
    monkeypatch.setenv("BOOK_QUICK", quick)
    texts, labels = modes.subset(["a", "b", "c"], [0, 1, 0], quick=2)
    assert isinstance(texts, np.ndarray) and isinstance(labels, np.ndarray)
    assert len(texts) == (2 if quick == "1" else 3)
