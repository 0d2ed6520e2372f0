"""flows/ingest.py under one Prefect test harness (local ephemeral API), real files, real store."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import shared_local_api

    with prefect_test_harness(server_startup_timeout=120):
        from prefect.settings import PREFECT_API_URL

        with shared_local_api() as url:  # the worker processes report to the harness API too
            assert url == PREFECT_API_URL.value() == os.environ["PREFECT_API_URL"]
            yield


@pytest.fixture()
def inbox(tmp_path, corpus_dir) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for stem in ("india_uae_ict_mou", "india_japan_it_mobility_moc"):
        shutil.copy(corpus_dir / f"{stem}.pdf", folder)
    (folder / "broken.pdf").write_text("not a pdf at all")
    return folder


def test_ingest_flow_reports_quarantines_and_skips(harness, inbox, tmp_path):
    from flows.ingest import ingest_flow
    from pipeline.index import load_indexes
    from pipeline.store import Store

    home = tmp_path / "home"
    first = ingest_flow(home=str(home), sources=[str(inbox)])
    assert (first["new"], first["failed"]) == (2, 1)
    report = Path(first["report"]).read_text()
    assert "| new | 2 |" in report and "broken.pdf" in report and "it_mobility" in report
    quarantine = json.loads((home / "quarantine.json").read_text())
    assert quarantine[0]["path"].endswith("broken.pdf") and "not a PDF" in quarantine[0]["reason"]
    with Store(home) as store:
        assert store.counts()["documents"] == 2
        load_indexes(store)  # index consistent with the store
    again = ingest_flow(home=str(home), sources=[str(inbox)])
    assert (again["unchanged"], again["new"]) == (2, 0)


def test_dask_runner_gives_same_store(harness, inbox, tmp_path):
    from prefect_dask import DaskTaskRunner

    from flows.ingest import ingest_flow
    from pipeline.ingest import ingest
    from pipeline.store import Store

    (inbox / "broken.pdf").unlink()
    ingest(tmp_path / "a", [inbox], index=False)  # the same parse, in this process
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})
    ingest_flow.with_options(task_runner=runner)(home=str(tmp_path / "b"), sources=[str(inbox)], index=False)

    def contents(home):
        with Store(home) as store:
            return [(a.doc_id, a.article_number, a.text, a.topics) for a in store.articles()]
    stored = contents(tmp_path / "a")
    assert {doc for doc, *_ in stored} == {"india_uae_ict_mou", "india_japan_it_mobility_moc"}
    assert stored == contents(tmp_path / "b")


def test_second_writer_is_refused(tmp_path):
    from pipeline.lock import WriterBusy, writer_lock

    with writer_lock(tmp_path):
        with pytest.raises(WriterBusy, match="another ingestion is running"):
            with writer_lock(tmp_path):
                pass


# two nightly runs with a Prefect server each (about 90 s of two cores): in `make bench` with the crash
# matrix, which kills the flow at every stage; `make test` keeps the fast ingest crash cases
@pytest.mark.faults_long
def test_sigkill_mid_run_then_rerun_is_consistent(tmp_path, corpus_dir):
    from pipeline.index import load_indexes
    from pipeline.store import Store

    src = tmp_path / "src"
    src.mkdir()
    for stem in ("india_korea_digital_fta", "india_uae_ict_mou", "india_germany_digital_jdi",
                 "india_japan_it_mobility_moc"):
        shutil.copy(corpus_dir / f"{stem}.pdf", src)
    home = tmp_path / "home"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    cmd = [sys.executable, "-m", "clausebank.cli", "--home", str(home), "flows", "run", "--source", str(src)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline:  # kill once the first documents are stored
        if (home / "clausebank.sqlite").exists():
            with Store(home) as store:
                if store.counts()["documents"] >= 1:
                    break
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with Store(home) as store:
        docs = [d.doc_id for d in store.documents()]
        assert sorted(docs) == sorted(p.stem for p in src.glob("*.pdf"))
        seqs = store.db.execute("SELECT doc_id, seq, COUNT(*) FROM articles GROUP BY doc_id, seq HAVING COUNT(*) > 1")
        assert seqs.fetchall() == []
        load_indexes(store)  # same article ids in the store and the index


def test_unchanged_corpus_runs_without_the_flow_machinery(tmp_path, corpus_dir):
    """`ingest_if_unchanged`: the nightly no-change case answered without Prefect; any work → None."""
    from pipeline.ingest import ingest, ingest_if_unchanged
    from pipeline.lock import LOCK_NAME

    src = tmp_path / "src"
    src.mkdir()
    for stem in ("india_uae_ict_mou", "india_japan_it_mobility_moc"):
        shutil.copy(corpus_dir / f"{stem}.pdf", src)
    home = tmp_path / "home"
    assert ingest_if_unchanged(home, [str(src)], index=False) is None  # no store yet
    ingest(home, [src], index=False)
    report = ingest_if_unchanged(home, [str(src)], index=False)
    assert report is not None and len(report.unchanged) == 2 and report.ok
    assert ingest_if_unchanged(home, [str(src), "https://example.org/a.pdf"], index=False) is None
    assert ingest_if_unchanged(home, [str(src)], index=True) is None  # no index yet: the flow builds it
    (home / LOCK_NAME).write_text("pid 99999999 start 1")  # a killed run: the flow recovers
    assert ingest_if_unchanged(home, [str(src)], index=False) is None
    (home / LOCK_NAME).write_text("")
    shutil.copy(corpus_dir / "india_germany_digital_jdi.pdf", src / "india_uae_ict_mou.pdf")  # changed
    assert ingest_if_unchanged(home, [str(src)], index=False) is None
