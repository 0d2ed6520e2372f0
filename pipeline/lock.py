"""One writer at a time: an exclusive lock on `<home>/ingest.lock` that names its holder.

The kernel releases a `flock` when the holder dies. It cannot when a process that inherited the
descriptor lives on (an orphaned worker of a killed ingestion): then the file names a holder that is
gone (its pid no longer runs with the recorded start time), and the lock is taken over with a warning
on a fresh lock file, leaving the orphan holding only the old, unlinked one.
A holder that ends normally empties the file, so a name found in it when the lock is taken means
the previous ingestion was killed; `writer_lock` says so, for the run report.
"""
from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
LOCK_NAME = "ingest.lock"


class WriterBusy(Exception):
    """Another ingestion holds the store."""


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None when it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the command name may hold spaces


def holder_alive(text: str) -> bool:
    """Whether the holder named in a lock file (`pid N start T`) still runs."""
    parts = text.split()
    if len(parts) < 4 or parts[0] != "pid" or parts[2] != "start":
        return True  # being written by a starting holder, or unreadable: assume alive
    return process_start_time(int(parts[1])) == parts[3]


def holder_pid(text: str) -> str:
    """The pid named in a lock file's text, or the text itself when it names none."""
    parts = text.split()
    return parts[1] if len(parts) >= 2 and parts[0] == "pid" else text


INDEX_REBUILD = "index-rebuild"  # a search rebuilding a stale index: short, so an ingestion waits for it


@contextmanager
def writer_lock(home: Path | str, wait: bool = False, purpose: str = "ingestion"):
    """Hold the writer lock of `home`; yields a list of what was recovered from a killed holder
    (empty after a clean run). An ingestion that finds a search rebuilding the index waits for it."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd, recovered = _acquire(path, wait)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} start {process_start_time(os.getpid())} purpose {purpose}".encode())
        yield recovered
    finally:
        os.ftruncate(fd, 0)  # ended, not killed: the next holder finds no name
        os.close(fd)  # closing releases the lock


def _acquire(path: Path, wait: bool) -> tuple[int, list[str]]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
        os.close(fd)
    else:
        previous = os.pread(fd, 200, 0).decode(errors="replace").strip()
        return fd, [f"the previous ingestion (pid {holder_pid(previous)}) was killed before it finished"] if previous else []
    if holder_alive(holder) and holder.endswith(f"purpose {INDEX_REBUILD}") and not wait:
        return _acquire(path, wait=True)
    if holder_alive(holder):
        raise WriterBusy(f"another ingestion is running ({holder or 'starting'}); try again when it ends")
    log.warning("%s: its holder (%s) is gone but a process it left still holds the lock; taking it over",
                path, holder)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(path).st_ino:  # another process took it over at the same time
            raise BlockingIOError
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        raise WriterBusy("another ingestion took over the lock just now; try again when it ends") from None
    return fd, [f"took over a stale lock from pid {holder_pid(holder)} (a process it left still held it)"]
