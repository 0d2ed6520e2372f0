"""pipeline/metadata.py: title, kind, parties (ISO-3), signature date and place with evidence; sidecar overrides."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipeline.countries import find_countries, iso3
from pipeline import extract
from pipeline.extract import extract_pages
from pipeline.ingest import parse_pdf
from pipeline.metadata import (detect_kind, detect_metadata, find_date, find_title, kind_family,
                               numbers_from_words, read_sidecar, short_name)
from pipeline.models import Document, Line, Page
from pipeline.segment import build_document

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
EXPECTED = {k: v for k, v in json.loads((ROOT / "bench" / "metadata_expected.json").read_text()).items()
            if k.startswith("corpus/") and not v.get("scanned")}
W, H = A4


def words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).split()


def treaty_pdf(path: Path, pages: list[list[tuple]], last_image=None) -> Path:
    """Each page is a list of (text,) or (text, size, bold, centred) lines, set top-down like a treaty;
    `last_image` adds a final image-only page."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = H - 90
        for spec in lines:
            text, size, bold, centred = (*spec, 11, False, False)[:4] if len(spec) == 1 else spec
            c.setFont("Times-Bold" if bold else "Times-Roman", size)
            if centred:
                c.drawCentredString(W / 2, y, text)
            else:
                c.drawString(72, y, text)
            y -= size * 1.5
        c.showPage()
    if last_image is not None:
        c.drawImage(last_image, 0, 0, W, H)
        c.showPage()
    c.save()
    return path


def metadata_of(path: Path) -> Document:
    pages = extract_pages(path)
    return detect_metadata(build_document(path, pages), pages)


BODY = [("Article 1", 11, True, False), ("Objectives",),
        ("The Parties shall cooperate in the fields set out in this Agreement.",), ("Article 2", 11, True, False),
        ("Entry into Force",),
        ("This Agreement shall enter into force sixty days after the later notification.",)]


# ---------------------------------------------------------------- the sample corpus, read by hand


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_metadata_of_sample_corpus(key):
    want = EXPECTED[key]
    doc = parse_pdf(ROOT / key)
    assert words(doc.title) == words(want["title"])
    assert doc.kind == want["kind"]
    assert sorted(doc.parties) == sorted(want["parties"])
    assert (doc.date_signed, doc.place_signed) == (want["date_signed"], want["place_signed"])
    assert want["place_signed"] in doc.evidence["date_signed"]  # the closing formula or the cover's date line
    assert all(code in want["parties"] for code in find_countries(doc.evidence["parties"]))


# ---------------------------------------------------------------- countries


def test_country_names_to_iso3():
    assert find_countries("the Republic of Korea and the Republic of India") == ["KOR", "IND"]
    assert find_countries("Viet Nam, Lao PDR and the United Arab Emirates") == ["VNM", "LAO", "ARE"]
    assert find_countries("the Lao People’s Democratic Republic (Lao PDR)") == ["LAO"]  # curly apostrophe
    assert find_countries("the Government of Bolivia") == ["BOL"]  # head of `Bolivia, Plurinational State of`
    assert iso3("Korea, Republic of") == "KOR"
    assert iso3("sgp") == "SGP"
    assert iso3("Atlantis") is None


# ---------------------------------------------------------------- kind


@pytest.mark.parametrize("title, kind", [
    ("Memorandum of Understanding on the Negotiation of a Free Trade Agreement", "MoU"),
    ("Memorandum of Understanding on the Implementation of the Joint Declaration on Digital Partnership", "MoU"),
    ("Memorandum of Cooperation in the Field of Mobility of IT Professionals", "MoC"),
    ("Joint Declaration of Intent on Digital Transformation", "JDI"),
    ("Second Protocol to Amend the Free Trade Agreement between Chile and Korea", "protocol"),
    ("Framework Agreement on Comprehensive Economic Co-operation between ASEAN and China", "framework agreement"),
    ("Comprehensive Economic Partnership Agreement between India and the UAE", "CEPA"),
    ("Comprehensive Economic Cooperation Agreement between India and Singapore", "CECA"),
    ("Agreement between Japan and Mexico for the Strengthening of the Economic Partnership", "EPA"),
    ("Free Trade Agreement between Canada and Peru", "FTA"),
    ("Annex 3: Customs Co-operation and Mutual Administrative Assistance", "other"),
    ("Exchange of Letters", "other"),
])
def test_kind_is_the_instrument_the_title_names_first(title, kind):
    assert detect_kind(title) == kind


def test_kind_family_for_filters():
    assert [kind_family(k) for k in ("CECA", "EPA", "CEPA", "MoC", "FTA", "protocol")] == [
        "FTA", "FTA", "FTA", "MoU", "FTA", "protocol"]


# ---------------------------------------------------------------- title


def test_title_is_not_a_cover_stamp_or_table_of_contents(tmp_path):
    pdf = treaty_pdf(tmp_path / "stamped.pdf", [
        [("CERTIFIED TRUE COPY OF THE AGREEMENT", 20, True, True), ("TREATY SERIES No. 12 of 2019", 11, True, True),
         ("FREE TRADE AGREEMENT", 16, True, True), ("BETWEEN", 12, False, True), ("CANADA", 16, True, True),
         ("AND", 12, False, True), ("THE REPUBLIC OF PERU", 16, True, True)],
        [("TABLE OF CONTENTS", 18, True, True), ("Agreement on Trade in Goods ........ 3",),
         ("Agreement on Investment .............. 9",)],
        [("PREAMBLE", 12, True, True), ("Canada and the Republic of Peru (the Parties),",),
         ("HAVE AGREED as follows:",), *BODY],
    ])
    title = find_title(extract_pages(pdf))
    assert title.value == "Free Trade Agreement between Canada and the Republic of Peru"
    assert "CANADA" in title.evidence


def test_title_of_an_ocr_page_is_set_in_capitals_not_the_tallest_boxes():
    """OCR gives no bold and rough sizes (a line of parentheses reads taller): capitals mark the title."""
    def line(text: str, size: float, top: float) -> Line:
        return Line(text=text, page=1, x0=72, x1=400, top=top, bottom=top + size, size=size)

    page = Page(number=1, width=595, height=842, ocr=True, lines=[
        line("ANNEX 2-1", 14.0, 100), line("SCHEDULES OF TARIFF COMMITMENTS", 14.5, 130),
        line("Part 1", 13.0, 160), *[line(f"{n}. The base rate for tariff reduction shall be the applied rate in "
                                          "effect on 1 January 2014.", 13.0, 160 + 20 * n) for n in range(1, 9)],
        line("9. For a Party for which this Agreement (Chapter 14) enters into", 19.0, 360),
        line("force later, the base rate shall apply.", 13.5, 390)])
    assert find_title([page]).value == "Annex 2-1: Schedules of Tariff Commitments"


def test_parties_are_not_read_from_the_articles(tmp_path):
    pdf = treaty_pdf(tmp_path / "no_preamble.pdf", [
        [("ANNEX 4", 14, True, True), ("TRANSIT", 14, True, True),
         ("Article 1", 11, True, False), ("Goods in transit from Kenya shall be exempt from duties.",),
         ("Article 2", 11, True, False), ("Goods bound to Egypt shall move under bond.",)],
    ])
    doc = metadata_of(pdf)
    assert (doc.title, doc.kind, doc.parties) == ("Annex 4: Transit", "other", [])


def test_an_annex_alone_takes_its_parties_from_its_schedule_heads(tmp_path):
    """A tariff annex printed on its own: no preamble, no signatures; each part is one party's schedule."""
    pdf = treaty_pdf(tmp_path / "schedules.pdf", [
        [("ANNEX 2", 14, True, True), ("SCHEDULES OF TARIFF COMMITMENTS", 14, True, True),
         ("Article 1", 11, True, False), ("Goods from Kenya in transit are not covered by this Annex.",),
         ("Part 1: Schedule of Chile", 11, True, False), ("0101.10 Live horses 0%",),
         ("Part 2: Schedule of the Republic of Korea", 11, True, False), ("0101.10 Live horses 8%",)],
    ])
    doc = metadata_of(pdf)
    assert doc.parties == ["CHL", "KOR"]
    assert "Schedule of Chile" in doc.evidence["parties"]


# ---------------------------------------------------------------- parties


def test_parties_from_the_preamble_expand_a_bloc_and_ignore_recitals_and_cover_lines(tmp_path):
    pdf = treaty_pdf(tmp_path / "bloc.pdf", [
        [("AGREEMENT ESTABLISHING THE ASEAN-CANADA", 16, True, True), ("FREE TRADE AREA", 16, True, True),
         ("Parties: ASEAN, CAN",)],
        [("PREAMBLE", 12, True, True),
         ("The Governments of Brunei Darussalam, the Kingdom of Cambodia, the Republic of Indonesia,",),
         ("the Lao People’s Democratic Republic, Malaysia, the Republic of the Union of Myanmar,",),
         ("the Republic of the Philippines, the Republic of Singapore, the Kingdom of Thailand and the",),
         ("Socialist Republic of Viet Nam, Member States of ASEAN, and Canada;",),
         ("RECALLING the Declaration adopted at Lima, Peru, and the Summit held in Mexico;",),
         ("HAVE AGREED as follows:",), *BODY],
    ])
    doc = metadata_of(pdf)
    assert sorted(doc.parties) == sorted(["BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM", "CAN"])
    assert "Brunei Darussalam" in doc.evidence["parties"]


def test_a_parties_line_on_the_cover_is_not_evidence(tmp_path):
    pdf = treaty_pdf(tmp_path / "cover_parties.pdf", [
        [("TRADE AGREEMENT", 16, True, True), ("Parties: Canada, Japan, Peru", 11, False, True)],
        [("Canada and the Republic of Peru, hereinafter referred to as the Parties,",),
         ("DESIRING to strengthen their economic relations with Japan,",), ("HAVE AGREED as follows:",), *BODY],
    ])
    assert sorted(metadata_of(pdf).parties) == ["CAN", "PER"]


def test_parties_from_signature_blocks_when_the_preamble_names_only_a_bloc(tmp_path):
    pdf = treaty_pdf(tmp_path / "signatories.pdf", [
        [("PROTOCOL ON TRADE", 16, True, True)],
        [("The High Contracting Parties, Member States of the Community,",), ("HAVE AGREED as follows:",), *BODY,
         ("For the purposes of this Protocol, Brazil means the Federative Republic of Brazil.",),
         ("IN WITNESS WHEREOF, the undersigned have signed this Protocol.",),
         ("DONE at Gaborone on 24 August 1996.",), ("For the Republic of Botswana",), ("For the Government of",),
         ("the Republic of Namibia",), ("For the Kingdom of Lesotho",)],
    ])
    assert sorted(metadata_of(pdf).parties) == ["BWA", "LSO", "NAM"]


def test_parties_of_a_final_act_listing_plenipotentiaries(tmp_path):
    pdf = treaty_pdf(tmp_path / "final_act.pdf", [
        [("FREE TRADE AGREEMENT", 16, True, True), ("BETWEEN", 16, True, True), ("JAPAN", 16, True, True),
         ("AND", 16, True, True), ("THE EFTA STATES", 16, True, True)],
        [("FINAL ACT", 12, True, True), ("Having met in order to conclude the negotiations, the plenipotentiaries of:",),
         ("Japan,",), ("and of the Republic of Iceland, the Principality of Liechtenstein,",),
         ("the Kingdom of Norway and the Swiss Confederation,",), ("hereby agree:",), *BODY],
    ])
    assert sorted(metadata_of(pdf).parties) == ["CHE", "ISL", "JPN", "LIE", "NOR"]


# ---------------------------------------------------------------- date and place


def test_dates_in_digits_and_ocr_noise():
    assert find_date("on 15 February 2003")[0] == "2003-02-15"
    assert find_date("on September 6, 1996")[0] == "1996-09-06"
    assert find_date('this 27" day of February, two thousand and nine')[0] == "2009-02-27"  # OCR'd superscript
    assert find_date("this 1st day of Sivan in the year 5781, which corresponds to the 12th day of May, 2021")[0] \
        == "2021-05-12"
    assert find_date("the 31st day of February 2003")[0] == ""


def test_numbers_written_in_words():
    assert numbers_from_words("this twenty-second day of September") == "this 22th day of September"
    assert numbers_from_words("in the year two thousand and twenty-three") == "in the year 2023"
    assert numbers_from_words("nineteen hundred and ninety-five") == "1995"
    assert numbers_from_words("one thousand nine hundred and ninety-two") == "1992"


@pytest.mark.parametrize("formula, iso, place", [
    ("Done at Ottawa, this twenty-second day of September, two thousand and fourteen, in duplicate.",
     "2014-09-22", "Ottawa"),
    ("DONE in Seoul, on the fifteenth day of February of 2003, in duplicate.", "2003-02-15", "Seoul"),
    ("Signed in duplicate at Canberra, this 9th day of February 2024, in the English language.",
     "2024-02-09", "Canberra"),
    ("SIGNED at Cha-am, Phetchaburi, Thailand, this 27th day of February, two thousand and nine.",
     "2009-02-27", "Cha-am, Phetchaburi, Thailand"),
    ("DONE at Lima on May 4, 2011, in two originals.", "2011-05-04", "Lima"),
    ("DONE in , on , in duplicate, in the English language.", "", ""),  # left blank in the printed text
    ("Fait à Lima, le quatre mai deux mille onze./Done at Lima, on the fourth day of May in the year two thousand "
     "and eleven.", "2011-05-04", "Lima"),  # multilingual, separated by slashes
    ("Done in the City of Kyiv, on October 7, 1994 in two originals.", "1994-10-07", "Kyiv"),
])
def test_closing_formula(tmp_path, formula, iso, place):
    pdf = treaty_pdf(tmp_path / "closing.pdf", [
        [("AGREEMENT ON TRADE", 16, True, True), ("BETWEEN CANADA AND THE REPUBLIC OF PERU", 16, True, True)],
        [*BODY, ("The ICSID Convention means the Convention done at Washington on 18 March 1965.",),
         ("IN WITNESS WHEREOF, the undersigned have signed this Agreement.",), (formula,)],
    ])
    doc = metadata_of(pdf)
    assert (doc.date_signed, doc.place_signed) == (iso, place)
    if iso:
        assert doc.evidence["date_signed"] in formula


def scanned_signature_page(path: Path, text_pages: list[list[tuple]], scanned_lines: list[str]) -> Path:
    """A typeset PDF whose last page is an image (a signed page scanned in), with no text layer."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader

    img = Image.new("L", (1240, 1754), 255)
    draw, font = ImageDraw.Draw(img), ImageFont.load_default(size=34)
    for i, line in enumerate(scanned_lines):
        draw.text((120, 300 + i * 60), line, fill=0, font=font)
    return treaty_pdf(path, text_pages, last_image=ImageReader(img))


@pytest.mark.skipif(not extract.ocr_available(), reason="OCR (Tesseract) is not installed")
def test_closing_formula_on_a_scanned_signature_page(tmp_path):
    pdf = scanned_signature_page(tmp_path / "signed.pdf", [
        [("AGREEMENT ON TRADE", 16, True, True), ("BETWEEN CANADA AND THE REPUBLIC OF PERU", 16, True, True)],
        [*BODY, *BODY, *BODY]], ["IN WITNESS WHEREOF, the undersigned have signed this Agreement.",
                                 "DONE at Lima, this fourth day of May, two thousand and eleven,",
                                 "in duplicate, in the English and Spanish languages."])
    doc = metadata_of(pdf)
    assert (doc.date_signed, doc.place_signed) == ("2011-05-04", "Lima")
    assert doc.evidence["date_signed"].startswith("OCR: DONE at Lima")


def test_place_and_date_line_on_the_cover(tmp_path):
    pdf = treaty_pdf(tmp_path / "cover.pdf", [
        [("ECONOMIC PARTNERSHIP AGREEMENT", 16, True, True), ("BETWEEN JAPAN AND THE KINGDOM OF THAILAND", 16, True, True),
         ("Bangkok, 3 April 2007", 12, False, True)],
        [*BODY],
    ])
    doc = metadata_of(pdf)
    assert (doc.date_signed, doc.place_signed, doc.kind) == ("2007-04-03", "Bangkok", "EPA")


# ---------------------------------------------------------------- short names


@pytest.mark.parametrize("title, parties, kind, name", [
    ("Free Trade Agreement between the Government of the Republic of Korea and the Government of the Republic of Chile",
     ["KOR", "CHL"], "FTA", "Korea–Chile FTA"),
    ("Digital Trade and Economic Partnership Agreement between the Republic of India and the Republic of Korea",
     ["IND", "KOR"], "EPA", "India–Korea DTEPA"),
    ("Free Trade Agreement between the Republic of Korea and the EFTA States",
     ["KOR", "ISL", "LIE", "NOR", "CHE"], "FTA", "Korea–EFTA FTA"),
    ("Agreement Establishing the ASEAN-Australia-New Zealand Free Trade Area", ["AUS", "NZL", "BRN"], "FTA", "AANZFTA"),
    ("First Protocol to Amend the Agreement Establishing the ASEAN-Australia-New Zealand Free Trade Area",
     ["AUS", "NZL", "BRN"], "protocol", "AANZFTA First Protocol"),
    ("Memorandum of Understanding between the Ministry of Electronics and Information Technology of the Republic of "
     "India and the Ministry of Economy of the United Arab Emirates on Cooperation in ICT", ["IND", "ARE"], "MoU",
     "India–UAE MoU"),
    ("Comprehensive Economic Partnership Agreement (CEPA) between India and the UAE", ["IND", "ARE"], "CEPA", "CEPA"),
    ("Memorandum of Understanding between the Indian Computer Emergency Response Team and the Cyber Security Agency "
     "of Singapore on Cooperation in the Area of Cybersecurity", ["IND", "SGP"], "MoU", "India–Singapore MoU"),
])
def test_short_name(title, parties, kind, name):
    assert short_name(title, parties, kind) == name


# ---------------------------------------------------------------- sidecar


def test_sidecar_overrides(tmp_path):
    pdf = tmp_path / "korea.pdf"
    pdf.write_bytes((CORPUS / "india_korea_digital_fta.pdf").read_bytes())
    pdf.with_suffix(".meta.toml").write_text(
        'title = "Overridden title"\nparties = ["Iceland", "NOR"]\ndate_signed = "2001-02-03"\n'
        'place_signed = "Reykjavik"\n')
    doc = parse_pdf(pdf)
    assert (doc.title, doc.parties, doc.date_signed, doc.place_signed) == (
        "Overridden title", ["ISL", "NOR"], "2001-02-03", "Reykjavik")
    assert doc.kind == "EPA"  # not overridden: still detected
    assert doc.evidence["date_signed"] == "sidecar korea.meta.toml"


def test_bad_sidecar_names_the_problem(tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.with_suffix(".meta.toml").write_text('parties = ["Atlantis"]\n')
    with pytest.raises(ValueError, match="x.meta.toml: unknown party 'Atlantis'"):
        read_sidecar(pdf)
