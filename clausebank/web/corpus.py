"""What the web pages read: filters from query strings, search or browse with facets, articles by
their stable reference, source PDFs, run reports and quarantined files. No SQL here: `pipeline.store`."""
from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.models import Article, Document, Filters, Hit, article_key
from pipeline.search import FilterError, Searcher, make_hit
from pipeline.store import Store

PAGE_SIZE = 10
ALLOWED_CACHE_SIZE = 256  # filter combinations whose article ids are kept
POOL = 100  # hits a query keeps: what its pages and facet counts cover
STRENGTHS = ("binding", "best_endeavour", "hortatory", "non_binding", "exception")
TOPIC_PATTERN = re.compile(r"^[a-z][a-z_]{1,40}$")
KIND_PATTERN = re.compile(r"^[A-Za-z][A-Za-z ]{0,20}$")


class BadRequest(ValueError):
    """A request value that cannot be used; the message says which and why (shown as a 422)."""


class NotFound(LookupError):
    """An unknown document or article (shown as a 404)."""


@dataclass
class RawFilters:
    """Filter values as they come from a query string (empty strings from forms mean 'any')."""

    topic: str | None = None
    party: str | None = None
    kind: str | None = None
    year_from: str | None = None
    year_to: str | None = None
    strength: str | None = None
    doc: str | None = None

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs (`from`/`to` for the years), empty ones left out."""
        names = {"year_from": "from", "year_to": "to"}
        return [(names.get(k, k), v) for k, v in vars(self).items() if v]


@dataclass
class SearchPage:
    query: str
    filters: RawFilters
    hits: list[Hit]
    total: int
    page: int
    facets: dict[str, dict[str, int]]
    stale: bool = False
    refs: dict[int, str] = field(default_factory=dict)  # article id -> stable reference

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _year(value: str | None, name: str) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value.strip()):
        raise BadRequest(f"{name}: give a year as four digits (e.g. 2023), not {value[:20]!r}")
    return int(value)


def to_filters(raw: RawFilters, known_docs: set[str]) -> Filters:
    """Check filter values and turn them into `Filters`; BadRequest says what is wrong."""
    def clean(v: str | None) -> str | None:
        return v.strip() if v and v.strip() else None

    topic, party, kind, strength, doc = map(clean, (raw.topic, raw.party, raw.kind, raw.strength, raw.doc))
    if topic and not TOPIC_PATTERN.match(topic):
        raise BadRequest(f"topic: {topic[:40]!r} is not a topic name (e.g. data_flows, privacy)")
    if kind and not KIND_PATTERN.match(kind):
        raise BadRequest(f"kind: {kind[:40]!r} is not a kind of agreement (FTA, MoU, JDI, protocol)")
    if strength and strength not in STRENGTHS:
        raise BadRequest(f"strength: {strength[:40]!r} is not one of {', '.join(STRENGTHS)}")
    if doc and doc not in known_docs:
        raise BadRequest(f"doc: no document {doc[:60]!r} in the store")
    year_from, year_to = _year(raw.year_from, "from"), _year(raw.year_to, "to")
    if year_from and year_to and year_from > year_to:
        raise BadRequest(f"from {year_from} is after to {year_to}")
    return Filters(topic=topic, party=party, kind=kind, year_from=year_from, year_to=year_to,
                   strength=strength, doc=doc)


def split_item(item: str) -> tuple[str, str]:
    """`doc:ref` (as in basket and compare links) -> (doc, ref)."""
    doc, sep, ref = item.partition(":")
    if not sep or not doc or not ref:
        raise BadRequest(f"{item[:80]!r}: name an article as document:number, e.g. india_korea_digital_fta:12.13")
    return doc, ref


class PoolSearcher(Searcher):
    """A Searcher that ranks a pool of POOL articles (the ids behind facet counts and pages) but
    builds hits (paragraphs, snippets) only for the slice on screen: a page costs what a top-10
    search costs. Safe to call from several request threads at once."""

    allowed_cache: dict | None = None  # filters -> allowed ids, until the store changes (Corpus.refresh)
    _allowed_lock = threading.Lock()

    def allowed_ids(self, f: Filters) -> list[int] | None:
        """As Searcher's, kept per set of filters: a negotiator keeps the filters while typing new queries."""
        key = tuple(sorted(vars(f).items()))
        cache = self.allowed_cache
        if cache is not None and key in cache:
            return cache[key]
        allowed = super().allowed_ids(f)
        with self._allowed_lock:
            if self.allowed_cache is None:
                self.allowed_cache = {}
            if len(self.allowed_cache) >= ALLOWED_CACHE_SIZE:
                self.allowed_cache.pop(next(iter(self.allowed_cache)))
            self.allowed_cache[key] = allowed
        return allowed

    def ranked(self, query: str, filters: Filters, window: slice, query_vector=None) -> tuple[list[Hit], list[int]]:
        """The hits in `window` of the first POOL results, and the ids of all POOL results."""
        scored = self.rank(query, filters, POOL, query_vector)
        return self.hits(scored[window], query), [aid for aid, _ in scored]


class Corpus:
    """The app's read-only view of a clausebank home: one Searcher, loaded once. Searches run in
    parallel, each request thread with its own SQLite connection; everything else reads the shared
    connection under `lock`."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.store = Store(self.home, readonly=True)
        self.searcher = PoolSearcher(self.store, allow_stale=True)
        self.lock = threading.RLock()
        self.stale = False
        self._seen: tuple = ()
        # what the store says, kept until it changes (refresh() clears them)
        self._outlines: dict[str, list[dict]] = {}
        self._ref_maps: dict[str, dict[int, str]] = {}
        self._cached: dict[str, object] = {}
        self.refresh()

    def close(self) -> None:
        self.searcher.close()
        self.store.close()

    def refresh(self) -> None:
        """Pick up what a nightly ingestion wrote: a re-saved index is loaded again, and `stale` says
        whether the index in use lacks articles now stored (those are found by keywords only)."""
        from pipeline.index import INDEX_FILES, load_indexes

        with self.lock:
            mtimes = tuple((self.home / f).stat().st_mtime_ns if (self.home / f).exists() else 0
                           for f in INDEX_FILES.values())
            seen = (self.store.data_version(), mtimes)
            if seen == self._seen:
                return
            if self._seen and mtimes != self._seen[1]:
                self.searcher.indexes = load_indexes(self.store, allow_stale=True)
            self._outlines.clear()
            self._ref_maps.clear()
            self._cached.clear()
            self.searcher.allowed_cache = None
            ids = set(self.store.article_ids())
            self.stale = any(vi.ids() != ids for vi in self.searcher.indexes.values())
            self._seen = seen

    def warm_up(self) -> None:
        """One search, so the first negotiator does not wait for the model's first call."""
        with self.lock:
            self.searcher.search("cross-border transfer of personal data", top=1)

    # ---- search

    def _cache(self, name: str, compute):
        with self.lock:
            if name not in self._cached:
                self._cached[name] = compute()
            return self._cached[name]

    def known_docs(self) -> set[str]:
        return {d["doc"] for d in self.summaries()[0]}

    def search(self, query: str, raw: RawFilters, page: int = 1, top: int | None = None) -> SearchPage:
        """A page of hits for `query` (empty: browse the filtered articles in document order), with
        facet counts over all the results of the query."""
        filters = to_filters(raw, self.known_docs())
        query = query.strip()
        # embedded outside the lock: on a second core, beside another request's index and store lookups
        query_vector = self.searcher.query_vector(query) if query else None
        self.refresh()
        # no lock from here: each request thread reads through its own connection (Searcher.reader)
        reader = self.searcher.reader()
        try:
            window = slice(0, top) if top else slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
            if query:
                shown, ids = self.searcher.ranked(query, filters, window, query_vector)
            else:
                allowed = self.searcher.allowed_ids(filters)
                ids = allowed if allowed is not None else reader.article_ids()
                shown = self._browse(reader, ids[window])
        except FilterError as exc:
            raise BadRequest(str(exc)) from exc
        facets = (reader.facet_counts(ids) if (query or filters.active())
                  else self._cache("facets", self.store.facet_counts))
        return SearchPage(query, raw, shown, len(ids), page, facets, self.stale, self._refs(shown))

    @staticmethod
    def _browse(reader: Store, ids: list[int]) -> list[Hit]:
        arts = reader.articles_by_id(ids)
        docs = reader.documents_by_id([a.doc_id for a in arts.values()])
        return [make_hit(arts[i], docs[arts[i].doc_id]) for i in ids if i in arts]

    def outline(self, doc_id: str) -> list[dict]:
        """A document's outline, kept until the store changes."""
        with self.lock:
            if doc_id not in self._outlines:
                self._outlines[doc_id] = self.store.article_outline(doc_id)
            return self._outlines[doc_id]

    def ref_of(self, doc_id: str, article_id: int | None) -> str:
        with self.lock:
            if doc_id not in self._ref_maps:
                self._ref_maps[doc_id] = ref_map(self.outline(doc_id))
            return self._ref_maps[doc_id].get(article_id, "")

    def _refs(self, hits: list[Hit]) -> dict[int, str]:
        return {h.article_id: self.ref_of(h.doc_id, h.article_id) for h in hits}

    # ---- articles

    def document(self, doc_id: str) -> Document:
        with self.lock:
            doc = self.store.documents_by_id([doc_id]).get(doc_id)
        if doc is None:
            raise NotFound(f"no document {doc_id!r} in the store")
        return doc

    def articles(self, doc_id: str, ref: str) -> tuple[Document, list[Article], list[dict]]:
        """The article(s) a reference names (`12.13`, `Article 12.13`, or `@7` for the 7th unit of an
        unnumbered part), its document and the document's outline."""
        doc = self.document(doc_id)
        with self.lock:
            self.refresh()
            outline = self.outline(doc_id)
            if ref.startswith("@") and ref[1:].isdigit() and 1 <= int(ref[1:]) <= len(outline):
                found = list(self.store.articles_by_id([outline[int(ref[1:]) - 1]["id"]]).values())
            else:
                found = self.store.find_articles(doc_id, ref) if article_key(ref) else []
        if not found:
            raise NotFound(f"{doc_id} has no article {ref!r}")
        return doc, found, outline

    def hit(self, item: str) -> tuple[Hit, str]:
        """The hit (citation, text, strength) for a `doc:ref` item, and its canonical reference."""
        hit, ref, _ = self.entry(item)
        return hit, ref

    def entry(self, item: str) -> tuple[Hit, str, Article]:
        """`hit()` and the article itself (its paragraphs)."""
        doc_id, ref = split_item(item)
        doc, found, outline = self.articles(doc_id, ref)
        return make_hit(found[0], doc), self.ref_of(doc_id, found[0].id), found[0]

    def pdf_path(self, doc_id: str) -> Path:
        """The stored document's source file (only paths the store knows are ever served)."""
        doc = self.document(doc_id)
        path = Path(doc.path)
        candidates = [path] if path.is_absolute() else [Path.cwd() / path, self.home.parent / path, self.home / path]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise NotFound(f"the source PDF of {doc_id} is no longer at {doc.path}")

    # ---- lineage and partner matrices

    def family(self, doc_id: str, ref: str, top: int = 20, min_similarity: float = 0.0) -> tuple[Article, list]:
        """The article a reference names and its family (`pipeline.lineage.Relative`, oldest first),
        relatives scoring under `min_similarity` left out."""
        from pipeline.lineage import Lineage, family_of

        _, found, _ = self.articles(doc_id, ref)
        with self.lock:
            if "lineage" not in self._cached:  # signatures and body vectors: loaded once, dropped on change
                self._cached["lineage"] = Lineage(self.store, index=self.searcher.indexes.get("body"))
            lineage = self._cached["lineage"]
            return found[0], family_of(self.store, found[0], top=top, min_similarity=min_similarity,
                                       index=lineage.index, signatures=lineage.signatures)

    def parties(self) -> list[str]:
        """Every party code of the stored documents, sorted."""
        return sorted({p for d in self.summaries()[0] for p in d["parties"]})

    def matrix(self, partners: list[str]) -> list:
        """`pipeline.matrix` rows: per agreement for one partner, per partner for several."""
        from pipeline.matrix import agreement_rows, partner_rows

        known = set(self.parties())
        unknown = [p for p in partners if p not in known]
        if unknown:
            raise BadRequest(f"partner: {', '.join(u[:10] for u in unknown)} signed no stored agreement "
                             "(give ISO-3 codes such as KOR, SGP)")
        with self.lock:
            self.refresh()
            return agreement_rows(self.store, partners[0]) if len(partners) == 1 else partner_rows(self.store, partners)

    # ---- corpus page

    def summaries(self) -> tuple[list[dict], dict[str, dict[str, int]]]:
        with self.lock:
            self.refresh()
            return self._cache("summaries", lambda: (self.store.document_summaries(),
                                                      self.store.topic_counts_by_document()))

    def run_reports(self, last: int = 3) -> list[tuple[str, str]]:
        """The latest ingestion run reports as (name, Markdown text), newest first."""
        runs = sorted((self.home / "runs").glob("*.md"), reverse=True)[:last]
        return [(p.stem, p.read_text(encoding="utf-8", errors="replace")) for p in runs]

    def quarantined(self) -> list[dict]:
        qfile = self.home / "quarantine.json"
        try:
            entries = json.loads(qfile.read_text(encoding="utf-8")) if qfile.exists() else []
        except (OSError, ValueError):
            return []
        return sorted(entries, key=lambda e: e.get("at", ""), reverse=True)


def ref_map(outline: list[dict]) -> dict[int, str]:
    """Each article's stable reference within its document: its number (`12.13`) when that names it
    alone, else its position (`@7`) for unnumbered or repeated numbers."""
    keys = [article_key(o["article_number"]) for o in outline]
    seen = Counter(keys)
    return {o["id"]: key if key and seen[key] == 1 else f"@{pos}"
            for pos, (o, key) in enumerate(zip(outline, keys, strict=True), 1)}


def ref_in(outline: list[dict], article_id: int | None) -> str:
    return ref_map(outline).get(article_id, "")
