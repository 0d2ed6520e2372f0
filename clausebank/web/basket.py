"""Baskets of chosen articles, one per browser session, kept in a small JSON file so that they
survive page reloads and server restarts."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from pipeline.fileutil import atomic_write_text

MAX_ITEMS = 200
MAX_SESSIONS = 2000  # the least recently used baskets are dropped beyond this


class Baskets:
    """`doc:ref` items per session id, in the order the negotiator chose."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._data: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._data = {}

    def items(self, session: str) -> list[str]:
        with self._lock:
            return list(self._data.get(session, {}).get("items", []))

    def add(self, session: str, item: str) -> list[str]:
        return self._update(session, lambda items: items if item in items else (items + [item])[-MAX_ITEMS:])

    def remove(self, session: str, item: str) -> list[str]:
        return self._update(session, lambda items: [i for i in items if i != item])

    def move(self, session: str, item: str, step: int) -> list[str]:
        """Move an item `step` places (-1: up, +1: down), staying within the list."""
        def moved(items: list[str]) -> list[str]:
            if item not in items:
                return items
            pos = items.index(item)
            items.insert(max(0, min(len(items) - 1, pos + step)), items.pop(pos))
            return items
        return self._update(session, moved)

    def _update(self, session: str, change) -> list[str]:
        with self._lock:
            items = change(list(self._data.get(session, {}).get("items", [])))
            self._data[session] = {"items": items, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            if len(self._data) > MAX_SESSIONS:
                oldest = sorted(self._data, key=lambda s: self._data[s]["at"])[: len(self._data) - MAX_SESSIONS]
                for s in oldest:
                    del self._data[s]
            atomic_write_text(self.path, json.dumps(self._data))
            return list(items)
