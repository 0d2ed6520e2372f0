"""pipeline/sources.py against a real HTTP server on 127.0.0.1 (conditional requests)."""
from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.sources import fetch_url, is_url


@pytest.fixture()
def server(tmp_path, corpus_dir):
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(corpus_dir / "india_uae_ict_mou.pdf", root)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_conditional_download(server, tmp_path):
    home = tmp_path / "home"
    path, status = fetch_url(f"{server}/india_uae_ict_mou.pdf", home)
    assert status == "downloaded" and path.read_bytes()[:5] == b"%PDF-"
    path2, status2 = fetch_url(f"{server}/india_uae_ict_mou.pdf", home)
    assert (path2, status2) == (path, "not modified")


def test_missing_url_is_a_clear_error(server, tmp_path):
    with pytest.raises(OSError, match="HTTP 404"):
        fetch_url(f"{server}/nope.pdf", tmp_path)
    assert is_url("https://example.org/a.pdf") and not is_url("corpus/inbox")
