import nbformat
import pytest

from tools import book

CONFIG = """
title: Test book
repository:
  url: https://github.com/someone/fork-of-book
  branch: dev
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "_config.yml"
    path.write_text(CONFIG)
    return path


def test_repository_comes_from_the_config(config):
    assert book.repository(config) == (
        "https://github.com/someone/fork-of-book",
        "dev",
    )


def test_the_books_own_config_is_valid():
    url, branch = book.repository()
    assert url.startswith("https://github.com/") and branch


@pytest.mark.parametrize(
    "url", ["", "https://gitlab.com/a/b", "https://github.com/only-owner"]
)
def test_bad_repository_url(tmp_path, url):
    path = tmp_path / "_config.yml"
    path.write_text(f"repository:\n  url: '{url}'\n")
    with pytest.raises(ValueError, match="OWNER/REPO"):
        book.repository(path)


def test_launch_row_points_at_the_fork(config):
    row = book.launch_row("02_x.ipynb", config)
    assert (
        "https://colab.research.google.com/github/someone/fork-of-book/blob/dev/notebooks/02_x.ipynb"
        in row
    )
    assert (
        "https://github.com/someone/fork-of-book/blob/dev/notebooks/02_x.ipynb"
        in row
    )
    assert (
        "https://raw.githubusercontent.com/someone/fork-of-book/dev/notebooks/02_x.ipynb"
        in row
    )


def test_setup_cell_installs_only_on_colab(config):
    source = book.setup_source(["pydot"], config)
    assert 'if "google.colab" in sys.modules:' in source
    assert (
        '        "git+https://github.com/someone/fork-of-book@dev",\n'
        '        "pydot",\n'
        "    ]\n" in source
    )
    packages = source[source.index("packages = [") : source.index("]")]
    # never replace Colab's own
    assert "tensorflow" not in packages and "keras" not in packages
    assert source.rstrip().endswith("helpers.setup()")
    compile(source, "setup", "exec")


def test_setup_cell_is_formatted_to_fit_the_page(config, tmp_path):
    # ruff format leaves it as it is, and no line is wider than 79.
    import subprocess
    import sys

    source = book.setup_source(["pydot"], config)
    assert max(len(line) for line in source.splitlines()) <= 79
    cell = tmp_path / "cell.py"
    cell.write_text(source + "\n")
    ruff = [sys.executable, "-m", "ruff", "format", "--check", str(cell)]
    result = subprocess.run(ruff, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell(
            "old row", metadata={"tags": ["launch"]}
        ),
        nbformat.v4.new_code_cell("old setup", metadata={"tags": ["setup"]}),
    ]
    return nb


def test_sync_rewrites_the_tagged_cells(config):
    nb = _notebook()
    assert book.sync(nb, "01_a.ipynb", config)
    assert nb.cells[1].source == book.launch_row("01_a.ipynb", config)
    assert nb.cells[2].source == book.setup_source(None, config)
    assert not book.sync(nb, "01_a.ipynb", config)  # already in step


def test_sync_needs_exactly_one_tagged_cell(config):
    nb = _notebook()
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(ValueError, match="exactly one cell tagged 'launch'"):
        book.sync(nb, "01_a.ipynb", config)


def test_sync_command_updates_stale_chapters(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(_notebook(), notebooks / "01_a.ipynb")
    monkeypatch.setattr(book, "ROOT", tmp_path)
    monkeypatch.setattr(book, "NOTEBOOKS", notebooks)
    assert [p.name for p in book.chapters()] == ["01_a.ipynb"]
    assert book.main(["sync"]) == 0
    assert "updated notebooks/01_a.ipynb" in capsys.readouterr().out
    nb = nbformat.read(notebooks / "01_a.ipynb", as_version=4)
    assert nb.cells[1].source == book.launch_row("01_a.ipynb")
    assert (
        book.main(["sync"]) == 0 and capsys.readouterr().out == ""
    )  # nothing left to do


def test_chapters_are_numbered_then_appendices_never_failed_runs(
    tmp_path, monkeypatch
):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    names = [
        "A1_old.ipynb",
        "10_b.ipynb",
        "02_a.ipynb",
        "10_b.failed.ipynb",
        "notes.ipynb",
    ]
    for name in names:
        nbformat.write(_notebook(), notebooks / name)
    monkeypatch.setattr(book, "NOTEBOOKS", notebooks)
    assert [p.name for p in book.chapters()] == [
        "02_a.ipynb",
        "10_b.ipynb",
        "A1_old.ipynb",
    ]
