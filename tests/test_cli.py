"""clausebank/cli.py and pipeline/ingest.py end to end on real files, good and bad."""
from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from clausebank.cli import app
from pipeline.store import Store
from tests import pdfs

runner = CliRunner()


@pytest.fixture()
def mixed_folder(tmp_path, corpus_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    for stem in ("india_korea_digital_fta", "india_uae_ict_mou"):
        shutil.copy(corpus_dir / f"{stem}.pdf", folder)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "notes.pdf").write_text("these are meeting notes, not a PDF")
    good = (corpus_dir / "india_japan_it_mobility_moc.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(good[: len(good) // 3])
    pdfs.simple_treaty(folder / "locked.pdf", [[("body", "Secret.")]], encrypt="pw")
    pdfs.many_pages(folder / "huge.pdf", 2000)
    return folder


def _run(*args):
    return runner.invoke(app, list(args))


def test_ingest_mixed_folder(tmp_path, mixed_folder):
    home = tmp_path / "home"
    result = _run("--home", str(home), "ingest", "--workers", "2", "--no-ocr", str(mixed_folder))
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    reasons = {"empty.pdf": "empty file", "notes.pdf": "not a PDF", "truncated.pdf": "corrupt",
               "locked.pdf": "password-protected", "huge.pdf": "exceeds the limit"}
    for name, reason in reasons.items():
        assert any(name in ln and reason in ln for ln in errors), (name, errors)
    assert "2 new" in result.stderr and "5 failed" in result.stderr
    with Store(home) as store:
        assert {d.doc_id for d in store.documents()} == {"india_korea_digital_fta", "india_uae_ict_mou"}


def test_reingest_is_noop_and_bad_file_changes_nothing(tmp_path, corpus_dir):
    home = tmp_path / "home"
    src = tmp_path / "agr.pdf"
    shutil.copy(corpus_dir / "india_uae_ict_mou.pdf", src)
    assert _run("--home", str(home), "ingest", str(src)).exit_code == 0
    before = Store(home).counts()
    again = _run("--home", str(home), "ingest", str(src))
    assert again.exit_code == 0 and "1 unchanged" in again.stderr
    src.write_bytes(src.read_bytes()[:500])  # the same document, now broken
    broken = _run("--home", str(home), "ingest", str(src))
    assert broken.exit_code == 1 and "agr.pdf" in broken.stderr
    with Store(home) as store:
        assert store.counts() == before
        assert store.document("agr").articles


def test_changed_file_replaces_old_version(tmp_path, corpus_dir):
    home = tmp_path / "home"
    src = tmp_path / "agr.pdf"
    shutil.copy(corpus_dir / "india_uae_ict_mou.pdf", src)
    _run("--home", str(home), "ingest", str(src))
    shutil.copy(corpus_dir / "india_japan_it_mobility_moc.pdf", src)
    result = _run("--home", str(home), "ingest", str(src))
    assert "1 changed" in result.stderr
    with Store(home) as store:
        doc = store.document("agr")
        assert store.counts()["documents"] == 1
        assert doc.parties == ["IND", "JPN"] or set(doc.parties) == {"IND", "JPN"}


def test_articles_jsonl_is_clean_stdout(tmp_path, corpus_dir):
    home = tmp_path / "home"
    _run("--home", str(home), "ingest", str(corpus_dir / "india_korea_digital_fta.pdf"))
    result = _run("--home", str(home), "articles", "--jsonl")
    assert result.exit_code == 0
    records = [json.loads(ln) for ln in result.stdout.splitlines()]
    numbered = [r for r in records if r["article_number"]]
    assert len(numbered) >= 30
    assert set(records[0]) >= {"doc", "chapter_number", "chapter_title", "article_number", "article_title",
                               "text", "page_start", "page_end", "footnotes", "topics"}
    assert any(r["footnotes"] for r in records)


def test_show_article_with_citation(tmp_path, corpus_dir):
    home = tmp_path / "home"
    _run("--home", str(home), "ingest", str(corpus_dir / "india_korea_digital_fta.pdf"))
    result = _run("--home", str(home), "show", "india_korea_digital_fta", "12.2")
    assert result.exit_code == 0, result.output
    assert "Art. 12.2, p." in result.stdout
    missing = _run("--home", str(home), "show", "no_such_doc")
    assert missing.exit_code == 2 and "no document 'no_such_doc'" in missing.stderr


def test_help_teaches():
    result = _run("--help")
    assert result.exit_code == 0
    for cmd in ("ingest", "articles", "show"):
        assert cmd in result.stdout


def test_search_json_and_batch(tmp_path, corpus_dir):
    home = tmp_path / "home"
    ingest = _run("--home", str(home), "ingest", str(corpus_dir / "india_korea_digital_fta.pdf"))
    assert ingest.exit_code == 0 and "search index:" in ingest.stderr
    result = _run("--home", str(home), "search", "location of computing facilities", "--top", "3", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and "Computing Facilities" in hits[0]["article_title"]
    assert hits[0]["citation"].endswith(f"p. {hits[0]['page']}")
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps([{"qid": "q1", "text": "business visitors", "filters": {"party": "KOR"}},
                                   {"qid": "q2", "text": "business visitors", "filters": {"party": "JPN"}}]))
    batch = _run("--home", str(home), "search", "--queries", str(queries), "--jsonl")
    lines = [json.loads(ln) for ln in batch.stdout.splitlines()]
    assert [ln["qid"] for ln in lines] == ["q1", "q2"]
    assert len(lines[0]["hits"]) >= 10 and lines[1]["hits"] == []
    usage = _run("--home", str(home), "search")
    assert usage.exit_code == 2


def test_search_during_an_ingestion_uses_the_saved_index(tmp_path, corpus_dir):
    from pipeline.ingest import parse_pdf
    from pipeline.lock import writer_lock

    home = tmp_path / "home"
    assert _run("--home", str(home), "ingest", str(corpus_dir / "india_korea_digital_fta.pdf")).exit_code == 0
    saved = {f: (home / f).stat().st_mtime_ns for f in ("articles.faiss", "headings.faiss")}
    with writer_lock(home):  # an ingestion is running: it has stored a document but not indexed it yet
        with Store(home) as store:
            store.upsert(parse_pdf(corpus_dir / "india_japan_it_mobility_moc.pdf"))
        busy = _run("--home", str(home), "ingest", str(corpus_dir / "india_uae_ict_mou.pdf"))
        assert busy.exit_code == 2 and "another ingestion is running" in busy.stderr
        result = _run("--home", str(home), "search", "temporary entry of business visitors", "--json")
        assert result.exit_code == 0, result.output
        assert "an ingestion is running" in result.stderr
        assert "india_korea_digital_fta" in {h["doc_id"] for h in json.loads(result.stdout)}
        new = _run("--home", str(home), "search", "information technology professionals", "--json",
                   "--doc", "india_japan_it_mobility_moc")
        assert new.exit_code == 0 and json.loads(new.stdout)  # not in the saved index: found by FTS5
        assert {f: (home / f).stat().st_mtime_ns for f in saved} == saved  # the search wrote nothing
    after = _run("--home", str(home), "search", "temporary entry of business visitors", "--json")
    assert after.exit_code == 0 and "rebuilding from the store" in after.stderr
