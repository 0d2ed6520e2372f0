"""Body lines → chapters, sections, articles and numbered paragraphs (clauses), with pages and footnotes.

Headings are recognised by their wording *and* their typography: an `Article 12.14 ...` line is a
heading when it is set apart (bold, centred or on its own line), and a cross-reference when it is
running text. Documents typeset without bold headings (plain or OCR'd) fall back to layout cues.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .extract import detect_body_size
from .textutil import heading_case, join_lines
from .models import Article, Clause, Document, Footnote, Line, Page

WORD_NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty"
).split()
_WORDNUM = r"(?:(?:twenty|thirty|forty|fifty)[\- ](?:one|two|three|four|five|six|seven|eight|nine)|" + "|".join(
    sorted(WORD_NUMBERS, key=len, reverse=True)) + r")"
_NUM = (
    r"(?:" + _WORDNUM + r"(?![a-z])"
    r"|[0-9]+[A-Za-z]?(?:[.\-–][0-9]+[A-Za-z]?)*(?:\s?(?:bis|ter|quater)\b)?"
    r"|[A-Z]{1,2}[\-–.][0-9]+[A-Za-z]?(?:\.[0-9]+)*"
    r"|[IVXLC]+(?![A-Za-z])"
    r"|[A-Z](?![A-Za-z]))"
)
ARTICLE_RE = re.compile(
    r"^(?P<kw>article|art\.|section|paragraph|clause|rule)(?P<kwp>\s?[:.\-–]?)\s*(?<=[\s:.\-–])(?P<num>" + _NUM + r")\.?(?P<rest>(?:\s|[:.\-–—]).*|)$",
    re.IGNORECASE,
)
CHAPTER_RE = re.compile(
    r"^(?P<kw>chapter|part|annex|appendix|schedule)\s+(?P<num>" + _NUM + r")\.?(?P<rest>(?:\s|[:.\-–—]).*|)$",
    re.IGNORECASE,
)
# keyword-less headings (`IV` / `3 Title`), used only in documents with no `Article N` headings
BARE_NUMBER_RE = re.compile(r"^(?P<kw>)(?P<kwp>)(?P<num>[IVXLC]+|[0-9]{1,3})\.?(?P<rest>\s+[A-Z].*|)$")
SEPARATOR_RE = re.compile(r"^[\s:.\-–—]+")
# the closing formula and signature block are not part of the last article
CLOSING_RE = re.compile(r"^(IN WITNESS WHEREOF|In witness whereof|DONE (at|in)|Done (at|in)|SIGNED (at|in)|Signed (at|in))\b")
PARAGRAPH_NUMBER_RE = re.compile(r"^\(?([0-9]{1,2})[.)]\s+\S")


@dataclass
class _Heading:
    kind: str  # "chapter", "article", "section", "title"
    keyword: str
    number: str
    title: str
    page: int
    markers: list[str] = field(default_factory=list)


def number_label(keyword: str, number: str, punct: str = "") -> str:
    """`ARTICLE 7.38` → `Article 7.38`; printed punctuation after the keyword is kept (`Article: 8.4`)."""
    kw = keyword.rstrip(".").lower()
    kw = {"art": "article"}.get(kw, kw)
    return f"{kw.capitalize()}{punct.rstrip()} {number.strip()}"


def chapter_label(keyword: str, number: str) -> str:
    """`CHAPTER TEN` → `Chapter 10`; `Chapter 3` stays."""
    n = number.strip().lower()
    if n in WORD_NUMBERS:
        idx = WORD_NUMBERS.index(n)
        number = str(idx + 1 if idx < 20 else (idx - 19) * 10 + 20)
    elif re.fullmatch(r"(twenty|thirty|forty|fifty)[\- ]\w+", n):
        tens, unit = re.split(r"[\- ]", n)
        number = str({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}[tens] + WORD_NUMBERS.index(unit) + 1)
    return number_label(keyword, number)


class _Segmenter:
    def __init__(self, doc_id: str, pages: list[Page]):
        self.doc_id = doc_id
        self.pages = pages
        self.lines = [ln for p in pages for ln in p.lines]
        self.body_size = detect_body_size(pages)
        widths = sorted(ln.x1 - ln.x0 for ln in self.lines) or [500.0]
        self.full_width = widths[int(len(widths) * 0.9)] if widths else 500.0
        self.bold_headings = sum(1 for ln in self.lines if ln.bold and ARTICLE_RE.match(ln.text)) >= 2
        self.article_keyword = self._article_keyword()
        # `PART I` groups chapters where there are chapters; only without them is a part a chapter
        self.has_chapters = any((m := CHAPTER_RE.match(ln.text)) and m.group("kw").lower() == "chapter"
                                for ln in self.lines)
        # documents whose articles carry no keyword (`I`, `II` ... or `1 Title`), set in bold
        self.bare_numbers = self.bold_headings is False and sum(
            1 for ln in self.lines if ln.bold and BARE_NUMBER_RE.match(ln.text.strip())) >= 2

    # ---- classification of single lines

    def _styled(self, ln: Line) -> bool:
        """Typographically set apart: bold, or centred, or larger than body text."""
        return ln.bold or ln.centred or ln.size > self.body_size * 1.12

    def _title_like(self, rest: str) -> bool:
        rest = rest.strip()
        if not rest:
            return True
        if rest[0] in "(,;" or rest[0].islower():
            return False
        return not re.search(r"\b(shall|may|of this (Agreement|Chapter)|and|or|to)$|\bshall\b", rest)

    def _is_heading_line(self, ln: Line, m: re.Match) -> bool:
        rest = SEPARATOR_RE.sub("", m.group("rest"))
        if self._styled(ln):
            return not rest or rest[0].isupper() or rest[0] in "“\"'"
        if self.bold_headings:
            return False
        # plain / OCR'd text: a line of its own with a title-like rest, not running prose
        return self._title_like(rest) and len(rest.split()) <= 12

    def _article_keyword(self) -> str:
        counts: dict[str, int] = {}
        for ln in self.lines:
            m = ARTICLE_RE.match(ln.text)
            if m and self._styled(ln) if self.bold_headings else m:
                kw = m.group("kw").lower().rstrip(".")
                kw = "article" if kw == "art" else kw
                counts[kw] = counts.get(kw, 0) + 1
        for kw in ("article", "section", "paragraph", "clause", "rule"):
            if counts.get(kw, 0) >= 1:
                return kw
        return "article"

    def _is_title_line(self, ln: Line, heading_line: Line) -> bool:
        """A line that continues a heading's title (wrapped, or the title under `ARTICLE 7.38`)."""
        if ARTICLE_RE.match(ln.text) or CHAPTER_RE.match(ln.text):
            return False
        if ln.text.rstrip().endswith((".", ";", ",")) and not ln.text.rstrip().endswith("etc."):
            return False
        if len(ln.text.split()) > 16:
            return False
        if ln.page != heading_line.page and ln.column == heading_line.column:
            return False
        gap = ln.top - heading_line.bottom
        if ln.page == heading_line.page and ln.column == heading_line.column and gap > 2.2 * ln.size:
            return False
        if ln.bold or ln.italic:
            return True
        if self.bold_headings:
            return heading_line.centred and ln.centred and not heading_line.bold
        return ln.centred or ((ln.x1 - ln.x0) < 0.6 * self.full_width and ln.text[:1].isupper())

    def _is_unnumbered_heading(self, ln: Line) -> bool:
        """A bold title standing alone (a titled article without a number, or `PREAMBLE`)."""
        if not (ln.bold and self.bold_headings):
            return False
        t = ln.text.strip()
        if t.endswith((".", ":", ";", ",")) or len(t.split()) > 14 or not t[:1].isupper():
            return False
        return ln.size >= self.body_size * 0.95

    # ---- walking the document

    def run(self) -> list[Article]:
        articles: list[Article] = []
        chapter_number = chapter_title = section = ""
        current: Article | None = None
        body: list[Line] = []
        markers: list[tuple[int, str, int]] = []  # (page, marker, article index)
        i, n = 0, len(self.lines)

        def close() -> None:
            if current is not None:
                self._finish(current, body)
                articles.append(current)

        while i < n:
            ln = self.lines[i]
            text = ln.text.strip()
            cm = CHAPTER_RE.match(text)
            am = ARTICLE_RE.match(text) or (self.bare_numbers and ln.bold and BARE_NUMBER_RE.match(text)) or None
            if cm and self._is_heading_line(ln, cm) and not (
                    cm.group("kw").lower() == "part" and self.has_chapters):
                rest = SEPARATOR_RE.sub("", cm.group("rest")).strip()
                titles, i = self._collect_titles(i, ln, rest)
                close()
                chapter_number = chapter_label(cm.group("kw"), cm.group("num"))
                chapter_title = heading_case(" ".join(titles))
                section = ""
                current, body = None, []
                self._note_markers(markers, ln, len(articles))
                continue
            if am and self._is_heading_line(ln, am):
                kw = am.group("kw").lower().rstrip(".") or self.article_keyword
                kw = "article" if kw == "art" else kw
                rest = SEPARATOR_RE.sub("", am.group("rest")).strip()
                titles, j = self._collect_titles(i, ln, rest)
                if kw != self.article_keyword:  # e.g. `Section A` grouping articles
                    close()
                    current, body = None, []
                    section = " ".join([number_label(kw, am.group("num"))] + titles)
                    i = j
                    continue
                close()
                label = number_label(kw, am.group("num"), am.group("kwp")) if am.group("kw") else am.group("num")
                current = Article(
                    doc_id=self.doc_id, article_number=label,
                    article_title=" ".join(titles), text="", page_start=ln.page, page_end=ln.page,
                    chapter_number=chapter_number, chapter_title=chapter_title, section=section,
                )
                body = []
                for k in range(i, j):
                    self._note_markers(markers, self.lines[k], len(articles))
                i = j
                continue
            if self._is_unnumbered_heading(ln) or (ln.size > self.body_size * 1.12 and ln.bold):
                titles, j = self._collect_titles(i, ln, text)
                close()
                title = " ".join(titles)
                if ln.size > self.body_size * 1.12:  # chapter-sized: a part without a number (PREAMBLE)
                    chapter_number, chapter_title, section = "", heading_case(title), ""
                    current = Article(doc_id=self.doc_id, article_number="", article_title="", text="",
                                      page_start=ln.page, page_end=ln.page,
                                      chapter_number="", chapter_title=chapter_title)
                else:
                    current = Article(doc_id=self.doc_id, article_number="", article_title=title, text="",
                                      page_start=ln.page, page_end=ln.page, chapter_number=chapter_number,
                                      chapter_title=chapter_title, section=section)
                body = []
                i = j
                continue
            if CLOSING_RE.match(text) and (not body or body[-1].text.rstrip().endswith((".", ":"))) and (
                    current is None or current.article_number or current.article_title):
                close()
                current, body = Article(doc_id=self.doc_id, article_number="", article_title="", text="",
                                        page_start=ln.page, page_end=ln.page), []
            if current is None:
                current = Article(doc_id=self.doc_id, article_number="", article_title="", text="",
                                  page_start=ln.page, page_end=ln.page, chapter_number=chapter_number,
                                  chapter_title=chapter_title or ("Preamble" if not articles else ""),
                                  section=section)
                body = []
            body.append(ln)
            self._note_markers(markers, ln, len(articles))
            i += 1
        close()
        self._attach_footnotes(articles, markers)
        return [a for a in articles if a.article_number or a.article_title or a.text]

    def _collect_titles(self, i: int, ln: Line, rest: str) -> tuple[list[str], int]:
        """The heading's title: text after the number plus the styled lines that follow it."""
        titles = [rest] if rest else []
        j = i + 1
        last = ln
        while j < len(self.lines) and j <= i + 3 and self._is_title_line(self.lines[j], last):
            titles.append(self.lines[j].text.strip())
            last = self.lines[j]
            j += 1
        return [join_lines(titles)] if titles else [], j

    @staticmethod
    def _note_markers(markers: list[tuple[int, str, int]], ln: Line, idx: int) -> None:
        for _, mk in ln.markers:
            markers.append((ln.page, mk, idx))

    def _finish(self, art: Article, body: list[Line]) -> None:
        art.text = join_lines([ln.text for ln in body])
        if body:
            art.page_end = max(art.page_start, body[-1].page)
        art.clauses = split_clauses(body)

    def _attach_footnotes(self, articles: list[Article], markers: list[tuple[int, str, int]]) -> None:
        if not articles:
            return
        notes: list[Footnote] = [f for p in self.pages for f in p.footnotes]
        for note in notes:
            idx = None
            for page, mk, a in markers:  # the citing marker on the same page, else the latest before it
                if mk == note.number and page <= note.page:
                    idx = a
                    if page == note.page:
                        break
            if idx is None:
                idx = self._article_on_page(articles, note.page)
            idx = min(idx, len(articles) - 1)
            articles[idx].footnotes.append(note.text)

    @staticmethod
    def _article_on_page(articles: list[Article], page: int) -> int:
        best = 0
        for k, a in enumerate(articles):
            if a.page_start <= page:
                best = k
        return best


def split_clauses(body: list[Line]) -> list[Clause]:
    """Numbered paragraphs (`1.`, `2.` ... in sequence at a line start) become clauses."""
    groups: list[tuple[str, list[Line]]] = []
    expected = 1
    for ln in body:
        m = PARAGRAPH_NUMBER_RE.match(ln.text)
        if m and int(m.group(1)) == expected:
            groups.append((m.group(1), [ln]))
            expected += 1
        elif groups:
            groups[-1][1].append(ln)
        else:
            groups.append(("", [ln]))
    return [Clause(text=join_lines([x.text for x in lines]), page=lines[0].page, number=number,
                   footnote_refs=[mk for x in lines for _, mk in x.markers])
            for number, lines in groups]


def segment_document(doc_id: str, pages: list[Page]) -> list[Article]:
    """Split a document's pages into articles (with chapters, titles, pages, clauses, footnotes)."""
    return _Segmenter(doc_id, pages).run()


def build_document(path, pages: list[Page], sha256: str = "") -> Document:
    """Convenience: a Document with its articles (metadata is filled by `metadata.detect_metadata`)."""
    from pathlib import Path

    p = Path(path)
    doc = Document(doc_id=p.stem, path=str(p), sha256=sha256, pages=len(pages),
                   ocr=any(pg.ocr for pg in pages))
    doc.articles = segment_document(doc.doc_id, pages)
    return doc
