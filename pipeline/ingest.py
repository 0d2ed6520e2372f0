"""Ingestion: find PDFs, skip unchanged ones by sha256, parse the rest in worker processes, store.

Parsing (extract → segment → metadata) is pure and runs in a process pool; the store has one
writer, this process. A file that fails gets a one-line reason and the run goes on.
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .analyse import analyse
from .extract import DEFAULT_MAX_PAGES, ExtractionError, extract_pages
from .metadata import detect_metadata
from .models import Document
from .segment import build_document
from .store import Store


@dataclass
class IngestReport:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    articles: int = 0
    clauses: int = 0
    topics: Counter = field(default_factory=Counter)  # articles added per topic

    @property
    def ok(self) -> bool:
        return not self.failed


def discover_pdfs(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, and every `*.pdf` below given folders (sorted, de-duplicated)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf" and q.is_file())
        else:
            out.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_pdf(path: Path | str, *, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES,
              sha256: str | None = None) -> Document:
    """One PDF → an analysed Document with metadata and articles (raises ExtractionError with the reason)."""
    path = Path(path)
    pages = extract_pages(path, ocr=ocr, max_pages=max_pages)
    doc = build_document(path, pages, sha256=sha256 or file_sha256(path))
    try:
        detect_metadata(doc, pages)
    except ValueError as exc:  # a malformed sidecar
        raise ExtractionError(str(exc)) from exc
    return analyse(doc)


def _parse_job(path: str, sha: str, ocr: bool, max_pages: int) -> Document:
    return parse_pdf(path, ocr=ocr, max_pages=max_pages, sha256=sha)


def partition_changed(store: Store, paths: Iterable[Path | str], report: IngestReport,
                      on_progress: Callable[[str, str], None] | None = None) -> list[tuple[Path, str]]:
    """Hash every PDF found under `paths`: unchanged ones and unreadable ones go into the report;
    the rest are returned as (path, sha256) to be parsed."""
    todo: list[tuple[Path, str]] = []
    for path in discover_pdfs(paths):
        try:
            if not path.exists():
                raise ExtractionError("file not found")
            sha = file_sha256(path)
        except (OSError, ExtractionError) as exc:
            _fail(report, path, str(exc), on_progress)
            continue
        if store.document_sha(path.stem) == sha:
            report.unchanged.append(str(path))
            if on_progress:
                on_progress(str(path), "unchanged")
            continue
        todo.append((path, sha))
    return todo


def store_document(store: Store, report: IngestReport, path: Path | str, doc: Document) -> str:
    """Write one parsed document and count it in the report; returns 'new', 'changed' or 'unchanged'."""
    status = store.upsert(doc)
    getattr(report, status).append(str(path))
    report.articles += len(doc.articles)
    report.clauses += sum(len(a.clauses) for a in doc.articles)
    report.topics.update(t for a in doc.articles for t in a.topics)
    return status


def ingest_paths(
    store: Store,
    paths: Iterable[Path | str],
    *,
    workers: int | None = None,
    ocr: bool = True,
    max_pages: int = DEFAULT_MAX_PAGES,
    on_progress: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into the store; `on_progress(path, status)` is called per file."""
    report = IngestReport()
    todo = partition_changed(store, paths, report, on_progress)
    workers = workers or min(len(todo), os.cpu_count() or 1) or 1
    if workers <= 1 or len(todo) <= 1:
        for path, sha in todo:
            _store_result(store, report, path, lambda: _parse_job(str(path), sha, ocr, max_pages), on_progress)
        return report
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_parse_job, str(p), sha, ocr, max_pages): p for p, sha in todo}
        for fut in as_completed(futures):
            _store_result(store, report, futures[fut], fut.result, on_progress)
    return report


def _store_result(store: Store, report: IngestReport, path: Path, get: Callable[[], Document],
                  on_progress: Callable[[str, str], None] | None) -> None:
    try:
        doc = get()
    except ExtractionError as exc:
        _fail(report, path, str(exc), on_progress)
        return
    except Exception as exc:  # a parser bug must not stop the run; say what it was
        _fail(report, path, f"unexpected {type(exc).__name__}: {exc}", on_progress)
        return
    status = store_document(store, report, path, doc)
    if on_progress:
        on_progress(str(path), status)


def _fail(report: IngestReport, path: Path, reason: str, on_progress) -> None:
    report.failed.append((str(path), reason))
    if on_progress:
        on_progress(str(path), "failed: " + reason)
