"""The nightly ingestion flow: a thin Prefect wrapper over `pipeline.ingest.ingest`.

It adds what a schedule needs: URL sources fetched as retried tasks, each document parsed in a
Prefect task (retried for transient failures; a bad PDF fails at once), the run report as a Prefect
artifact. Everything else (skip unchanged, store, quarantine, index, the report) is the core's.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ProcessPoolTaskRunner

from pipeline.extract import DEFAULT_MAX_PAGES, ExtractionError
from pipeline.ingest import ParseResult, exit_with_parent, ingest, parse_job, write_report
from pipeline.sources import fetch_url, is_url

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
        with _children_die_with_this_process():
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


@contextmanager
def _children_die_with_this_process() -> Iterator[None]:
    """While Prefect starts its temporary API server (a plain subprocess), have the kernel send that
    server SIGTERM when this process dies: killed with SIGKILL, it would otherwise serve on as an orphan."""
    import ctypes
    import functools
    import signal
    import subprocess
    import types

    import prefect.server.api.server as server_module

    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def die_with_parent() -> None:  # runs in the child between fork and exec
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    patched = types.SimpleNamespace(**vars(subprocess))
    patched.Popen = functools.partial(subprocess.Popen, preexec_fn=die_with_parent)
    server_module.subprocess = patched
    try:
        yield
    finally:
        server_module.subprocess = subprocess


@task(retries=2, retry_delay_seconds=2, cache_policy=NONE, task_run_name="parse {path}")
def parse_task(path: str, sha: str, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES) -> ParseResult:
    """Extract, segment, analyse one PDF (the core's `parse_job`). Bad PDFs fail fast: ExtractionError
    is not retried."""
    return parse_job(path, sha, ocr, max_pages)


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


# parsing is CPU-bound pure Python: one process per core (threads would share one core's GIL);
# `ingest_flow.with_options(task_runner=DaskTaskRunner(...))` scales out to a Dask cluster
@flow(name="clausebank-ingest", log_prints=True, task_runner=ProcessPoolTaskRunner(
    max_workers=os.cpu_count() or 1, initializer=exit_with_parent))
def ingest_flow(home: str = "indexes", sources: list[str] | None = None, ocr: bool = True,
                max_pages: int = DEFAULT_MAX_PAGES, index: bool = True) -> dict:
    """Ingest every new or changed PDF from the sources into the store under `home`."""
    log = get_run_logger()
    paths, fetch_failures = [], []
    for src in sources or DEFAULT_SOURCES:
        if is_url(src):
            try:
                path, status = fetch_task(src, home)
                log.info("%s: %s", src, status)
                paths.append(path)
            except Exception as exc:
                fetch_failures.append((src, str(exc)))
        elif Path(src).exists():
            paths.append(src)
        else:
            log.warning("source %s does not exist; skipped", src)
    report = ingest(home, paths, lambda p, sha, o, m: parse_task.submit(p, sha, o, m), ocr=ocr, max_pages=max_pages,
                    index=index, on_progress=lambda p, status: log.info("%s: %s", p, status))
    report.failed += fetch_failures
    report_path, text = write_report(report, home)
    create_markdown_artifact(text, key="clausebank-ingest-report", description="clausebank ingest run")
    return {"report": str(report_path), "failed": len(report.failed), "new": len(report.new),
            "changed": len(report.changed), "unchanged": len(report.unchanged)}
