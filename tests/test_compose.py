"""pipeline/compose.py: what a paper says (`gather_paper`, checked without a DOCX) and how it reads (the DOCX
opened again with python-docx, and its PDF from LibreOffice)."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from lxml import etree

from pipeline.compose import (MARKING, PRECEDENT_COLUMNS, TEXT_WIDTH_CM, TOPIC_NAMES, BriefError, PaperData,
                              agreement_name, gather_paper, load_brief, record_line, render_paper)
from pipeline.ingest import ingest
from pipeline.models import Filters, Hit
from pipeline.search import Searcher
from pipeline.store import Store

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BRIEF = Path(__file__).resolve().parent.parent / "corpus" / "briefs" / "india_korea_digital.toml"
SECTIONS = ["Our position", "Partner's track record", "Precedents", "Suggested language"]
EMU_PER_CM = 360000


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_dir) -> Path:
    home = tmp_path_factory.mktemp("home")
    ingest(home, [corpus_dir / f"{s}.pdf" for s in ("india_korea_digital_fta", "india_australia_ceca",
                                                     "singapore_uae_epa", "india_uae_ict_mou")])
    return home


@pytest.fixture(scope="module")
def data(home) -> PaperData:
    with Store(home) as store:
        return gather_paper(load_brief(BRIEF), Searcher(store), store, today=date(2026, 1, 15))


@pytest.fixture(scope="module")
def paper(home, data) -> Path:
    return render_paper(data, home / "paper.docx")


def _body_headings(d) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]


def _toc_entries(path: Path) -> tuple[str, list[str]]:
    """The TOC field's instruction and the texts of the paragraphs of its stored result."""
    body = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml")).find(f"{W}body")
    instr, entries, inside = "", [], False
    for p in body.iter(f"{W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{W}instrText"))
        if " TOC " in text:
            instr, inside = text, True
        if inside:
            entries.append("".join(t.text or "" for t in p.iter(f"{W}t")))
            if any(f.get(f"{W}fldCharType") == "end" for f in p.iter(f"{W}fldChar")):
                break
    return instr, entries


# ------------------------------------------------------------------ gather: no DOCX


def test_gather_real_store(data):
    """Each topic: precedents on that topic, each article once; the partner's own agreements; model
    paragraphs of the wanted strength."""
    assert [t.topic for t in data.topics] == ["data_flows", "data_localisation", "privacy", "it_mobility"]
    for t in data.topics:
        keys = [p.key for p in t.precedents]
        assert t.precedents and len(keys) == len(set(keys)), f"{t.topic}: a precedent listed twice"
        assert all(t.topic in p.hit.topics for p in t.precedents)
        assert all("KOR" in r.hit.parties for r in t.partner_record)
        assert len({r.key for r in t.partner_record}) == len(t.partner_record)
        binding = t.models.get("binding")
        assert binding is not None and re.search(r"\bshall\b", binding.language), t.topic
    annex = data.annex()
    assert len({p.key for p in annex}) == len(annex)
    cited = {p.key for t in data.topics for p in [*t.precedents, *t.partner_record, *t.models.values()]}
    assert {p.key for p in annex} == cited


def test_partner_record_names_agreement_year_article_strength(data):
    flows = next(t for t in data.topics if t.topic == "data_flows")
    record = next(r for r in flows.partner_record if r.hit.article_number == "Article 12.13")
    assert record.agreement == "India–Korea DTEPA"
    assert record_line(record) == (
        f"India–Korea DTEPA ({record.hit.year}), Art. 12.13 Cross-Border Transfer of Information by Electronic "
        "Means — binding; exception: legitimate public policy objective (para.\u00a03)")
    assert record.hit.year == "2023"


def _hit(doc: str, number: str, title: str, strength: str, parties: list[str], score: float, **kw) -> Hit:
    return Hit(doc_id=doc, article_number=number, article_title=title, citation=f"{doc}, {number}, p. 3",
               score=score, strength=strength, parties=parties, date_signed="2021-05-01", topics=["privacy"],
               doc_title=kw.pop("doc_title", f"Agreement {doc}"), clause_text=kw.pop("clause_text", f"{title} text."),
               **kw)


class FakeSearcher:
    """Answers like `Searcher.search` from hits we write: the same article comes back for several
    queries (with other scores), filters by party and strength as the real one does."""

    def __init__(self, hits: list[Hit]):
        self.hits, self.calls = hits, []

    def search(self, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]:
        f = filters or Filters()
        self.calls.append((query, f))
        found = [h for h in self.hits if (not f.party or f.party in h.parties)
                 and (not f.strength or h.strength == f.strength)]
        return [Hit(**{**vars(h), "score": h.score + len(self.calls)}) for h in found][:top]


def test_gather_with_a_fake_searcher_dedupes_and_needs_no_store(tmp_path):
    hits = [_hit("a_b_fta", "Article 7", "Personal Information Protection", "binding", ["AAA", "KOR"], 0.9,
                 exceptions=["public_policy", "clarification"], short_name="Agreement a_b_fta"),
            _hit("c_d_epa", "Article 3", "Privacy Cooperation", "best_endeavour", ["CCC", "DDD"], 0.5)]
    brief = tmp_path / "b.toml"
    brief.write_text('title="t"\nnegotiation="n"\npartners=["KOR"]\ntopics=["privacy"]\n'
                     '[queries]\nprivacy=["data protection law", "privacy framework"]\n')
    searcher = FakeSearcher(hits)
    data = gather_paper(load_brief(brief), searcher, today=date(2026, 1, 1))
    (t,) = data.topics
    assert len(searcher.calls) > 3, "the extra queries and the partner search ran"
    assert [p.hit.article_number for p in t.precedents] == ["Article 7", "Article 3"], "each article once"
    assert [p.hit.article_number for p in t.partner_record] == ["Article 7"]
    assert record_line(t.partner_record[0]) == (
        "Agreement a_b_fta (2021), Art. 7 Personal Information Protection — binding; "
        "exception: legitimate public policy objective")
    assert t.models["binding"].language == "Personal Information Protection text."
    assert t.models["best_endeavour"].hit.doc_id == "c_d_epa"
    assert [p.key for p in data.annex()] == [("a_b_fta", "Article 7"), ("c_d_epa", "Article 3")]
    assert list(tmp_path.iterdir()) == [brief], "gathering writes nothing"


def test_agreement_short_names():
    korea = _hit("x", "Article 1", "T", "binding", ["IND", "KOR"], 0, doc_title=(
        "Digital Trade and Economic Partnership Agreement between the Republic of India and the Republic of Korea"))
    assert agreement_name(korea) == "India–Korea DTEPA"
    mou = _hit("y", "1", "T", "", ["IND", "ARE"], 0, kind="MoU", doc_title=(
        "Memorandum of Understanding between the Ministry of Electronics of India and the Ministry of Economy"))
    assert agreement_name(mou) == "India–UAE MoU"
    named = _hit("z", "1", "T", "", ["IND", "ARE"], 0, short_name="India–UAE CEPA")
    assert agreement_name(named) == "India–UAE CEPA"


# ------------------------------------------------------------------ render: the DOCX


def test_sections_tables_and_styles(paper, data):
    d = docx.Document(str(paper))
    h1 = [text for style, text in _body_headings(d) if style == "Heading 1"]
    assert h1 == ["Executive summary", "Partner record", *(t.title for t in data.topics), "Annex: cited articles"]
    assert [p.text for p in d.paragraphs if p.style.name == "TOC Heading"] == ["Contents"]
    h2 = [text for style, text in _body_headings(d) if style == "Heading 2"]
    assert h2 == ["Korea (KOR)"] + SECTIONS * len(data.topics)
    assert len(d.tables) == 1 + 4 and all(t.style.name == "Table Grid" for t in d.tables)
    assert [c.text for c in d.tables[1].rows[0].cells] == list(PRECEDENT_COLUMNS)
    assert any(p.style.name == "List Bullet" for p in d.paragraphs)
    assert d.sections[0].header.paragraphs[0].text == MARKING


def test_toc_lists_topics_and_sections_only(paper, data):
    instr, entries = _toc_entries(paper)
    assert '\\o "1-2"' in instr
    allowed = {"Executive summary", "Partner record", "Korea (KOR)", "Annex: cited articles",
               *TOPIC_NAMES.values(), *SECTIONS}
    assert set(entries) <= allowed, set(entries) - allowed
    assert len(entries) == 4 + len(data.topics) * (1 + len(SECTIONS))
    d = docx.Document(str(paper))
    annex = [text for style, text in _body_headings(d) if re.match(r"A\d+\. ", text)]
    assert len(annex) == len(data.annex()) > 10
    assert all(style == "Heading 3" for style, text in _body_headings(d) if text in annex), \
        "annex entries sit below the TOC's levels"


def _table_rows(table) -> tuple[list[list[str]], list]:
    """Metadata rows (as cell texts) and key-language rows (as `w:tc` elements) of a precedents table."""
    rows = table.rows[1:]
    return [[c.text for c in r.cells] for r in rows[0::2]], [r._tr.tc_lst for r in rows[1::2]]


def test_each_precedent_once_per_table_and_once_in_annex(paper, data):
    d = docx.Document(str(paper))
    for table, topic in zip(d.tables[1:], data.topics):
        meta, _ = _table_rows(table)
        pairs = [(m[0], m[2]) for m in meta]
        assert len(pairs) == len(set(pairs)) == len(topic.precedents), topic.topic
    annex = [p.text for p in d.paragraphs if re.match(r"A\d+\. ", p.text)]
    assert len(annex) == len({a.split(". ", 1)[1] for a in annex})


def test_key_language_is_whole_and_full_width(paper, data):
    d = docx.Document(str(paper))
    grid = [int(c.get(f"{W}w")) for c in d.tables[1]._tbl.tblGrid.iter(f"{W}gridCol")]
    assert sum(grid) / 567 >= TEXT_WIDTH_CM - 0.1  # twips per cm
    for table, topic in zip(d.tables[1:], data.topics):
        _, language_rows = _table_rows(table)
        assert len(language_rows) == len(topic.precedents)
        for tcs, p in zip(language_rows, topic.precedents):
            assert len(tcs) == 1 and tcs[0].grid_span == len(PRECEDENT_COLUMNS), "one cell across the table"
            assert tcs[0].width / EMU_PER_CM >= 15
            text = "".join(t.text for t in tcs[0].iter(f"{W}t"))
            assert text == f"Key language: “{p.hit.clause_text}”", "the paragraph quoted whole"


def test_partner_record_in_the_paper(paper, data):
    d = docx.Document(str(paper))
    bullets = [p.text for p in d.paragraphs if p.style.name == "List Bullet"]
    for t in data.topics:
        for r in t.partner_record:
            assert record_line(r) in bullets
    assert any(re.fullmatch(r"India–Korea DTEPA \(2023\), Art\. 12\.14 Location of Computing Facilities — binding"
                            r"; exception: legitimate public policy objective \(para\.\s3\)", b) for b in bullets)


def test_partner_matrix_in_the_paper(paper, data, home):
    """The brief names KOR: a table of its agreements against the brief's topics, from pipeline.matrix,
    each cell's strongest commitment footnoted with the article that makes it."""
    from pipeline.matrix import agreement_rows

    d = docx.Document(str(paper))
    table = d.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Agreement", "Year", *(t.title for t in data.topics)]
    with Store(home) as store:
        rows = agreement_rows(store, "KOR", tuple(t.topic for t in data.topics))
    assert [[c.text for c in r.cells[:2]] for r in table.rows[1:]] == [[r.name, r.year] for r in rows]
    assert rows[0].name == "India–Korea DTEPA" and rows[0].cells["data_flows"].strength == "binding"
    notes = {n.get(f"{W}id"): "".join(t.text or "" for t in n.iter(f"{W}t"))
             for n in etree.fromstring(zipfile.ZipFile(paper).read("word/footnotes.xml")).iter(f"{W}footnote")}
    for tr, row in zip(table.rows[1:], rows):
        for cell, t in zip(tr.cells[2:], data.topics):
            c = row.cells[t.topic]
            assert cell.text.startswith(c.strength.replace("_", " ")) and cell.text.endswith("†") == c.exception
            refs = [r.get(f"{W}id") for r in cell._tc.iter(f"{W}footnoteReference")]
            assert [notes[i].strip() for i in refs] == ([c.citation + "."] if c.citation else [])


def test_real_footnotes(paper, data):
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
    matrix_cells = sum(bool(c.citation) for rows in data.matrices.values() for r in rows for c in r.cells.values())
    assert matrix_cells >= 3
    assert sum(bool(re.search(r"text in Annex, A\d+\.$", t)) for t in texts) == len(texts) - matrix_cells
    # one footnote per article in the summary and in each topic, one per cited matrix cell
    per_part = [{t.precedents[0].key for t in data.topics if t.precedents}]
    per_part += [{p.key for p in [*t.partner_record, *t.precedents, *t.models.values()]} for t in data.topics]
    assert len(refs) == sum(map(len, per_part)) + matrix_cells
    rels = z.read("word/_rels/document.xml.rels").decode()
    assert "relationships/footnotes" in rels
    assert "footnotes+xml" in z.read("[Content_Types].xml").decode()
    assert "updateFields" in z.read("word/settings.xml").decode()


def test_bad_briefs(tmp_path):
    bad = tmp_path / "b.toml"
    bad.write_text('title="t"\nnegotiation="n"\npartners=["Atlantis"]\ntopics=["privacy"]\n')
    with pytest.raises(BriefError, match="unknown partner 'Atlantis'"):
        load_brief(bad)
    bad.write_text('title="t"\nnegotiation="n"\npartners=["KOR"]\ntopics=["telepathy"]\n')
    with pytest.raises(BriefError, match="unknown topic 'telepathy'"):
        load_brief(bad)


# ------------------------------------------------------------------ the pages, as LibreOffice prints them


@pytest.fixture(scope="module")
def pdf(paper, tmp_path_factory) -> Path:
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed: `apt-get install libreoffice-writer-nogui` "
                    "to check the paper's pages")
    out = tmp_path_factory.mktemp("pdf")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(paper)],
                   check=True, capture_output=True, timeout=240)
    return out / "paper.pdf"


def test_pdf_pages_marking_footnotes_contents(pdf, data):
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        texts = [page.extract_text() or "" for page in doc.pages]
        foot_notes = 0
        for page in doc.pages:
            foot = page.crop((0, page.height * 0.6, page.width, page.height)).extract_text() or ""
            foot_notes += sum(1 for ln in foot.splitlines() if ", Art. " in ln or ", p. " in ln)
        assert foot_notes >= 5, "footnote citations at the page foot"
    assert all(MARKING in t and re.search(rf"Page {n} of {len(texts)}", t) for n, t in enumerate(texts, 1))
    contents = next(n for n, t in enumerate(texts) if t.splitlines()[1:2] == ["Contents"])
    assert all(t.title in texts[contents] for t in data.topics)
    assert not re.search(r"^A\d+\. ", texts[contents], re.M), "no annex entries in the contents"
    assert texts[contents + 1].splitlines()[1] == "Executive summary", "the contents fit one page"


def test_pdf_nothing_crosses_the_margins(pdf):
    import pdfplumber

    from pipeline.compose import MARGIN_CM

    margin = MARGIN_CM / 2.54 * 72
    with pdfplumber.open(pdf) as doc:
        for n, page in enumerate(doc.pages, 1):
            xs = [c["x0"] for c in page.chars] + [c["x1"] for c in page.chars]
            xs += [r["x0"] for r in page.rects] + [r["x1"] for r in page.rects]
            assert min(xs) >= margin - 8 and max(xs) <= page.width - margin + 8, f"page {n}"


def test_exports_csv_docx_and_basket(home, tmp_path):
    import csv

    from pipeline.compose import basket_hits, export_hits

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
