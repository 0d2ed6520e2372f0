"""The nightly ingestion flow: a thin Prefect wrapper over `pipeline`.

discovery (folders + URLs) → skip unchanged (sha256) → parse per document (task, retried) →
store (this process, one writer) → embed / index → Markdown run report (artifact + file).
A document that still fails after its retries is quarantined (`<home>/quarantine.json`) and
the run goes on.
"""
from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ProcessPoolTaskRunner

from pipeline.embed import Embedder
from pipeline.extract import DEFAULT_MAX_PAGES, ExtractionError
from pipeline.index import sync_index
from pipeline.ingest import IngestReport, parse_pdf, partition_changed, store_document
from pipeline.lock import writer_lock
from pipeline.models import Document
from pipeline.sources import fetch_url, is_url
from pipeline.store import Store

DEFAULT_SOURCES = ["corpus", "corpus/inbox"]


@contextmanager
def shared_local_api() -> Iterator[str]:
    """Run with one Prefect API shared by this process and every worker process it spawns.

    Spawned workers (process pool, local Dask) read `PREFECT_API_URL` from the environment; with none
    set, each would start an ephemeral API server of its own (~230 MB and a share of the CPU apiece).
    A configured API (a `prefect server start`, Prefect Cloud, the test harness) is passed on as is;
    otherwise Prefect's own temporary local API is started now rather than lazily, and stops when
    this process exits, after Prefect has flushed its logs and events to it.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    saved = os.environ.get("PREFECT_API_URL")
    url = PREFECT_API_URL.value()
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()  # the same instance Prefect would start on first use
        server.start(timeout=PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        url = server.api_url
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved


@task(retries=2, retry_delay_seconds=2, cache_policy=NONE, task_run_name="parse {path}")
def parse_task(path: str, sha: str, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES) -> tuple[Document, float]:
    """Extract, segment, analyse one PDF; also returns the worker's peak memory so far (MB), for the
    run report. Bad PDFs fail fast (ExtractionError is not retried)."""
    doc = parse_pdf(path, ocr=ocr, max_pages=max_pages, sha256=sha)
    return doc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


parse_task = parse_task.with_options(retry_condition_fn=lambda task, run, state: not _is_bad_input(state))


def _is_bad_input(state) -> bool:
    try:
        state.result()
    except ExtractionError:
        return True
    except Exception:
        return False
    return False


@task(retries=3, retry_delay_seconds=5, cache_policy=NONE)
def fetch_task(url: str, home: str) -> tuple[str, str]:
    path, status = fetch_url(url, Path(home))
    return str(path), status


def _quarantine(home: Path, path: str, sha: str, reason: str) -> None:
    qfile = home / "quarantine.json"
    entries = json.loads(qfile.read_text()) if qfile.exists() else []
    entries = [e for e in entries if e["path"] != path] + [
        {"path": path, "sha256": sha, "reason": reason, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}]
    tmp = qfile.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(entries, indent=1))
    os.replace(tmp, qfile)


def render_report(report: IngestReport, started: str, seconds: float, stages: dict[str, float],
                  peak_mb: float, peak_worker_mb: float, index: dict | None) -> str:
    """The run report in Markdown."""
    lines = [f"# clausebank ingest run {started}", "", f"Duration: {seconds:.1f} s", "",
             "| stage | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {sec:.1f} |" for name, sec in stages.items()]
    lines += ["", f"Peak memory: {peak_mb:.0f} MB in the flow process, {peak_worker_mb:.0f} MB in the largest "
                  "worker process.", "", "| documents | count |", "| --- | --- |"]
    for key in ("new", "changed", "unchanged", "failed"):
        lines.append(f"| {key} | {len(getattr(report, key))} |")
    lines += ["", f"Articles added: {report.articles}; clauses added: {report.clauses}.", ""]
    if report.topics:
        lines += ["| topic | articles added |", "| --- | --- |"]
        lines += [f"| {t} | {n} |" for t, n in sorted(report.topics.items())]
        lines.append("")
    if report.failed:
        lines += ["## Failed (quarantined)", ""] + [f"- `{p}`: {r}" for p, r in report.failed] + [""]
    if index:
        lines.append(f"Search index: {index}")
    return "\n".join(lines) + "\n"


# parsing is CPU-bound pure Python: one process per core (threads would share one core's GIL);
# `ingest_flow.with_options(task_runner=DaskTaskRunner(...))` scales out to a Dask cluster
@flow(name="clausebank-ingest", log_prints=True, task_runner=ProcessPoolTaskRunner(max_workers=os.cpu_count() or 1))
def ingest_flow(home: str = "indexes", sources: list[str] | None = None, ocr: bool = True,
                max_pages: int = DEFAULT_MAX_PAGES, index: bool = True) -> dict:
    """Ingest every new or changed PDF from the sources into the store under `home`."""
    log = get_run_logger()
    home_path = Path(home)
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    report, stages, index_counts = IngestReport(), {}, None
    with writer_lock(home_path), Store(home_path) as store:
        paths: list[str] = []
        for src in sources or DEFAULT_SOURCES:
            if is_url(src):
                try:
                    path, status = fetch_task(src, home)
                    log.info("%s: %s", src, status)
                    paths.append(path)
                except Exception as exc:
                    report.failed.append((src, str(exc)))
            elif Path(src).exists():
                paths.append(src)
            else:
                log.warning("source %s does not exist; skipped", src)
        stages["fetch"] = time.perf_counter() - t0
        t_stage = time.perf_counter()
        todo = [(p, sha, parse_task.submit(str(p), sha, ocr, max_pages))
                for p, sha in partition_changed(store, paths, report)]
        stages["discover + hash + skip unchanged"] = time.perf_counter() - t_stage
        t_stage, store_seconds, peak_worker_mb = time.perf_counter(), 0.0, 0.0
        for p, sha, future in todo:
            try:
                doc, worker_mb = future.result()
            except Exception as exc:  # failed for good: quarantine and go on
                reason = str(exc) if isinstance(exc, ExtractionError) else f"{type(exc).__name__}: {exc}"
                report.failed.append((str(p), reason))
                _quarantine(home_path, str(p), sha, reason)
                log.error("%s: %s", p, reason)
                continue
            peak_worker_mb = max(peak_worker_mb, worker_mb)
            t_store = time.perf_counter()
            store_document(store, report, p, doc)
            store_seconds += time.perf_counter() - t_store
        stages["parse (worker processes)"] = time.perf_counter() - t_stage - store_seconds
        stages["store"] = store_seconds
        if index and (report.new or report.changed or not (home_path / "articles.faiss").exists()):
            t_stage = time.perf_counter()
            index_counts = sync_index(store, Embedder(home_path))
            stages["embed + index"] = time.perf_counter() - t_stage
    seconds = time.perf_counter() - t0
    text = render_report(report, started, seconds, stages, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                         peak_worker_mb, index_counts)
    runs = home_path / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    report_path = runs / f"{started}.md"
    report_path.write_text(text)
    create_markdown_artifact(text, key="clausebank-ingest-report", description="clausebank ingest run")
    return {"report": str(report_path), "failed": len(report.failed), "new": len(report.new),
            "changed": len(report.changed), "unchanged": len(report.unchanged)}
