"""Document metadata from the text: title, kind, parties (ISO-3166 alpha-3), signature date and place.

Each field is read where treaty drafting conventions put it, and the line it was read from is kept
as evidence:

- the title is the instrument's name in the title block (the first lines set apart in the largest
  type that name an instrument: `Agreement`, `Protocol`, `Memorandum`, `Annex` ...), not a cover
  stamp or a table of contents;
- the kind is the first instrument named in the title (an MoU *on* an FTA is an MoU; a protocol *to
  amend* an FTA is a protocol);
- the parties are the states named in the title and in the preamble's opening paragraph, which
  enumerates them (`The Governments of Brunei Darussalam, the Kingdom of Cambodia, ...`), so a bloc
  is expanded exactly when the text lists its members; when they name fewer than two states, the
  signature blocks (`For the Government of the Republic of Chile`) do;
- the date and place come from the closing formula (`DONE at Seoul on 15 February 2003`, `Signed in
  duplicate at Canberra, this ninth day of February, two thousand and twenty-four`), else from a
  `Place, date` line on the cover, else (OCR permitting) from signed pages scanned into the PDF.

A sidecar `NAME.meta.toml` beside the PDF overrides any detected field, because real PDFs often
name their parties in ways no detector should have to guess.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .countries import country_short_name, find_countries, iso3_all
from .models import Document, Line, Page
from .textutil import SMALL_WORDS, heading_case

SIDECAR_FIELDS = ("title", "kind", "parties", "date_signed", "place_signed")

# ---------------------------------------------------------------- kind

# Matched against the title; the pattern matching *earliest* in the title wins (the head noun names
# the instrument: `Memorandum of Understanding on a Free Trade Agreement` is an MoU), the longer
# match on a tie (`Comprehensive Economic Partnership` before `Economic Partnership`).
KIND_PATTERNS = [
    ("JDI", r"joint declaration(?: of intent)?|declaration of intent|joint statement"),
    ("MoC", r"memorandum of co-?operation|\bmoc\b"),
    ("MoU", r"memorandum of understanding|memorandum\b|\bmou\b"),
    ("protocol", r"\bprotocol\b"),
    ("framework agreement", r"framework agreement"),
    ("CEPA", r"comprehensive economic partnership"),
    ("CECA", r"comprehensive economic co-?operation agreement"),
    ("EPA", r"economic partnership|\bepa\b"),
    ("FTA", r"free trade|trade agreement|economic co-?operation agreement|economic integration|"
            r"trade and investment agreement|customs union|preferential trade|association agreement|"
            r"partnership agreement|closer economic relations|\bfta\b"),
]
KINDS = [k for k, _ in KIND_PATTERNS] + ["other"]
# the broader family a kind belongs to, for filters (`kind=FTA` should find an EPA or a CECA)
KIND_FAMILY = {"EPA": "FTA", "CEPA": "FTA", "CECA": "FTA", "MoC": "MoU"}


def kind_family(kind: str) -> str:
    """`CECA` → `FTA`, `MoC` → `MoU`; other kinds are their own family."""
    return KIND_FAMILY.get(kind, kind)


def detect_kind(title: str) -> str:
    """The instrument the title names first (see KIND_PATTERNS); `other` for annexes, exchanges of letters ..."""
    low = title.lower()
    best: tuple[int, int, str] | None = None
    for kind, pattern in KIND_PATTERNS:
        m = re.search(pattern, low)
        if m and (best is None or (m.start(), -len(m.group())) < best[:2]):
            best = (m.start(), -len(m.group()), kind)
    return best[2] if best else "other"


# ---------------------------------------------------------------- title

# nouns that name an instrument; a title block starts at a line naming one
INSTRUMENT_RE = re.compile(
    r"\b(agreement|protocol|memorandum|declaration|treaty|convention|arrangement|accord|charter|annex|"
    r"exchange of (?:notes|letters)|final act|record of understanding)\b", re.IGNORECASE)
# cover furniture that is not the title even when it names an instrument
STAMP_RE = re.compile(
    r"specimen|treaty series|certified|true copy|\bdraft\b|restricted|confidential|official text|"
    r"table of contents|^contents$|^page \d+|unofficial|translation|\bno\.\s*\d", re.IGNORECASE)
CONNECTOR_RE = re.compile(r"^(between|and|among|amongst|by and between|of the one part|of the other part)$",
                          re.IGNORECASE)
# a heading that opens the text proper: the title block ends there
STRUCTURE_RE = re.compile(r"^(article|chapter|part|section|paragraph|preamble|contents)\b", re.IGNORECASE)
TITLE_PAGES = 3
TITLE_MAX_LINES = 10


@dataclass
class Found:
    """A detected value and the text it was read from."""

    value: object
    evidence: str = ""


def _title_like(line: Line, body_size: float) -> bool:
    """Set apart from the body: larger, bold or in capitals (OCR'd lines carry no bold and only rough sizes,
    so their body size is 0 and capitals decide; see _title_blocks)."""
    if body_size <= 0:
        return line.text.isupper()
    return line.size > body_size + 0.5 or line.bold or line.text.isupper()


def _body_size(pages: list[Page]) -> float:
    from .extract import detect_body_size

    return detect_body_size(pages[:12])


def _starts_title(line: Line, body: float) -> bool:
    """A line set apart that names an instrument, not a stamp or a table of contents entry."""
    return (_title_like(line, body) and bool(INSTRUMENT_RE.search(line.text)) and not STAMP_RE.search(line.text)
            and not re.search(r"\.{4,}|…{2,}", line.text))


def _precedes_title(line: Line, first: Line, body: float) -> bool:
    """`line` sits above `first` in the same title type (`COMPREHENSIVE ECONOMIC` over `AGREEMENT`)."""
    text = line.text.strip()
    return (abs(line.size - first.size) <= 0.6 and _title_like(line, body) and not STAMP_RE.search(text)
            and not STRUCTURE_RE.match(text) and not CONNECTOR_RE.match(text))


def _continues_title(line: Line, previous: Line, first: Line, body: float) -> bool:
    """`line` goes on with the title: same type, or a `between` / `and` set smaller, or the line after one."""
    text = line.text.strip()
    if (STRUCTURE_RE.match(text) or STAMP_RE.search(text) or COVER_PARTIES_RE.match(text)
            or find_date(text)[0]):  # the cover's date line or `Parties:` line ends the title
        return False
    same_type = abs(line.size - first.size) <= 0.6
    return ((same_type and _title_like(line, body)) or bool(CONNECTOR_RE.match(text))
            or (same_type and bool(CONNECTOR_RE.match(previous.text.strip()))))


def _title_blocks(pages: list[Page]) -> list[tuple[float, int, int, list[Line]]]:
    """Candidate title blocks on the first pages: (size, page order, line index, lines)."""
    body_size = _body_size(pages)
    blocks = []
    for order, page in enumerate([p for p in pages if p.lines][:TITLE_PAGES]):
        lines = page.lines
        body = 0.0 if page.ocr else body_size
        i = consumed = 0
        while i < len(lines):
            first = lines[i]
            if not _starts_title(first, body):
                i += 1
                continue
            start = i
            while start > consumed and _precedes_title(lines[start - 1], first, body):
                start -= 1
            end = i + 1
            while end < len(lines) and end - start < TITLE_MAX_LINES and _continues_title(
                    lines[end], lines[end - 1], first, body):
                end += 1
            blocks.append((first.size, order, start, lines[start:end]))
            i = consumed = end
    return blocks


def _title_lines(pages: list[Page]) -> list[Line]:
    """The title block in the largest type (earliest on a tie), or []."""
    blocks = _title_blocks(pages)
    return max(blocks, key=lambda b: (b[0], -b[1], -b[2]))[3] if blocks else []


def _clean_title(lines: list[Line]) -> str:
    parts = [ln.text.strip() for ln in lines]
    if re.fullmatch(r"(annex|appendix|schedule)\s+[\w.\-–]+", parts[0], re.IGNORECASE) and len(parts) > 1:
        parts[0] += ":"  # `ANNEX 3` over `CUSTOMS CO-OPERATION` → `Annex 3: Customs Co-operation`
    title = " ".join(heading_case(p) for p in parts)
    title = re.sub(r"(?<=[A-Za-z])- (?=[A-Z])", "-", title)  # `ASEAN-Australia-` / `New Zealand`
    title = re.sub(r"(?<=\w)- (?=[a-z])", "", title)  # a word hyphenated across lines
    title = re.sub(r"\s+", " ", title).strip(" ,;")
    # small words that started a cased line: `between The Republic` → `between the Republic`
    return re.sub(r"(?<=\s)(" + "|".join(w.capitalize() for w in SMALL_WORDS) + r")\b",
                  lambda m: m.group(1).lower(), title)


def find_title(pages: list[Page]) -> Found:
    """The title block in the largest type (earliest on a tie); else the largest line on the first page."""
    lines = _title_lines(pages)
    if lines:
        return Found(_clean_title(lines), " / ".join(ln.text.strip() for ln in lines))
    for p in pages[:TITLE_PAGES]:
        if p.lines:
            top = max(p.lines, key=lambda ln: ln.size)
            return Found(_clean_title([top]), top.text.strip())
    return Found("")



# ---------------------------------------------------------------- parties

AGREED_RE = re.compile(
    r"\b(have agreed|hereby agree|agree as follows|have (?:reached|come to) the following|"
    r"have decided as follows|have jointly decided|have reached an understanding)\b", re.IGNORECASE)
# a recital opens with a participle or adjective (`RECALLING`, `Committed to`, `guided by`, `Conscious of`),
# at a line start or after a comma (`Having met` opens a Final Act, whose next lines name the states)
RECITAL_WORDS = (
    r"acknowledging|affirming|aiming|anxious|appreciating|aspiring|attaching|aware|bearing in mind|believing|"
    r"building|committed|concerned|confident|conscious|considering|convinced|declaring|desiring|desirous|determined|"
    r"emphasi[sz]ing|encouraged|endeavouring|expressing|guided|having regard|having considered|having decided|"
    r"having reviewed|hoping|inspired|intending|keen|mindful|noting|realising|realizing|reaffirming|recalling|"
    r"recogni[sz]ing|reiterating|resolved|seeking|sharing|stressing|taking into account|taking note|"
    r"taking account|underlining|welcoming|whereas|wishing|in view of|further to|with a view|observing|pursuing|"
    r"renewing|reflecting|referring|looking forward|promoting|striving")
RECITAL_RE = re.compile(r"(?:[,;:]\s+|\n\s*)(?=(?:" + RECITAL_WORDS + r")\b)", re.IGNORECASE)
BODY_HEADING_RE = re.compile(r"^\s*(?:article|chapter|part|section)\s*(?:[0-9]+|[IVX]+|one)\b",  # OCR glues `Part1`
                             re.IGNORECASE | re.MULTILINE)
PREAMBLE_RE = re.compile(r"\bPREAMBLE\b|^\s*Preamble\s*:?\s*$", re.MULTILINE)
COVER_PARTIES_RE = re.compile(r"^\s*parties\s*:", re.IGNORECASE)
OPENING_MAX_CHARS = 3000
PREAMBLE_PAGES = 12
PREAMBLE_MAX_LINES = 400


def preamble_opening(pages: list[Page], after: Line | None = None) -> str:
    """The preamble's opening paragraph, which names the parties: from the (last) `PREAMBLE` heading, else
    from the end of the title block, to the first recital or to `HAVE AGREED`."""
    lines = [ln for p in pages[:PREAMBLE_PAGES] for ln in p.lines if not COVER_PARTIES_RE.match(ln.text)
             and not (STAMP_RE.search(ln.text) and len(ln.text.strip()) < 60)]
    start = next((i + 1 for i, ln in enumerate(lines) if ln is after), 0)
    text = "\n".join(ln.text.strip() for ln in lines[start:start + PREAMBLE_MAX_LINES])
    agreed = AGREED_RE.search(text)
    text = text[:agreed.end()] if agreed else text[:2 * OPENING_MAX_CHARS]
    heads = list(PREAMBLE_RE.finditer(text))  # the last one: an earlier `Preamble` is a table of contents entry
    if heads:
        text = text[heads[-1].end():]
    body = BODY_HEADING_RE.search(text)  # no preamble reaches into the articles
    text = text[:body.start()] if body else text
    cut = next((m.start() for m in RECITAL_RE.finditer(text) if m.start() > 0 and text[:m.start()].strip()), len(text))
    return _flat_text(text[:cut])[:OPENING_MAX_CHARS]


def _flat_text(text: str) -> str:
    text = re.sub(r"(?<=\w)-\n(?=\w)", "-", text)  # `ASEAN-` / `Australia` stays one word
    return re.sub(r"\s+", " ", text).strip()


NAME_SEPARATOR_RE = re.compile(r"^[\s\-–—/,&]*(and)?[\s\-–—/,&]*$", re.IGNORECASE)


def name_heading_countries(pages: list[Page]) -> list[str]:
    """States in a first-page heading made of party names alone (`SLOVENIA - LITHUANIA`, `Canada – Chile`)."""
    from .countries import country_spans

    for page in [p for p in pages if p.lines][:1]:
        top = max(ln.size for ln in page.lines)
        for ln in page.lines:
            if ln.size < top - 0.5:
                continue
            spans = country_spans(ln.text)
            rest, last = "", 0
            for a, b, _ in spans:
                rest, last = rest + ln.text[last:a], b
            rest += ln.text[last:]
            if len(spans) >= 2 and NAME_SEPARATOR_RE.match(rest):
                return [code for _, _, code in spans]
    return []


WITNESS_RE = re.compile(r"\bIN WITNESS WHEREOF\b|^\s*(?:DONE|Done|SIGNED|Signed)\s+(?:at|in)\b", re.IGNORECASE)
SIGNATORY_RE = re.compile(r"^\s*for\s+(?:and\s+on\s+behalf\s+of\s+)?(?:the\s+)?", re.IGNORECASE)
SIGNATURE_BLOCK_LINES = 60


def signatory_countries(pages: list[Page]) -> tuple[list[str], str]:
    """States in the signature blocks (`For the Government of the Republic of Chile:`) after `IN WITNESS
    WHEREOF` or the closing formula; a `For the Government of` line with no name continues on the next."""
    lines = [ln.text for p in pages for ln in p.lines]
    codes: list[str] = []
    evidence: list[str] = []
    i = 0
    while i < len(lines):
        if not WITNESS_RE.search(lines[i]):
            i += 1
            continue
        block = lines[i + 1:i + 1 + SIGNATURE_BLOCK_LINES]
        for j, text in enumerate(block):
            if not SIGNATORY_RE.match(text):
                continue
            found = find_countries(text) or find_countries(next(
                (t for t in block[j + 1:j + 4] if not SIGNATORY_RE.match(t)), ""))  # two columns interleaved
            if found:
                codes += found
                evidence.append(text.strip())
        i += 1 + SIGNATURE_BLOCK_LINES
    return list(dict.fromkeys(codes)), " | ".join(evidence[:6])


# `Part 12: Schedule of Hong Kong, China`: the heading of one party's commitments in an annex
SCHEDULE_HEAD_RE = re.compile(r"\bschedules?\s+of\b", re.IGNORECASE)


def find_parties(pages: list[Page], title: Found | None = None) -> Found:
    """States named in the title, then those enumerated in the preamble's opening paragraph."""
    title = title or find_title(pages)
    from_title = find_countries(str(title.value)) + name_heading_countries(pages)
    title_lines = _title_lines(pages)
    opening = preamble_opening(pages, title_lines[-1] if title_lines else None)
    codes = list(dict.fromkeys(from_title + find_countries(opening)))
    evidence = " | ".join(x for x in (str(title.value) if from_title else "", opening[:400]) if x)
    if len(codes) < 2:  # the title and preamble do not name the parties one by one: the signatories do
        signed, where = signatory_countries(pages)
        if len(set(codes) | set(signed)) >= 2:
            codes, evidence = list(dict.fromkeys(codes + signed)), where
    if len(codes) < 2 and not opening:
        # an annex printed on its own: no preamble, no signatures; its parts are headed by the parties
        # whose commitments they hold (countries merely named in its articles are not parties)
        heads = [ln.text for p in pages for ln in p.lines
                 if SCHEDULE_HEAD_RE.search(ln.text) and len(ln.text.split()) <= 10]
        named = list(dict.fromkeys(c for text in heads for c in find_countries(text)))
        if len(set(codes) | set(named)) >= 2:
            codes, evidence = list(dict.fromkeys(codes + named)), " | ".join(heads[:6])
    return Found(codes, evidence)



# ---------------------------------------------------------------- dates

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30}
NUMBER_WORDS = {**{w: i for i, w in enumerate(_UNITS)}, **_TENS, **_ORDINALS, "hundred": 100, "thousand": 1000}
_NUMBER_WORD = r"(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
NUMBER_RUN_RE = re.compile(
    r"\b" + _NUMBER_WORD + r"(?:(?:\s+and\s+|[\s\-]+)" + _NUMBER_WORD + r")*\b", re.IGNORECASE)


def _number_value(words: list[str]) -> int:
    total, current = 0, 0
    for w in words:
        v = NUMBER_WORDS[w]
        if v == 100:
            current = max(current, 1) * 100
        elif v == 1000:
            total += max(current, 1) * 1000
            current = 0
        else:
            current += v
    return total + current


def numbers_from_words(text: str) -> str:
    """`the twenty-second day of September, two thousand and fourteen` → `the 22nd day of September, 2014`."""
    def convert(m: re.Match) -> str:
        words = [w for w in re.split(r"[\s\-]+", m.group().lower()) if w != "and"]
        value = _number_value(words)
        return f"{value}th" if words[-1] in _ORDINALS else str(value)
    return NUMBER_RUN_RE.sub(convert, text)


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_MONTH = r"(?P<month>" + "|".join(m.capitalize() + "|" + m.upper() for m in MONTHS) + r"|[A-Z][a-z]{2}\.?)"
DATE_RES = [
    # a superscript ordinal may come out of OCR as a quote mark: `27"` for `27th`
    re.compile(r"\b(?P<day>\d{1,2})\s?(?:st|nd|rd|th|er|[\"'’”°])?\s+(?:day\s+)?(?:of\s*)?" + _MONTH +
               r",?\s+(?:of\s+|in\s+the\s+year\s+|of\s+the\s+year\s+)?(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b"),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
]


def _month_number(name: str) -> int | None:
    if name.isdigit():
        return int(name)
    key = name.lower().rstrip(".")
    return next((i + 1 for i, m in enumerate(MONTHS) if m == key or (len(key) == 3 and m.startswith(key))), None)


def find_date(text: str) -> tuple[str, re.Match | None]:
    """The first calendar date in `text` (ISO), written in digits or words; ('', None) when none is valid."""
    text = numbers_from_words(text)
    found = sorted((m for rx in DATE_RES for m in rx.finditer(text)), key=lambda m: m.start())
    for m in found:
        month = _month_number(m.group("month"))
        try:
            d = date(int(m.group("year")), month or 0, int(m.group("day")))
        except (ValueError, TypeError):
            continue
        if 1900 <= d.year <= date.today().year + 1:
            return d.isoformat(), m
    return "", None


# the closing formula opens a sentence with a capitalised `Done` / `Signed` (a lower-case `done at Washington`
# cites another instrument); multilingual formulas are separated by slashes (`.../Done at Luxembourg, ...`)
FORMULA_RE = re.compile(r"(?:^|(?<=[.;:]\s)|(?<=\n)|(?<=/))\s*(DONE|Done|SIGNED|Signed|CONCLUDED|Concluded)\b(?=[\s,])")
_PLACE_WORD = r"[A-Z][\w'’.\-]*"
_PLACE_NAME = _PLACE_WORD + r"(?:\s+(?:(?:de|del|da|do|du|es|la|al|el)\s+)?" + _PLACE_WORD + r")*"
PLACE_RE = re.compile(
    r"^(?:,?\s*(?:in|on)\s+(?:duplicate|triplicate|quadruplicate|\w+\s+(?:originals?|copies|original copies))\b,?)?"
    r"\s*(?:at|in)\s+(?:[Tt]he\s+[Cc]ity\s+of\s+)?(?P<place>" + _PLACE_NAME + r"(?:,\s+" + _PLACE_NAME + r")*)"
    r"(?=\s*,?\s*(?:on|this|the)\b|\s*,?\s*\d|\s*[,.]?\s*$)")
FORMULA_WINDOW = 320
COVER_DATE_PAGES = 2


def _sentence(text: str, start: int) -> str:
    """From `start` to the end of its sentence (a full stop before whitespace), at most FORMULA_WINDOW chars."""
    window = text[start:start + FORMULA_WINDOW]
    m = re.search(r"\.(?=\s|$)", window[12:])
    return window[: 12 + m.start() + 1] if m else window


def closing_formula(pages: list[Page]) -> tuple[str, str, str]:
    """(date, place, sentence) from the first closing formula that carries a date, else the place of the
    first one that names a place (its date may be unreadable or left blank); empties when none."""
    text = "\n".join(ln.text for p in pages for ln in p.lines)
    undated = ("", "", "")
    for m in FORMULA_RE.finditer(text):
        sentence = re.sub(r"\s+", " ", _sentence(text, m.start(1)))
        iso, _ = find_date(sentence)
        place = PLACE_RE.match(sentence[len(m.group(1)):])
        if iso:
            return iso, place.group("place").strip() if place else "", sentence
        if place and not undated[1]:
            undated = ("", place.group("place").strip(), sentence)
    return undated


COVER_DATE_RE = re.compile(r"^(?:(?P<place>[A-Z][\w'’.\- ]{1,40}?),\s*)?(?P<date>.{6,60}?)\.?$")


def cover_date(pages: list[Page]) -> tuple[str, str, str]:
    """A cover line that is only `[Place,] date` (`Canberra, 9 February 2024`)."""
    for p in [p for p in pages if p.lines][:COVER_DATE_PAGES]:
        for ln in p.lines:
            m = COVER_DATE_RE.match(ln.text.strip())
            if not m:
                continue
            iso, dm = find_date(m.group("date"))
            if iso and dm and dm.group().strip() == numbers_from_words(m.group("date")).strip(" ."):
                return iso, (m.group("place") or "").strip(), ln.text.strip()
    return "", "", ""


def find_signature(pages: list[Page]) -> tuple[str, str, str]:
    """(date, place, evidence): the closing formula, else a `Place, date` cover line."""
    found = closing_formula(pages)
    if found[0]:
        return found
    cover = cover_date(pages)
    return cover if cover[0] else found


SCANNED_PAGES_MAX = 6


def scanned_pages(path: Path, pages: list[Page]) -> list[int]:
    """Pages with no text but an image: in a typeset PDF these are usually the signed pages, scanned in."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    empty = [p.number for p in pages if not p.lines]
    if not empty:
        return []
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return [n for n in empty
                if any(obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE for obj in pdf[n - 1].get_objects())]
    finally:
        pdf.close()


def scanned_closing_formula(path: Path, pages: list[Page]) -> tuple[str, str, str]:
    """The closing formula read by OCR from the scanned pages of an otherwise typeset PDF (the last few),
    when OCR is available; the document's pages are left untouched."""
    from .extract import _ocr_pages, ocr_available
    from .ocr import SIGNATURE_DPI

    if not path.exists() or not ocr_available():
        return "", "", ""
    numbers = scanned_pages(path, pages)[-SCANNED_PAGES_MAX:]
    if not numbers:
        return "", "", ""
    shadow = [Page(number=p.number, width=p.width, height=p.height) for p in pages]
    _ocr_pages(path, shadow, numbers, SIGNATURE_DPI)
    date_, place, sentence = closing_formula([shadow[n - 1] for n in numbers])
    return (date_, place, "OCR: " + sentence) if sentence else ("", "", "")



# ---------------------------------------------------------------- short name

KIND_ABBREVIATIONS = {"MoU": "MoU", "MoC": "MoC", "JDI": "JDI"}
BLOC_NAMES = {"european union": "EU", "european community": "EU", "european communities": "EU",
              "european free trade association": "EFTA", "association of southeast asian nations": "ASEAN",
              "southern african customs union": "SACU", "gulf cooperation council": "GCC"}


def _initials(phrase: str) -> str:
    """`Digital Trade and Economic Partnership Agreement` → `DTEPA`; acronyms stay whole (`ASEAN`)."""
    out = []
    for word in re.split(r"[\s\-–]+", phrase):
        word = word.strip("(),.;:“”\"'")
        if not word or word.lower() in SMALL_WORDS:
            continue
        out.append(word if word.isupper() and len(word) > 1 else word[0].upper())
    return "".join(out)


def _side_name(side: str) -> str:
    """One party as a title names it → its everyday short name (`the Government of the Republic of Korea` → `Korea`)."""
    codes = find_countries(side)
    if codes:
        return country_short_name(codes[-1])
    low = side.lower()
    for name, short in BLOC_NAMES.items():
        if name in low:
            return short
    acronym = re.search(r"\b([A-Z]{3,})\b", side)
    return acronym.group(1) if acronym else ""


def short_name(title: str, parties: list[str], kind: str) -> str:
    """The name papers cite: `Korea–Chile FTA`, `India–Korea DTEPA`, `India–UAE MoU`, `AANZFTA`.

    The title's own acronym in brackets wins; a hyphenated bloc name (`ASEAN-Australia-New Zealand
    Free Trade Area`) becomes its initials; otherwise the parties the title names, joined by an en
    dash, then the instrument's initials (or MoU / MoC / JDI)."""
    own = re.search(r"\(\s*[“\"]?([A-Z][A-Za-z]*[A-Z]{2,})[”\"]?\s*\)", title)
    if own:
        return own.group(1)
    protocol = re.match(r"(?P<head>.*?\bprotocol)\s+(?:to\s+amend\s+|to\s+|amending\s+)(?:the\s+)?(?P<parent>.+)",
                        title, re.IGNORECASE)
    if kind == "protocol" and protocol and INSTRUMENT_RE.search(protocol.group("parent")):
        parent = re.sub(r"\s+on\s+.*$", "", protocol.group("parent"))
        topic = re.search(r"\bon\s+(.+)$", protocol.group("parent"))
        name = short_name(parent, parties, detect_kind(parent))
        label = heading_case(protocol.group("head").strip())
        return f"{name} {label}" + (f" on {topic.group(1)}" if topic and not label.lower().startswith(("first", "second", "third")) else "")
    compound = re.search(r"\b((?:[A-Z][\w]*(?:\s+[A-Z][\w]*)*\s*[-–]\s*){2,}[A-Z][\w]*(?:\s+[A-Z][\w]*)*?)\s+"
                         r"(Free Trade (?:Area|Agreement)|Comprehensive Economic Partnership|Economic Partnership)",
                         title)
    if compound:  # three or more names: `ASEAN-Australia-New Zealand Free Trade Area` → `AANZFTA`
        names = re.split(r"\s*[-–]\s*", compound.group(1))
        return "".join(_initials(n)[:1] if n.isupper() else _initials(n) for n in names) + _initials(compound.group(2))
    establishing = re.match(r"(?:agreement|treaty)\s+establishing\s+(?:the\s+)?(.+)", title, re.IGNORECASE)
    if establishing and INSTRUMENT_RE.search(title) and not re.search(r"\s(between|among)\s", title, re.I):
        return _initials(establishing.group(1))
    parts = re.split(r"\s+(?:between|among|amongst)\s+", title, maxsplit=1, flags=re.IGNORECASE)
    head, rest = parts[0], parts[1] if len(parts) > 1 else ""
    label = KIND_ABBREVIATIONS.get(kind) or _initials(head) or kind
    names: list[str] = []
    if rest:
        rest = re.split(r"\s+(?:on|in|concerning|regarding|relating to)\s+(?=[A-Z]|the\s+[A-Z])", rest)[0]
        sides = re.split(r"\s+and\s+(?=the\s)", rest)  # `the Ministry of Electronics and IT of India and the ...`
        if len(sides) == 1:
            sides = re.split(r",\s+|\s+and\s+(?=[A-Z])", rest)
        names = [_side_name(s) for s in sides]
        spare = iter(c for c in parties if country_short_name(c) not in names)
        # a side named by an agency (`the Indian Computer Emergency Response Team`): the party left over
        names = [n for n in (n or country_short_name(next(spare, "")) for n in names) if n]
    if not names and kind == "other":  # an annex or exchange of letters that names no party: its own heading
        return head
    if not names and parties:
        names = [country_short_name(c) for c in parties]
    if not names or len(names) > 3:
        return label if not parties or len(parties) > 3 else f"{label} ({', '.join(parties)})"
    return "–".join(dict.fromkeys(names)) + " " + label


# ---------------------------------------------------------------- sidecar and entry point


def read_sidecar(pdf_path: Path) -> dict:
    """`NAME.meta.toml` beside the PDF, or {}; raises ValueError with the reason when malformed."""
    side = pdf_path.with_suffix(".meta.toml")
    if not side.exists():
        return {}
    try:
        data = tomllib.loads(side.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{side.name}: invalid TOML ({exc})") from exc
    if "parties" in data:
        data["parties"] = iso3_all(data["parties"], side.name)
    return data


def detect_metadata(document: Document, pages: list[Page]) -> Document:
    """Fill title, kind, parties, date and place (with their evidence) from the text, then apply the sidecar."""
    title = find_title(pages)
    document.title = str(title.value) or document.doc_id
    document.kind = detect_kind(document.title)
    parties = find_parties(pages, title)
    document.parties = list(parties.value)
    document.date_signed, document.place_signed, signed = find_signature(pages)
    if not signed and not document.ocr:
        document.date_signed, document.place_signed, signed = scanned_closing_formula(Path(document.path), pages)
    document.evidence = {k: v for k, v in {
        "title": title.evidence, "kind": title.evidence, "parties": parties.evidence,
        "date_signed": signed, "place_signed": signed if document.place_signed else ""}.items() if v}
    for key, value in read_sidecar(Path(document.path)).items():
        if key in SIDECAR_FIELDS:
            setattr(document, key, str(value) if key in ("date_signed", "place_signed") else value)
            document.evidence[key] = "sidecar " + Path(document.path).with_suffix(".meta.toml").name
    document.short_name = short_name(document.title, document.parties, document.kind)
    return document
