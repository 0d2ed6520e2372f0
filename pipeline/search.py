"""Hybrid retrieval: FTS5 BM25 and MiniLM vectors over articles and their headings, fused by
reciprocal rank; filters by topic, party, kind, year, strength and document; exact citations.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .countries import iso3
from .embed import Embedder
from .index import load_indexes
from .models import Hit
from .store import Store

# Fusion chosen by cross-validation over the 12 dev queries and 36 own negotiator queries judged by
# reading (bench/search_cv.py, bench/labels/README_queries.md): dense over the article text leads,
# BM25 at half weight, heading vectors at a quarter, the topic ranker kept, heading BM25 dropped;
# K=10 lets the top ranks of each ranker count most.
RRF_K = 10
# weight of each ranker in the reciprocal-rank fusion, in fusion order; 0 leaves a ranker out
FUSION_WEIGHTS = {"bm25_text": 0.5, "bm25_heading": 0.0, "dense_text": 1.0, "dense_heading": 0.25, "topics": 1.0}
DEPTH = 200  # candidates taken from each ranker
STOP = set("the of and to a in or for by be any that this with as on its is are shall may such other which "
           "an at from not under their about what how do does".split())


@dataclass
class Filters:
    topic: str | None = None
    party: str | None = None
    kind: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    strength: str | None = None
    doc: str | None = None

    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())


class FilterError(ValueError):
    """A filter value that cannot be understood (unknown country, bad year)."""


def _query_terms(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in STOP and len(w) > 1]


def _fts_query(terms: list[str]) -> str:
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))


class Searcher:
    """Opens the store, the indexes and the embedder once; `search()` many times."""

    def __init__(self, store: Store, embedder: Embedder | None = None, query_threads: int | None = 1,
                 allow_stale: bool = False):
        """`allow_stale`: search the last saved FAISS index even if the store has moved on (while an
        ingestion runs); articles it does not hold yet are found by the FTS5 rankers only.
        `query_threads`: torch threads for embedding queries, and FAISS on one thread (both
        process-wide; None leaves them as they are).
        One thread embeds the query while the FTS5 rankers run on the other core in a worker thread:
        p50 23-26 ms against 29-31 ms with both cores on the query (31,572 articles, BENCHMARKS.md)."""
        self.store = store
        self.indexes = load_indexes(store, allow_stale=allow_stale)
        # queries are embedded afresh: a search never writes to the home's vector cache, which
        # belongs to the (single) ingestion writer
        self.embedder = embedder or Embedder()
        if query_threads:
            import faiss
            import torch

            torch.set_num_threads(query_threads)
            # one query at a time: one FAISS thread beats two that wait on torch's spinning OpenMP
            # threads after each query embedding (3.8 vs 4.7 ms a search over 31,572 vectors)
            faiss.omp_set_num_threads(1)
        self.use_topics = True
        self._lexical_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clausebank-fts")
        self._lexical_local = threading.local()

    def close(self) -> None:
        """Close the worker thread's read connection and stop the thread."""
        def close_db() -> None:
            if (db := getattr(self._lexical_local, "db", None)) is not None:
                db.close()
        self._lexical_pool.submit(close_db).result()
        self._lexical_pool.shutdown()

    def _lexical_db(self) -> sqlite3.Connection:
        """The worker thread's own read-only connection (SQLite connections stay in their thread)."""
        db = getattr(self._lexical_local, "db", None)
        if db is None:
            db = self._lexical_local.db = sqlite3.connect(self.store.path, timeout=60)
            db.execute("PRAGMA query_only = ON")
        return db

    def _lexical_rankings(self, terms: list[str], allowed: set[int] | None) -> list[list[int]]:
        """BM25 over whole articles, and over their titles and chapter titles only."""
        return [self._bm25(terms, None, allowed), self._bm25(terms, "article_title chapter_title", allowed)]

    def _topic_ranking(self, query: str, lexical: list[int], allowed: set[int] | None) -> list[int]:
        """Articles labelled with a topic the query names, in lexical order: the drafters' structure
        (titles, chapters) as a signal of its own."""
        from .analyse import default_analyser

        topics = {e.label for e in default_analyser().title_topics(query)}
        if not topics:
            return []
        candidates = [i for i in lexical if allowed is None or i in allowed]
        if not candidates:
            return []
        labelled = {r[0] for r in self.store.db.execute(
            f"SELECT article_id FROM article_topics WHERE topic IN ({','.join('?' * len(topics))}) "
            f"AND article_id IN ({','.join('?' * len(candidates))})", [*sorted(topics), *candidates])}
        return [i for i in candidates if i in labelled]

    def allowed_ids(self, f: Filters) -> list[int] | None:
        if not f.active():
            return None
        where, args = [], []
        if f.doc:
            where.append("a.doc_id = ?")
            args.append(f.doc)
        if f.topic:
            where.append("a.id IN (SELECT article_id FROM article_topics WHERE topic = ?)")
            args.append(f.topic)
        if f.party:
            code = iso3(f.party)
            if not code:
                raise FilterError(f"unknown party {f.party!r}: use an ISO-3 code (KOR) or a country name")
            where.append("a.doc_id IN (SELECT doc_id FROM document_parties WHERE party = ?)")
            args.append(code)
        if f.kind:
            where.append("lower(d.kind) = lower(?)")
            args.append(f.kind)
        if f.year_from is not None:
            where.append("d.date_signed != '' AND CAST(substr(d.date_signed, 1, 4) AS INTEGER) >= ?")
            args.append(f.year_from)
        if f.year_to is not None:
            where.append("d.date_signed != '' AND CAST(substr(d.date_signed, 1, 4) AS INTEGER) <= ?")
            args.append(f.year_to)
        if f.strength:
            where.append("EXISTS (SELECT 1 FROM clauses c WHERE c.article_id = a.id AND c.strength = ?)")
            args.append(f.strength)
        sql = "SELECT a.id FROM articles a JOIN documents d ON d.doc_id = a.doc_id WHERE " + " AND ".join(where)
        return [r[0] for r in self.store.db.execute(sql, args)]

    def _bm25(self, terms: list[str], column: str | None, allowed: set[int] | None) -> list[int]:
        if not terms:
            return []
        match = _fts_query(terms)
        if column:
            match = f"{{{column}}} : ({match})"
        rows = self._lexical_db().execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 4.0, 2.0, 1.0) "
            "LIMIT ?", (match, DEPTH * (20 if allowed is not None else 1))).fetchall()
        ids = [r[0] for r in rows]
        return [i for i in ids if allowed is None or i in allowed][:DEPTH]

    def search(self, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]:
        filters = filters or Filters()
        allowed_list = self.allowed_ids(filters)
        allowed = set(allowed_list) if allowed_list is not None else None
        terms = _query_terms(query)
        lexical = self._lexical_pool.submit(self._lexical_rankings, terms, allowed)
        qvec = self.embedder.encode([query])[0]
        bm25_text, bm25_heading = lexical.result()
        rankings = {"bm25_text": bm25_text, "bm25_heading": bm25_heading}
        for name, kind in (("dense_text", "body"), ("dense_heading", "heading")):
            if FUSION_WEIGHTS[name]:
                rankings[name] = [i for i, _ in self.indexes[kind].search(qvec, DEPTH, allowed_list)]
        if self.use_topics and FUSION_WEIGHTS["topics"]:
            rankings["topics"] = self._topic_ranking(query, bm25_text, allowed)
        fused: dict[int, float] = {}
        for name, ranking in rankings.items():
            if weight := FUSION_WEIGHTS[name]:
                for rank, aid in enumerate(ranking):
                    fused[aid] = fused.get(aid, 0.0) + weight / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:top]
        return self._hits(best, terms)

    def _hits(self, scored: list[tuple[int, float]], terms: list[str]) -> list[Hit]:
        if not scored:
            return []
        ids = [a for a, _ in scored]
        marks = ",".join("?" * len(ids))
        arts = {r["id"]: r for r in self.store.db.execute(
            f"SELECT a.*, d.title AS doc_title FROM articles a JOIN documents d ON d.doc_id = a.doc_id "
            f"WHERE a.id IN ({marks})", ids)}
        clauses: dict[int, list] = {}
        for c in self.store.db.execute(f"SELECT * FROM clauses WHERE article_id IN ({marks}) ORDER BY seq", ids):
            clauses.setdefault(c["article_id"], []).append(c)
        hits = []
        for aid, score in scored:
            if (a := arts.get(aid)) is None:  # in a stale index, gone from the store
                continue
            best = max(clauses.get(aid, []), key=lambda c: _overlap(c["text"], terms), default=None)
            text = best["text"] if best else a["text"]
            hits.append(Hit(
                doc_id=a["doc_id"], article_number=a["article_number"], article_title=a["article_title"],
                citation=citation(a["doc_title"], a["article_number"], best["page"] if best else a["page_start"]),
                score=round(score, 5), snippet=highlight(text, terms), strength=best["strength"] if best else "",
                topics=json.loads(a["topics"]), clause_id=best["id"] if best else None,
                page=best["page"] if best else a["page_start"]))
        return hits


def _overlap(text: str, terms: list[str]) -> int:
    words = set(re.findall(r"\w+", text.lower()))
    return sum(t in words for t in terms)


def highlight(text: str, terms: list[str], width: int = 320) -> str:
    """A window of the text around the first query term, terms wrapped in `**`."""
    low = text.lower()
    pos = min((m.start() for t in terms if (m := re.search(rf"\b{re.escape(t)}\b", low))), default=0)
    start = max(0, pos - width // 3)
    snippet = ("…" if start else "") + text[start:start + width] + ("…" if start + width < len(text) else "")
    if terms:
        snippet = re.sub(r"\b(" + "|".join(map(re.escape, terms)) + r")\b", r"**\1**", snippet, flags=re.I)
    return snippet


def citation(doc_title: str, article_number: str, page: int) -> str:
    """`Regional Comprehensive Economic Partnership, Art. 12.15, p. 430` (`Section 3` stays as printed)."""
    m = re.match(r"(?i)(article|art\.)\s*[:.\-–]?\s*(.+)", article_number or "")
    label = f"Art. {m.group(2)}" if m else (article_number or "")
    return ", ".join(x for x in (doc_title, label, f"p. {page}") if x)


def search(store: Store, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]:
    """One-off search (opens the indexes and the model; use `Searcher` for many queries)."""
    searcher = Searcher(store)
    try:
        return searcher.search(query, filters, top)
    finally:
        searcher.close()
