"""Crash anywhere, restart at once, lose nothing (issue 12).

Each case runs `clausebank ingest` or `clausebank flows run` as a subprocess with `CLAUSEBANK_FAULT`
naming a point where the ingesting process SIGKILLs itself (or a parse worker kills it), then runs
the same command again at once and checks: exit 0, the store equals a clean run's, FAISS ids equal
store ids, no orphan process, no temp file, and a run report that says what was recovered.
The fast cases run in `pytest -q`; `-m faults_long` runs the rest (bench/fault_bench.py tabulates them).
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("india_japan_it_mobility_moc", "india_germany_digital_jdi")  # two small MoUs: fast to parse

pytestmark = pytest.mark.faults


# ---- harness (bench/fault_bench.py uses it too)

def make_source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem in DOCS:
        shutil.copy(ROOT / "corpus" / f"{stem}.pdf", folder)
    return folder


def cli_command(home: Path, src: Path, command: str, index: bool = True, workers: int | None = None) -> list[str]:
    """The command line of an ingestion; `workers` forces a parse pool (by default two small MoUs are
    parsed in the ingesting process)."""
    base = [sys.executable, "-m", "clausebank.cli", "--home", str(home)]
    if command == "flows":
        return base + ["flows", "run", "--source", str(src)]
    return (base + ["ingest", str(src)] + (["--workers", str(workers)] if workers else [])
            + ([] if index else ["--no-index"]))


def run_env(fault: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TQDM_DISABLE": "1"}
    env.pop("CLAUSEBANK_FAULT", None)
    if fault:
        env["CLAUSEBANK_FAULT"] = fault
    return env


def run(cmd: list[str], fault: str | None = None, timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    """Run in a session of its own (so that what it leaves behind can be found); returns the result
    (its `args` extended with the session leader's pid) and the wall time."""
    t0 = time.perf_counter()
    # files, not pipes: a process left behind holding a pipe would keep the test waiting for its end
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env(fault), stdout=out, stderr=err, text=True,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        out.seek(0), err.seek(0)
        done = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
    done.pid = proc.pid
    return done, time.perf_counter() - t0


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def leftover_processes(session: int, home: Path) -> list[tuple[int, str]]:
    """Live processes of the given session, or orphans (ppid 1) whose command line names the home
    or a parse worker: what a killed run left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[0] == "Z":
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        orphan = stat[1] == "1" and (str(home) in cmdline or "parse_job" in cmdline)
        if int(stat[3]) == session or orphan:
            found.append((int(entry.name), cmdline[:160]))
    return found


def wait_for_no_leftovers(session: int, home: Path, seconds: float = 15) -> list[tuple[int, str]]:
    """Give exit-with-parent watchdogs time to notice (they poll every 0.5 s); then what is left is
    killed (we started it) and returned."""
    deadline = time.time() + seconds
    while (left := leftover_processes(session, home)) and time.time() < deadline:
        time.sleep(0.25)
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    return left


def store_snapshot(home: Path) -> dict[str, list[tuple]]:
    """The store's contents by value (row ids aside): documents, articles, clauses, footnotes, topics."""
    db = sqlite3.connect(f"file:{home / 'clausebank.sqlite'}?mode=ro", uri=True)
    queries = {
        "documents": "SELECT doc_id, sha256, title, kind, parties, date_signed, pages, short_name, place_signed "
                     "FROM documents ORDER BY doc_id",
        "articles": "SELECT doc_id, seq, chapter_number, chapter_title, article_number, article_title, text, "
                    "page_start, page_end, topics, unit FROM articles ORDER BY doc_id, seq",
        "clauses": "SELECT a.doc_id, a.seq, c.seq, c.number, c.text, c.page, c.strength, c.exceptions, c.topics "
                   "FROM clauses c JOIN articles a ON a.id = c.article_id ORDER BY 1, 2, 3",
        "footnotes": "SELECT a.doc_id, a.seq, f.seq, f.text FROM footnotes f JOIN articles a ON a.id = f.article_id "
                     "ORDER BY 1, 2, 3",
        "topics": "SELECT a.doc_id, a.seq, t.topic FROM article_topics t JOIN articles a ON a.id = t.article_id "
                  "ORDER BY 1, 2, 3",
    }
    try:
        return {name: db.execute(q).fetchall() for name, q in queries.items()}
    finally:
        db.close()


def index_matches_store(home: Path) -> bool:
    from pipeline.index import INDEX_FILES, VectorIndex
    from pipeline.store import Store

    with Store(home, readonly=True) as store:
        ids = set(store.article_ids())
    return all(VectorIndex.load(home / f).ids() == ids for f in INDEX_FILES.values())


def temp_files(home: Path) -> list[str]:
    """Files a writer leaves only when killed: atomic-write temporaries, SQLite journals."""
    return sorted(str(p.relative_to(home)) for p in home.rglob("*")
                  if p.name.endswith((".tmp", "-journal", "-wal", "-shm")))


def latest_report(home: Path) -> str:
    reports = sorted((home / "runs").glob("*.md"), key=lambda p: p.stat().st_mtime)
    return reports[-1].read_text() if reports else ""


def clean_snapshot(workdir: Path) -> dict[str, list[tuple]]:
    """A clean, uninterrupted in-process ingestion of the same files (the expected store)."""
    from pipeline.ingest import ingest

    home = workdir / "clean-home"
    if not (home / "clausebank.sqlite").exists():
        report = ingest(home, [make_source(workdir / "clean-src")], index=False)
        assert report.ok and len(report.new) == len(DOCS), report.failed
    return store_snapshot(home)


def crash_and_restart(workdir: Path, point: str, command: str = "ingest", index: bool = True) -> dict:
    """Kill a run at `point`, restart at once; returns what a test or the bench checks."""
    src = make_source(workdir / "src")
    home = workdir / "home"
    cmd = cli_command(home, src, command, index, workers=2)  # crashes with parse workers alive
    crashed, crash_seconds = run(cmd, fault=point)
    orphans = wait_for_no_leftovers(crashed.pid, home)
    restart, restart_seconds = run(cmd)
    orphans += wait_for_no_leftovers(restart.pid, home)
    left = temp_files(home)  # before reading the store: a read-only SQLite reader leaves -wal/-shm
    return {"point": point, "command": command, "crashed": crashed, "restart": restart,
            "crash_seconds": crash_seconds, "restart_seconds": restart_seconds, "orphans": orphans,
            "snapshot": store_snapshot(home) if (home / "clausebank.sqlite").exists() else {},
            "index_ok": index_matches_store(home) if index else None,
            "temp_files": left, "report": latest_report(home)}


# ---- the crash matrix

KILLED = "was killed before it finished"
# point → what the restart's report must say it recovered (besides the kill, where the lock was held)
POINTS = {
    "after_hash": [],
    "in_parse": [],
    "before_commit": [],
    "mid_transaction@5": [],
    "after_commit": [],
    "before_index": ["rebuilt the search index"],
    "mid_embed": ["rebuilt the search index"],
    "before_faiss_rename": ["removed 1 temp file", "rebuilt the search index"],
    "before_report_rename": ["removed 1 temp file"],
}
INDEX_POINTS = {"before_index", "mid_embed", "before_faiss_rename"}
FAST = {("ingest", "in_parse"), ("ingest", "mid_transaction@5")}




def _cases():
    for command in ("ingest", "flows"):
        for point in POINTS:
            marks = [] if (command, point) in FAST else [pytest.mark.faults_long]
            yield pytest.param(command, point, marks=marks, id=f"{command}-{point}")


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    return clean_snapshot(tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("command, point", list(_cases()))
def test_crash_then_restart_loses_nothing(command, point, clean, tmp_path):
    index = command == "flows" or point in INDEX_POINTS
    r = crash_and_restart(tmp_path, point, command, index)
    crashed, restart = r["crashed"], r["restart"]
    assert crashed.returncode == -signal.SIGKILL, f"the fault did not fire: {crashed.stderr[-1500:]}"
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert r["snapshot"] == clean
    assert r["index_ok"] in (True, None), "FAISS ids differ from the store's article ids"
    assert r["orphans"] == [], f"left running: {r['orphans']}"
    assert r["temp_files"] == []
    report = r["report"]
    if point != "before_report_rename":  # the report is written after the lock is let go
        assert f"the previous ingestion (pid {crashed.pid}) {KILLED}" in report, report
    for note in POINTS[point]:
        assert note in report, report


def test_stale_lock_of_orphaned_worker_is_taken_over(tmp_path):
    """The bug of issue 12: a killed ingestion's child lives on holding the lock descriptor."""
    home = tmp_path / "home"
    holder_script = (
        "import os, signal, sys, time\n"
        "from pipeline.lock import writer_lock\n"
        "with writer_lock(sys.argv[1]):\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(600); os._exit(0)\n"  # an orphaned worker, holding the inherited lock
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    holder = subprocess.Popen([sys.executable, "-c", holder_script, str(home)], cwd=ROOT, env=run_env(),
                              start_new_session=True)
    assert holder.wait(timeout=60) == -signal.SIGKILL
    orphan = [pid for pid, _ in leftover_processes(holder.pid, home)]
    assert len(orphan) == 1
    try:
        done, _ = run(cli_command(home, make_source(tmp_path / "src"), "ingest", index=False))
    finally:
        os.kill(orphan[0], signal.SIGKILL)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"taking it over" in done.stderr
    assert f"took over a stale lock from pid {holder.pid}" in latest_report(home)
    assert [d for d, *_ in store_snapshot(home)["documents"]] == sorted(DOCS)


# ---- the files around the store

@pytest.fixture(scope="module")
def embedder():
    from pipeline.embed import Embedder

    return Embedder()  # no cache: each home's own embeddings.sqlite is what the tests damage


def _ingest(home: Path, src: Path, embedder, **kw):
    from pipeline.embed import Embedder
    from pipeline.ingest import ingest

    def make():  # the shared model, with the home's own vector cache
        e = Embedder.__new__(Embedder)
        e.__dict__.update(embedder.__dict__)
        from pipeline.store import VectorCache

        e.cache = VectorCache(home / "embeddings.sqlite")
        return e
    return ingest(home, [src], make_embedder=make, **kw)


@pytest.fixture()
def indexed_home(tmp_path, embedder) -> tuple[Path, Path]:
    src = make_source(tmp_path / "src")
    home = tmp_path / "home"
    report = _ingest(home, src, embedder)
    assert report.ok and report.index["body_added"] > 0
    return home, src


def _assert_index_sound(home: Path) -> None:
    from pipeline.index import load_indexes
    from pipeline.store import Store

    with Store(home) as store:
        load_indexes(store)  # raises IndexOutOfDate when ids or counts differ


@pytest.mark.parametrize("damage, fname", [("truncate", "articles.faiss"), ("zero", "headings.faiss"),
                                           ("delete", "articles.faiss"), ("garbage", "headings.faiss")])
def test_damaged_faiss_file_is_rebuilt_from_the_store(indexed_home, embedder, damage, fname):
    home, src = indexed_home
    path = home / fname
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 3])
    elif damage == "zero":
        path.write_bytes(bytes(len(data)))
    elif damage == "delete":
        path.unlink()
    else:
        path.write_bytes(b"not a faiss index")
    report = _ingest(home, src, embedder)
    assert report.ok and report.unchanged and not report.new
    assert any(fname in note and "rebuilt the search index" in note for note in report.recovered), report.recovered
    _assert_index_sound(home)


def test_deleted_vector_cache_and_index_are_rebuilt(indexed_home, embedder):
    home, src = indexed_home
    for name in ("embeddings.sqlite", "articles.faiss"):
        (home / name).unlink()
    report = _ingest(home, src, embedder)
    assert report.ok and report.index["body_added"] > 0 and report.index["heading_added"] == 0
    assert (home / "embeddings.sqlite").exists()
    _assert_index_sound(home)


def test_index_behind_the_store_is_caught_up(indexed_home, embedder, tmp_path):
    """A run killed after storing, before indexing: the next run with nothing new still syncs."""
    from pipeline.store import Store

    home, src = indexed_home
    (src / f"{DOCS[0]}.pdf").unlink()
    report = _ingest(tmp_path / "other", src, embedder, index=False)  # (only to have the file parsed)
    with Store(home) as store:
        behind = len(store.article_ids())
        store.delete(DOCS[0])
        behind -= len(store.article_ids())
    report = _ingest(home, src, embedder)
    assert f"was {2 * behind} vectors behind the store" in "; ".join(report.recovered), report.recovered
    _assert_index_sound(home)


def test_full_disk_during_index_save_keeps_the_store_and_no_temp_file(indexed_home, embedder, monkeypatch):
    from pipeline import fileutil

    home, src = indexed_home
    (home / "articles.faiss").unlink()
    monkeypatch.setattr(fileutil, "_fault_hits", {})
    monkeypatch.setenv("CLAUSEBANK_FAULT", "before_faiss_rename:enospc")
    before = store_snapshot(home)
    report = _ingest(home, src, embedder)
    assert not report.ok and "No space left on device" in report.index_error
    assert "the next run rebuilds the index" in report.index_error
    assert store_snapshot(home) == before
    assert [f for f in temp_files(home) if f.endswith(".tmp")] == []  # (this process still has the store open)
    monkeypatch.delenv("CLAUSEBANK_FAULT")
    report = _ingest(home, src, embedder)
    assert report.ok and "rebuilt the search index" in "; ".join(report.recovered)
    _assert_index_sound(home)


def _make_v3_store(home: Path) -> None:
    from pipeline.store import DB_NAME, MIGRATIONS, _statements

    home.mkdir(parents=True)
    db = sqlite3.connect(home / DB_NAME)
    for v in (1, 2, 3):
        for statement in _statements(MIGRATIONS[v]):
            db.execute(statement)
    db.execute("INSERT INTO documents (doc_id, sha256, path, ingested_at, parser_version) "
               "VALUES ('old_doc', 'x', 'old_doc.pdf', '2020-01-01', 0)")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()


def test_v3_store_is_migrated_by_an_ingestion(tmp_path):
    home = tmp_path / "home"
    _make_v3_store(home)
    done, _ = run(cli_command(home, make_source(tmp_path / "src"), "ingest", index=False))
    assert done.returncode == 0, done.stderr[-2000:]
    db = sqlite3.connect(home / "clausebank.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    assert sorted(r[0] for r in db.execute("SELECT doc_id FROM documents")) == sorted(("old_doc",) + DOCS)
    assert db.execute("SELECT COUNT(*) FROM articles WHERE unit = 'article'").fetchone()[0] > 0


def test_newer_store_is_refused_with_a_clear_message(tmp_path):
    home = tmp_path / "home"
    _make_v3_store(home)
    db = sqlite3.connect(home / "clausebank.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    before = (home / "clausebank.sqlite").read_bytes()
    done, _ = run(cli_command(home, make_source(tmp_path / "src"), "ingest", index=False))
    assert (home / "clausebank.sqlite").read_bytes() == before  # never touched
    assert done.returncode == 2 and "newer than this clausebank" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]


# ---- concurrency: searches through an ingestion and its crash

SEARCH_LOOP = """
import json, sys, time, traceback
from pathlib import Path
from pipeline.embed import Embedder
from pipeline.search import Searcher
from pipeline.store import Store
home, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
embedder, done, errors, sizes = Embedder(), 0, [], set()
while not stop.exists():
    try:  # a fresh Searcher each time: it reloads the FAISS files, as a new search process would
        with Store(home, readonly=True) as store:
            searcher = Searcher(store, embedder=embedder, allow_stale=True, query_threads=None)
            try:
                hits = searcher.search("temporary entry of software engineers")
                sizes.add(tuple(vi.index.ntotal for vi in searcher.indexes.values()))
                assert hits and all(h.citation for h in hits)
            finally:
                searcher.close()
        done += 1
    except Exception:
        errors.append(traceback.format_exc(limit=3))
out.write_text(json.dumps({"queries": done, "errors": errors, "sizes": sorted(sizes)}))
"""


def test_searches_through_a_crash_and_restart_never_fail(tmp_path, embedder):
    import json

    src = make_source(tmp_path / "src")
    home = tmp_path / "home"
    later = tmp_path / "later"
    later.mkdir()
    shutil.move(src / f"{DOCS[1]}.pdf", later)
    assert _ingest(home, src, embedder).ok  # one document stored and indexed: searches have something
    shutil.move(later / f"{DOCS[1]}.pdf", src)
    stop, out = tmp_path / "stop", tmp_path / "searches.json"
    searcher = subprocess.Popen([sys.executable, "-c", SEARCH_LOOP, str(home), str(stop), str(out)],
                                cwd=ROOT, env=run_env(), start_new_session=True)
    try:
        time.sleep(8)  # the loop is answering before the ingestion starts
        cmd = cli_command(home, src, "ingest", index=True)
        crashed, _ = run(cmd, fault="before_faiss_rename")
        assert crashed.returncode == -signal.SIGKILL
        restart, _ = run(cmd)
        assert restart.returncode == 0, restart.stderr[-2000:]
        time.sleep(3)
    finally:
        stop.touch()
        searcher.wait(timeout=120)
    result = json.loads(out.read_text())
    assert result["errors"] == []
    assert result["queries"] >= 5
    # every index seen was a whole one: the first (one document) or the last (both), never a half one
    first, last = min(result["sizes"]), max(result["sizes"])
    assert set(map(tuple, result["sizes"])) <= {tuple(first), tuple(last)}
    _assert_index_sound(home)
