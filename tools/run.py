"""The book's runner: execute a chapter and stamp how, where and when it ran.

Committed chapters are produced only this way::

    python -m tools.run notebooks/02_sequential_models.ipynb

It runs the notebook top to bottom in a fresh kernel (full mode unless
``BOOK_QUICK=1`` is set), writes it back with its outputs, and records
``metadata.book.run``: mode, device, tensorflow, keras, python, date, seconds,
the sha256 of the code cells as run (``code_sha256``; the tests compare it with
the committed code) and the version of ``helpers`` the chapter imported.
A chapter that fails is not written back: the committed file stays as it was
and the partial run is saved beside it as ``NAME.failed.ipynb``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import (
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
)

from helpers.device import RUN_INFO_ENV

from . import book

STAMP_KEYS = (
    "mode",
    "device",
    "tensorflow",
    "keras",
    "python",
    "date",
    "seconds",
    "code_sha256",
    "helpers",
)


class RunError(RuntimeError):
    """A chapter could not be run to the end."""


def run(path: str | os.PathLike[str], timeout: int = 3600) -> dict:
    """Execute the notebook at ``path`` in place; return its stamp."""
    path = Path(path).resolve()
    if not path.is_file():
        raise RunError(
            f"{path} does not exist; give the path of a chapter such as "
            "notebooks/01_getting_started.ipynb."
        )
    nb = nbformat.read(path, as_version=4)
    try:
        book.sync(nb, path.name)
    except ValueError as error:
        raise RunError(
            f"{path.name}: {error} Every chapter has a launch row tagged "
            f"'{book.LAUNCH_TAG}' and a set-up cell tagged '{book.SETUP_TAG}'."
        ) from error
    nb.metadata.pop("widgets", None)
    with tempfile.TemporaryDirectory() as scratch:
        info_file = Path(scratch) / "run_info.json"
        previous = os.environ.get(RUN_INFO_ENV)
        os.environ[RUN_INFO_ENV] = str(info_file)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        try:
            client.execute()
        except (
            CellExecutionError,
            CellTimeoutError,
            DeadKernelError,
        ) as error:
            failed = path.with_suffix(".failed.ipynb")
            nbformat.write(nb, failed)
            hint = (
                " (the kernel died: out of memory?)"
                if isinstance(error, DeadKernelError)
                else ""
            )
            raise RunError(
                f"{path.name} failed{hint}; it was not overwritten. The "
                f"partial run is in {failed}.\n{error}"
            ) from error
        finally:
            if previous is None:
                os.environ.pop(RUN_INFO_ENV, None)
            else:
                os.environ[RUN_INFO_ENV] = previous
        seconds = time.perf_counter() - start
        if not info_file.is_file():
            raise RunError(
                f"{path.name} never called helpers.setup(); its set-up cell "
                "must call it."
            )
        info = json.loads(info_file.read_text(encoding="utf-8"))
    stamp = {
        "mode": info["mode"],
        "device": info["device"],
        "tensorflow": info["tensorflow"],
        "keras": info["keras"],
        "python": info["python"],
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "code_sha256": book.code_hash(nb),
        "helpers": info.get("helpers", "unknown"),
        "runner": "python -m tools.run",
    }
    nb.metadata.setdefault("book", {})["run"] = stamp
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return stamp


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tools.run NOTEBOOK [NOTEBOOK ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument(
        "--timeout",
        type=int,
        default=3600,
        help="seconds allowed per cell (default 3600)",
    )
    args = parser.parse_args(argv)
    status = 0
    for name in args.notebooks:
        try:
            stamp = run(name, timeout=args.timeout)
        except RunError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{name}: {stamp['mode']} run on {stamp['device']} in "
            f"{stamp['seconds']} s"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
