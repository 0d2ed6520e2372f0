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


def cli_command(home: Path, src: Path, command: str, index: bool = True) -> list[str]:
    base = [sys.executable, "-m", "clausebank.cli", "--home", str(home)]
    if command == "flows":
        return base + ["flows", "run", "--source", str(src)]
    return base + ["ingest", str(src), "--workers", "2"] + ([] if index else ["--no-index"])


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
    cmd = cli_command(home, src, command, index)
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
FAST = {("ingest", "in_parse"), ("ingest", "mid_transaction@5"), ("ingest", "before_faiss_rename")}


# `clausebank ingest` must start its pool with `pipeline.ingest.parse_pool` (a watchdog in every worker,
# busy or idle); until clausebank/cli.py does, a worker that got no job outlives a kill during parsing
CLI_USES_PARSE_POOL = "parse_pool" in (ROOT / "clausebank" / "cli.py").read_text()


def _cases():
    for command in ("ingest", "flows"):
        for point in POINTS:
            marks = [] if (command, point) in FAST else [pytest.mark.faults_long]
            if command == "ingest" and point == "in_parse" and not CLI_USES_PARSE_POOL:
                marks.append(pytest.mark.xfail(reason="clausebank/cli.py does not use pipeline.ingest.parse_pool "
                                                      "yet: an idle parse worker is left orphaned", strict=True))
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
