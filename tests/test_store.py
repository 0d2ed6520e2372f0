"""pipeline/store.py: schema, idempotent upserts, replacement in one transaction."""
from __future__ import annotations

import sqlite3

import pytest

from pipeline.models import Article, Clause, Document
from pipeline.store import SCHEMA_VERSION, Store, StoreError


def _doc(sha: str, n: int = 2, doc_id: str = "agr") -> Document:
    arts = [Article(doc_id=doc_id, article_number=f"Article {i}", article_title=f"Title {i}",
                    text=f"Each Party shall protect personal data {i}.", page_start=i, page_end=i,
                    footnotes=[f"{i} A note."], clauses=[Clause(text=f"Clause {i}", page=i, number="1")])
            for i in range(1, n + 1)]
    return Document(doc_id=doc_id, path=f"/x/{doc_id}.pdf", sha256=sha, title="An Agreement", kind="FTA",
                    parties=["IND", "KOR"], date_signed="2020-01-02", pages=n, articles=arts)


def test_upsert_new_unchanged_changed(tmp_path):
    with Store(tmp_path) as store:
        assert store.upsert(_doc("a")) == "new"
        assert store.upsert(_doc("a")) == "unchanged"
        assert store.upsert(_doc("b", n=3)) == "changed"
        assert store.counts() == {"documents": 1, "articles": 3, "clauses": 3, "footnotes": 3}
        doc = store.document("agr")
        assert doc.parties == ["IND", "KOR"] and doc.articles[2].footnotes == ["3 A note."]
        assert doc.articles[0].clauses[0].text == "Clause 1"


def test_fts_follows_replacements(tmp_path):
    with Store(tmp_path) as store:
        store.upsert(_doc("a"))
        store.upsert(_doc("b", n=1))
        rows = store.db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'personal'").fetchall()
        assert len(rows) == 1


def test_failed_write_leaves_previous_version(tmp_path):
    with Store(tmp_path) as store:
        store.upsert(_doc("a"))
        bad = _doc("b", n=3)
        bad.articles[2].text = None  # NOT NULL violation half-way through the write
        with pytest.raises(sqlite3.IntegrityError):
            store.upsert(bad)
        assert store.document_sha("agr") == "a"
        assert store.counts()["articles"] == 2


def test_schema_version_and_newer_store_refused(tmp_path):
    with Store(tmp_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        store.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path)


def test_delete_cascades(tmp_path):
    with Store(tmp_path) as store:
        store.upsert(_doc("a"))
        assert store.delete("agr")
        assert store.counts() == {"documents": 0, "articles": 0, "clauses": 0, "footnotes": 0}


def test_other_parser_version_counts_as_changed(tmp_path, monkeypatch):
    import pipeline.store as store_module

    with Store(tmp_path) as store:
        assert store.upsert(_doc("a")) == "new"
        monkeypatch.setattr(store_module, "PARSER_VERSION", store_module.PARSER_VERSION + 1)
        assert store.document_sha("agr") is None  # the next ingest re-parses the same file
        assert store.upsert(_doc("a")) == "changed"
        assert store.upsert(_doc("a")) == "unchanged"


def _old_store(home) -> None:
    """A store written by schema 2."""
    from pipeline.store import MIGRATIONS, _statements

    home.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(home / "clausebank.sqlite")
    for v in (1, 2):
        for statement in _statements(MIGRATIONS[v]):
            old.execute(statement)
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.close()


def test_topic_and_party_tables_follow_upserts_and_migrate_from_v2(tmp_path):
    def rows(store, sql):
        return [tuple(r) for r in store.db.execute(sql)]

    doc = _doc("a")
    doc.articles[0].topics = ["privacy", "data_flows"]
    with Store(tmp_path / "new") as store:
        store.upsert(doc)
        assert rows(store, "SELECT topic FROM article_topics ORDER BY topic") == [("data_flows",), ("privacy",)]
        store.upsert(_doc("b", n=1))  # replaced: the old rows go with the old articles
        assert store.db.execute("SELECT COUNT(*) FROM article_topics").fetchone()[0] == 0
        assert rows(store, "SELECT party FROM document_parties ORDER BY party") == [("IND",), ("KOR",)]
    # a store written by schema 2 gains the tables, filled from the JSON columns, on open
    _old_store(tmp_path)
    old = sqlite3.connect(tmp_path / "clausebank.sqlite")
    old.execute("INSERT INTO documents (doc_id, sha256, path, parties, ingested_at) "
                "VALUES ('d', 's', '/d.pdf', '[\"JPN\"]', 'now')")
    old.execute("INSERT INTO articles (doc_id, seq, text, page_start, page_end, topics) "
                "VALUES ('d', 0, 'x', 1, 1, '[\"it_mobility\"]')")
    old.commit()
    old.close()
    with Store(tmp_path) as store:
        assert rows(store, "SELECT topic FROM article_topics") == [("it_mobility",)]
        assert rows(store, "SELECT doc_id, party FROM document_parties") == [("d", "JPN")]


def test_stores_opened_together_migrate_once(tmp_path):
    """The nightly flow and a reader can open an old store at the same moment: each must see the other's
    migration once it holds the write lock, not apply it again ("duplicate column"). The race is timing-
    bound, so it is run on several stores."""
    import threading

    errors = []

    def open_store(home, start):
        start.wait()
        try:
            with Store(home) as store:
                store.counts()
        except Exception as exc:  # noqa: BLE001 - any failure to open is the bug
            errors.append(exc)

    for round_no in range(5):
        home = tmp_path / str(round_no)
        _old_store(home)
        start = threading.Barrier(4)
        threads = [threading.Thread(target=open_store, args=(home, start)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with Store(home) as store:
            assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert errors == []


def test_query_api_finds_filters_and_ranks(tmp_path):
    from pipeline.models import Filters

    doc = _doc("a", n=3)
    doc.articles[1].topics = ["privacy"]
    doc.articles[2].article_number = "ARTICLE 3:"
    with Store(tmp_path) as store:
        store.upsert(doc)
        assert [a.article_title for a in store.find_articles("agr", "Article 3")] == ["Title 3"]
        assert [a.article_title for a in store.find_articles("agr", "3")] == ["Title 3"]
        assert store.find_articles("agr", "13") == [] and store.find_articles("nope", "1") == []
        ids = store.article_ids()
        arts = store.articles_by_id(ids)
        assert [arts[i].article_title for i in ids] == ["Title 1", "Title 2", "Title 3"]
        assert arts[ids[0]].clauses[0].id is not None and arts[ids[0]].footnotes == ["1 A note."]
        assert store.filtered_article_ids(Filters(topic="privacy")) == [ids[1]]
        assert store.filtered_article_ids(Filters(), party_code="KOR") == ids
        assert store.filtered_article_ids(Filters(), party_code="JPN") == []
        assert store.filtered_article_ids(Filters(year_from=2021)) == []
        assert store.bm25(["protect"], limit=10) and store.bm25(["Title"], "article_title chapter_title")
        assert store.ids_with_topics({"privacy"}, ids) == {ids[1]}
        assert store.document_summaries() == [{
            "doc": "agr", "title": "An Agreement", "short_name": "", "kind": "FTA", "parties": ["IND", "KOR"],
            "date_signed": "2020-01-02", "place_signed": "", "pages": 3, "articles": 3}]


def test_readonly_store_reads_and_refuses_writes(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path, readonly=True)
    with Store(tmp_path) as store:
        store.upsert(_doc("a"))
    with Store(tmp_path, readonly=True) as reader:
        assert reader.counts()["articles"] == 2
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.upsert(_doc("b"))


def test_damaged_store_file_is_refused_not_overwritten(tmp_path):
    (tmp_path / "clausebank.sqlite").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store(tmp_path)
    assert (tmp_path / "clausebank.sqlite").read_bytes().startswith(b"this is not")


def test_sqlite_memory_statistics_are_off_before_the_first_connection(tmp_path):
    """SQLite's memory statistics take a process-wide mutex on every allocation (Debian's build has no
    lookaside): store.py turns them off before sqlite3 starts the library, so readers in several
    threads run side by side. Checked in a fresh interpreter, where store.py comes first."""
    import subprocess
    import sys

    code = ("import ctypes, ctypes.util, pipeline.store as s\n"
            f"st = s.Store({str(tmp_path)!r}); st.counts()\n"
            "lib = ctypes.CDLL(ctypes.util.find_library('sqlite3')); lib.sqlite3_memory_used.restype = ctypes.c_int64\n"
            "print(s.SQLITE_MEMORY_UNTRACKED, lib.sqlite3_memory_used())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "0"]  # with the statistics on, SQLite counts the bytes it holds
