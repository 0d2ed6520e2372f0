"""Ingestion, the one core operation: sources → changed files → parse (pluggable executor) → store →
index → an `IngestReport` with counts, stage times, peak memory and quarantine.

Parsing (extract → segment → metadata → analyse) is pure and runs wherever the caller's executor
puts it: a process pool for `clausebank ingest` (this process for a small batch, see `ParseWorkers`),
Prefect tasks for the nightly flow, this process in tests. The store and the index have one writer,
this process, under the writer lock.

A run killed anywhere (see `fileutil.fault_point`, the crash-test hook) is repaired by the next one:
the store is never half-written (one transaction per document), the lock of a dead holder is taken
over, temporary files are removed, an index behind the store or damaged is rebuilt from it; the run
report says what was recovered.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from .extract import DEFAULT_MAX_PAGES, ExtractionError, count_pages
from .fileutil import TEMP_GLOB, atomic_write_text, fault_armed, fault_point, remove_temp_files
from .lock import writer_lock
from .models import Document
from .store import Store

#: called as `submit(path, sha256, ocr, max_pages)`; returns something with `.result()` → `ParseResult`
Submit = Callable[[str, str, bool, int], "ResultLike"]
Progress = Callable[[str, str], None]  # (path, status) per file: new / changed / unchanged / failed: reason


class ResultLike(Protocol):
    def result(self) -> "ParseResult": ...


@dataclass
class ParseResult:
    document: Document
    worker_peak_mb: float


@dataclass
class IngestReport:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    articles: int = 0
    clauses: int = 0
    topics: Counter = field(default_factory=Counter)  # articles added per topic
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ"))
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    peak_mb: float = 0.0
    peak_worker_mb: float = 0.0
    index: dict | None = None  # what the index sync did, when it ran
    index_error: str = ""  # why the index could not be saved (the store is complete all the same)
    recovered: list[str] = field(default_factory=list)  # what this run repaired after a killed one

    @property
    def ok(self) -> bool:
        return not self.failed and not self.index_error

    def summary(self) -> str:
        return (f"{len(self.new)} new, {len(self.changed)} changed, {len(self.unchanged)} unchanged, "
                f"{len(self.failed)} failed")


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
    from .analyse import analyse
    from .extract import extract_pages
    from .metadata import detect_metadata
    from .segment import build_document

    path = Path(path).absolute()  # the store keeps where the file is, wherever the ingestion ran from
    pages = extract_pages(path, ocr=ocr, max_pages=max_pages)
    doc = build_document(path, pages, sha256=sha256 or file_sha256(path))
    try:
        detect_metadata(doc, pages)
    except ValueError as exc:  # a malformed sidecar
        raise ExtractionError(str(exc)) from exc
    return analyse(doc)


def parse_job(path: str, sha: str, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES) -> ParseResult:
    """What a worker runs for one file: parse it, and say how much memory the worker has used so far."""
    exit_with_parent()
    fault_point("in_parse")
    # a damaged PDF makes pdfminer warn once per glyph; the one failure reason is what the user needs
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    doc = parse_pdf(path, ocr=ocr, max_pages=max_pages, sha256=sha)
    return ParseResult(doc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


_watchdog_started = False


def exit_with_parent(poll_seconds: float = 0.5) -> None:
    """In a worker process: exit at once when the process that started it dies (killed, out of memory,
    terminal closed) instead of living on as an orphan. Idempotent; does nothing in the main process."""
    import multiprocessing

    global _watchdog_started
    if _watchdog_started or multiprocessing.parent_process() is None:
        return
    _watchdog_started = True
    # the pid the parent had, not getppid(): the parent may have died while this worker was starting
    parent = multiprocessing.parent_process().pid

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(70)

    threading.Thread(target=watch, name="clausebank-exit-with-parent", daemon=True).start()


def parse_pool(workers: int):
    """A process pool for parse jobs: spawned workers (they inherit no descriptor, so not the writer
    lock) that each start the exit-with-parent watchdog at once, so that a worker that never got a
    job does not outlive a killed ingestion either (it would wait on the pool's queue forever)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent)


@dataclass
class _ParseHere:
    """A parse job run in this process when its result is asked for, so that each file is stored
    (and its progress shown) before the next one is parsed."""

    path: str
    sha: str
    ocr: bool
    max_pages: int

    def result(self) -> ParseResult:
        return parse_job(self.path, self.sha, self.ocr, self.max_pages)


def serial_submit(path: str, sha: str, ocr: bool, max_pages: int) -> ResultLike:
    """Parse in this process (tests, small batches), one file at a time as the store asks for it."""
    return _ParseHere(path, sha, ocr, max_pages)


# measured on the sample corpus (43 pages): as fast in this process as in two workers, with 18 s less
# CPU, because each worker loads the models (~10 s); a pool pays off on longer batches
POOL_MIN_PAGES = 60


class ParseWorkers:
    """Where `clausebank ingest` parses: a pool of `workers` spawned processes, or, when the changed
    files have fewer than `min_pages` pages between them, this process (a worker's model load would
    cost more than it saves). `min_pages=0` always uses the pool."""

    def __init__(self, workers: int, min_pages: int = POOL_MIN_PAGES):
        self.workers, self.min_pages, self.pool = workers, min_pages, None

    def plan(self, todo: list[tuple[Path, str]]) -> None:
        """Start the pool if the files about to be parsed are worth it."""
        if self.workers < 2 or not todo:
            return
        if self.min_pages == 0:
            self.pool = parse_pool(self.workers)
        elif len(todo) > 1 and count_pages([p for p, _ in todo], self.min_pages) >= self.min_pages:
            self.pool = parse_pool(min(self.workers, len(todo)))

    def __call__(self, path: str, sha: str, ocr: bool, max_pages: int) -> ResultLike:
        if self.pool is None:
            return serial_submit(path, sha, ocr, max_pages)
        return self.pool.submit(parse_job, path, sha, ocr, max_pages)

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def partition_changed(store: Store, paths: Iterable[Path | str], report: IngestReport,
                      on_progress: Progress | None = None) -> list[tuple[Path, str]]:
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


def ingest(
    home: Path | str,
    paths: Iterable[Path | str],
    submit: Submit = serial_submit,
    *,
    ocr: bool = True,
    max_pages: int = DEFAULT_MAX_PAGES,
    index: bool = True,
    make_embedder: Callable | None = None,
    on_progress: Progress | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into the store under `home`, as the one writer.

    `submit` decides where parsing runs (see `Submit`); a file that fails gets a one-line reason in
    the report and in `<home>/quarantine.json`, and the run goes on. The index is brought in line
    with the store at the end when anything changed or it is missing (`index=False` skips that)."""
    home = Path(home)
    report = IngestReport()
    t0 = time.perf_counter()
    stage = _StageClock(report, on_stage)
    with writer_lock(home) as recovered, Store(home) as store:
        report.recovered += recovered
        stage("discover + hash + skip unchanged")
        index_lag = _recover_files(store, report, index)
        todo = partition_changed(store, paths, report, on_progress)
        fault_point("after_hash")
        if isinstance(submit, ParseWorkers):
            submit.plan(todo)
        stage("parse (workers)")
        pending = [(path, sha, submit(str(path), sha, ocr, max_pages)) for path, sha in todo]
        store_seconds = 0.0
        _arm_mid_transaction_fault(store)
        for path, sha, future in pending:
            try:
                result = future.result()
            except ExtractionError as exc:
                _fail(report, path, str(exc), on_progress, home, sha)
                continue
            except Exception as exc:  # a parser bug must not stop the run; say what it was
                _fail(report, path, f"unexpected {type(exc).__name__}: {exc}", on_progress, home, sha)
                continue
            report.peak_worker_mb = max(report.peak_worker_mb, result.worker_peak_mb)
            t_store = time.perf_counter()
            status = _store_document(store, report, path, result.document)
            store_seconds += time.perf_counter() - t_store
            if on_progress:
                on_progress(str(path), status)
        stage.add("store", store_seconds)
        if index and (report.new or report.changed or index_lag):
            fault_point("before_index")
            stage("embed + index")
            _sync_index(store, report, make_embedder or (lambda: _default_embedder(home)))
        stage.stop()
    report.seconds = time.perf_counter() - t0
    report.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def ingest_if_unchanged(home: Path | str, sources: Iterable[str], *, index: bool = True) -> IngestReport | None:
    """The nightly no-change run without the flow machinery (a Prefect API costs ~9 s to start): when
    every source is a local path whose PDFs are all stored with the same hash, the index is in line
    with the store and no killed run has left anything to recover, run the (empty) ingestion here and
    return its report; None when there is work for the flow (or a URL to fetch)."""
    from .index import index_lag
    from .lock import LOCK_NAME
    from .sources import is_url
    from .store import DB_NAME

    home, sources = Path(home), list(sources)
    lock = home / LOCK_NAME
    if any(is_url(s) for s in sources) or not (home / DB_NAME).exists() or (lock.exists() and lock.stat().st_size):
        return None
    paths = [s for s in sources if Path(s).exists()]
    with Store(home, readonly=True) as store:
        if partition_changed(store, paths, IngestReport()) or (index and index_lag(store) != (0, [])):
            return None
    if any(home.rglob(TEMP_GLOB)):
        return None
    return ingest(home, paths, index=index)  # under the lock; whatever changed since is parsed here


class _StageClock:
    """Seconds per stage into the report; `clock(name)` ends the running stage and starts `name`."""

    def __init__(self, report: IngestReport, on_stage: Callable[[str], None] | None):
        self.report, self.on_stage = report, on_stage
        self.name: str | None = None
        self.t = time.perf_counter()

    def __call__(self, name: str) -> None:
        self.stop()
        self.name, self.t = name, time.perf_counter()
        if self.on_stage:
            self.on_stage(name)

    def add(self, name: str, seconds: float) -> None:
        """A stage timed inside another (storing happens between parse results): moved out of it."""
        self.report.stages[name] = self.report.stages.get(name, 0.0) + seconds
        self.t += seconds

    def stop(self) -> None:
        if self.name is not None:
            self.report.stages[self.name] = self.report.stages.get(self.name, 0.0) + time.perf_counter() - self.t
            self.name = None


def _recover_files(store: Store, report: IngestReport, index: bool) -> int:
    """What a killed run may have left, repaired or measured: its temporary files are removed; returns
    how many vectors the saved index is behind the store (0 when `index` is off), noting why."""
    removed = remove_temp_files(store.home)
    if removed:
        report.recovered.append(f"removed {len(removed)} temp file{'s' * (len(removed) != 1)} "
                                f"({', '.join(sorted(p.name for p in removed))})")
    for wal in sorted(store.home.glob("*.sqlite-wal")):
        if wal.name != store.path.name + "-wal":  # the store's own log is this run's, open now
            _close_wal(wal.with_name(wal.name[:-len("-wal")]))
            report.recovered.append(f"folded {wal.name} (left by a killed writer) into its database")
    if not index:
        return 0
    from .index import index_lag

    lag, damage = index_lag(store)
    if damage and store.article_ids():
        report.recovered.append("rebuilt the search index: " + "; ".join(damage))
    elif lag:
        report.recovered.append(f"rebuilt the search index (was {lag} vectors behind the store)")
    return lag or len(damage)


def _close_wal(db_path: Path) -> None:
    """Open and close a SQLite database: the last connection to close checkpoints its write-ahead log
    into it and deletes the -wal and -shm files."""
    import sqlite3

    db = sqlite3.connect(db_path, timeout=60)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1")
    finally:
        db.close()


def _default_embedder(home: Path):
    from .embed import Embedder

    return Embedder(home)


def _sync_index(store: Store, report: IngestReport, make_embedder: Callable) -> None:
    """Bring the index in line with the store; a failed save (a full disk) is reported, not raised:
    the store is complete and the next run rebuilds the index."""
    from .index import sync_index
    from .lineage import sync_signatures

    try:
        report.index = sync_index(store, make_embedder())
        report.index["lineage_signed"] = sync_signatures(store)["signed"]  # copies are found across agreements
    except OSError as exc:
        report.index_error = (f"could not save the search index: {exc}; the store is complete and the next "
                              "run rebuilds the index")


def _arm_mid_transaction_fault(store: Store) -> None:
    """Crash tests only: let `fault_point("mid_transaction")` fire inside a document's transaction."""
    if fault_armed("mid_transaction"):
        db = store.db
        db.set_progress_handler(lambda: fault_point("mid_transaction") if db.in_transaction else None, 50)


def _store_document(store: Store, report: IngestReport, path: Path | str, doc: Document) -> str:
    """Write one parsed document and count it in the report; returns 'new', 'changed' or 'unchanged'."""
    fault_point("before_commit")
    status = store.upsert(doc)
    fault_point("after_commit")
    getattr(report, status).append(str(path))
    report.articles += len(doc.articles)
    report.clauses += sum(len(a.clauses) for a in doc.articles)
    report.topics.update(t for a in doc.articles for t in a.topics)
    return status


MAX_REASON = 240  # a damaged PDF's parser error can quote kilobytes of its bytes


def one_line(reason: str, limit: int = MAX_REASON) -> str:
    """A failure reason fit for one error line: whitespace collapsed, control characters dropped, cut."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in reason).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fail(report: IngestReport, path: Path, reason: str, on_progress: Progress | None,
          home: Path | None = None, sha: str = "") -> None:
    reason = one_line(reason)
    report.failed.append((str(path), reason))
    if home is not None:
        quarantine(home, str(path), sha, reason)
    if on_progress:
        on_progress(str(path), "failed: " + reason)


def quarantine(home: Path, path: str, sha: str, reason: str) -> None:
    """Record a file that failed for good in `<home>/quarantine.json` (one entry per path)."""
    qfile = home / "quarantine.json"
    entries = json.loads(qfile.read_text()) if qfile.exists() else []
    entries = [e for e in entries if e["path"] != path] + [
        {"path": path, "sha256": sha, "reason": reason, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}]
    atomic_write_text(qfile, json.dumps(entries, indent=1))


def render_report(report: IngestReport) -> str:
    """The run report in Markdown."""
    lines = [f"# clausebank ingest run {report.started}", "", f"Duration: {report.seconds:.1f} s", ""]
    if report.recovered:
        lines += ["recovered: " + "; ".join(report.recovered), ""]
    lines += ["| stage | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {sec:.1f} |" for name, sec in report.stages.items()]
    lines += ["", f"Peak memory: {report.peak_mb:.0f} MB in the ingesting process, {report.peak_worker_mb:.0f} MB "
                  "in the largest worker process.", "", "| documents | count |", "| --- | --- |"]
    for key in ("new", "changed", "unchanged", "failed"):
        lines.append(f"| {key} | {len(getattr(report, key))} |")
    lines += ["", f"Articles added: {report.articles}; clauses added: {report.clauses}.", ""]
    if report.topics:
        lines += ["| topic | articles added |", "| --- | --- |"]
        lines += [f"| {t} | {n} |" for t, n in sorted(report.topics.items())]
        lines.append("")
    if report.failed:
        lines += ["## Failed (quarantined)", ""] + [f"- `{p}`: {r}" for p, r in report.failed] + [""]
    if report.index:
        lines.append(f"Search index: {report.index}")
    if report.index_error:
        lines.append(f"Search index not saved: {report.index_error}")
    return "\n".join(lines) + "\n"


def write_report(report: IngestReport, home: Path | str) -> tuple[Path, str]:
    """Write the run report to `<home>/runs/<started>.md`; returns its path and text."""
    text = render_report(report)
    path = Path(home) / "runs" / f"{report.started}.md"
    atomic_write_text(path, text, fault="before_report_rename")
    return path, text
