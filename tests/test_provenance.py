"""The provenance line under each chapter's title (tools/sphinx_provenance)."""

from __future__ import annotations

import html
import re

import nbformat
import pytest

from tools import book
from tools.sphinx_provenance import (
    NO_RUN,
    QUICK,
    STALE,
    format_date,
    format_seconds,
    insert_after_heading,
    provenance_html,
    provenance_kind,
    provenance_text,
    read_notebook,
)

FULL = {
    "mode": "full",
    "device": "GPU: NVIDIA T4",
    "tensorflow": "2.20.0",
    "keras": "3.13.2",
    "python": "3.13.1",
    "date": "2026-11-25T15:28:19+00:00",
    "seconds": 321.0,
    "code_sha256": "a" * 64,
    "helpers": "0.2.0",
    "runner": "python -m tools.run",
}


def visible_text(markup: str) -> str:
    """The text a reader sees in ``markup``."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_full_run_line_names_device_versions_date_and_time():
    assert provenance_text(FULL) == (
        "Outputs from a full run on GPU: NVIDIA T4 · TensorFlow 2.20.0 · "
        "Keras 3.13.2 · Python 3.13.1 · 25 Nov 2026 · 5 min 21 s."
    )
    assert provenance_kind(FULL) == "full"


def test_full_run_html_has_the_same_text_and_no_badge():
    markup = provenance_html(FULL, code_sha256="a" * 64)
    assert markup.startswith('<p class="book-provenance book-provenance-full"')
    assert visible_text(markup) == provenance_text(FULL)


@pytest.mark.parametrize("run", [None, {}, {"device": "CPU"}, "full", []])
def test_missing_stamp_says_no_full_run_recorded(run):
    assert provenance_kind(run) == "none"
    assert provenance_text(run) == NO_RUN
    assert "No full run recorded" in NO_RUN
    markup = provenance_html(run)
    assert "book-provenance-none" in markup
    assert visible_text(markup) == "Unverified" + NO_RUN


def test_quick_run_is_marked():
    quick = {**FULL, "mode": "quick", "seconds": 42}
    text = provenance_text(quick)
    assert text.startswith(QUICK)
    assert "Outputs from a quick run on GPU: NVIDIA T4" in text
    assert provenance_kind(quick) == "quick"
    markup = provenance_html(quick)
    assert "book-provenance-quick" in markup
    assert visible_text(markup).startswith("Quick mode" + QUICK)


def test_changed_code_is_flagged_and_unknown_hash_is_not():
    assert provenance_text(FULL, code_sha256="b" * 64).endswith(STALE)
    assert provenance_kind(FULL, code_sha256="b" * 64) == "stale"
    assert STALE not in provenance_text(FULL, code_sha256="a" * 64)
    old = {k: v for k, v in FULL.items() if k != "code_sha256"}
    assert provenance_kind(old, code_sha256="b" * 64) == "full"
    assert STALE not in provenance_text(old, code_sha256="b" * 64)


def test_partial_stamp_renders_with_question_marks():
    text = provenance_text({"mode": "full", "seconds": "soon"})
    assert text == (
        "Outputs from a full run on ? · TensorFlow ? · Keras ? · ? · ?."
    )


def test_stamp_values_are_escaped():
    markup = provenance_html({**FULL, "device": "<script>x</script> & co"})
    assert "<script>" not in markup
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in markup


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (10.0, "10 s"),
        (59.6, "1 min 0 s"),
        (321.0, "5 min 21 s"),
        (615.4, "10 min 15 s"),
        (3725, "1 h 02 min"),
        (-1, "?"),
        (None, "?"),
        ("ten", "?"),
    ],
)
def test_format_seconds(seconds, expected):
    assert format_seconds(seconds) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-25T15:28:19+00:00", "25 Nov 2026"),
        ("2026-01-05T00:00:00Z", "5 Jan 2026"),
        ("2026-02-03", "3 Feb 2026"),
        ("last Tuesday", "last Tuesday"),
        ("", "?"),
        (None, "?"),
    ],
)
def test_format_date(value, expected):
    assert format_date(value) == expected


def test_insert_after_first_heading():
    body = '<h1>Title<a href="#">#</a></h1><p>Text</p><h1>B</h1>'
    assert insert_after_heading(body, "<p>X</p>") == (
        '<h1>Title<a href="#">#</a></h1>\n<p>X</p><p>Text</p><h1>B</h1>'
    )
    assert insert_after_heading("<p>No title</p>", "<p>X</p>") == (
        "<p>X</p><p>No title</p>"
    )


def test_read_notebook_returns_stamp_and_runner_hash(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 9. A chapter"),
        nbformat.v4.new_code_cell(
            "import helpers\nrun_info = helpers.setup()"
        ),
        nbformat.v4.new_code_cell("print(1)"),
    ]
    nb.metadata["book"] = {"run": dict(FULL, code_sha256=book.code_hash(nb))}
    path = tmp_path / "09_chapter.ipynb"
    nbformat.write(nb, path)
    run, code_sha256 = read_notebook(path)
    assert run == nb.metadata["book"]["run"]
    assert code_sha256 == book.code_hash(nb)
    assert provenance_kind(run, code_sha256) == "full"
    # Any edit to the code makes the stamp outdated.
    nb.cells[2].source = "print(2)"
    nbformat.write(nb, path)
    assert provenance_kind(*read_notebook(path)) == "stale"


def test_read_notebook_without_stamp(tmp_path):
    path = tmp_path / "09_chapter.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    run, _ = read_notebook(path)
    assert run is None
    assert provenance_text(run) == NO_RUN


@pytest.mark.parametrize("path", book.chapters(), ids=lambda p: p.name)
def test_every_chapter_renders(path):
    run, code_sha256 = read_notebook(path)
    assert visible_text(provenance_html(run, code_sha256))
