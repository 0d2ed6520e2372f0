"""Atomic file writes (a reader, or a crash, never sees half a file), their leftovers, and the
crash-test hook `fault_point`."""
from __future__ import annotations

import errno
import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

FAULT_ENV = "CLAUSEBANK_FAULT"
TEMP_GLOB = ".*.tmp"  # what `atomic_write` names its temporary files
_fault_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Crash-test hook: does nothing unless `CLAUSEBANK_FAULT` names this point.

    `CLAUSEBANK_FAULT=<point>[@<n>][:<action>]` fires on the n-th time the point is reached in a
    process (default the first). Actions: `kill` (default) SIGKILLs the ingesting process: this one,
    or its parent when called in a worker process; `enospc` raises OSError(ENOSPC), a full disk.
    Points, in run order: after_hash, in_parse (in the worker), before_commit, mid_transaction (SQLite
    progress handler inside a document's transaction), after_commit, before_index, mid_embed,
    before_faiss_rename, before_report_rename (tests/test_faults.py kills a run at each)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    where, _, action = spec.partition(":")
    point, _, nth = where.partition("@")
    if point != name:
        return
    _fault_hits[name] = _fault_hits.get(name, 0) + 1
    if _fault_hits[name] != int(nth or 1):
        return
    if action == "enospc":
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (injected at {name})")
    import multiprocessing

    in_worker = multiprocessing.parent_process() is not None
    os.kill(os.getppid() if in_worker else os.getpid(), signal.SIGKILL)
    if in_worker:
        signal.pause()  # the worker's exit-with-parent watchdog ends it


def fault_armed(name: str) -> bool:
    """Whether `CLAUSEBANK_FAULT` names this point (to install a costlier hook only then)."""
    return os.environ.get(FAULT_ENV, "").partition(":")[0].partition("@")[0] == name


def atomic_write(path: Path | str, write: Callable[[str], None], fault: str = "") -> Path:
    """Call `write(tmp_path)` to fill a temporary file beside `path`, flush it to disk, then rename it
    over `path` in one step. On any error the old file stays and the temporary file is removed; a
    crash can leave the temporary file, which `remove_temp_files` clears. `fault`: a `fault_point`
    name checked just before the rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if fault:
            fault_point(fault)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_text(path: Path | str, text: str, fault: str = "") -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), fault)


def atomic_write_bytes(path: Path | str, data: bytes, fault: str = "") -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), fault)


def remove_temp_files(folder: Path | str, recursive: bool = True) -> list[Path]:
    """Delete the temporary files that writers killed mid-write left in `folder` (call it only while
    holding the lock of every writer there); returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = folder.rglob(TEMP_GLOB) if recursive else folder.glob(TEMP_GLOB)
    removed = []
    for tmp in found:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
