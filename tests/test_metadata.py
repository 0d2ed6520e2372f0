"""pipeline/metadata.py: parties as ISO-3, kind, date, title, sidecar overrides."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract import extract_pages
from pipeline.ingest import parse_pdf
from pipeline.metadata import detect_kind, find_countries, iso3, read_sidecar

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
STEMS = sorted(p.stem for p in (CORPUS / "expected").glob("*.json") if not p.stem.startswith("scanned"))


@pytest.mark.parametrize("stem", STEMS)
def test_metadata_of_sample_corpus(stem):
    expected = json.loads((CORPUS / "expected" / f"{stem}.json").read_text())
    doc = parse_pdf(CORPUS / f"{stem}.pdf")
    assert doc.kind == expected["kind"].split()[0].replace("JDI", "JDI")
    assert sorted(doc.parties) == sorted(expected["parties_iso3"])
    assert doc.date_signed == expected["date_signed"]
    assert doc.title


def test_country_names_to_iso3():
    assert find_countries("the Republic of Korea and the Republic of India") == ["KOR", "IND"]
    assert find_countries("Viet Nam, Lao PDR and the United Arab Emirates") == ["VNM", "LAO", "ARE"]
    assert iso3("Korea, Republic of") == "KOR"
    assert iso3("sgp") == "SGP"
    assert iso3("Atlantis") is None


def test_kind_detection():
    assert detect_kind("Memorandum of Understanding on ICT cooperation") == "MoU"
    assert detect_kind("Joint Declaration of Intent on digital transformation") == "JDI"
    assert detect_kind("First Protocol to Amend the Agreement") == "protocol"
    assert detect_kind("Comprehensive Economic Partnership Agreement") == "FTA"
    assert detect_kind("Exchange of letters") == "other"


def test_sidecar_overrides(tmp_path):
    pdf = tmp_path / "korea.pdf"
    pdf.write_bytes((CORPUS / "india_korea_digital_fta.pdf").read_bytes())
    pdf.with_suffix(".meta.toml").write_text(
        'title = "Overridden title"\nparties = ["Iceland", "NOR"]\ndate_signed = "2001-02-03"\n')
    doc = parse_pdf(pdf)
    assert (doc.title, doc.parties, doc.date_signed) == ("Overridden title", ["ISL", "NOR"], "2001-02-03")
    assert doc.kind == "FTA"  # not overridden: still detected


def test_bad_sidecar_names_the_problem(tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.with_suffix(".meta.toml").write_text('parties = ["Atlantis"]\n')
    with pytest.raises(ValueError, match="x.meta.toml: unknown party 'Atlantis'"):
        read_sidecar(pdf)


def test_title_from_largest_type():
    pages = extract_pages(CORPUS / "india_korea_digital_fta.pdf")
    from pipeline.metadata import detect_title
    assert "India" in detect_title(pages) and "Korea" in detect_title(pages)
