"""The one data model passed from stage to stage (see ../shared/design.md)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


def article_key(number: str) -> str:
    """`Article 12.15` / `ARTICLE 12.15:` / `Art. 12.15` / `12.15` → `12.15`: how users and files name an
    article. Other keywords (`Section 3`) keep their word, so `Section 3` and `Article 3` stay apart."""
    s = re.sub(r"\s+", " ", (number or "").strip().lower())
    s = re.sub(r"^(article|art\.)\s*[:.\-–]?\s*", "", s)
    return re.sub(r"[\s:.\-–]+$", "", s)


@dataclass
class Line:
    """One visual line of text on a page, after header/footer removal."""

    text: str
    page: int  # physical, 1-based
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # dominant font size
    bold: bool = False
    italic: bool = False
    centred: bool = False
    column: int = 0
    #: superscript runs found in the line as (character offset in `text`, marker)
    markers: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Footnote:
    """A footnote found at a page foot: its printed number and text (number included)."""

    number: str
    text: str
    page: int


@dataclass
class Page:
    """One physical page reduced to body lines and footnotes."""

    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)
    ocr: bool = False


@dataclass
class Evidence:
    """Why an analysis label was given: the label, the trigger phrase and where it sits."""

    label: str
    phrase: str
    start: int = 0
    end: int = 0


@dataclass
class Clause:
    """One numbered paragraph of an article (or the whole body when unnumbered)."""

    text: str
    page: int
    number: str = ""
    footnote_refs: list[str] = field(default_factory=list)  # footnote markers cited in this clause
    strength: str = ""
    strength_evidence: str = ""
    exceptions: list[Evidence] = field(default_factory=list)
    topics: list[Evidence] = field(default_factory=list)
    entities: list[Evidence] = field(default_factory=list)
    id: int | None = None  # the store's row id, once stored


@dataclass
class Article:
    """An article (or section / paragraph unit) with its body, pages and footnotes."""

    doc_id: str
    article_number: str
    article_title: str
    text: str
    page_start: int
    page_end: int
    chapter_number: str = ""
    chapter_title: str = ""
    section: str = ""
    footnotes: list[str] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    id: int | None = None  # the store's row id, once stored
    instrument: str = ""  # in a volume binding several agreements: the one this article belongs to
    unit: str = "article"  # "article", "annex" (annex / appendix text) or "table" (tariff schedules...)

    def bench_record(self) -> dict[str, Any]:
        """The bench JSONL shape (see ../shared/bench/README.md)."""
        return {
            "doc": self.doc_id,
            "chapter_number": self.chapter_number,
            "chapter_title": self.chapter_title,
            "article_number": self.article_number,
            "article_title": self.article_title,
            "text": self.text,
            "page_start": self.page_start,
            "page_end": self.page_end,
            "footnotes": list(self.footnotes),
            "topics": list(self.topics),
        }


@dataclass
class Document:
    """A whole agreement: metadata plus its articles."""

    doc_id: str
    path: str
    sha256: str = ""
    title: str = ""
    kind: str = "other"  # FTA, MoU, JDI, protocol, other
    parties: list[str] = field(default_factory=list)  # ISO-3166 alpha-3
    date_signed: str = ""  # ISO date, may be empty
    pages: int = 0
    articles: list[Article] = field(default_factory=list)
    ocr: bool = False
    short_name: str = ""  # as papers cite it: `India–Korea DTEPA`
    place_signed: str = ""  # as the closing formula writes it (`Cha-am, Phetchaburi, Thailand`), may be empty
    evidence: dict[str, str] = field(default_factory=dict)  # metadata field → the text it was read from

    @property
    def year(self) -> str:
        return self.date_signed[:4]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Filters:
    """What a search is restricted to; None means no restriction."""

    topic: str | None = None
    party: str | None = None  # ISO-3 or a country name
    kind: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    strength: str | None = None
    doc: str | None = None
    include_tables: bool | None = None  # tariff schedules and other long tables are left out unless asked

    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass
class Hit:
    """One search result: an article with its best clause, score and citation, and what readers of a
    hit (terminal, web page, paper, export) need about its document."""

    doc_id: str
    article_number: str
    article_title: str
    citation: str
    score: float
    snippet: str = ""
    strength: str = ""
    topics: list[str] = field(default_factory=list)
    clause_id: int | None = None
    page: int = 0
    doc_title: str = ""
    short_name: str = ""
    kind: str = ""
    date_signed: str = ""
    parties: list[str] = field(default_factory=list)
    chapter_title: str = ""
    text: str = ""  # the whole article body
    clause_text: str = ""  # the best-matching paragraph
    exceptions: list[str] = field(default_factory=list)  # carve-out labels of that paragraph
    article_id: int | None = None

    @property
    def year(self) -> str:
        return self.date_signed[:4]
