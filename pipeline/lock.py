"""One writer at a time: an exclusive lock file under the home folder (released if the process dies)."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


class WriterBusy(Exception):
    """Another ingestion holds the store."""


@contextmanager
def writer_lock(home: Path, wait: bool = False):
    home.mkdir(parents=True, exist_ok=True)
    path = home / "ingest.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = path.read_text().strip() or "another process"
            raise WriterBusy(f"another ingestion is running ({holder}); try again when it ends") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
