"""pipeline/extract.py on real PDFs written for each case."""
from __future__ import annotations

import pytest

from pipeline.extract import ExtractionError, count_pages, extract_pages, ocr_available
from tests import pdfs


def _texts(pages):
    return [ln.text for p in pages for ln in p.lines]


def test_running_header_and_page_numbers_removed(tmp_path):
    body = [[("bold", f"Article {i}.1: Title {i}"), ("body", f"Text of page {i} goes here.")] for i in range(1, 6)]
    pages = extract_pages(pdfs.simple_treaty(tmp_path / "t.pdf", body))
    texts = _texts(pages)
    assert not any("Specimen Agreement" in t for t in texts)
    assert not any(t.startswith("- ") for t in texts)
    assert "Article 3.1: Title 3" in texts


def test_heading_at_page_top_is_not_a_running_header(tmp_path):
    # `Article N` at the same spot on every page differs in a number that does not track the page
    body = [[("bold", f"Article {i * 7}"), ("body", "Body text.")] for i in range(1, 6)]
    pages = extract_pages(pdfs.simple_treaty(tmp_path / "t.pdf", body, header="Header"))
    assert [t for t in _texts(pages) if t.startswith("Article")] == [f"Article {i * 7}" for i in range(1, 6)]


def test_two_columns_read_column_by_column(tmp_path):
    pages = extract_pages(pdfs.two_column(tmp_path / "c.pdf"))
    texts = _texts(pages)
    assert texts.index("left column line L30 with some words of running text") < texts.index(
        "right column line R1 with some other words too")
    assert {ln.column for ln in pages[0].lines} == {0, 1}


def test_footnotes_split_from_body(tmp_path):
    page = [("bold", "Article 1: Scope")] + [("body", "Each Party shall protect personal data of persons.")] * 8 + [
            ("small", "1 For greater certainty, this covers sub-national bodies."),
            ("small", "continued note text.")]
    pages = extract_pages(pdfs.simple_treaty(tmp_path / "f.pdf", [page, page]))
    assert [f.number for f in pages[0].footnotes] == ["1"]
    assert pages[0].footnotes[0].text == "1 For greater certainty, this covers sub-national bodies. continued note text."
    assert not any("greater certainty" in t for t in _texts(pages))


@pytest.mark.parametrize("content,reason", [(b"", "empty file"), (b"<html>not a pdf</html>", "not a PDF")])
def test_unreadable_files_give_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=reason):
        extract_pages(path)


def test_truncated_pdf(tmp_path):
    good = pdfs.simple_treaty(tmp_path / "g.pdf", [[("body", "Some text.")]] * 3)
    data = good.read_bytes()
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(ExtractionError, match="corrupt|truncated|no extractable"):
        extract_pages(bad)


def test_password_protected_pdf(tmp_path):
    path = pdfs.simple_treaty(tmp_path / "locked.pdf", [[("body", "Secret text.")]], encrypt="s3cret")
    with pytest.raises(ExtractionError, match="password-protected"):
        extract_pages(path)


def test_page_limit(tmp_path):
    path = pdfs.many_pages(tmp_path / "long.pdf", 2000)
    with pytest.raises(ExtractionError, match="2000 pages exceeds the limit of 1500"):
        extract_pages(path)


def test_image_only_without_ocr_is_refused(tmp_path):
    path = pdfs.image_only(tmp_path / "scan.pdf")
    with pytest.raises(ExtractionError, match="scanned PDF with no text layer"):
        extract_pages(path, ocr=False)


@pytest.mark.skipif(not ocr_available(), reason="tesseract not installed")
def test_image_only_is_ocrd(corpus_dir):
    scanned = [p for p in corpus_dir.glob("*.pdf") if "scan" in p.stem]
    assert scanned, "the sample corpus has a scanned PDF"
    pages = extract_pages(scanned[0])
    assert all(p.ocr for p in pages)
    assert any("MEMORANDUM OF UNDERSTANDING" in t for t in _texts(pages))


def test_pages_are_counted_until_enough(corpus_dir, tmp_path):
    files = [corpus_dir / "india_korea_digital_fta.pdf", corpus_dir / "india_uae_ict_mou.pdf"]
    assert count_pages(files, 1000) == 15 + 3
    assert count_pages(files, 10) == 10
    (tmp_path / "broken.pdf").write_text("not a pdf")
    assert count_pages([tmp_path / "broken.pdf", files[1]], 1000) == 3
