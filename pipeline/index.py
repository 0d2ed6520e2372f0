"""FAISS vector index derived from the store: one vector per article (and one per heading).

The store is the source of truth. `sync_index` brings the index in line with it (removes vectors
of articles that changed or disappeared, embeds and adds new ones) and saves atomically
(temp file + rename), so a reader never sees a half-written index.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from .embed import DIM, Embedder
from .fileutil import atomic_write, fault_point

INDEX_FILES = {"body": "articles.faiss", "heading": "headings.faiss"}


def article_text(art) -> str:
    """What the body vector reads: number, title, chapter, then the text."""
    return f"{art.article_number} {art.article_title}. {art.chapter_title}. {art.text}"


def heading_text(art) -> str:
    """What the heading vector reads: the drafters' own headings."""
    return f"{art.article_title}. {art.chapter_title}" if art.article_title else art.chapter_title


class VectorIndex:
    """A FAISS inner-product index keyed by article id."""

    def __init__(self, path: Path):
        self.path = path
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
        self.damage = ""  # why the file could not be used as it is, when it could not

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        """The index saved at `path`; an empty one (with `damage` saying why) when the file is missing,
        unreadable or not an index of this model's vectors: `sync_index` rebuilds it from the store."""
        vi = cls(path)
        if not path.exists():
            vi.damage = "missing"
            return vi
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:  # truncated or corrupted
            reason = re.sub(r"^Error in .*? at \S+: (Error: )?", "", str(exc).strip())
            vi.damage = f"unreadable ({reason[:120]})"
            return vi
        if not isinstance(index, faiss.IndexIDMap2) or index.d != DIM:
            vi.damage = f"not an index of {DIM}-dimension vectors by article id"
            return vi
        vi.index = index
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
        atomic_write(self.path, lambda tmp: faiss.write_index(self.index, tmp), fault="before_faiss_rename")

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
    by_id = store.articles_by_id(store.article_ids(), with_parts=False)
    report = {"articles": len(by_id)}
    to_save = []
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
            fault_point("mid_embed")
        if stale or missing or not vi.path.exists():
            to_save.append(vi)
        report[f"{kind}_added"] = len(missing)
        report[f"{kind}_removed"] = len(stale)
    for vi in to_save:  # back to back, after all the embedding: readers see both files change at once
        vi.save()
    return report


def index_lag(store) -> tuple[int, list[str]]:
    """How far the saved indexes are from the store: vectors missing or stale (summed over the body and
    heading indexes), and what is wrong with files that could not be used as they are."""
    ids = set(store.article_ids())
    lag, damage = 0, []
    for fname in INDEX_FILES.values():
        vi = VectorIndex.load(store.home / fname)
        have = vi.ids()
        lag += len(ids - have) + len(have - ids)
        if vi.damage and not (vi.damage == "missing" and not ids):
            damage.append(f"{fname} {vi.damage}")
    return lag, damage


def load_indexes(store, allow_stale: bool = False) -> dict[str, VectorIndex]:
    """The indexes, checked against the store (counts and ids); raises when they are out of date,
    unless `allow_stale` (an ingestion is running: search the last saved index as it is)."""
    if not allow_stale:
        ids = set(store.article_ids())
        out = {}
        for kind, fname in INDEX_FILES.items():
            vi = out[kind] = VectorIndex.load(store.home / fname)
            if vi.index.ntotal != len(ids) or vi.ids() != ids:
                raise IndexOutOfDate(f"{fname} holds {vi.index.ntotal} vectors for {len(ids)} stored articles")
        return out
    for _ in range(20):  # a writer renames the files one after the other: load a matching pair
        out = {kind: VectorIndex.load(store.home / fname) for kind, fname in INDEX_FILES.items()}
        if len({frozenset(vi.ids()) for vi in out.values()}) == 1:
            break
        time.sleep(0.05)
    return out


class IndexOutOfDate(Exception):
    """The FAISS index does not match the store; `sync_index` rebuilds it."""


def open_fresh_indexes(store, make_embedder: Callable[[], Embedder]) -> tuple[dict[str, VectorIndex], bool]:
    """The indexes, rebuilt from the store first when they are out of date, unless an ingestion is
    running: it is the one writer and brings the index up to date when it ends, so meanwhile the
    last saved index is used as it is (articles stored since are found by keywords only).
    Returns the indexes and whether they are such a stale copy."""
    from .lock import INDEX_REBUILD, WriterBusy, writer_lock

    try:
        return load_indexes(store), False
    except IndexOutOfDate:
        try:
            with writer_lock(store.home, purpose=INDEX_REBUILD):
                sync_index(store, make_embedder())
        except WriterBusy:
            return load_indexes(store, allow_stale=True), True
        return load_indexes(store), False
