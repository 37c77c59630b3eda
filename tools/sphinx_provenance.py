"""Sphinx extension: show under each chapter's title how its outputs were made.

Every chapter notebook carries ``metadata.book.run``, the stamp the runner
(``python -m tools.run``) writes: mode, device, TensorFlow, Keras and Python
versions, date, run time, the sha256 of its code cells and the ``helpers``
version. At build time this extension reads the stamp from the ``.ipynb``
itself and inserts one line right after the page's first heading, e.g.::

    Outputs from a full run on CPU: 2 cores · TensorFlow 2.21.0 ·
    Keras 3.15.1 · Python 3.11.7 · 25 Nov 2026 · 5 min 21 s

Nothing is typed by hand, so the line cannot drift from the outputs. A chapter
without a stamp gets a clear "no full run recorded" note instead of failing
the build, and a quick-mode stamp is marked as such. Registered in
``_config.yml`` under ``sphinx: local_extensions``.

:func:`provenance_text` and :func:`provenance_html` are pure functions
(tested in ``tests/test_provenance.py``); Sphinx is only needed by
:func:`setup`, so this module imports without it.

Being the book's one local extension, it also carries two site fixes that
``tests/site`` checks:

* its stylesheet (:data:`CSS`, written to ``_static/book.css``) sets code
  blocks in a size at which 79 columns fit the article column at 1,280 px;
* it drops the duplicate inline scripts Sphinx 7.4 emits on every page
  (fixed upstream by sphinx-doc/sphinx#13402), whose second
  ``const THEBE_JS_URL`` is a console error.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

CSS_CLASS = "book-provenance"

NO_RUN = (
    "No full run recorded for this chapter: its outputs were not produced "
    "by the book's runner (python -m tools.run), so they may be missing or "
    "out of date."
)
QUICK = (
    "These outputs come from a quick-mode run on a small slice of the data, "
    "not from the book's full run: its numbers are not the book's numbers."
)
STALE = (
    "The code has changed since this run; rerun the chapter "
    "(python -m tools.run) to refresh its outputs."
)

BADGES = {"none": "Unverified", "quick": "Quick mode", "stale": "Outdated"}

CSS_FILE = "book.css"
# The colours are the theme's own variables: they follow light and dark mode.
CSS = """\
/* Written by tools/sphinx_provenance.py at build time: edit it there. */
.book-provenance {
  margin: 0.25rem 0 1.25rem;
  padding: 0.35rem 0.75rem;
  border-left: 0.25rem solid var(--pst-color-info);
  border-radius: 0.25rem;
  background: var(--pst-color-surface);
  color: var(--pst-color-text-muted);
  font-size: 0.875rem;
  line-height: 1.5;
}
.book-provenance-quick,
.book-provenance-stale {
  border-left-color: var(--pst-color-warning);
}
.book-provenance-none {
  border-left-color: var(--pst-color-danger);
}
.book-provenance__part {
  white-space: nowrap;
}
.book-provenance__badge {
  display: inline-block;
  margin-right: 0.4rem;
  padding: 0 0.4rem;
  border-radius: 0.25rem;
  background: var(--pst-color-warning);
  color: var(--pst-color-background);
  font-weight: 600;
}
.book-provenance-none .book-provenance__badge {
  background: var(--pst-color-danger);
}
/* 79 columns of code fit the article column at 1,280 px (the theme's 14 px
   fits 77): the chapters' code and outputs never scroll sideways there. */
div.highlight pre {
  font-size: 0.8125rem;
}
/* Printed output wraps, as it does in Jupyter and Colab: a long line of
   output (a review, a log line) never scrolls sideways. */
div.cell_output div.highlight pre,
div.cell_output pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
"""


def format_seconds(seconds: Any) -> str:
    """Return a run time such as ``10 s``, ``5 min 21 s`` or ``1 h 02 min``.

    Anything that is not a non-negative number comes back as ``"?"``.
    """
    try:
        total = round(float(seconds))
    except (TypeError, ValueError):
        return "?"
    if total < 0:
        return "?"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def format_date(value: Any) -> str:
    """Return an ISO 8601 date-time as ``25 Nov 2026``; other text as is."""
    text = str(value or "").strip()
    if not text:
        return "?"
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return f"{when.day} {when:%b %Y}"


def _stamp(run: Any) -> dict | None:
    """The stamp as a dict, or None when there is no usable one."""
    if not isinstance(run, dict) or not run.get("mode"):
        return None
    return run


def _segments(run: Any, code_sha256: str | None) -> tuple[str, list, str]:
    """``(prefix, segments, suffix)`` of the line; joined by the callers."""
    stamp = _stamp(run)
    if stamp is None:
        return NO_RUN, [], ""
    mode = str(stamp["mode"])
    segments = [
        f"Outputs from a {mode} run on {stamp.get('device') or '?'}",
        f"TensorFlow {stamp.get('tensorflow') or '?'}",
        f"Keras {stamp.get('keras') or '?'}",
    ]
    if stamp.get("python"):
        segments.append(f"Python {stamp['python']}")
    segments.append(format_date(stamp.get("date")))
    segments.append(format_seconds(stamp.get("seconds")))
    prefix = QUICK if mode != "full" else ""
    recorded = stamp.get("code_sha256")
    stale = code_sha256 and recorded and recorded != code_sha256
    return prefix, segments, STALE if stale else ""


def provenance_text(run: Any, code_sha256: str | None = None) -> str:
    """The provenance line for a chapter whose ``book.run`` stamp is ``run``.

    ``run`` is the notebook's ``metadata.book.run`` (None or ``{}`` when it
    has none). ``code_sha256``, when given, is the hash of the chapter's
    current code cells; if the stamp records a different one, the line says
    that the code has changed since the run.
    """
    prefix, segments, suffix = _segments(run, code_sha256)
    middle = " · ".join(segments) + "." if segments else ""
    return " ".join(part for part in (prefix, middle, suffix) if part)


def provenance_kind(run: Any, code_sha256: str | None = None) -> str:
    """What the line says, in a word, most serious first.

    ``"none"`` (no stamp), ``"quick"`` (any mode but full), ``"stale"`` (a
    full run of code that has changed since) or ``"full"``.
    """
    stamp = _stamp(run)
    if stamp is None:
        return "none"
    if stamp["mode"] != "full":
        return "quick"
    if _segments(run, code_sha256)[2]:
        return "stale"
    return "full"


def provenance_html(run: Any, code_sha256: str | None = None) -> str:
    """The provenance line as an HTML ``<p>``, ready to go after the title.

    Its text is :func:`provenance_text`'s. A quick-mode, outdated or missing
    stamp gets a badge (:data:`BADGES`) and a warning colour, so that it is
    visible at a glance. The line breaks only between its segments.
    """
    kind = provenance_kind(run, code_sha256)
    prefix, segments, suffix = _segments(run, code_sha256)
    pieces = []
    if kind in BADGES:
        pieces.append(
            f'<span class="{CSS_CLASS}__badge">{BADGES[kind]}</span>'
        )
    if prefix:
        pieces.append(html.escape(prefix, quote=False))
        if segments:
            pieces.append(" ")
    if segments:
        spans = [
            f'<span class="{CSS_CLASS}__part">'
            f"{html.escape(segment, quote=False)}</span>"
            for segment in segments
        ]
        pieces.append(" · ".join(spans) + ".")
    if suffix:
        pieces.append(" " + html.escape(suffix, quote=False))
    return (
        f'<p class="{CSS_CLASS} {CSS_CLASS}-{kind}" role="note">'
        f"{''.join(pieces)}</p>"
    )


def read_notebook(path: Path) -> tuple[Any, str]:
    """Return ``(metadata.book.run, sha256 of the code cells)`` of a notebook.

    The hash is ``tools.book.code_hash``, the one the runner stamps.
    """
    import nbformat

    from tools.book import code_hash

    nb = nbformat.read(path, as_version=4)
    run = (nb.metadata.get("book") or {}).get("run")
    return run, code_hash(nb)


def insert_after_heading(body: str, snippet: str) -> str:
    """Insert ``snippet`` right after the first ``</h1>`` of ``body``.

    A page without one gets it at the top.
    """
    end = body.find("</h1>")
    if end == -1:
        return snippet + body
    end += len("</h1>")
    return body[:end] + "\n" + snippet + body[end:]


def _add_provenance(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: add the line to notebook pages."""
    if doctree is None or "body" not in context:
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".ipynb" or not source.is_file():
        return
    run, code_sha256 = read_notebook(source)
    context["body"] = insert_after_heading(
        context["body"], provenance_html(run, code_sha256)
    )


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: list each script once.

    Sphinx 7.4 adds every inline script registered after the builder started
    twice, once with ``filename=None`` and once with ``""``
    (sphinx-doc/sphinx#13402); keep the first of each.
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", None),
            repr(sorted(attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _write_css(app) -> None:
    """``builder-inited`` handler: write the stylesheet and link it."""
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / CSS_FILE).write_text(CSS, encoding="utf-8")
    app.add_css_file(CSS_FILE)


def setup(app) -> dict:
    """Register the extension with Sphinx."""
    app.connect("builder-inited", _write_css)
    app.connect("html-page-context", _add_provenance)
    # After every other handler, which may add scripts of its own.
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
