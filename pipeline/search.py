"""Hybrid retrieval: FTS5 BM25 and MiniLM vectors over articles and their headings, fused by
reciprocal rank; filters by topic, party, kind, year, strength and document; exact citations.
"""
from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .countries import iso3
from .models import Article, Document, Filters, Hit
from .store import Store

# Fusion chosen by cross-validation over the 12 dev queries and 36 own negotiator queries judged by
# reading, on the store of the whole bench (bench/search_cv.py, bench/labels/README_queries.md):
# dense over the article text leads, BM25 at half weight, heading vectors at a quarter; heading BM25
# and the topic ranker add nothing there (the topic ranker helped only on a 33-document sample).
RRF_K = 60
# weight of each ranker in the reciprocal-rank fusion, in fusion order; 0 leaves a ranker out
FUSION_WEIGHTS = {"bm25_text": 0.5, "bm25_heading": 0.0, "dense_text": 1.0, "dense_heading": 0.25, "topics": 0.0}
DEPTH = 200  # candidates taken from each ranker
STOP = set("the of and to a in or for by be any that this with as on its is are shall may such other which "
           "an at from not under their about what how do does".split())


class FilterError(ValueError):
    """A filter value that cannot be understood (unknown country, bad year)."""


def _query_terms(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in STOP and len(w) > 1]


class Searcher:
    """Opens the store, the indexes and the embedder once; `search()` many times."""

    def __init__(self, store: Store, embedder=None, query_threads: int | None = 1,
                 allow_stale: bool = False, make_embedder: Callable | None = None):
        """`allow_stale`: search the last saved FAISS index even if the store has moved on (while an
        ingestion runs); articles it does not hold yet are found by the FTS5 rankers only.
        `query_threads`: torch threads for embedding queries, and FAISS on one thread (both
        process-wide; None leaves them as they are).
        One thread embeds the query while the FTS5 rankers run on the other core in a worker thread:
        p50 23-26 ms against 29-31 ms with both cores on the query (31,572 articles, BENCHMARKS.md).
        Without `allow_stale`, an index that is out of date is rebuilt first (see `open_fresh_indexes`)."""
        from .embed import Embedder
        from .index import load_indexes, open_fresh_indexes

        self.store = store
        if allow_stale:
            self.indexes, self.stale = load_indexes(store, allow_stale=True), True
        else:
            self.indexes, self.stale = open_fresh_indexes(store, make_embedder or (lambda: Embedder(store.home)))
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
        self.table_ids = store.table_ids()
        # two: under concurrent requests one query's FTS5 ranking runs beside another's (SQLite lets go
        # of the interpreter lock while it steps)
        self._lexical_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="clausebank-fts")
        self._owner = threading.get_ident()
        self._local = threading.local()
        # weak: a thread that ends (the server's idle workers do, after 10 s) takes its connection with it
        self._readers: weakref.WeakSet[Store] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._encode_lock = threading.Lock()  # one tokenizer: never called from two threads at once

    def close(self) -> None:
        """Stop the worker threads and close the read connections opened for other threads."""
        self._lexical_pool.shutdown()
        with self._readers_lock:
            for reader in list(self._readers):
                reader.close()
            self._readers.clear()

    def reader(self) -> Store:
        """The store for the calling thread: the given one in the thread that made this Searcher, a
        read-only connection of its own in any other (a web server's request threads, the FTS5
        workers), so that searches in several threads never share an SQLite connection."""
        if threading.get_ident() == self._owner:
            return self.store
        reader = getattr(self._local, "store", None)
        if reader is None:
            reader = self._local.store = Store(self.store.home, readonly=True)
            with self._readers_lock:
                self._readers.add(reader)
        return reader

    def _lexical_rankings(self, terms: list[str], allowed: set[int] | None) -> list[list[int]]:
        """BM25 over whole articles, and over their titles and chapter titles only (when it has a weight)."""
        headings = self._bm25(terms, "article_title chapter_title", allowed) if FUSION_WEIGHTS["bm25_heading"] else []
        return [self._bm25(terms, None, allowed), headings]

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
        labelled = self.reader().ids_with_topics(topics, candidates)
        return [i for i in candidates if i in labelled]

    def allowed_ids(self, f: Filters) -> list[int] | None:
        if not f.active():
            return None
        code = None
        if f.party:
            code = iso3(f.party)
            if not code:
                raise FilterError(f"unknown party {f.party!r}: use an ISO-3 code (KOR) or a country name")
        return self.reader().filtered_article_ids(f, code, kinds_meant(f.kind) if f.kind else None)

    def _bm25(self, terms: list[str], column: str | None, allowed: set[int] | None) -> list[int]:
        ids = self.reader().bm25(terms, column, DEPTH * (20 if allowed is not None else 1))
        return [i for i in ids if allowed is None or i in allowed][:DEPTH]

    def query_vector(self, query: str):
        """The query's embedding. Thread-safe: a server embeds one request's query while another
        request's lookups run."""
        with self._encode_lock:
            return self.embedder.encode([query])[0]

    def search(self, query: str, filters: Filters | None = None, top: int = 10, query_vector=None) -> list[Hit]:
        """The `top` hits for `query`; `query_vector` when the caller has embedded it already."""
        return self.hits(self.rank(query, filters, top, query_vector), query)

    def rank(self, query: str, filters: Filters | None = None, top: int = 10, query_vector=None) -> list[tuple[int, float]]:
        """The `top` (article id, fused score) pairs for `query`, best first."""
        filters = filters or Filters()
        allowed_list = self.allowed_ids(filters)
        allowed = set(allowed_list) if allowed_list is not None else None
        terms = _query_terms(query)
        lexical = self._lexical_pool.submit(self._lexical_rankings, terms, allowed)
        qvec = query_vector if query_vector is not None else self.query_vector(query)
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
        if self.stale:  # articles stored since the index was saved keep their keyword rank as the dense one
            unindexed = set(bm25_text) - self._indexed_ids()
            for rank, aid in enumerate(bm25_text):
                if aid in unindexed:
                    fused[aid] += FUSION_WEIGHTS["dense_text"] / (RRF_K + rank + 1)
        if not filters.include_tables:
            fused = {aid: score for aid, score in fused.items() if aid not in self.table_ids}
        return sorted(fused.items(), key=lambda kv: -kv[1])[:top]

    def _indexed_ids(self) -> set[int]:
        """Ids in the body index (cached until the index object changes, as when the web app reloads it)."""
        body = self.indexes["body"]
        key = (id(body), body.index.ntotal)
        if getattr(self, "_indexed_key", None) != key:
            self._indexed, self._indexed_key = body.ids(), key
        return self._indexed

    def hits(self, scored: list[tuple[int, float]], query: str) -> list[Hit]:
        """Hits for ranked article ids, each with the paragraph that shares most words with `query`."""
        terms = _query_terms(query)
        store = self.reader()
        arts = store.articles_by_id([a for a, _ in scored])
        docs = store.documents_by_id([a.doc_id for a in arts.values()])
        hits = []
        for aid, score in scored:
            if (art := arts.get(aid)) is None:  # in a stale index, gone from the store
                continue
            best = max(art.clauses, key=lambda c: _overlap(c.text, terms), default=None)
            hits.append(make_hit(art, docs[art.doc_id], best, score, highlight(best.text if best else art.text, terms)))
        return hits


def make_hit(art: Article, doc: Document, clause=None, score: float = 0.0, snippet: str = "") -> Hit:
    """A hit for an article (and the paragraph that answers best: the first one when none is given)."""
    clause = clause if clause is not None else (art.clauses[0] if art.clauses else None)
    page = clause.page if clause else art.page_start
    return Hit(
        doc_id=art.doc_id, article_number=art.article_number, article_title=art.article_title,
        citation=citation(doc.short_name or doc.title, art.article_number, page, art.instrument),
        score=round(score, 5), snippet=snippet or (clause.text if clause else art.text),
        strength=clause.strength if clause else "", topics=list(art.topics),
        clause_id=clause.id if clause else None, page=page, doc_title=doc.title, short_name=doc.short_name,
        kind=doc.kind, date_signed=doc.date_signed, parties=list(doc.parties), chapter_title=art.chapter_title,
        text=art.text, clause_text=clause.text if clause else art.text,
        exceptions=list(dict.fromkeys(e.label for e in clause.exceptions)) if clause else [], article_id=art.id)


def kinds_meant(kind: str) -> list[str]:
    """The stored kinds a kind filter stands for: "FTA" also finds EPAs, CEPAs and CECAs, "MoU" MoCs;
    a specific kind ("CECA") finds only itself."""
    from .metadata import KINDS, kind_family

    return [k for k in KINDS if kind.lower() in (k.lower(), kind_family(k).lower())] or [kind]


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


def citation(agreement: str, article_number: str, page: int, instrument: str = "") -> str:
    """`India–Korea DTEPA, Art. 12.13, p. 12` (`Section 3` stays as printed); in a volume binding
    several agreements the article's own instrument is named: `Volume, Protocol X, Art. 3, p. 812`."""
    m = re.match(r"(?i)(article|art\.)\s*[:.\-–]?\s*(.+)", article_number or "")
    label = f"Art. {m.group(2)}" if m else (article_number or "")
    return ", ".join(x for x in (agreement, instrument, label, f"p. {page}") if x)


def search(store: Store, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]:
    """One-off search (opens the indexes and the model; use `Searcher` for many queries)."""
    searcher = Searcher(store)
    try:
        return searcher.search(query, filters, top)
    finally:
        searcher.close()
