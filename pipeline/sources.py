"""Document sources: local folders and HTTP(S) URLs fetched with conditional requests.

A URL's ETag / Last-Modified are kept in `<home>/sources.json`, so an unchanged file answers
304 Not Modified and is not downloaded again; downloads land in `<home>/downloads/` atomically.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from .fileutil import atomic_write_bytes, atomic_write_text


def is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def fetch_url(url: str, home: Path, timeout: float = 60) -> tuple[Path, str]:
    """Download `url` unless unchanged; returns (local path, 'downloaded' | 'not modified')."""
    state_path = home / "sources.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    known = state.get(url, {})
    name = Path(urlparse(url).path).name or "download.pdf"
    target = home / "downloads" / name
    request = urllib.request.Request(url, headers={"User-Agent": "clausebank"})
    if target.exists():
        if known.get("etag"):
            request.add_header("If-None-Match", known["etag"])
        if known.get("last_modified"):
            request.add_header("If-Modified-Since", known["last_modified"])
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = resp.read()
            headers = resp.headers
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and target.exists():
            return target, "not modified"
        raise OSError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise OSError(f"{url}: {exc.reason}") from exc
    atomic_write_bytes(target, data)
    state[url] = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"), "file": str(target)}
    atomic_write_text(state_path, json.dumps(state, indent=1))
    return target, "downloaded"
