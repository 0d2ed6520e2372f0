"""FAISS vector index derived from the store: one vector per article (and one per heading).

The store is the source of truth. `sync_index` brings the index in line with it (removes vectors
of articles that changed or disappeared, embeds and adds new ones) and saves atomically
(temp file + rename), so a reader never sees a half-written index.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from .embed import DIM, Embedder

INDEX_FILES = {"body": "articles.faiss", "heading": "headings.faiss"}


def article_text(row) -> str:
    """What the body vector reads: number, title, chapter, then the text."""
    return f"{row['article_number']} {row['article_title']}. {row['chapter_title']}. {row['text']}"


def heading_text(row) -> str:
    """What the heading vector reads: the drafters' own headings."""
    return f"{row['article_title']}. {row['chapter_title']}" if row["article_title"] else row["chapter_title"]


class VectorIndex:
    """A FAISS inner-product index keyed by article id."""

    def __init__(self, path: Path):
        self.path = path
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        vi = cls(path)
        if path.exists():
            try:
                vi.index = faiss.read_index(str(path))
            except RuntimeError:  # unreadable: rebuilt from the store by sync_index
                vi.index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
        return vi

    def ids(self) -> set[int]:
        return set(faiss.vector_to_array(self.index.id_map).tolist()) if self.index.ntotal else set()

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if ids:
            self.index.add_with_ids(vectors.astype("float32"), np.asarray(ids, dtype="int64"))

    def remove(self, ids: set[int]) -> None:
        if ids:
            self.index.remove_ids(np.asarray(sorted(ids), dtype="int64"))

    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        os.close(fd)
        try:
            faiss.write_index(self.index, tmp)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        params = None
        if allowed is not None:
            if not allowed:
                return []
            keep = np.asarray(allowed, dtype="int64")  # must outlive the search
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(keep))
        scores, ids = self.index.search(query.reshape(1, -1).astype("float32"), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]


def sync_index(store, embedder: Embedder, on_progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Make the FAISS indexes hold exactly the store's articles; returns counts of what changed."""
    rows = store.db.execute(
        "SELECT id, article_number, article_title, chapter_title, text FROM articles ORDER BY id").fetchall()
    by_id = {r["id"]: r for r in rows}
    report = {"articles": len(rows)}
    for kind, fname in INDEX_FILES.items():
        vi = VectorIndex.load(store.home / fname)
        have = vi.ids()
        stale = have - by_id.keys()
        missing = sorted(by_id.keys() - have)
        vi.remove(stale)
        if missing and on_progress:
            on_progress(f"embedding {len(missing)} {kind} texts")
        make = article_text if kind == "body" else heading_text
        for i in range(0, len(missing), 4096):
            chunk = missing[i:i + 4096]
            vi.add(chunk, embedder.encode([make(by_id[a]) for a in chunk]))
        if stale or missing or not vi.path.exists():
            vi.save()
        report[f"{kind}_added"] = len(missing)
        report[f"{kind}_removed"] = len(stale)
    return report


def load_indexes(store, allow_stale: bool = False) -> dict[str, VectorIndex]:
    """The indexes, checked against the store (counts and ids); raises when they are out of date,
    unless `allow_stale` (an ingestion is running: search the last saved index as it is)."""
    out = {}
    ids = None if allow_stale else {r[0] for r in store.db.execute("SELECT id FROM articles")}
    for kind, fname in INDEX_FILES.items():
        vi = VectorIndex.load(store.home / fname)
        if ids is not None and (vi.index.ntotal != len(ids) or vi.ids() != ids):
            raise IndexOutOfDate(f"{fname} holds {vi.index.ntotal} vectors for {len(ids)} stored articles")
        out[kind] = vi
    return out


class IndexOutOfDate(Exception):
    """The FAISS index does not match the store; `sync_index` rebuilds it."""
