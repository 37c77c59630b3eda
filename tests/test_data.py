import functools
import http.server
import os
import socket
import threading
import urllib.request
from pathlib import Path

import keras
import pytest
from keras.src.backend import config as keras_config
from keras.src.utils import file_utils

from helpers import data
from tests.conftest import sha

EXACT = "https://example.org/data/exact.bin"
REBUILT = "https://example.org/data/rebuilt.bin"
MNIST = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "keras-cache"
    folder.mkdir()
    return str(folder)


@pytest.fixture
def no_network(monkeypatch):
    """Every connection fails: a silent bypass to the web fails the test."""

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def served(monkeypatch):
    """The URLs that the mirror's urllib handler answers, in order."""
    urls = []
    original = data._MirrorHandler.http_open

    def spy(self, request):
        response = original(self, request)
        if response is not None:
            urls.append(request.full_url)
        return response

    monkeypatch.setattr(data._MirrorHandler, "http_open", spy)
    monkeypatch.setattr(data._MirrorHandler, "https_open", spy)
    return urls


def cached(cache, name, content):
    """Put ``content`` in the Keras cache as ``name``; return its path."""
    path = Path(cache) / "datasets" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


# --- the manifest ------------------------------------------------------------


def test_read_manifest(mirror):
    entries = data.read_manifest(mirror["dir"])
    assert set(entries) == {EXACT, REBUILT}
    assert entries[REBUILT].upstream_sha256 == mirror["upstream"]


def test_missing_folder_or_manifest_says_what_to_do(tmp_path):
    with pytest.raises(data.MirrorError, match="does not exist.*prefetch"):
        data.read_manifest(tmp_path / "nowhere")
    with pytest.raises(
        data.MirrorError, match="MANIFEST.tsv is missing.*prefetch"
    ):
        data.read_manifest(tmp_path)


def test_manifest_without_a_required_column(tmp_path):
    (tmp_path / "MANIFEST.tsv").write_text("url\tfile\nhttps://x/y\ty\n")
    with pytest.raises(
        data.MirrorError, match=r"lacks the column\(s\) \['sha256'\]"
    ):
        data.read_manifest(tmp_path)


# --- canaries: the Keras seams this module relies on -------------------------


def test_canary_keras_checks_hashes_with_validate_file():
    # If this fails, Keras moved its hash check: update _install_hooks.
    assert callable(getattr(file_utils, "validate_file", None))
    assert "validate_file" in file_utils.get_file.__code__.co_names


def test_canary_keras_downloads_with_urllib():
    # If this fails, Keras stopped downloading through urllib's opener, and
    # the mirror's handler would be bypassed: update _MirrorHandler.
    assert file_utils.urlretrieve is urllib.request.urlretrieve
    assert "urlretrieve" in file_utils.get_file.__code__.co_names


def test_canary_get_file_is_served_by_the_urllib_handler(
    mirror, cache, no_network, served
):
    data.use_mirror(mirror["dir"])
    path = keras.utils.get_file(
        origin=EXACT, file_hash=sha(mirror["exact"]), cache_dir=cache
    )
    assert Path(path).read_bytes() == mirror["exact"]
    assert served == [EXACT]


def test_a_keras_without_validate_file_is_refused_clearly(mirror, monkeypatch):
    monkeypatch.setattr(data, "_hooks_installed", False)
    monkeypatch.delattr(file_utils, "validate_file")
    moved = "moved its download check; helpers.data needs updating"
    with pytest.raises(data.MirrorError, match=moved):
        data.use_mirror(mirror["dir"])


def test_a_get_file_that_skips_validate_file_is_refused_clearly(
    mirror, monkeypatch
):
    monkeypatch.setattr(data, "_hooks_installed", False)
    monkeypatch.setattr(file_utils, "get_file", lambda origin: origin)
    with pytest.raises(data.MirrorError, match="needs updating"):
        data.use_mirror(mirror["dir"])


# --- the public seam: urllib -------------------------------------------------


def test_urllib_serves_manifest_urls_with_a_content_length(
    mirror, tmp_path, no_network
):
    data.use_mirror(mirror["dir"])
    with urllib.request.urlopen(EXACT) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == str(len(mirror["exact"]))
        assert response.read() == mirror["exact"]
    sizes = []  # Keras's progress bar reads the size from the hook
    target = tmp_path / "copy.bin"
    urllib.request.urlretrieve(
        REBUILT, target, lambda block, size, total: sizes.append(total)
    )
    assert target.read_bytes() == mirror["rebuilt"]
    assert set(sizes) == {len(mirror["rebuilt"])}


def test_no_private_keras_function_is_replaced_but_validate_file(mirror):
    data.use_mirror(mirror["dir"])
    assert file_utils.urlretrieve is urllib.request.urlretrieve
    assert keras.utils.get_file is file_utils.get_file
    from keras.src.datasets import mnist

    assert mnist.get_file is file_utils.get_file


# --- serving get_file --------------------------------------------------------


def test_get_file_is_served_from_the_mirror(mirror, cache, no_network):
    data.use_mirror(mirror["dir"])
    path = keras.utils.get_file(origin=EXACT, cache_dir=cache)
    assert Path(path).read_bytes() == mirror["exact"]
    assert data.active_mirror() == str(mirror["dir"].resolve())


def test_mirror_copy_is_accepted_in_place_of_the_upstream_hash(
    mirror, cache, no_network
):
    # Also the canary for the one private seam: the mirror's bytes differ
    # from upstream, so only the validate_file hook lets get_file accept
    # them for upstream's hash (offline).
    data.use_mirror(mirror["dir"])
    # Keras hard-codes upstream's hash: the mirror's rebuilt bytes pass,
    path = keras.utils.get_file(
        origin=REBUILT, file_hash=mirror["upstream"], cache_dir=cache
    )
    assert Path(path).read_bytes() == mirror["rebuilt"]
    # and the cached copy is accepted on the next call without a new copy.
    mtime = os.stat(path).st_mtime_ns
    again = keras.utils.get_file(
        origin=REBUILT, file_hash=mirror["upstream"], cache_dir=cache
    )
    assert again == path and os.stat(path).st_mtime_ns == mtime


def test_a_wrong_hash_is_still_rejected(mirror, cache, no_network):
    data.use_mirror(mirror["dir"])
    with pytest.raises(ValueError, match="Incomplete or corrupted"):
        keras.utils.get_file(
            origin=EXACT, file_hash=sha(b"something else"), cache_dir=cache
        )


def test_corrupt_mirror_file_names_it_and_both_hashes_and_deletes_nothing(
    mirror, cache, no_network
):
    data.use_mirror(mirror["dir"])
    bad = mirror["dir"] / "rebuilt.bin"
    bad.write_bytes(b"truncated")
    # A stale cached copy that Keras would want to replace:
    stale = cached(cache, "rebuilt.bin", b"stale cached copy")
    with pytest.raises(data.MirrorError) as error:
        keras.utils.get_file(
            origin=REBUILT, file_hash=mirror["upstream"], cache_dir=cache
        )
    message = str(error.value)
    assert str(bad) in message
    assert sha(mirror["rebuilt"]) in message and sha(b"truncated") in message
    assert bad.read_bytes() == b"truncated"  # the mirror file is still there
    assert stale.read_bytes() == b"stale cached copy"  # and the cached one
    # Without a cached copy, the same error, and nothing is left behind:
    stale.unlink()
    with pytest.raises(data.MirrorError, match="fails its check"):
        keras.utils.get_file(origin=REBUILT, cache_dir=cache)
    assert bad.read_bytes() == b"truncated" and not stale.exists()


@pytest.mark.parametrize("problem", ["missing", "corrupt"])
@pytest.mark.parametrize("which", ["exact", "rebuilt", "exact, no hash"])
def test_a_good_cached_file_loads_whatever_the_mirror_holds(
    mirror, cache, no_network, problem, which
):
    # Issue 8: a file already in the reader's Keras cache loads as Keras
    # would load it, even when the mirror lacks it or holds a bad copy.
    url, content, file_hash = {
        "exact": (EXACT, mirror["exact"], sha(mirror["exact"])),
        "rebuilt": (REBUILT, mirror["rebuilt"], mirror["upstream"]),
        "exact, no hash": (EXACT, mirror["exact"], None),
    }[which]
    name = url.rsplit("/", 1)[1]
    mirror_file = mirror["dir"] / name
    if problem == "missing":
        mirror_file.unlink()
    else:
        mirror_file.write_bytes(b"corrupt")
    good = cached(cache, name, content)
    mtime = good.stat().st_mtime_ns
    data.use_mirror(mirror["dir"])
    path = keras.utils.get_file(
        origin=url, file_hash=file_hash, cache_dir=cache
    )
    assert path == str(good)
    assert good.read_bytes() == content and good.stat().st_mtime_ns == mtime
    if problem == "corrupt":
        assert mirror_file.read_bytes() == b"corrupt"  # left in place


def test_manifest_listing_a_missing_file(mirror, cache, no_network):
    (mirror["dir"] / "exact.bin").unlink()
    data.use_mirror(mirror["dir"])  # the other entries stay usable
    with pytest.raises(
        data.MirrorError, match="lists exact.bin .* does not exist"
    ):
        keras.utils.get_file(origin=EXACT, cache_dir=cache)
    assert keras.utils.get_file(
        origin=REBUILT, file_hash=mirror["upstream"], cache_dir=cache
    )


def test_url_missing_from_the_mirror_says_how_to_add_it(mirror, cache):
    data.use_mirror(mirror["dir"])
    absent = "http://127.0.0.1:9/absent.bin"
    with pytest.raises(data.MirrorError, match="not in the data mirror.*"):
        keras.utils.get_file(origin=absent, cache_dir=cache)
    with pytest.raises(data.MirrorError, match=f"prefetch .* --url {absent}"):
        urllib.request.urlopen(absent)


def test_datasets_use_the_mirror_too(
    mirror, tmp_path, monkeypatch, no_network
):
    import numpy as np

    arrays = tmp_path / "arrays.npz"
    rng = np.random.default_rng(0)
    np.savez(
        arrays,
        x_train=rng.integers(0, 255, (6, 28, 28), dtype="uint8"),
        y_train=np.arange(6),
        x_test=rng.integers(0, 255, (2, 28, 28), dtype="uint8"),
        y_test=np.arange(2),
    )
    content = arrays.read_bytes()
    (mirror["dir"] / "mnist.npz").write_bytes(content)
    rows = [r.__dict__ for r in data.read_manifest(mirror["dir"]).values()]
    rows.append(
        {
            "url": MNIST,
            "file": "mnist.npz",
            "sha256": sha(content),
            "upstream_sha256": MNIST_SHA,  # Keras's MNIST hash
        }
    )
    data.write_manifest(mirror["dir"], rows)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("BOOK_DATA_MIRROR", str(mirror["dir"]))
    assert data.use_mirror_from_env() == str(mirror["dir"])
    (x_train, y_train), (x_test, _) = keras.datasets.mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (2, 28, 28)
    assert list(y_train) == list(range(6))


def test_without_the_variable_nothing_is_mirrored():
    assert data.use_mirror_from_env() is None and data.active_mirror() is None


# --- prefetch, against a server on loopback ----------------------------------


@pytest.fixture
def server(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.bin").write_bytes(b"A" * 5000)
    (site / "b.txt").write_bytes(b"bee\n")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(site)
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *args: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_urls_outside_the_manifest_still_download(
    mirror, server, cache, served
):
    data.use_mirror(mirror["dir"])
    path = keras.utils.get_file(origin=f"{server}/a.bin", cache_dir=cache)
    assert Path(path).read_bytes() == b"A" * 5000 and served == []
    with pytest.raises(data.MirrorError, match="not in the data mirror"):
        keras.utils.get_file(origin=f"{server}/gone.bin", cache_dir=cache)


def test_prefetch_downloads_and_writes_a_manifest(server, tmp_path, cache):
    out = tmp_path / "new-mirror"
    urls = [f"{server}/a.bin", f"{server}/b.txt"]
    data.prefetch(out, urls)
    entries = data.read_manifest(out)
    assert entries[urls[0]].sha256 == sha(b"A" * 5000)
    assert entries[urls[1]].file == "b.txt"
    assert data.check(out) == []
    data.use_mirror(out)  # and the new mirror serves get_file
    path = keras.utils.get_file(origin=urls[1], cache_dir=cache)
    assert Path(path).read_bytes() == b"bee\n"


def test_prefetch_resumes_and_keeps_what_it_has(server, tmp_path, capsys):
    out = tmp_path / "m"
    data.prefetch(out, [f"{server}/a.bin"])
    data.prefetch(out, [f"{server}/a.bin", f"{server}/b.txt"])
    printed = capsys.readouterr().out
    assert "kept       a.bin" in printed
    assert f"download   {server}/b.txt" in printed
    assert len(data.read_manifest(out)) == 2


def test_prefetch_failure_keeps_earlier_files(server, tmp_path):
    out = tmp_path / "m"
    with pytest.raises(
        data.MirrorError,
        match="Could not download .*missing.bin.*run the same command again",
    ):
        data.prefetch(out, [f"{server}/a.bin", f"{server}/missing.bin"])
    assert (out / "a.bin").exists()
    assert list(data.read_manifest(out)) == [f"{server}/a.bin"]


def test_prefetch_refuses_clashing_names(tmp_path):
    with pytest.raises(data.MirrorError, match="same name"):
        data.prefetch(
            tmp_path,
            ["http://127.0.0.1:9/x/a.bin", "http://127.0.0.1:9/y/a.bin"],
        )


def test_command_line(server, tmp_path, capsys):
    out = tmp_path / "cli"
    assert data.main(["prefetch", str(out), "--url", f"{server}/b.txt"]) == 0
    assert data.main(["check", str(out)]) == 0
    (out / "b.txt").write_bytes(b"changed")
    assert data.main(["check", str(out)]) == 1
    assert "fails its check" in capsys.readouterr().err
    assert data.main(["check", str(tmp_path / "nowhere")]) == 1


def test_book_urls_match_the_shared_mirror():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mirror"
    if not shared.is_dir():
        pytest.skip("no shared mirror beside this checkout")
    assert set(data.BOOK_URLS) <= set(data.read_manifest(shared))


def test_sha256_of(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert data.sha256_of(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_stop_mirror_goes_back_to_plain_downloads(mirror, cache):
    data.use_mirror(mirror["dir"])
    data.stop_mirror()
    assert data.active_mirror() is None
    # Keras's own error: the URL is not served nor explained any more.
    with pytest.raises(Exception, match="URL fetch failure"):
        keras.utils.get_file(
            origin="http://127.0.0.1:9/x.bin", cache_dir=cache
        )
