"""Serve the book's downloads from a local mirror, and build such a mirror.

Introduced in chapter 1. Chapters load data exactly as a reader does, with
``keras.datasets.*.load_data()`` and ``keras.utils.get_file(origin=URL)``.
With ``BOOK_DATA_MIRROR=DIR`` set, :func:`helpers.setup` calls
:func:`use_mirror`, and every origin listed in ``DIR/MANIFEST.tsv`` is then
read from ``DIR`` instead of the web, after its sha256 is checked against
the manifest. Nothing here ever deletes a mirror file or a cached file
(Keras itself drops its cached copy when ``force_download=True`` fails).

Two hooks do it. Downloads go through Python's public ``urllib.request``
opener, which gets a handler that answers manifest URLs from the mirror.
Keras's hash check has no public seam, so ``validate_file`` in
``keras.src.utils.file_utils`` is wrapped to accept a mirror copy whose
bytes differ from upstream (manifest column ``upstream_sha256``).

Build a mirror on a machine with internet access::

    python -m helpers.data prefetch DIR   # download every URL the book uses
    python -m helpers.data check DIR      # verify every file in MANIFEST.tsv
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import email.message
import functools
import hashlib
import inspect
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIRROR_ENV = "BOOK_DATA_MIRROR"
MANIFEST = "MANIFEST.tsv"
COLUMNS = (
    "url",
    "file",
    "sha256",
    "upstream_sha256",
    "kind",
    "note",
    "license",
)
REQUIRED_COLUMNS = ("url", "file", "sha256")
PREFETCH = "python -m helpers.data prefetch"

_TFDS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Every URL the book downloads, in chapter order.
BOOK_URLS: tuple[str, ...] = (
    _TFDS + "mnist.npz",
    _TFDS + "train-labels-idx1-ubyte.gz",
    _TFDS + "train-images-idx3-ubyte.gz",
    _TFDS + "t10k-labels-idx1-ubyte.gz",
    _TFDS + "t10k-images-idx3-ubyte.gz",
    _TFDS + "imdb.npz",
    _TFDS + "imdb_word_index.json",
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
    "https://github.com/ageron/data/raw/main/housing.tgz",
    "https://github.com/ageron/data/raw/main/titanic.tgz",
)


class MirrorError(RuntimeError):
    """A mirror, its manifest, or a file in it is not usable."""


@dataclass(frozen=True)
class MirrorEntry:
    """One row of ``MANIFEST.tsv``."""

    url: str
    file: str
    sha256: str
    upstream_sha256: str = ""


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def _sha256_once(path: Path) -> str:
    """sha256 of ``path``, computed once per process for an unchanged file."""
    stat = path.stat()
    return _cached_sha256(str(path), stat.st_size, stat.st_mtime_ns)


def read_manifest(
    directory: str | os.PathLike[str],
) -> dict[str, MirrorEntry]:
    """Read ``DIR/MANIFEST.tsv`` into ``{url: entry}``.

    Raises MirrorError, saying what to do, when the folder or the manifest is
    missing or the manifest lacks a required column.
    """
    folder = Path(directory)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise MirrorError(
            f"Data mirror folder {folder} does not exist. Point "
            f"{MIRROR_ENV} at a folder made by `{PREFETCH} DIR`, or unset "
            f"{MIRROR_ENV} to download from the web."
        )
    if not path.is_file():
        raise MirrorError(
            f"{path} is missing. Create it with `{PREFETCH} {folder}`, "
            f"or unset {MIRROR_ENV} to download from the web."
        )
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise MirrorError(
                f"{path} lacks the column(s) {missing}; its header must "
                f"start with {'<TAB>'.join(COLUMNS)}."
            )
        entries = {}
        for row in reader:
            if not row.get("url"):
                continue
            upstream = row.get("upstream_sha256") or ""
            entries[row["url"]] = MirrorEntry(
                url=row["url"],
                file=row["file"],
                sha256=row["sha256"].strip().lower(),
                upstream_sha256=upstream.strip().lower(),
            )
    return entries


def verified_path(
    directory: str | os.PathLike[str], entry: MirrorEntry
) -> Path:
    """Return the mirror file of ``entry`` after checking its sha256.

    Raises MirrorError naming the file and both hashes when they differ, or
    when the manifest lists a file the folder lacks. Never deletes anything.
    """
    path = Path(directory) / entry.file
    if not path.is_file():
        raise MirrorError(
            f"{MANIFEST} in {directory} lists {entry.file} for {entry.url}, "
            f"but {path} does not exist. Restore the file "
            f"(`{PREFETCH} {directory} --url {entry.url}`) "
            f"or unset {MIRROR_ENV}."
        )
    actual = _sha256_once(path)
    if actual != entry.sha256:
        raise MirrorError(
            f"Mirror file {path} fails its check: {MANIFEST} expects sha256 "
            f"{entry.sha256} but the file has sha256 {actual}. The file was "
            f"left in place; replace it with a good copy (or fix the "
            f"manifest), or unset {MIRROR_ENV} to download from the web."
        )
    return path


class _Mirror:
    """The active mirror: the download and hash-check hooks consult it."""

    def __init__(self, directory: Path, entries: dict[str, MirrorEntry]):
        self.directory = directory
        self.entries = entries

    def path_for(self, url: str) -> Path | None:
        """The checked mirror file for ``url``; None if it is not listed."""
        entry = self.entries.get(url)
        return None if entry is None else verified_path(self.directory, entry)

    def not_mirrored(self, url: str, error: Exception) -> MirrorError:
        """The error for a URL outside the manifest that failed to load."""
        return MirrorError(
            f"{url} is not in the data mirror {self.directory} and could not "
            f"be downloaded ({error}). Add it with "
            f"`{PREFETCH} {self.directory} --url {url}`."
        )

    def accepts(self, fpath: str, file_hash: str) -> bool:
        """Whether ``fpath`` stands in for a file of hash ``file_hash``.

        True when it is the mirror's copy of that upstream file. Otherwise,
        Keras is about to fetch the file again: if the mirror's copy is bad,
        raise MirrorError now, before Keras discards ``fpath``.
        """
        wanted = (file_hash or "").lower()
        for entry in self.entries.values():
            if entry.upstream_sha256 and entry.upstream_sha256 == wanted:
                if _sha256_once(Path(fpath)) == entry.sha256:
                    return True
        for entry in self.entries.values():
            if wanted in (entry.sha256, entry.upstream_sha256):
                verified_path(self.directory, entry)
        return False


_active: _Mirror | None = None


class _MirrorHandler(urllib.request.BaseHandler):
    """Answer GET requests for manifest URLs from the active mirror.

    Other URLs get None, so Python's own handlers fetch them from the web.
    """

    handler_order = 50  # ahead of the proxy (100) and HTTP (500) handlers

    def http_open(self, request: urllib.request.Request) -> Any:
        mirror = _active
        if mirror is None or request.get_method() != "GET":
            return None
        path = mirror.path_for(request.full_url)
        if path is None:
            return None
        headers = email.message.Message()
        headers["Content-Type"] = "application/octet-stream"
        headers["Content-Length"] = str(path.stat().st_size)
        response = urllib.response.addinfourl(
            open(path, "rb"), headers, request.full_url, code=200
        )
        response.msg = "OK"  # read by urllib's HTTPErrorProcessor
        return response

    https_open = http_open


class _MirrorOpener(urllib.request.OpenerDirector):
    """Python's default opener, with :class:`_MirrorHandler` in front.

    A URL outside the manifest that fails to download raises MirrorError
    saying how to add it to the mirror.
    """

    def __init__(self) -> None:
        super().__init__()
        default = urllib.request.build_opener(_MirrorHandler())
        for handler in default.handlers:
            self.add_handler(handler)

    def open(self, fullurl: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().open(fullurl, *args, **kwargs)
        except urllib.error.URLError as error:
            mirror = _active
            url = getattr(fullurl, "full_url", fullurl)
            if mirror is None or url in mirror.entries:
                raise
            raise mirror.not_mirrored(url, error) from error


def use_mirror(directory: str | os.PathLike[str]) -> int:
    """Serve the manifest's URLs from ``directory``; return the entry count.

    Each origin listed in the manifest is checked and read from the mirror.
    Files whose bytes differ from upstream (``upstream_sha256`` set) are
    accepted in place of the hash Keras hard-codes. Other origins still go
    to the network, and a file already in Keras's cache loads as Keras
    would load it. Calling it again switches to the new folder.
    """
    global _active
    folder = Path(directory).expanduser().resolve()
    entries = read_manifest(folder)
    _install_hooks()
    _active = _Mirror(folder, entries)
    return len(entries)


def use_mirror_from_env() -> str | None:
    """Call :func:`use_mirror` on ``$BOOK_DATA_MIRROR`` if set; return it."""
    folder = os.environ.get(MIRROR_ENV, "").strip()
    if not folder:
        return None
    use_mirror(folder)
    return folder


def active_mirror() -> str | None:
    """The folder of the active mirror, or None."""
    return str(_active.directory) if _active else None


def stop_mirror() -> None:
    """Go back to plain downloads (the hooks stay, and pass all through)."""
    global _active
    _active = None


_hooks_installed = False


def _install_hooks() -> None:
    """Install the urllib opener and wrap Keras's hash check, once.

    Raises MirrorError if this Keras no longer checks hashes with
    ``keras.src.utils.file_utils.validate_file`` inside ``get_file``.
    """
    global _hooks_installed
    if _hooks_installed:
        return
    import keras
    from keras.src.utils import file_utils

    original_validate = getattr(file_utils, "validate_file", None)
    get_file = inspect.unwrap(getattr(file_utils, "get_file", None))
    calls = getattr(getattr(get_file, "__code__", None), "co_names", ())
    if original_validate is None or "validate_file" not in calls:
        raise MirrorError(
            f"This Keras ({keras.__version__}) moved its download check; "
            "helpers.data needs updating: it wraps validate_file in "
            "keras.src.utils.file_utils, which get_file no longer calls. "
            f"Unset {MIRROR_ENV} to download from the web."
        )

    @functools.wraps(original_validate)
    def validate_file(
        fpath: str,
        file_hash: str,
        algorithm: str = "auto",
        chunk_size: int = 65535,
    ) -> bool:
        if original_validate(
            fpath, file_hash, algorithm=algorithm, chunk_size=chunk_size
        ):
            return True
        mirror = _active
        return mirror is not None and mirror.accepts(fpath, file_hash)

    file_utils.validate_file = validate_file
    urllib.request.install_opener(_MirrorOpener())
    _hooks_installed = True


def _file_name(url: str) -> str:
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    if not name:
        raise MirrorError(
            f"Cannot take a file name from {url!r}; give a URL that ends "
            "in a file name."
        )
    return name


def write_manifest(
    directory: str | os.PathLike[str], rows: Iterable[dict[str, str]]
) -> Path:
    """Write ``rows`` (dicts keyed by COLUMNS) as ``DIR/MANIFEST.tsv``."""
    path = Path(directory) / MANIFEST
    tmp = path.with_suffix(".tsv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle,
            COLUMNS,
            delimiter="\t",
            extrasaction="ignore",
            lineterminator="\n",
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    os.replace(tmp, path)
    return path


def prefetch(
    directory: str | os.PathLike[str], urls: Iterable[str] = BOOK_URLS
) -> Path:
    """Download ``urls`` into ``directory``; return its manifest's path.

    Resumable: a file already in the folder is kept and hashed, not
    downloaded again; a download goes to ``NAME.part`` and is renamed only
    when complete. The manifest is rewritten after each file; its rows for
    other URLs are kept.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    urls = list(dict.fromkeys(urls))
    names = [_file_name(u) for u in urls]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise MirrorError(
            f"Several URLs would be saved under the same name: {clashes}."
        )
    rows: dict[str, dict[str, str]] = {}
    if (folder / MANIFEST).is_file():
        with open(folder / MANIFEST, newline="", encoding="utf-8") as handle:
            rows = {
                r["url"]: r
                for r in csv.DictReader(handle, delimiter="\t")
                if r.get("url")
            }
    today = _dt.date.today().isoformat()
    for url, name in zip(urls, names):
        target = folder / name
        if target.exists():
            print(f"kept       {name} (already in {folder})")
        else:
            partial = target.with_name(name + ".part")
            print(f"download   {url}")
            try:
                urllib.request.urlretrieve(url, partial)
            except (urllib.error.URLError, OSError) as error:
                raise MirrorError(
                    f"Could not download {url}: {error}. Check the network "
                    "and run the same command again; files already fetched "
                    "are kept."
                ) from error
            os.replace(partial, target)
        row = rows.get(url, {})
        row.update(url=url, file=name, sha256=sha256_of(target))
        row.setdefault("kind", "exact")
        row.setdefault("note", f"fetched by helpers.data prefetch on {today}")
        rows[url] = row
        write_manifest(folder, rows.values())
    return write_manifest(folder, rows.values())


def check(directory: str | os.PathLike[str]) -> list[str]:
    """Verify every file listed in the manifest; return the problems found."""
    problems = []
    for entry in read_manifest(directory).values():
        try:
            verified_path(directory, entry)
        except MirrorError as error:
            problems.append(str(error))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.data {prefetch,check} DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.data", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser(
        "prefetch", help="download every URL the book uses into DIR"
    )
    fetch.add_argument("directory")
    fetch.add_argument(
        "--url", action="append", help="fetch only this URL (repeatable)"
    )
    verify = commands.add_parser(
        "check", help="verify every file in DIR against its manifest"
    )
    verify.add_argument("directory")
    args = parser.parse_args(argv)
    try:
        if args.command == "prefetch":
            path = prefetch(args.directory, args.url or BOOK_URLS)
            print(f"wrote {path}")
            return 0
        problems = check(args.directory)
    except MirrorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.directory}: every file matches {MANIFEST}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
