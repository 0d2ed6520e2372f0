"""pipeline/compose.py: the position paper DOCX, opened again with python-docx and checked."""
from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from pipeline.compose import MARKING, BriefError, compose_paper, load_brief
from pipeline.ingest import ingest
from pipeline.search import Searcher
from pipeline.store import Store

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BRIEF = Path(__file__).resolve().parent.parent / "corpus" / "briefs" / "india_korea_digital.toml"


@pytest.fixture(scope="module")
def paper(tmp_path_factory, corpus_dir) -> Path:
    home = tmp_path_factory.mktemp("home")
    ingest(home, [corpus_dir / f"{s}.pdf" for s in ("india_korea_digital_fta", "india_australia_ceca",
                                                     "singapore_uae_epa", "india_uae_ict_mou")])
    with Store(home) as store:
        return compose_paper(load_brief(BRIEF), Searcher(store), home / "paper.docx")


def test_sections_tables_and_styles(paper):
    d = docx.Document(str(paper))
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert headings[:2] == ["Contents", "Executive summary"]
    for name in ("Cross-border data flows", "Data localisation", "Privacy and personal data protection",
                 "Mobility of IT professionals", "Annex: cited articles"):
        assert name in headings
    sub = [p.text for p in d.paragraphs if p.style.name == "Heading 2"]
    assert {"Our position", "Partner's track record", "Precedents", "Suggested language"} <= set(sub)
    assert len(d.tables) == 4 and all(t.style.name == "Table Grid" for t in d.tables)
    assert [c.text for c in d.tables[0].rows[0].cells] == ["Agreement", "Year", "Article", "Strength", "Exceptions",
                                                           "Key language"]
    assert len(d.tables[0].rows) > 1
    assert any(p.style.name == "List Number" for p in d.paragraphs)
    assert d.sections[0].header.paragraphs[0].text == MARKING


def test_real_footnotes(paper):
    z = zipfile.ZipFile(paper)
    notes = etree.fromstring(z.read("word/footnotes.xml"))
    body = etree.fromstring(z.read("word/document.xml"))
    ids = [int(n.get(f"{W}id")) for n in notes.iter(f"{W}footnote")]
    types = [n.get(f"{W}type") for n in notes.iter(f"{W}footnote")][:2]
    assert ids[:2] == [-1, 0] and types == ["separator", "continuationSeparator"]
    refs = [int(r.get(f"{W}id")) for r in body.iter(f"{W}footnoteReference")]
    assert refs and sorted(refs) == ids[2:], "every reference has its note, ids unique"
    texts = ["".join(t.text or "" for t in n.iter(f"{W}t")) for n in notes.iter(f"{W}footnote")][2:]
    assert all(", p. " in t for t in texts)
    rels = z.read("word/_rels/document.xml.rels").decode()
    assert "relationships/footnotes" in rels
    assert "footnotes+xml" in z.read("[Content_Types].xml").decode()
    settings = z.read("word/settings.xml").decode()
    assert "updateFields" in settings
    assert "TOC" in z.read("word/document.xml").decode()


def test_bad_briefs(tmp_path):
    bad = tmp_path / "b.toml"
    bad.write_text('title="t"\nnegotiation="n"\npartners=["Atlantis"]\ntopics=["privacy"]\n')
    with pytest.raises(BriefError, match="unknown partner 'Atlantis'"):
        load_brief(bad)
    bad.write_text('title="t"\nnegotiation="n"\npartners=["KOR"]\ntopics=["telepathy"]\n')
    with pytest.raises(BriefError, match="unknown topic 'telepathy'"):
        load_brief(bad)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_converts_with_footnotes(paper, tmp_path):
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(paper)],
                   check=True, capture_output=True, timeout=240)
    pdf = tmp_path / "paper.pdf"
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        foot_notes = 0
        for page in doc.pages:
            foot = page.crop((0, page.height * 0.6, page.width, page.height)).extract_text() or ""
            foot_notes += sum(1 for ln in foot.splitlines() if ", Art. " in ln or ", p. " in ln)
            assert MARKING in (page.extract_text() or ""), "marking on every page"
        assert foot_notes >= 5, "footnote citations at the page foot"


def test_exports_csv_docx_and_basket(paper, tmp_path):
    import csv

    from pipeline.compose import basket_hits, export_hits

    home = paper.parent
    with Store(home) as store:
        hits = Searcher(store).search("location of computing facilities", top=4)
        rows = list(csv.DictReader(export_hits(hits, tmp_path / "hits.csv").open()))
        assert len(rows) == 4 and rows[0]["citation"] == hits[0].citation and rows[0]["text"]
        out = export_hits(hits, tmp_path / "hits.docx", title="Search")
        assert len(docx.Document(str(out)).tables[0].rows) == 5
        basket = tmp_path / "basket.txt"
        basket.write_text("india_korea_digital_fta 12.13  # transfers\nindia_australia_ceca Article 10.5\n")
        chosen = basket_hits(store, basket)
        assert [h.article_number for h in chosen] == ["Article 12.13", "Article 10.5"]
        basket.write_text("india_korea_digital_fta 99.9\n")
        with pytest.raises(BriefError, match="no article '99.9'"):
            basket_hits(store, basket)
        with pytest.raises(ValueError, match="export as .csv or .docx"):
            export_hits(hits, tmp_path / "hits.txt")
