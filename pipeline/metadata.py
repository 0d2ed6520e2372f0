"""Document metadata from the text: title, kind, parties (ISO-3166 alpha-3), signature date.

A sidecar `NAME.meta.toml` beside the PDF overrides any detected field, because real PDFs often
name their parties in ways no detector should have to guess (`the EFTA States`).
"""
from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from dateutil import parser as dateparser

from .countries import find_countries, iso3, iso3_all
from .models import Document, Page
from .textutil import SMALL_WORDS, heading_case

KIND_PATTERNS = [  # first match wins; order matters (an MoU "on" an FTA is still an MoU)
    ("JDI", r"joint declaration of intent|joint declaration|joint statement"),
    ("MoU", r"memorandum of (understanding|cooperation)|\bmou\b|\bmoc\b"),
    ("protocol", r"\bprotocol\b"),
    ("FTA", r"free trade|trade agreement|economic partnership|economic cooperation agreement|economic integration|"
            r"trade and investment agreement|customs union|preferential trade|association agreement|"
            r"partnership agreement"),
]
DATE_RE = re.compile(
    r"\b(\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?[A-Z][a-z]+,?\s+\d{4}|"
    r"[A-Z][a-z]+\s+\d{1,2},?\s+\d{4})\b"
)
SIGNED_RE = re.compile(r"\b(Signed|SIGNED|Done|DONE|Concluded|signed on|signed at|signed in)\b")


def detect_kind(text: str) -> str:
    low = text.lower()
    for kind, pattern in KIND_PATTERNS:
        if re.search(pattern, low):
            return kind
    return "other"


def _front_text(pages: list[Page], n: int = 2) -> str:
    return "\n".join(ln.text for p in pages[:n] for ln in p.lines)


def detect_title(pages: list[Page]) -> str:
    """The largest type on the first page with text, with the smaller lines set between (`between`, `and`)."""
    for p in pages[:3]:
        if not p.lines:
            continue
        top = max(ln.size for ln in p.lines)
        big = [i for i, ln in enumerate(p.lines) if ln.size >= top - 0.5]
        block = p.lines[big[0]: min(big[-1], big[0] + 7) + 1]
        title = re.sub(r"\s+", " ", " ".join(heading_case(ln.text.strip()) for ln in block)).strip()
        if title:  # small words that started a cased line: `between The Republic` → `between the Republic`
            return re.sub(r"(?<=\s)(" + "|".join(w.capitalize() for w in SMALL_WORDS) + r")\b",
                          lambda m: m.group(1).lower(), title)
    return ""


def detect_date(pages: list[Page]) -> str:
    """The signature date: the closing `Done at … on …` / `Signed at …`, else a `Signed on` on the cover,
    else the cover's first date. A lower-case `done on` (a convention cited in the text) does not count."""
    def flat(ps: list[Page]) -> str:
        return re.sub(r"\s+", " ", "\n".join(ln.text for p in ps for ln in p.lines))

    for text in (flat(pages[-3:]), flat(pages[:2])):
        for m in SIGNED_RE.finditer(text):
            d = DATE_RE.search(text, m.end(), m.end() + 160)
            if d and (parsed := _parse_date(d.group(1))):
                return parsed
    d = DATE_RE.search(flat(pages[:1]))
    return _parse_date(d.group(1)) if d else ""


def _parse_date(s: str) -> str:
    s = re.sub(r"(\d)(st|nd|rd|th)", r"\1", s).replace("day of ", "")
    try:
        dt = dateparser.parse(s, default=None, dayfirst=True)
    except (ValueError, OverflowError):
        return ""
    if not dt or not (1900 <= dt.year <= date.today().year + 1):
        return ""
    return dt.date().isoformat()


def detect_parties(pages: list[Page]) -> list[str]:
    """Parties as ISO-3: an explicit `Parties:` line, else the countries named on the cover and first page."""
    front = _front_text(pages, 2)
    m = re.search(r"parties\s*:\s*(.+)", front, re.IGNORECASE)
    if m:
        codes = [c for c in (iso3(x) for x in re.split(r"[,;/]| and ", m.group(1))) if c]
        if codes:
            return list(dict.fromkeys(codes))
    cover = "\n".join(ln.text for p in pages[:1] for ln in p.lines)
    codes = find_countries(cover)
    if len(codes) >= 2:
        return codes
    return find_countries(front)[:12]


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
    """Fill title, kind, parties and date from the text, then apply the sidecar overrides."""
    document.title = detect_title(pages) or document.doc_id
    document.kind = detect_kind(document.title + "\n" + _front_text(pages, 1))
    document.parties = detect_parties(pages)
    document.date_signed = detect_date(pages)
    for key, value in read_sidecar(Path(document.path)).items():
        if key in ("title", "kind", "parties", "date_signed"):
            setattr(document, key, str(value) if key == "date_signed" else value)
    return document
