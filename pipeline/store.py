"""The SQLite store: documents, articles, clauses, footnotes and an FTS5 table. The source of truth.

Every document is written in one transaction: a changed file replaces its old version whole, and a
crash mid-write leaves the previous version in place (SQLite's journal guarantees it).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .models import Article, Clause, Document, Evidence, Filters, article_key

SQLITE_CONFIG_MEMSTATUS = 9


def _untrack_sqlite_memory() -> bool:
    """Turn SQLite's memory statistics off, before the sqlite3 module starts the library (False when
    too late or the library is not found). Debian builds SQLite without lookaside memory, so every
    allocation takes the process-wide statistics mutex: two threads searching through connections of
    their own ran no faster than one (BENCHMARKS.md, session 6). SQLite's documentation advises the
    statistics off for speed; nothing here reads them."""
    if "sqlite3" in sys.modules:
        return False
    try:  # the Linux name first: find_library runs ldconfig (9 ms of every command's start-up)
        library = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        if not (name := ctypes.util.find_library("sqlite3")):
            return False
        library = ctypes.CDLL(name)
    try:
        return library.sqlite3_config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
    except AttributeError:
        return False


SQLITE_MEMORY_UNTRACKED = _untrack_sqlite_memory()

import sqlite3  # noqa: E402  (after the configuration above, which must come first)

SCHEMA_VERSION = 4
# Bump when extraction, segmentation or analysis change what they produce: stored documents parsed
# by another version count as changed, so the next ingest re-parses them even if the file is the same.
PARSER_VERSION = 3
DB_NAME = "clausebank.sqlite"

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE documents (
        doc_id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'other',
        parties TEXT NOT NULL DEFAULT '[]',
        date_signed TEXT NOT NULL DEFAULT '',
        pages INTEGER NOT NULL DEFAULT 0,
        ocr INTEGER NOT NULL DEFAULT 0,
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        chapter_number TEXT NOT NULL DEFAULT '',
        chapter_title TEXT NOT NULL DEFAULT '',
        section TEXT NOT NULL DEFAULT '',
        article_number TEXT NOT NULL DEFAULT '',
        article_title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        page_start INTEGER NOT NULL,
        page_end INTEGER NOT NULL,
        topics TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX articles_doc ON articles(doc_id, seq);
    CREATE TABLE clauses (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        doc_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        number TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        page INTEGER NOT NULL,
        strength TEXT NOT NULL DEFAULT '',
        strength_evidence TEXT NOT NULL DEFAULT '',
        exceptions TEXT NOT NULL DEFAULT '[]',
        topics TEXT NOT NULL DEFAULT '[]',
        entities TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX clauses_article ON clauses(article_id);
    CREATE INDEX clauses_doc ON clauses(doc_id);
    CREATE TABLE footnotes (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX footnotes_article ON footnotes(article_id);
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        article_title, chapter_title, text, content='articles', content_rowid='id',
        tokenize='porter unicode61'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, article_title, chapter_title, text)
        VALUES (new.id, new.article_title, new.chapter_title, new.text);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, article_title, chapter_title, text)
        VALUES ('delete', old.id, old.article_title, old.chapter_title, old.text);
    END;
    """,
    2: """
    ALTER TABLE documents ADD COLUMN parser_version INTEGER NOT NULL DEFAULT 0;
    """,
    # topic and party filters look values up by index instead of scanning every row's JSON
    3: """
    CREATE TABLE article_topics (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        topic TEXT NOT NULL,
        PRIMARY KEY (topic, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_topics_article ON article_topics(article_id);
    INSERT OR IGNORE INTO article_topics SELECT a.id, j.value FROM articles a, json_each(a.topics) j;
    CREATE TABLE document_parties (
        doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
        party TEXT NOT NULL,
        PRIMARY KEY (party, doc_id)
    ) WITHOUT ROWID;
    CREATE INDEX document_parties_doc ON document_parties(doc_id);
    INSERT OR IGNORE INTO document_parties SELECT d.doc_id, j.value FROM documents d, json_each(d.parties) j;
    """,
    # citations name agreements as papers do; bound volumes and annex tables
    4: """
    ALTER TABLE documents ADD COLUMN short_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN place_signed TEXT NOT NULL DEFAULT '';
    ALTER TABLE documents ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE articles ADD COLUMN instrument TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN unit TEXT NOT NULL DEFAULT 'article';
    """,
}


class StoreError(Exception):
    """The store cannot be opened or is newer than this program."""


class Store:
    """SQLite store under a home folder (`<home>/clausebank.sqlite`).

    `readonly=True` opens an existing store for reading only (search workers, the web app): it never
    migrates or writes, and keeps reading the last committed state while an ingestion writes."""

    def __init__(self, home: Path | str, readonly: bool = False):
        self.home = Path(home)
        self.path = self.home / DB_NAME
        self.readonly = readonly
        if readonly:
            if not self.path.exists():
                raise StoreError(f"no store at {self.path} (ingest some PDFs first)")
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60,
                                      isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self._check_version()
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # checked before anything (even the journal mode) is written
                raise StoreError(f"{self.path}: schema version {version} is newer than this clausebank "
                                 f"({SCHEMA_VERSION})")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._wal()
            self.db.execute("PRAGMA synchronous = NORMAL")
        except (sqlite3.DatabaseError, StoreError) as exc:  # not a database, a damaged or a newer one
            self.db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{self.path}: {exc}") from exc
        self._migrate()

    def _wal(self, patience_s: float = 60.0) -> None:
        """Switch to WAL. The switch needs the database to itself, and SQLite answers "database is locked"
        at once, without waiting, while another connection opening the same old store holds it; so wait
        and retry, as the connection's timeout would for any other statement."""
        deadline = time.monotonic() + patience_s
        delay = 0.01
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _check_version(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {version}, this clausebank reads {SCHEMA_VERSION} "
                             "(run an ingestion once to migrate it)")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {version} is newer than this clausebank ({SCHEMA_VERSION})")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as db:
                # another process may have migrated between our read and this write lock
                if db.execute("PRAGMA user_version").fetchone()[0] >= v:
                    continue
                for statement in _statements(MIGRATIONS[v]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {v}")

    # ---- documents

    def document_sha(self, doc_id: str) -> str | None:
        """The stored file hash, or None when absent or parsed by another parser version."""
        row = self.db.execute("SELECT sha256, parser_version FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row and row[1] == PARSER_VERSION else None

    def upsert(self, document: Document) -> str:
        """Store a document with its articles; returns 'new', 'changed' or 'unchanged'."""
        old = self.document_sha(document.doc_id)
        if old == document.sha256:
            return "unchanged"
        exists = self.db.execute("SELECT 1 FROM documents WHERE doc_id = ?", (document.doc_id,)).fetchone()
        with self.transaction() as db:
            db.execute("DELETE FROM documents WHERE doc_id = ?", (document.doc_id,))
            db.execute(
                "INSERT INTO documents (doc_id, sha256, path, title, kind, parties, date_signed, pages, ocr, ingested_at,"
                " parser_version, short_name, place_signed, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (document.doc_id, document.sha256, document.path, document.title, document.kind,
                 json.dumps(document.parties), document.date_signed, document.pages, int(document.ocr),
                 datetime.now(timezone.utc).isoformat(timespec="seconds"), PARSER_VERSION,
                 document.short_name, document.place_signed, json.dumps(document.evidence)),
            )
            db.executemany("INSERT OR IGNORE INTO document_parties (doc_id, party) VALUES (?, ?)",
                           [(document.doc_id, p) for p in document.parties])
            for seq, art in enumerate(document.articles):
                self._insert_article(db, document.doc_id, seq, art)
        return "changed" if exists else "new"

    @staticmethod
    def _insert_article(db: sqlite3.Connection, doc_id: str, seq: int, art: Article) -> None:
        cur = db.execute(
            "INSERT INTO articles (doc_id, seq, chapter_number, chapter_title, section, article_number,"
            " article_title, text, page_start, page_end, topics, instrument, unit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, seq, art.chapter_number, art.chapter_title, art.section, art.article_number,
             art.article_title, art.text, art.page_start, art.page_end, json.dumps(art.topics),
             art.instrument, art.unit),
        )
        article_id = cur.lastrowid
        db.executemany(
            "INSERT INTO clauses (article_id, doc_id, seq, number, text, page, strength, strength_evidence,"
            " exceptions, topics, entities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(article_id, doc_id, k, c.number, c.text, c.page, c.strength, c.strength_evidence,
              _ev(c.exceptions), _ev(c.topics), _ev(c.entities)) for k, c in enumerate(art.clauses)],
        )
        db.executemany(
            "INSERT INTO footnotes (article_id, seq, text) VALUES (?, ?, ?)",
            [(article_id, k, t) for k, t in enumerate(art.footnotes)],
        )
        db.executemany("INSERT OR IGNORE INTO article_topics (article_id, topic) VALUES (?, ?)",
                       [(article_id, t) for t in art.topics])

    def delete(self, doc_id: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount > 0

    def documents(self) -> list[Document]:
        rows = self.db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        return [_document(r) for r in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        doc = _document(row)
        doc.articles = list(self.articles(doc_id))
        return doc

    def articles(self, doc_id: str | None = None) -> Iterator[Article]:
        """Articles in document order, with clauses and footnotes."""
        where, args = ("WHERE doc_id = ?", (doc_id,)) if doc_id else ("", ())
        rows = self.db.execute(f"SELECT * FROM articles {where} ORDER BY doc_id, seq", args).fetchall()
        yield from self._articles(rows)

    def _articles(self, rows: list[sqlite3.Row], with_parts: bool = True) -> list[Article]:
        ids = [r["id"] for r in rows]
        clauses: dict[int, list[Clause]] = {}
        notes: dict[int, list[str]] = {}
        for chunk in (_chunks(ids, 900) if with_parts else ()):
            marks = ",".join("?" * len(chunk))
            for c in self.db.execute(f"SELECT * FROM clauses WHERE article_id IN ({marks}) ORDER BY seq", chunk):
                clauses.setdefault(c["article_id"], []).append(Clause(
                    text=c["text"], page=c["page"], number=c["number"], strength=c["strength"],
                    strength_evidence=c["strength_evidence"], exceptions=_unev(c["exceptions"]),
                    topics=_unev(c["topics"]), entities=_unev(c["entities"]), id=c["id"]))
            for f in self.db.execute(f"SELECT * FROM footnotes WHERE article_id IN ({marks}) ORDER BY seq", chunk):
                notes.setdefault(f["article_id"], []).append(f["text"])
        return [Article(
            doc_id=r["doc_id"], article_number=r["article_number"], article_title=r["article_title"],
            text=r["text"], page_start=r["page_start"], page_end=r["page_end"],
            chapter_number=r["chapter_number"], chapter_title=r["chapter_title"], section=r["section"],
            footnotes=notes.get(r["id"], []), clauses=clauses.get(r["id"], []), topics=json.loads(r["topics"]),
            id=r["id"], instrument=r["instrument"], unit=r["unit"],
        ) for r in rows]

    def articles_by_id(self, ids: list[int], with_parts: bool = True) -> dict[int, Article]:
        """Articles by row id (with clauses and footnotes unless `with_parts` is False); absent ids are left out."""
        rows: list[sqlite3.Row] = []
        for chunk in _chunks(list(ids), 900):
            rows += self.db.execute(f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
        return {a.id: a for a in self._articles(rows, with_parts)}

    def find_articles(self, doc_id: str, number: str) -> list[Article]:
        """A document's articles whose number is `number` however it is written (`12.15`, `Article 12.15`);
        more than one in a volume binding several agreements."""
        want = article_key(number)
        rows = [r for r in self.db.execute("SELECT * FROM articles WHERE doc_id = ? ORDER BY seq", (doc_id,))
                if article_key(r["article_number"]) == want]
        return self._articles(rows)

    def table_ids(self) -> set[int]:
        """Units that are long tables (tariff schedules), which search leaves out unless asked."""
        return {r[0] for r in self.db.execute("SELECT id FROM articles WHERE unit = 'table'")}

    def article_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def documents_by_id(self, doc_ids: list[str]) -> dict[str, Document]:
        """Documents (metadata only, no articles) by id."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, Document] = {}
        for chunk in _chunks(ids, 900):
            for r in self.db.execute(f"SELECT * FROM documents WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk):
                out[r["doc_id"]] = _document(r)
        return out

    def document_summaries(self) -> list[dict]:
        """Every document's metadata with its article count, for listings (`clausebank documents`)."""
        rows = self.db.execute(
            "SELECT d.*, (SELECT COUNT(*) FROM articles a WHERE a.doc_id = d.doc_id) AS n_articles "
            "FROM documents d ORDER BY d.doc_id").fetchall()
        return [{"doc": r["doc_id"], "title": r["title"], "short_name": r["short_name"], "kind": r["kind"],
                 "parties": json.loads(r["parties"]), "date_signed": r["date_signed"],
                 "place_signed": r["place_signed"], "pages": r["pages"], "articles": r["n_articles"]} for r in rows]

    # ---- search support

    def filtered_article_ids(self, f: Filters, party_code: str | None = None,
                             kinds: list[str] | None = None) -> list[int]:
        """Ids of the articles that pass the filters (`party_code`: the party filter as ISO-3; `kinds`:
        the kinds the kind filter stands for, e.g. FTA, EPA, CEPA and CECA for "FTA")."""
        where, args = [], []
        if f.doc:
            where.append("a.doc_id = ?")
            args.append(f.doc)
        if f.topic:
            where.append("a.id IN (SELECT article_id FROM article_topics WHERE topic = ?)")
            args.append(f.topic)
        if party_code:
            where.append("a.doc_id IN (SELECT doc_id FROM document_parties WHERE party = ?)")
            args.append(party_code)
        if f.kind:
            kinds = kinds or [f.kind]
            where.append(f"lower(d.kind) IN ({','.join('lower(?)' for _ in kinds)})")
            args += kinds
        if f.year_from is not None:
            where.append("d.date_signed != '' AND CAST(substr(d.date_signed, 1, 4) AS INTEGER) >= ?")
            args.append(f.year_from)
        if f.year_to is not None:
            where.append("d.date_signed != '' AND CAST(substr(d.date_signed, 1, 4) AS INTEGER) <= ?")
            args.append(f.year_to)
        if f.strength:
            where.append("EXISTS (SELECT 1 FROM clauses c WHERE c.article_id = a.id AND c.strength = ?)")
            args.append(f.strength)
        sql = "SELECT a.id FROM articles a JOIN documents d ON d.doc_id = a.doc_id"
        return [r[0] for r in self.db.execute(sql + (" WHERE " + " AND ".join(where) if where else ""), args)]

    def bm25(self, terms: list[str], columns: str | None = None, limit: int = 200) -> list[int]:
        """Article ids ranked by FTS5 BM25 for any of `terms` (titles weigh most), optionally only over
        `columns` (`article_title chapter_title`)."""
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        if columns:
            match = f"{{{columns}}} : ({match})"
        rows = self.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 4.0, 2.0, 1.0) "
            "LIMIT ?", (match, limit)).fetchall()
        return [r[0] for r in rows]

    def ids_with_topics(self, topics: set[str], among: list[int]) -> set[int]:
        """Which of the articles `among` carry any of `topics`."""
        out: set[int] = set()
        for chunk in _chunks(list(among), 900):
            out |= {r[0] for r in self.db.execute(
                f"SELECT article_id FROM article_topics WHERE topic IN ({','.join('?' * len(topics))}) "
                f"AND article_id IN ({','.join('?' * len(chunk))})", [*sorted(topics), *chunk])}
        return out

    def counts(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("documents", "articles", "clauses", "footnotes")}

    # ---- read API for the web app

    def article_outline(self, doc_id: str) -> list[dict]:
        """A document's articles in order, headings only (id, number, title, first page, unit): for
        previous / next links without loading every paragraph."""
        rows = self.db.execute("SELECT id, article_number, article_title, page_start, unit FROM articles "
                               "WHERE doc_id = ? ORDER BY seq", (doc_id,))
        return [dict(r) for r in rows]

    def facet_counts(self, ids: list[int] | None = None) -> dict[str, dict[str, int]]:
        """How many of the articles `ids` (None: all) fall under each topic, party, kind, signature
        year, paragraph strength and document."""
        args: tuple = () if ids is None else (json.dumps(list(ids)),)
        within = "" if ids is None else "WHERE a.id IN (SELECT value FROM json_each(?))"
        queries = {
            "topic": f"SELECT t.topic, COUNT(*) FROM article_topics t JOIN articles a ON a.id = t.article_id {within} "
                     "GROUP BY t.topic",
            "party": "SELECT p.party, COUNT(*) FROM articles a JOIN document_parties p ON p.doc_id = a.doc_id "
                     f"{within} GROUP BY p.party",
            "kind": f"SELECT d.kind, COUNT(*) FROM articles a JOIN documents d ON d.doc_id = a.doc_id {within} "
                    "GROUP BY d.kind",
            "year": f"SELECT substr(d.date_signed, 1, 4), COUNT(*) FROM articles a JOIN documents d "
                    f"ON d.doc_id = a.doc_id {within} GROUP BY 1",
            "strength": "SELECT c.strength, COUNT(DISTINCT c.article_id) FROM clauses c JOIN articles a "
                        f"ON a.id = c.article_id {within} GROUP BY c.strength",
            "doc": f"SELECT a.doc_id, COUNT(*) FROM articles a {within} GROUP BY a.doc_id",
        }
        return {name: {k: n for k, n in self.db.execute(sql, args) if k}
                for name, sql in queries.items()}

    def data_version(self) -> int:
        """Changes whenever another connection commits (an ingestion): a reader's cue to look again."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def topic_counts_by_document(self) -> dict[str, dict[str, int]]:
        """Articles per topic in each document: topic coverage over time on the corpus page."""
        out: dict[str, dict[str, int]] = {}
        for doc_id, topic, n in self.db.execute(
                "SELECT a.doc_id, t.topic, COUNT(*) FROM article_topics t JOIN articles a ON a.id = t.article_id "
                "GROUP BY a.doc_id, t.topic"):
            out.setdefault(doc_id, {})[topic] = n
        return out


class VectorCache:
    """Embedding vectors by text key (`<home>/embeddings.sqlite`): an unchanged text is never embedded
    twice, even after its document is re-ingested under new row ids. Derived data: losing it costs
    only time."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, timeout=60)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def get(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for chunk in _chunks(keys, 900):
            found.update(self.db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall())
        return found

    def put(self, items: dict[str, bytes]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", items.items())

    def close(self) -> None:
        self.db.close()


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _ev(items: list[Evidence]) -> str:
    return json.dumps([[e.label, e.phrase, e.start, e.end] for e in items])


def _unev(raw: str) -> list[Evidence]:
    return [Evidence(*x) for x in json.loads(raw)]


def _document(r: sqlite3.Row) -> Document:
    return Document(doc_id=r["doc_id"], path=r["path"], sha256=r["sha256"], title=r["title"], kind=r["kind"],
                    parties=json.loads(r["parties"]), date_signed=r["date_signed"], pages=r["pages"],
                    ocr=bool(r["ocr"]), short_name=r["short_name"], place_signed=r["place_signed"],
                    evidence=json.loads(r["evidence"]))
