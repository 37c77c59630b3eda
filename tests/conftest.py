"""Shared fixtures for the helpers tests."""

from __future__ import annotations

import hashlib
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from helpers import data  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Each test starts in full mode, with no mirror and no runner record."""
    for name in ("BOOK_QUICK", "BOOK_DATA_MIRROR", "BOOK_RUN_INFO"):
        monkeypatch.delenv(name, raising=False)
    yield
    data.stop_mirror()


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def mirror(tmp_path):
    """A mirror folder of two files: one exact, one whose bytes differ."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    exact, rebuilt = (
        b"exact bytes\n" * 100,
        b"same arrays, other zip bytes\n" * 50,
    )
    (folder / "exact.bin").write_bytes(exact)
    (folder / "rebuilt.bin").write_bytes(rebuilt)
    upstream = sha(b"what upstream serves")
    rows = [
        {
            "url": "https://example.org/data/exact.bin",
            "file": "exact.bin",
            "sha256": sha(exact),
            "kind": "exact",
        },
        {
            "url": "https://example.org/data/rebuilt.bin",
            "file": "rebuilt.bin",
            "sha256": sha(rebuilt),
            "upstream_sha256": upstream,
            "kind": "same-arrays",
        },
    ]
    data.write_manifest(folder, rows)
    return {
        "dir": folder,
        "exact": exact,
        "rebuilt": rebuilt,
        "upstream": upstream,
    }
