"""The book's own settings and the cells every chapter opens with.

A build tool (``python -m tools.book``), used by the runner and the tests;
not part of the ``helpers`` package readers install. The repository URL lives
in one place, ``_config.yml``; each chapter's launch row (Open in Colab,
source, download) and its set-up cell are generated from it, so that
pointing the book at a fork is one edit plus ``python -m tools.book sync``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = ROOT / "notebooks"
LAUNCH_TAG = "launch"
SETUP_TAG = "setup"
RESULTS_TAG = "results"


def repository(config: Path = CONFIG) -> tuple[str, str]:
    """Return ``(url, branch)`` from ``repository:`` in ``_config.yml``."""
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    repo = settings.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not url.startswith("https://github.com/") or url.count("/") != 4:
        raise ValueError(
            f"{config}: repository.url must look like "
            f"https://github.com/OWNER/REPO; got {url!r}."
        )
    return url, str(repo.get("branch", "main"))


def launch_row(notebook: str, config: Path = CONFIG) -> str:
    """Markdown for the chapter's row of links: Colab, source, download."""
    url, branch = repository(config)
    slug = url.removeprefix("https://github.com/")
    path = f"notebooks/{notebook}"
    return (
        f"[Open in Colab](https://colab.research.google.com/github/{slug}/blob/{branch}/{path})"
        f" · [View source on GitHub]({url}/blob/{branch}/{path})"
        " · [Download "
        f"notebook](https://raw.githubusercontent.com/{slug}/{branch}/{path})"
    )


def setup_source(
    extra_packages: list[str] | None = None, config: Path = CONFIG
) -> str:
    """The set-up cell: on Colab, install helpers (and ``extra_packages``).

    Then it calls ``helpers.setup()``.
    """
    url, branch = repository(config)
    packages = [f"git+{url}@{branch}", *(extra_packages or [])]
    listed = "".join(f'        "{p}",\n' for p in packages)
    return (
        "# On Colab, install the book's helpers; Colab has TensorFlow and "
        "Keras.\n"
        "# Elsewhere, `make book` or `make test` has installed them already.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        "    packages = [\n"
        f"{listed}"
        "    ]\n"
        "    subprocess.run(\n"
        '        [sys.executable, "-m", "pip", "install", "-q", *packages],\n'
        "        check=True,\n"
        "    )\n"
        "\n"
        "import helpers\n"
        "\n"
        "run_info = helpers.setup()"
    )


def _tagged(nb, tag: str):
    cells = [
        c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ValueError(
            f"expected exactly one cell tagged {tag!r}, found {len(cells)}."
        )
    return cells[0]


def sync(nb, name: str, config: Path = CONFIG) -> bool:
    """Rewrite ``nb``'s launch row and set-up cell; True if either changed."""
    extra = nb.metadata.get("book", {}).get("colab_packages", [])
    wanted = {
        LAUNCH_TAG: launch_row(name, config),
        SETUP_TAG: setup_source(extra, config),
    }
    changed = False
    for tag, source in wanted.items():
        cell = _tagged(nb, tag)
        if cell.source != source:
            cell.source = source
            changed = True
    return changed


def code_hash(nb) -> str:
    """sha256 of the notebook's code cells, in order: what a full run ran.

    Outputs, prose and metadata do not count, so a prose edit keeps the hash
    and any edit to code (a character, a cell added or moved) changes it.
    """
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    payload = json.dumps(sources, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def chapters() -> list[Path]:
    """Every chapter notebook, in order: chapters, then appendices (A1_...).

    Not the runner's ``NN_name.failed.ipynb`` copies of a failed run.
    """
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(
        NOTEBOOKS.glob("[A-Z][0-9]_*.ipynb")
    )
    return [p for p in found if not p.name.endswith(".failed.ipynb")]


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.book sync``: update chapters after a config edit."""
    parser = argparse.ArgumentParser(prog="python -m tools.book")
    parser.add_argument("command", choices=["sync"])
    parser.parse_args(argv)
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        if sync(nb, path.name):
            nbformat.write(nb, path)
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
