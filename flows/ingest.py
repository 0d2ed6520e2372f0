"""The nightly ingestion flow: a thin Prefect wrapper over `pipeline`.

discovery (folders + URLs) → skip unchanged (sha256) → parse per document (task, retried) →
store (this process, one writer) → embed / index → Markdown run report (artifact + file).
A document that still fails after its retries is quarantined (`<home>/quarantine.json`) and
the run goes on.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ProcessPoolTaskRunner

from pipeline.embed import Embedder
from pipeline.extract import DEFAULT_MAX_PAGES, ExtractionError
from pipeline.index import sync_index
from pipeline.ingest import discover_pdfs, file_sha256, parse_pdf
from pipeline.lock import writer_lock
from pipeline.models import Document
from pipeline.sources import fetch_url, is_url
from pipeline.store import Store

DEFAULT_SOURCES = ["corpus", "corpus/inbox"]


@task(retries=2, retry_delay_seconds=2, cache_policy=NONE, task_run_name="parse {path}")
def parse_task(path: str, sha: str, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES) -> Document:
    """Extract, segment, analyse one PDF. Bad PDFs fail fast (ExtractionError is not retried)."""
    return parse_pdf(path, ocr=ocr, max_pages=max_pages, sha256=sha)


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


def render_report(stats: dict) -> str:
    """The run report in Markdown."""
    lines = [f"# clausebank ingest run {stats['started']}", "",
             f"Duration: {stats['seconds']:.1f} s", "",
             "| documents | count |", "| --- | --- |"]
    for key in ("new", "changed", "unchanged", "failed"):
        lines.append(f"| {key} | {len(stats[key])} |")
    lines += ["", f"Articles added: {stats['articles']}; clauses added: {stats['clauses']}.", ""]
    if stats["topics"]:
        lines += ["| topic | articles added |", "| --- | --- |"]
        lines += [f"| {t} | {n} |" for t, n in sorted(stats["topics"].items())]
        lines.append("")
    if stats["failed"]:
        lines += ["## Failed (quarantined)", ""] + [f"- `{p}`: {r}" for p, r in stats["failed"]] + [""]
    if stats.get("index"):
        lines.append(f"Search index: {stats['index']}")
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
    stats: dict = {"started": started, "new": [], "changed": [], "unchanged": [], "failed": [], "articles": 0,
                   "clauses": 0, "topics": Counter()}
    with writer_lock(home_path), Store(home_path) as store:
        paths: list[str] = []
        for src in sources or DEFAULT_SOURCES:
            if is_url(src):
                try:
                    path, status = fetch_task(src, home)
                    log.info("%s: %s", src, status)
                    paths.append(path)
                except Exception as exc:
                    stats["failed"].append((src, str(exc)))
            else:
                paths += [str(p) for p in discover_pdfs([src])] if Path(src).exists() else []
        todo = []
        for p in paths:
            sha = file_sha256(Path(p))
            if store.document_sha(Path(p).stem) == sha:
                stats["unchanged"].append(p)
            else:
                todo.append((p, sha, parse_task.submit(p, sha, ocr, max_pages)))
        for p, sha, future in todo:
            try:
                doc = future.result()
            except Exception as exc:  # failed for good: quarantine and go on
                reason = str(exc) if isinstance(exc, ExtractionError) else f"{type(exc).__name__}: {exc}"
                stats["failed"].append((p, reason))
                _quarantine(home_path, p, sha, reason)
                log.error("%s: %s", p, reason)
                continue
            status = store.upsert(doc)
            stats[status].append(p)
            stats["articles"] += len(doc.articles)
            stats["clauses"] += sum(len(a.clauses) for a in doc.articles)
            stats["topics"].update(t for a in doc.articles for t in a.topics)
        if index and (stats["new"] or stats["changed"] or not (home_path / "articles.faiss").exists()):
            stats["index"] = sync_index(store, Embedder(home_path))
    stats["seconds"] = time.perf_counter() - t0
    report = render_report(stats)
    runs = home_path / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    report_path = runs / f"{started}.md"
    report_path.write_text(report)
    create_markdown_artifact(report, key="clausebank-ingest-report", description="clausebank ingest run")
    return {"report": str(report_path), "failed": len(stats["failed"]), "new": len(stats["new"]),
            "changed": len(stats["changed"]), "unchanged": len(stats["unchanged"])}
