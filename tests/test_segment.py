"""pipeline/segment.py against the sample corpus's expected structure (corpus/expected/*.json)."""
from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from pipeline.extract import extract_pages, ocr_available
from pipeline.models import Page
from pipeline.segment import (ARTICLE, BODY, SECTION, TITLE, TOC, classify_lines, heading_case, segment_document,
                              split_clauses)
from pipeline.textutil import join_lines

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TEXT_STEMS = sorted(p.stem for p in (CORPUS / "expected").glob("*.json") if not p.stem.startswith("scanned"))


def words(s: str) -> list[str]:
    return re.findall(r"\w+", (s or "").lower())


def num_key(n: str) -> str:
    return re.sub(r"^(article|section|paragraph)[:.]?\s*", "", (n or "").strip().lower())


def _segment(stem: str):
    pages = extract_pages(CORPUS / f"{stem}.pdf")
    return segment_document(stem, pages)


@pytest.fixture(scope="module")
def segmented() -> dict:
    return {stem: _segment(stem) for stem in TEXT_STEMS}


@pytest.mark.parametrize("stem", TEXT_STEMS)
def test_articles_match_expected(segmented, stem):
    expected = json.loads((CORPUS / "expected" / f"{stem}.json").read_text())["articles"]
    got = {num_key(a.article_number): a for a in segmented[stem] if a.article_number}
    assert [num_key(e["article_number"]) for e in expected] == list(got), "article numbers in order"
    for e in expected:
        a = got[num_key(e["article_number"])]
        assert words(a.article_title) == words(e["article_title"]), e["article_number"]
        assert a.page_start == e["page_start"], e["article_number"]
        assert a.page_end == e["page_end"], e["article_number"]
        sim = SequenceMatcher(None, words(e["text"]), words(a.text), autojunk=False).ratio()
        assert sim >= 0.98, (e["article_number"], a.text[:200])
        want_notes = [f"{n} {t}" for n, t in zip(e["footnote_numbers"], e["footnotes"])]
        assert [words(f) for f in a.footnotes] == [words(f) for f in want_notes], e["article_number"]


def test_chapters_are_numbered_and_titled(segmented):
    arts = segmented["india_australia_ceca"]  # EU style: `CHAPTER TEN` + title on the next line
    chapters = {(a.chapter_number, a.chapter_title) for a in arts if a.article_number}
    assert all(num.startswith("Chapter ") and num.split()[1].isdigit() for num, _ in chapters), chapters
    assert all(title and not title.isupper() for _, title in chapters), chapters


def test_footnote_markers_removed_from_body(segmented):
    glued = re.compile(r"[A-Za-z]{3,}\d{1,2}\b")  # `Scope2`: a marker left in the text
    for stem, arts in segmented.items():
        for a in arts:
            assert not glued.search(a.text) and not glued.search(a.article_title), (stem, a.article_number)


def test_sentence_across_page_break_is_whole(segmented):
    spanning = [a for arts in segmented.values() for a in arts if a.page_end > a.page_start]
    assert spanning, "the corpus has articles that cross a page"
    for a in spanning:
        assert "  " not in a.text
        assert not re.search(r"\b(EN|Page) \d+\b", a.text), (a.article_number, a.text)


def test_heading_case():
    assert heading_case("TRADE IN GOODS") == "Trade in Goods"
    assert heading_case("ASEAN-AUSTRALIA-NEW ZEALAND FREE TRADE AREA") == "ASEAN-Australia-New Zealand Free Trade Area"
    assert heading_case("Already Cased") == "Already Cased"


def test_hyphenation_repair():
    assert join_lines(["the elec-", "tronic transmission"]) == "the electronic transmission"
    assert join_lines(["a cross-", "border transfer"]) == "a cross-border transfer"
    assert join_lines(["ends here.", "Next line"]) == "ends here. Next line"


def test_clauses_follow_paragraph_numbers(segmented):
    art = next(a for a in segmented["india_korea_digital_fta"] if len(a.clauses) >= 3)
    assert [c.number for c in art.clauses][:3] == ["1", "2", "3"]
    assert all(c.page >= art.page_start for c in art.clauses)
    assert split_clauses([]) == []


@pytest.mark.skipif(not ocr_available(), reason="tesseract not installed")
def test_scanned_mou_segments_after_ocr():
    expected = json.loads((CORPUS / "expected" / "scanned_india_singapore_cyber_mou.json").read_text())["articles"]
    got = [a for a in _segment("scanned_india_singapore_cyber_mou") if a.article_number]
    found = {num_key(a.article_number) for a in got}
    share = sum(num_key(e["article_number"]) in found for e in expected) / len(expected)
    assert share >= 0.8, (sorted(found), [e["article_number"] for e in expected])


# ---- layouts real PDFs have (tests/data/layouts.py writes these PDFs; texts are ours)

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def layout():
    """name → (pages, units) for each PDF of tests/data/layouts.py (rebuilt when missing)."""
    from tests.data import layouts

    out = {}
    for name, build in layouts.BUILDERS.items():
        path = DATA / f"{name}.pdf"
        if not path.exists():
            build(path)
        pages = extract_pages(path)
        out[name] = (pages, segment_document(name, pages))
    return out


def _articles(units):
    return [u for u in units if u.unit == "article" and u.article_number]


def test_small_capital_headings_are_articles(layout):
    pages, units = layout["smallcaps"]
    arts = _articles(units)
    assert [a.article_number for a in arts] == [
        "Article 1.1", "Article 1.2", "Article 1.3", "Article 2.1", "Article 2.2", "Article 2.3", "Article 2.4"]
    assert arts[0].article_title == "Establishment of a Free Trade Area"
    assert arts[3].section == "Section A General" and arts[5].section == "Section B Tariffs"
    assert {(a.chapter_number, a.chapter_title) for a in arts} == {("Chapter 1", "Initial Provisions"),
                                                                    ("Chapter 2", "Trade in Goods")}
    assert arts[4].footnotes and arts[4].footnotes[0].startswith("1 For greater certainty")
    assert "paragraph two of Article 2.1." in arts[3].text


def test_classifier_reads_small_capitals_from_layout_not_bold(layout):
    pages, _ = layout["smallcaps"]
    lines, profile = classify_lines(pages)
    heading = next(c for c in lines if c.line.text.startswith("ARTICLE 1.1"))
    assert not heading.line.bold and heading.line.size < profile.body_size  # neither bold nor larger
    assert (heading.kind, heading.number, heading.space_above > 0.5 * profile.body_size) == (ARTICLE, "1.1", True)
    assert next(c for c in lines if c.line.text.startswith("Section A")).kind == SECTION
    assert next(c for c in lines if c.line.text == "INITIAL PROVISIONS").kind == TITLE
    assert all(c.kind == BODY for c in lines if c.line.text.startswith("1. Each Party"))


def test_table_of_contents_is_never_articles(layout):
    pages, units = layout["toc"]
    arts = _articles(units)
    assert [a.article_number for a in arts] == [f"Article {i}" for i in range(1, 9)]
    assert all(a.page_start >= 3 for a in arts)
    assert arts[6].article_title == "Cooperation between Authorities"
    assert not any(". . ." in u.text for u in units)
    assert not any(u.unit == "annex" for u in units)  # the list of annexes on page 2 lists, it opens none
    lines, _ = classify_lines(pages)
    assert {c.kind for c in lines if c.line.page == 1 and "Article" in c.line.text} == {TOC}
    assert {c.kind for c in lines if c.line.page == 2 and c.line.text != "LIST OF ANNEXES"} == {TOC}


def test_contents_page_without_page_numbers_is_never_articles(layout):
    _, units = layout["plaincontents"]
    arts = _articles(units)
    assert [(a.article_number, a.page_start) for a in arts] == [(f"Article {i}", 2) for i in range(1, 5)]
    assert all(a.text.strip() for a in arts)
    assert not any("Entry into Force" in u.text for u in units)  # the list is in no unit's text
    assert any(u.text.startswith("The Parties to this Protocol") for u in units)  # the preamble below it is kept


def test_bound_volume_records_each_instrument(layout):
    _, units = layout["bound"]
    arts = _articles(units)
    assert [a.article_number for a in arts] == [f"Article {i}" for i in (1, 2, 3, 4, 1, 2, 3)]
    goods = "Agreement on Trade in Goods between Arcadia and Borduria"
    services = "Agreement on Trade in Services between Arcadia and Borduria"
    assert [a.instrument for a in arts] == [goods] * 4 + [services] * 3
    assert arts[4].article_title == "Definitions" and arts[4].page_start == 2
    preambles = [u for u in units if u.chapter_title == "Preamble"]
    assert [p.instrument for p in preambles] == [goods, services]
    assert "desiring to expand trade" not in arts[3].text  # the second preamble is not Article 4's text


def test_single_agreement_has_no_instrument(layout):
    _, units = layout["smallcaps"]
    assert {u.instrument for u in units} == {""}


def test_annexes_and_appendices_are_units_of_their_own(layout):
    _, units = layout["annex"]
    last_article = _articles(units)[-1]
    assert last_article.article_number == "Article 3" and "customs data" not in last_article.text
    annexes = [u for u in units if u.unit == "annex"]
    assert [(u.chapter_number, u.article_title) for u in annexes] == [
        ("Annex 1", "Rules for the Exchange of Customs Data"),
        ("Appendix 1 to Annex 1", "Model Request Form"),
        ("Annex 2", "Schedule of Tariff Commitments of Arcadia")]
    assert "rule 3 applies to every request" in annexes[0].text
    assert [c.number for c in annexes[0].clauses] == ["1", "2", "3"]


def test_tariff_schedule_is_one_table_with_its_pages(layout):
    _, units = layout["annex"]
    tables = [u for u in units if u.unit == "table"]
    assert len(tables) == 1
    table = tables[0]
    assert (table.page_start, table.page_end) == (2, 3)
    assert table.article_title == "Schedule of Tariff Commitments of Arcadia" and table.chapter_number == "Annex 2"
    rows = table.text.splitlines()
    assert len(rows) == 2 + 25 and rows[1] == "1 0101.10 | Live horses | 6%"
    assert not any(u.article_title in ("No.", "HS CODE", "DESCRIPTION", "BASE RATE") for u in units)


def test_ligatures_and_split_words_repaired(layout):
    _, units = layout["textlayer"]
    text = _articles(units)[1].text
    assert "all financial measures and the flow of goods under their economic partnership" in text
    assert "ﬁ" not in text and "econo mic" not in text


def test_split_word_repair_keeps_two_real_words():
    from pipeline.extract import repair_split_words
    from pipeline.models import Line

    texts = ["information in formation economic", "econo mic ties in information", "economic formation",
             "a real space in infor mation"]
    page = Page(number=1, width=600, height=800,
                lines=[Line(t, 1, 0, 100, i * 12, i * 12 + 10, 10, markers=[(len(t), "4")]) for i, t in enumerate(texts)])
    # the first three lines' spaces are gaps the extractor filled in; the last line's split is a real space
    gaps = {id(ln): [k for k, ch in enumerate(ln.text) if ch == " "] for ln in page.lines[:3]}
    gaps[id(page.lines[3])] = [1]  # `a real`: a gap; `infor mation`: a space character
    repair_split_words([page], gaps)
    assert [ln.text for ln in page.lines] == [
        "information in formation economic", "economic ties in information", "economic formation",
        "a real space in infor mation"]
    assert page.lines[1].markers == [(len(page.lines[1].text), "4")]  # marker offsets follow the text


def test_footnote_number_glued_to_title(layout):
    _, units = layout["glued"]
    arts = _articles(units)
    assert [a.article_title for a in arts] == ["Scope", "National Treatment", "Transparency"]
    assert arts[1].footnotes == ["7 For greater certainty, national treatment covers regional levels of government."]
    assert arts[2].footnotes == []


def test_wrapped_cross_references_stay_body_text(layout):
    _, units = layout["wrapped"]
    arts = _articles(units)
    assert [(a.chapter_number, a.article_number) for a in arts] == [
        ("Chapter 1", "Article 1"), ("Chapter 1", "Article 2"), ("Chapter 1", "Article 3"), ("Chapter 2", "Article 4")]
    assert "set out in Article 3 Transparency, in Chapter 2 Trade in Goods and in the Annexes" in arts[0].text
    assert "obligations of Chapter 2 Trade in Goods and Chapter 3 Rules of Origin, and report its" in arts[1].text


def test_table_under_repeated_bold_header_is_one_table(layout):
    """A rules table without cell gaps (each row one text line): its bold column header repeats on
    each page, and the annex label repeats at the head of each page."""
    _, units = layout["schedule"]
    assert [a.article_number for a in _articles(units)] == ["Article 1", "Article 2"]
    tables = [u for u in units if u.unit == "table"]
    assert [(t.chapter_number, t.page_start, t.page_end) for t in tables] == [("Annex 3", 1, 4)]
    assert "32.04 Explosives CC or RVC(45)" in tables[0].text.splitlines()
    assert [u.chapter_number for u in units if u.unit == "annex"] == ["Annex 3", "Appendix 1"]
    assert not any(u.article_title.startswith("HS Code") for u in units)


def test_article_numbers_as_column_headers_are_not_articles(layout):
    _, units = layout["schedule"]
    appendix = next(u for u in units if u.chapter_number == "Appendix 1")
    assert appendix.article_title == "Transitional Arrangements"
    assert appendix.text.startswith("Party Article 4 Article 6 Article 7 Arcadia from 2030")


def test_recurring_article_title_is_not_a_table_header(layout):
    """`Scope` opens every chapter, bold, on consecutive pages: still an article title, its body kept."""
    _, units = layout["scopes"]
    articles = _articles(units)
    assert [a.article_number for a in articles] == [f"Article {n}" for n in range(1, 9)]
    assert [a.article_title for a in articles[::2]] == ["Scope"] * 4
    assert all(a.text.startswith("1. This Chapter shall apply to") for a in articles)
    assert not [u for u in units if u.unit == "table"]


def test_capitalised_title_in_body_type_is_a_heading(layout):
    """A document with bold headings that sets some as `Article 2: PAPERLESS TRADING` in body type; a
    body line that begins with a cross-reference (`Article 9 (Review) applies`) stays body."""
    _, units = layout["captitles"]
    articles = _articles(units)
    assert [(a.article_number, a.article_title) for a in articles] == [
        ("Article 1", "Definitions"), ("Article 2", "Paperless Trading"), ("Article 3", "Cooperation"),
        ("Article 4", "Personal Data Protection")]
    assert all(a.text.endswith("Article 9 (Review) applies to it.") for a in articles)
