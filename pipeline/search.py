"""Hybrid retrieval: FTS5 BM25 and MiniLM vectors over articles and their headings, fused by
reciprocal rank; filters by topic, party, kind, year, strength and document; exact citations.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .countries import iso3
from .embed import Embedder
from .index import load_indexes
from .models import Hit
from .store import Store

RRF_K = 60
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

    def __init__(self, store: Store, embedder: Embedder | None = None):
        self.store = store
        self.indexes = load_indexes(store)
        self.embedder = embedder or Embedder(store.home)
        self.use_topics = True

    def _topic_ranking(self, query: str, lexical: list[int], allowed: set[int] | None) -> list[int]:
        """Articles labelled with a topic the query names, in lexical order: the drafters' structure
        (titles, chapters) as a signal of its own."""
        from .analyse import default_analyser

        topics = {e.label for e in default_analyser().title_topics(query)}
        if not topics:
            return []
        marks = ",".join("?" * len(topics))
        labelled = {r[0] for r in self.store.db.execute(
            f"SELECT a.id FROM articles a WHERE EXISTS (SELECT 1 FROM json_each(a.topics) WHERE value IN ({marks}))",
            sorted(topics))}
        if allowed is not None:
            labelled &= allowed
        return [i for i in lexical if i in labelled]

    def allowed_ids(self, f: Filters) -> list[int] | None:
        if not f.active():
            return None
        where, args = [], []
        if f.doc:
            where.append("a.doc_id = ?")
            args.append(f.doc)
        if f.topic:
            where.append("EXISTS (SELECT 1 FROM json_each(a.topics) WHERE value = ?)")
            args.append(f.topic)
        if f.party:
            code = iso3(f.party)
            if not code:
                raise FilterError(f"unknown party {f.party!r}: use an ISO-3 code (KOR) or a country name")
            where.append("EXISTS (SELECT 1 FROM json_each(d.parties) WHERE value = ?)")
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
        rows = self.store.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 4.0, 2.0, 1.0) "
            "LIMIT ?", (match, DEPTH * (20 if allowed is not None else 1))).fetchall()
        ids = [r[0] for r in rows]
        return [i for i in ids if allowed is None or i in allowed][:DEPTH]

    def search(self, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]:
        filters = filters or Filters()
        allowed_list = self.allowed_ids(filters)
        allowed = set(allowed_list) if allowed_list is not None else None
        terms = _query_terms(query)
        qvec = self.embedder.encode([query])[0]
        rankings = [
            self._bm25(terms, None, allowed),
            self._bm25(terms, "article_title chapter_title", allowed),
            [i for i, _ in self.indexes["body"].search(qvec, DEPTH, allowed_list)],
            [i for i, _ in self.indexes["heading"].search(qvec, DEPTH, allowed_list)],
        ]
        if self.use_topics:
            rankings.append(self._topic_ranking(query, rankings[0], allowed))
        fused: dict[int, float] = {}
        for ranking in rankings:
            for rank, aid in enumerate(ranking):
                fused[aid] = fused.get(aid, 0.0) + 1.0 / (RRF_K + rank + 1)
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
            a = arts[aid]
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
    return Searcher(store).search(query, filters, top)
