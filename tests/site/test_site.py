"""The built site, in a browser: every page of _build/html at 1,280 × 800.

Run after ``make site`` (``make browser`` does both)::

    .venv/bin/python -m pytest -q tests/site

The pages come from the built files, so a new chapter is covered as soon as
it is in the book. Each page is served from 127.0.0.1 and opened in the
system's Chromium (``chromium`` on PATH, or the path in ``BOOK_CHROMIUM``;
Playwright downloads no browser). Requests that leave 127.0.0.1 are aborted,
so the test runs offline and the site cannot lean on a CDN unnoticed.

Every page: no console errors (other than the aborted outside requests
themselves), no failed request to the site, no broken image, the repository
and issues buttons, one search box, and no code block wider than its column.
Every chapter page also: the Colab launch button and links pointing at that
chapter's own notebook, a download button, and the provenance line under the
title (tools/sphinx_provenance.py).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import sync_playwright

from tools import book

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
VIEWPORT = {"width": 1280, "height": 800}
NOT_BUILT = (
    f"The site is not built: {SITE.relative_to(ROOT)}/index.html is "
    "missing. Run `make site` (or `make browser`, which builds it and runs "
    "this test)."
)


def built_pages() -> list[str]:
    """Every HTML page of the built site, relative to it, in order.

    Folders whose name starts with ``_`` hold Sphinx's assets (``_static``,
    ``_sources``, ``_images``), not pages.
    """
    if not (SITE / "index.html").is_file():
        return []
    pages = []
    for path in SITE.rglob("*.html"):
        relative = path.relative_to(SITE)
        if not any(part.startswith("_") for part in relative.parts[:-1]):
            pages.append(relative.as_posix())
    return sorted(pages)


PAGES = built_pages()
CHAPTERS = [page for page in PAGES if page.startswith("notebooks/")]


def ids(page: str | None) -> str:
    return page or "site-not-built"


def require(page: str | None) -> str:
    """The page, or a failure saying how to build the site (never a skip)."""
    if page is None:
        pytest.fail(NOT_BUILT)
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url():
    """The built site, served on 127.0.0.1 at a free port while tests run."""
    if not PAGES:
        pytest.fail(NOT_BUILT)
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """The system's Chromium, driven by Playwright."""
    executable = os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail(
            "No Chromium found: install the system's (apt-get install "
            "chromium) or set BOOK_CHROMIUM to a Chromium executable."
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """One page opened in a context of its own, and what went wrong."""

    def __init__(self, browser, base_url: str, page: str):
        self.url = base_url + quote(page)
        self.base_url = base_url
        self.aborted: set[str] = set()
        self.console: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.route(self._is_outside, self._abort)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.page.goto(self.url, wait_until="networkidle")
        # Images below the fold may be lazy: load them all, then wait.
        self.page.evaluate(
            """() => Promise.all(Array.from(document.images, (img) => {
                img.loading = "eager";
                return img.complete ? null : new Promise((done) => {
                    img.addEventListener("load", done);
                    img.addEventListener("error", done);
                });
            }))"""
        )

    def _is_outside(self, url: str) -> bool:
        return not url.startswith(self.base_url)

    def _abort(self, route) -> None:
        self.aborted.add(route.request.url)
        route.abort()

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        # Chromium logs each aborted outside request as a console error;
        # those, and only those, are expected offline.
        if source in self.aborted and "Failed to load resource" in (
            message.text
        ):
            return
        line = (message.location or {}).get("lineNumber")
        where = f" ({source}:{line})" if source else ""
        self.console.append(message.text + where)

    def _on_page_error(self, error) -> None:
        self.console.append(f"uncaught {error}")

    def _on_request_failed(self, request) -> None:
        if request.url not in self.aborted:
            self.failed.append(f"{request.url}: {request.failure}")

    def _on_response(self, response) -> None:
        if not self._is_outside(response.url) and response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")


@pytest.fixture(scope="session")
def visit(request):
    """``visit(page)``: the page, opened once and shared by the tests.

    The checks only read the page, so each is opened once per session. The
    server and the browser start with the first page, so that a site that
    is not built fails each test with how to build it.
    """
    visits: dict[str, Visit] = {}

    def open_page(page: str) -> Visit:
        if page not in visits:
            browser = request.getfixturevalue("browser")
            base_url = request.getfixturevalue("base_url")
            visits[page] = Visit(browser, base_url, page)
        return visits[page]

    # Closing the browser (its fixture) closes every page's context.
    return open_page


@pytest.mark.parametrize("page", PAGES or [None], ids=ids)
def test_page_loads_cleanly(visit, page):
    """No console errors, failed requests or broken images."""
    opened = visit(require(page))
    # Outside images are blocked offline, so only the site's own count.
    broken = opened.page.evaluate(
        """(base) => Array.from(document.images)
            .filter((img) => img.currentSrc.startsWith(base))
            .filter((img) => !(img.complete && img.naturalWidth > 0))
            .map((img) => img.getAttribute("src"))""",
        opened.base_url,
    )
    problems = (
        [f"console error: {text}" for text in opened.console]
        + [f"failed request: {text}" for text in opened.failed]
        + [f"broken image: {src}" for src in broken]
    )
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", PAGES or [None], ids=ids)
def test_header_buttons_and_one_search_box(visit, page):
    """Repository and issues buttons, and a single visible search box."""
    opened = visit(require(page))
    url, _ = book.repository()
    header = opened.page.locator(".article-header-buttons")
    repository = header.locator(f'a[href="{url}"]')
    issues = header.locator(f'a[href^="{url}/issues"]')
    assert repository.count() == 1, f"{page}: no repository button"
    assert issues.count() == 1, f"{page}: no issues button"
    boxes = opened.page.locator(".search-button-field")
    visible = [i for i in range(boxes.count()) if boxes.nth(i).is_visible()]
    assert len(visible) == 1, (
        f"{page}: {len(visible)} search boxes visible at 1,280 px, not 1"
    )


@pytest.mark.parametrize("page", CHAPTERS or [None], ids=ids)
def test_chapter_links_to_its_own_notebook(visit, page):
    """Colab launch button and links open this chapter; it can be saved."""
    opened = visit(require(page))
    url, branch = book.repository()
    slug = url.removeprefix("https://github.com/")
    notebook = Path(page).with_suffix(".ipynb").as_posix()
    colab = f"https://colab.research.google.com/github/{slug}/blob/{branch}/"
    expected = colab + notebook
    links = opened.page.eval_on_selector_all(
        'a[href*="colab.research.google.com"]',
        "(links) => links.map((link) => link.href)",
    )
    assert expected in links, f"{page}: no Colab link to {expected}"
    wrong = [link for link in links if link != expected]
    assert not wrong, f"{page}: Colab links to other notebooks: {wrong}"
    launch = opened.page.locator(
        ".article-header-buttons .dropdown-launch-buttons "
        f'a[href="{expected}"]'
    )
    assert launch.count() == 1, f"{page}: no Colab launch button in header"
    download = opened.page.locator(
        ".article-header-buttons a.btn-download-source-button"
    )
    assert download.count() == 1, f"{page}: no download button"
    target = opened.page.evaluate(
        "(link) => link.href", download.element_handle()
    )
    response = opened.context.request.get(target)
    assert response.ok, f"{page}: download {target}: HTTP {response.status}"
    assert response.json()["cells"], f"{page}: download is not the notebook"


@pytest.mark.parametrize("page", CHAPTERS or [None], ids=ids)
def test_chapter_shows_its_provenance(visit, page):
    """The provenance line sits right under the chapter's title."""
    opened = visit(require(page))
    line = opened.page.locator("h1 + p.book-provenance")
    assert line.count() == 1, (
        f"{page}: no provenance line under the title (is "
        "tools.sphinx_provenance in _config.yml's local_extensions?)"
    )
    assert line.is_visible(), f"{page}: provenance line is hidden"
    assert line.inner_text().strip(), f"{page}: provenance line is empty"


# For each code block that scrolls sideways: where it is, by how much, and
# its first line too wide for the column (measured in the block's own font).
OVERFLOWING_CODE = """() => {
    const canvas = document.createElement("canvas").getContext("2d");
    const cells = Array.from(document.querySelectorAll("div.cell"));
    const blocks = Array.from(document.querySelectorAll("div.highlight pre"));
    const found = [];
    blocks.forEach((pre, index) => {
        const overflow = pre.scrollWidth - pre.clientWidth;
        if (overflow <= 1) return;
        const style = getComputedStyle(pre);
        canvas.font = `${style.fontSize} ${style.fontFamily}`;
        const room = pre.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const lines = pre.textContent.split("\\n");
        let number = lines.findIndex(
            (text) => canvas.measureText(text).width > room);
        if (number < 0) {
            number = lines.reduce((best, text, i) =>
                text.length > lines[best].length ? i : best, 0);
        }
        const cell = pre.closest("div.cell");
        let where = `code block ${index + 1}`;
        if (cell) {
            const part = pre.closest(".cell_output") ? "output" : "input";
            where = `code cell ${cells.indexOf(cell) + 1} (${part})`;
        }
        found.push({where, overflow, number: number + 1,
                    line: lines[number]});
    });
    return found;
}"""


@pytest.mark.parametrize("page", PAGES or [None], ids=ids)
def test_no_code_block_scrolls_sideways(visit, page):
    """Every code block fits the column at 1,280 px (79 columns do)."""
    opened = visit(require(page))
    found = opened.page.evaluate(OVERFLOWING_CODE)
    report = [
        f"{block['where']}: {block['overflow']} px too wide; line "
        f"{block['number']} ({len(block['line'])} characters): "
        f"{block['line']!r}"
        for block in found
    ]
    assert not report, (
        f"{page}: {len(report)} code block(s) scroll sideways at 1,280 px:\n  "
        + "\n  ".join(report)
    )


def test_every_chapter_is_built():
    """Each notebooks/NN_name.ipynb has a page: the site is not stale."""
    if not PAGES:
        pytest.fail(NOT_BUILT)
    missing = [
        path.name
        for path in book.chapters()
        if not (SITE / "notebooks" / path.with_suffix(".html").name).is_file()
    ]
    assert not missing, (
        f"No page for {missing} in {SITE.relative_to(ROOT)}: list them in "
        "_toc.yml and run `make site` again."
    )
