"""Body lines → chapters, sections, articles, annexes and tables, with pages and footnotes.

Two steps. `classify_lines` gives every line a kind (a chapter, article, annex or section heading,
a heading's title line, an instrument title, a table-of-contents entry, a table row, the closing
formula, or body text) from its wording *and* its layout: typography (bold, centred, larger, all
capitals as small capitals print), space above it, whether the line before ends mid-sentence, and
whether it sits in a table-of-contents page or a grid of table cells. `_Assembler` is a small state
machine that walks the classified lines and opens and closes units.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from .extract import detect_body_size
from .models import Article, Clause, Document, Line, Page
from .textutil import heading_case, join_lines

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
    r"^(?P<kw>chapter|part)\s+(?P<num>" + _NUM + r")\.?(?P<rest>(?:\s|[:.\-–—]).*|)$",
    re.IGNORECASE,
)
# annexes, appendices and schedules: units of their own; the number may be missing (`ANNEX`)
ANNEX_RE = re.compile(
    r"^(?P<kw>annex|appendix|schedule|attachment)(?:\s+(?P<num>" + _NUM + r"(?:[\-–][A-Z](?![A-Za-z]))?))?\.?(?P<rest>(?:\s|[:.\-–—]).*|)$",
    re.IGNORECASE,
)
# keyword-less headings (`IV` / `3 Title`), used only in documents with no `Article N` headings
BARE_NUMBER_RE = re.compile(r"^(?P<kw>)(?P<kwp>)(?P<num>[IVXLC]+|[0-9]{1,3})\.?(?P<rest>\s+[A-Z].*|)$")
SEPARATOR_RE = re.compile(r"^[\s:.\-–—]+")
# the closing formula and signature block are not part of the last article
CLOSING_RE = re.compile(r"^(IN WITNESS WHEREOF|In witness whereof|DONE (at|in)|Done (at|in)|SIGNED (at|in)|Signed (at|in))\b")
PARAGRAPH_NUMBER_RE = re.compile(r"^\(?([0-9]{1,2})[.)]\s+\S")
# a contents entry: dot (or underscore) leaders running to a page number
LEADER_RE = re.compile(r"(?:(?:\.\s?){4,}|_{4,}|…{2,})\s*(?:[0-9]{1,4}|[ivxlc]{1,6})\s*$", re.IGNORECASE)
CONTENTS_RE = re.compile(r"^(table of )?contents$", re.IGNORECASE)
PAGE_REF_RE = re.compile(r"^(?:[0-9]{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)
# the label of a hanging-indent list item (`1.`, `(a)`) set apart from its text by a tab
LIST_LABEL_RE = re.compile(r"^\(?(?:[0-9]{1,3}|[a-z]{1,3}|[ivxlc]{1,5})[.)]$", re.IGNORECASE)
INSTRUMENT_RE = re.compile(r"\b(agreement|protocol|convention|treaty|arrangement|memorandum|accord|"
                           r"exchange of (notes|letters))\b", re.IGNORECASE)
ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
#: a table of at least this many rows becomes a unit of its own; shorter grids stay in the body
MIN_TABLE_UNIT_ROWS = 6
#: a bold line repeated on this many consecutive pages is a table's column header, not a title
REPEATED_HEADER_PAGES = 3

# line kinds
CHAPTER, ARTICLE, SECTION, ANNEX, UNNUMBERED, PART_TITLE = "chapter", "article", "section", "annex", "unnumbered", "part"
TITLE, INSTRUMENT, TOC, TABLE, CLOSING, BODY = "title", "instrument", "toc", "table", "closing", "body"
HEADINGS = {CHAPTER, ARTICLE, SECTION, ANNEX, UNNUMBERED, PART_TITLE}
# lines that may carry an agreement's title (not the title lines of a chapter or article heading)
TITLE_CANDIDATES = {BODY, UNNUMBERED, PART_TITLE}


def number_label(keyword: str, number: str, punct: str = "") -> str:
    """`ARTICLE 7.38` → `Article 7.38`; printed punctuation after the keyword is kept (`Article: 8.4`)."""
    kw = keyword.rstrip(".").lower()
    kw = {"art": "article"}.get(kw, kw)
    return f"{kw.capitalize()}{punct.rstrip()} {number.strip()}".rstrip()


def chapter_label(keyword: str, number: str) -> str:
    """`CHAPTER TEN` → `Chapter 10`; `Chapter 3` stays."""
    n = number.strip().lower()
    if n in WORD_NUMBERS:
        number = str(_word_number(n))
    elif re.fullmatch(r"(twenty|thirty|forty|fifty)[\- ]\w+", n):
        tens, unit = re.split(r"[\- ]", n)
        number = str({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}[tens] + WORD_NUMBERS.index(unit) + 1)
    return number_label(keyword, number)


def _word_number(n: str) -> int:
    idx = WORD_NUMBERS.index(n)
    return idx + 1 if idx < 20 else (idx - 19) * 10 + 20


def leading_number(number: str) -> int | None:
    """The first component of an article number as an int (`12.3` → 12, `IV` → 4, `two` → 2)."""
    n = number.strip().lower()
    if m := re.match(r"[0-9]+", n):
        return int(m.group())
    if re.fullmatch(r"[ivxlc]+", n):
        total = 0
        for a, b in zip(n, n[1:] + " "):
            v = ROMAN[a]
            total += -v if b != " " and ROMAN[b] > v else v
        return total
    if n in WORD_NUMBERS:
        return _word_number(n)
    return None


# ------------------------------------------------------------------------ line classification


@dataclass
class Profile:
    """Document-wide facts the line classifier needs."""

    body_size: float
    full_width: float
    pitch: float  # usual distance between the tops of two body lines
    bold_headings: bool  # `Article N` headings are set in bold (so plain ones are cross-references)
    article_keyword: str  # the keyword of the numbered units (`article`, or `section` ...)
    has_chapters: bool  # `PART I` groups chapters where there are chapters; else a part is a chapter
    bare_numbers: bool  # articles carry no keyword (`I`, `II` ... or `1 Title`), set in bold


@dataclass
class Classified:
    """One line with its kind and what the classifier found in it."""

    line: Line
    kind: str = BODY
    keyword: str = ""  # for numbered headings: as printed (`ARTICLE`) and its trailing punctuation
    punct: str = ""
    number: str = ""
    rest: str = ""  # text after the number on the heading line
    space_above: float = 0.0  # blank space above the line (inf at the top of a page or column)
    continues: bool = False  # the line before runs on into this one (same paragraph, no full stop)
    cells: int = 1  # texts side by side on its visual row (a table row has several)


def annex_match(text: str) -> re.Match | None:
    """`ANNEX 3-A ...`, `Appendix 2`, or a bare `ANNEX`; not `Schedule of Arcadia` (no number, more words)."""
    m = ANNEX_RE.match(text)
    return m if m and (m.group("num") or not m.group("rest").strip()) else None


def _numbered(text: str) -> bool:
    return bool(ARTICLE_RE.match(text) or CHAPTER_RE.match(text) or annex_match(text))


def _longest_run(pages: set[int]) -> int:
    """The longest run of consecutive page numbers."""
    best = 0
    for p in pages:
        if p - 1 not in pages:
            n = 1
            while p + n in pages:
                n += 1
            best = max(best, n)
    return best


def _by_page(out: list[Classified]) -> dict[int, list[int]]:
    pages: dict[int, list[int]] = {}
    for k, c in enumerate(out):
        pages.setdefault(c.line.page, []).append(k)
    return pages


def _is_caps(text: str) -> bool:
    return text.isupper() and sum(c.isalpha() for c in text) >= 4


def is_contents_entry(text: str) -> bool:
    """Text, then dot (or underscore) leaders running to a page number."""
    if ".." not in text and ". ." not in text and "__" not in text and "…" not in text:
        return False
    m = LEADER_RE.search(text)
    return m is not None and re.search(r"\w", text[: m.start()]) is not None


def _title_like(rest: str) -> bool:
    rest = rest.strip()
    if not rest:
        return True
    if rest[0] in "(,;" or rest[0].islower():
        return False
    return not re.search(r"\b(shall|may|of this (Agreement|Chapter)|and|or|to)$|\bshall\b", rest)


def _titled_contents(out: list[Classified], idxs: list[int]) -> list[int]:
    """The entries of a list titled "Contents" that has neither leaders nor page numbers: the lines after
    the title, up to the first article number the list already named (the text itself begins there)."""
    start = next((n for n, k in enumerate(idxs) if CONTENTS_RE.match(out[k].line.text.strip())), None)
    if start is None:
        return []
    entries, named = [], set()
    for k in idxs[start + 1:]:
        m = ARTICLE_RE.match(out[k].line.text.strip())
        if out[k].line.centred and not m:  # a centred "PREAMBLE": the text begins
            break
        if m:
            if m["num"] in named:
                break
            named.add(m["num"])
        entries.append(k)
    return entries if len(named) >= 3 else []


class LineClassifier:
    """Gives each body line of a document a kind (see the module docstring)."""

    def __init__(self, pages: list[Page]):
        self.pages = pages
        self.lines = [ln for p in pages for ln in p.lines]
        self.profile = self._profile()

    # ---- document-wide facts

    def _profile(self) -> Profile:
        body_size = detect_body_size(self.pages)
        widths = sorted(ln.x1 - ln.x0 for ln in self.lines) or [500.0]
        bold_headings = sum(1 for ln in self.lines if ln.bold and ARTICLE_RE.match(ln.text)) >= 2
        steps = [b.top - a.top for a, b in zip(self.lines, self.lines[1:])
                 if a.page == b.page and a.column == b.column and abs(a.size - body_size) < 0.6
                 and 0 < b.top - a.top < 3 * body_size]
        prof = Profile(
            body_size=body_size, full_width=widths[int(len(widths) * 0.9)],
            pitch=median(steps) if steps else body_size * 1.25, bold_headings=bold_headings,
            article_keyword="article",
            has_chapters=any((m := CHAPTER_RE.match(ln.text)) and m.group("kw").lower() == "chapter"
                             for ln in self.lines),
            bare_numbers=not bold_headings and sum(
                1 for ln in self.lines if ln.bold and BARE_NUMBER_RE.match(ln.text.strip())) >= 2,
        )
        self.profile = prof
        prof.article_keyword = self._article_keyword()
        return prof

    def _article_keyword(self) -> str:
        counts: dict[str, int] = {}
        for ln in self.lines:
            m = ARTICLE_RE.match(ln.text)
            if m and (self._styled(ln) if self.profile.bold_headings else True):
                kw = m.group("kw").lower().rstrip(".")
                kw = "article" if kw == "art" else kw
                counts[kw] = counts.get(kw, 0) + 1
        for kw in ("article", "section", "paragraph", "clause", "rule"):
            if counts.get(kw, 0) >= 1:
                return kw
        return "article"

    # ---- typography

    def _strongly_styled(self, ln: Line) -> bool:
        """Set apart by type: bold, centred, or larger than body text."""
        return ln.bold or ln.centred or ln.size > self.profile.body_size * 1.12

    def _styled(self, ln: Line) -> bool:
        """Strongly styled, or in capitals (small capitals are not bold and may be smaller than body)."""
        return self._strongly_styled(ln) or _is_caps(ln.text)

    # ---- the pass

    def classify(self) -> list[Classified]:
        out = [Classified(ln) for ln in self.lines]
        self._measure_context(out)
        self.column_headers: set[int] = set()
        skip = self._mark_contents(out) | self._mark_tables(out) | self.column_headers
        for k, c in enumerate(out):
            if k not in skip:
                self._classify_heading(c)
        self._mark_titles(out)
        self._mark_instruments(out)
        return out

    def _measure_context(self, out: list[Classified]) -> None:
        """Space above each line, and whether the line before (running text) runs on into it."""
        prev: Line | None = None
        for c in out:
            ln = c.line
            if prev is None or prev.page != ln.page or prev.column != ln.column or ln.top <= prev.top:
                c.space_above = float("inf")
            else:
                c.space_above = max(0.0, ln.top - prev.bottom)
                tail = prev.text.rstrip()
                c.continues = (ln.top - prev.top <= 1.25 * self.profile.pitch and not self._styled(prev)
                               and (tail[-1:].isalnum() or tail.endswith((",", "-"))))
            prev = ln

    def _classify_heading(self, c: Classified) -> None:
        ln, text, prof = c.line, c.line.text.strip(), self.profile
        if CLOSING_RE.match(text):
            c.kind = CLOSING
            return
        for kind, match in ((CHAPTER, CHAPTER_RE.match), (ANNEX, annex_match), (ARTICLE, ARTICLE_RE.match)):
            m = match(text)
            if m is None and kind == ARTICLE and prof.bare_numbers and ln.bold:
                m = BARE_NUMBER_RE.match(text)
            if m is None:
                continue
            rest = SEPARATOR_RE.sub("", m.group("rest")).strip()
            if not self._is_heading_line(c, rest, kind):
                continue
            if kind == CHAPTER and m.group("kw").lower() == "part" and prof.has_chapters:
                continue
            c.keyword, c.number, c.rest = m.group("kw"), m.group("num") or "", rest
            c.punct = m.groupdict().get("kwp") or ""
            if kind == ARTICLE:
                kw = c.keyword.lower().rstrip(".") or prof.article_keyword
                kind = ARTICLE if ("article" if kw == "art" else kw) == prof.article_keyword else SECTION
            c.kind = kind
            return
        large = ln.size > prof.body_size * 1.12
        if self._is_unnumbered_heading(ln) or (large and ln.bold):
            c.kind = PART_TITLE if large else UNNUMBERED

    def _is_heading_line(self, c: Classified, rest: str, kind: str) -> bool:
        ln, prof = c.line, self.profile
        if kind == ANNEX:
            if c.continues:  # `... set out in` / `Annex 2 of this Protocol.`
                return False
            if re.match(r"(to|of)\s+(the\s+)?(annex|appendix|schedule|chapter)\b", rest, re.IGNORECASE):
                rest = rest[:1].upper() + rest[1:]  # `Appendix 1 to Annex 3`
        if self._strongly_styled(ln):
            return not rest or rest[0].isupper() or rest[0] in "“\"'"
        if c.continues:  # a cross-reference wrapped to the start of a line
            return False
        if _is_caps(ln.text):  # small capitals: not bold, maybe smaller than body, on a line of their own
            return _title_like(rest) and len(rest.split()) <= 16
        if _is_caps(rest):  # `Article 13.8: PAPERLESS TRADING` in body type: the capitals mark the title
            return _title_like(rest) and len(rest.split()) <= 16
        if prof.bold_headings:
            return False
        # plain / OCR'd text: a line of its own with a title-like rest, not running prose
        return _title_like(rest) and len(rest.split()) <= 12

    def _is_unnumbered_heading(self, ln: Line) -> bool:
        """A bold title standing alone (a titled article without a number, or `PREAMBLE`)."""
        if not (ln.bold and self.profile.bold_headings):
            return False
        t = ln.text.strip()
        if t.endswith((".", ":", ";", ",")) or len(t.split()) > 14 or not t[:1].isupper():
            return False
        return ln.size >= self.profile.body_size * 0.95

    def _is_title_line(self, ln: Line, heading_line: Line) -> bool:
        """A line that continues a heading's title (wrapped, or the title under `ARTICLE 7.38`)."""
        if ARTICLE_RE.match(ln.text) or CHAPTER_RE.match(ln.text) or annex_match(ln.text):
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
        if _is_caps(heading_line.text) and not self._strongly_styled(heading_line):
            return _is_caps(ln.text)  # a small-capitals title wraps in small capitals
        if self.profile.bold_headings:
            return heading_line.centred and ln.centred and not heading_line.bold
        return ln.centred or ((ln.x1 - ln.x0) < 0.6 * self.profile.full_width and ln.text[:1].isupper())

    def _mark_titles(self, out: list[Classified]) -> None:
        """Up to three lines after a heading that carry its title."""
        for i, c in enumerate(out):
            if c.kind not in HEADINGS:
                continue
            last = c.line
            for j in range(i + 1, min(i + 4, len(out))):
                nxt = out[j]
                if nxt.kind not in (BODY, UNNUMBERED, PART_TITLE) or nxt.cells > 2 or \
                        not self._is_title_line(nxt.line, last):
                    break
                nxt.kind = TITLE
                last = nxt.line

    # ---- tables of contents

    def _mark_contents(self, out: list[Classified]) -> set[int]:
        """Contents pages: entries with leaders or a page number beside them are never headings."""
        widths = {p.number: p.width for p in self.pages}
        marked: set[int] = set()
        for idxs in _by_page(out).values():
            leaders = {k for k in idxs if is_contents_entry(out[k].line.text)}
            numbers = {k for k in idxs if PAGE_REF_RE.match(out[k].line.text.strip())
                       and out[k].line.x0 > 0.6 * widths[out[k].line.page]}
            if len(leaders) + len(numbers) < 4:
                marked.update(leaders if len(leaders) >= 2 else ())
                marked.update(_titled_contents(out, idxs))
                continue
            for k in idxs:
                text = out[k].line.text.strip()
                if (k in leaders or k in numbers or CONTENTS_RE.match(text) or ARTICLE_RE.match(text)
                        or CHAPTER_RE.match(text) or annex_match(text)):
                    marked.add(k)
        for k in marked:
            out[k].kind = TOC
        return marked

    # ---- tables

    def _mark_tables(self, out: list[Classified]) -> set[int]:
        """Long tables: grids of cells (texts side by side on a visual row) of MIN_TABLE_UNIT_ROWS rows
        or more, possibly over several pages, with the wrapped cell lines between their rows."""
        spans: list[tuple[int, int, int]] = []  # (first line, last line, rows) in reading order
        for idxs in _by_page(out).values():
            rows = self._grid_rows(out, idxs)
            for row in rows:
                for k in row:
                    out[k].cells = len(row)
                if sum(_numbered(out[k].line.text) for k in row) >= 2:  # `Article 4 | Article 6`: column heads
                    self.column_headers.update(row)
            run: list[list[int]] = []
            for row in rows:
                if run and min(row) - max(run[-1]) > 4:  # a gap of running text ends the grid
                    spans.append((min(run[0]), max(run[-1]), len(run)))
                    run = []
                run.append(row)
            if run:
                spans.append((min(run[0]), max(run[-1]), len(run)))
        spans = [s for s in spans if s[2] >= 3]
        merged: list[list[int]] = []
        for lo, hi, n in sorted(spans):
            if merged and lo - merged[-1][1] <= 3:  # the grid goes on over the page break
                merged[-1][1], merged[-1][2] = hi, merged[-1][2] + n
            else:
                merged.append([lo, hi, n])
        marked = {k for lo, hi, n in merged if n >= MIN_TABLE_UNIT_ROWS for k in range(lo, hi + 1)}
        marked |= self._under_repeated_headers(out)
        for k in marked:
            out[k].kind = TABLE
        return marked

    def _under_repeated_headers(self, out: list[Classified]) -> set[int]:
        """Pages of a long table printed without ruled cells: the same bold column header (`HS CODE`,
        `Product Description`) repeats at the head of consecutive pages. From the header to the page
        foot is table, up to a displayed numbered heading (the next annex)."""
        pages_of: dict[str, set[int]] = {}
        for k, c in enumerate(out):
            ln = c.line
            after_article = k > 0 and ARTICLE_RE.match(out[k - 1].line.text) is not None
            # an article's title (`Scope` under `ARTICLE 55`) recurs on close pages too, but is no column head
            if ln.bold and len(ln.text.split()) <= 8 and not _numbered(ln.text) and not after_article:
                pages_of.setdefault(ln.text.strip().lower(), set()).add(ln.page)
        headers = {key for key, pages in pages_of.items() if _longest_run(pages) >= REPEATED_HEADER_PAGES}
        if not headers:
            return set()
        marked: set[int] = set()
        for idxs in _by_page(out).values():
            start = next((k for k in idxs if out[k].line.bold and out[k].line.text.strip().lower() in headers), None)
            if start is None:
                continue
            for k in idxs[idxs.index(start):]:
                if _numbered(out[k].line.text) and self._strongly_styled(out[k].line) and k not in self.column_headers:
                    break  # the next annex or article
                marked.add(k)
        return marked

    @staticmethod
    def _grid_rows(out: list[Classified], idxs: list[int]) -> list[list[int]]:
        """Visual rows of one page holding several cells (not two prose columns, not a list label
        beside its text), each as line indices, in reading order."""
        rows: list[list[int]] = []
        for k in sorted(idxs, key=lambda k: (out[k].line.top, out[k].line.x0)):
            ln = out[k].line
            if rows:
                first = out[rows[-1][0]].line
                if min(first.bottom, ln.bottom) - max(first.top, ln.top) > 0.5 * min(
                        first.bottom - first.top, ln.bottom - ln.top):
                    rows[-1].append(k)
                    continue
            rows.append([k])
        grid = []
        for row in rows:
            cells = sorted((out[k].line for k in row), key=lambda x: x.x0)
            if len(cells) < 2:
                continue
            prose_columns = len({x.column for x in cells}) == len(cells) == 2
            if len(cells) == 2 and (prose_columns or LIST_LABEL_RE.match(cells[0].text.strip())):
                continue
            grid.append(sorted(row))
        return sorted(grid)

    # ---- bound volumes

    def _mark_instruments(self, out: list[Classified]) -> None:
        """Where article numbers restart under a new agreement's title, that title opens an instrument."""
        articles = [k for k, c in enumerate(out) if c.kind == ARTICLE]
        starts = []
        for a, b in zip(articles, articles[1:]):
            na, nb = leading_number(out[a].number), leading_number(out[b].number)
            if na is not None and nb == 1 and na > 1:
                starts.append((a, b))
        if not starts:
            return
        blocks = [self._title_block(out, a, b) for a, b in starts]
        blocks = [blk for blk in blocks if blk]
        if not blocks:
            return
        first = self._title_block(out, -1, articles[0])
        for blk in ([first] if first else []) + blocks:
            for k in blk:
                out[k].kind = INSTRUMENT

    def _title_block(self, out: list[Classified], after: int, before: int) -> list[int]:
        """The lines of an agreement's title between two headings: displayed lines naming an instrument."""
        for k in range(before - 1, after, -1):
            c = out[k]
            if c.kind in TITLE_CANDIDATES and INSTRUMENT_RE.search(c.line.text) and self._display_line(c.line):
                lo = hi = k
                while lo - 1 > after and out[lo - 1].kind in TITLE_CANDIDATES \
                        and self._display_line(out[lo - 1].line) and out[lo - 1].line.page == c.line.page:
                    lo -= 1
                while hi + 1 < before and out[hi + 1].kind in TITLE_CANDIDATES \
                        and self._display_line(out[hi + 1].line) and out[hi + 1].line.page == c.line.page:
                    hi += 1
                return list(range(lo, hi + 1))
        return []

    def _display_line(self, ln: Line) -> bool:
        """A display line: bold or centred, in capitals or larger than body, and not a sentence."""
        text = ln.text.strip()
        big = ln.size > self.profile.body_size * 1.12
        return ((ln.bold or ln.centred) and (big or _is_caps(text)) and not text.endswith((".", ";", ",", ":"))
                and not PARAGRAPH_NUMBER_RE.match(text))


# ------------------------------------------------------------------------ the state machine


class _Assembler:
    """Consumes classified lines and builds the units: articles, preambles, annexes and tables."""

    def __init__(self, doc_id: str, profile: Profile):
        self.doc_id = doc_id
        self.profile = profile
        self.units: list[Article] = []
        self.order: dict[int, int] = {}  # id(unit) → when it was opened (a table may close first)
        self.current: Article | None = None
        self.body: list[Line] = []
        self.table: Article | None = None
        self.table_rows: list[Line] = []
        self.chapter_number = self.chapter_title = self.section = self.instrument = ""
        self.annex_title = ""
        self.instrument_lines: list[str] = []
        self.caption = ""  # the short line just before a table names it
        self.markers: list[tuple[int, str, Article]] = []  # (page, footnote marker, unit citing it)
        self.pending: list[tuple[int, str]] = []  # markers in a chapter heading: cited by the next unit
        self.prev_kind = ""

    def run(self, lines: list[Classified]) -> list[Article]:
        i, n = 0, len(lines)
        while i < n:
            c = lines[i]
            j = i + 1
            while j < n and lines[j].kind == TITLE:
                j += 1
            if c.kind not in (BODY, TABLE):
                self.caption = ""
            getattr(self, f"_on_{c.kind}")(c, [x.line.text.strip() for x in lines[i + 1:j]], lines[i:j])
            self.prev_kind = c.kind
            i = j
        self._close_table()
        self._close()
        self.units.sort(key=lambda u: self.order[id(u)])
        return self.units

    # ---- units

    def _new_unit(self, page: int, **kw) -> Article:
        kw.setdefault("chapter_number", self.chapter_number)
        kw.setdefault("chapter_title", self.chapter_title)
        kw.setdefault("section", self.section)
        if self.annex_title and not kw.get("article_number"):
            kw.setdefault("unit", "annex")  # an annex's text and its unnumbered rules belong to it
        unit = Article(doc_id=self.doc_id, article_number=kw.pop("article_number", ""),
                       article_title=kw.pop("article_title", ""), text="", page_start=page, page_end=page,
                       instrument=self.instrument, **kw)
        self.order[id(unit)] = len(self.order)
        self.markers += [(p, mk, unit) for p, mk in self.pending]
        self.pending = []
        return unit

    def _open(self, unit: Article) -> None:
        self._close_table()
        self._close()
        self.current, self.body = unit, []

    def _close(self) -> None:
        if self.current is not None:
            art, body = self.current, self.body
            art.text = join_lines([ln.text for ln in body])
            if body:
                art.page_end = max(art.page_start, art.page_end, body[-1].page)
            art.clauses = split_clauses(body)
            if art.article_number or art.article_title or art.text:
                self.units.append(art)
        self.current, self.body = None, []

    def _note(self, ln: Line, unit: Article | None) -> None:
        if unit is None:
            self.pending += [(ln.page, mk) for _, mk in ln.markers]
        else:
            self.markers += [(ln.page, mk, unit) for _, mk in ln.markers]

    @staticmethod
    def _title_text(rest: str, titles: list[str]) -> str:
        return join_lines(([rest] if rest else []) + titles)

    # ---- handlers, one per line kind

    def _on_chapter(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        self._close_table()
        self._close()
        self.chapter_number = chapter_label(c.keyword, c.number)
        self.chapter_title = heading_case(self._title_text(c.rest, titles))
        self.section = self.annex_title = ""
        for x in group:
            self._note(x.line, None)

    def _on_annex(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        label = chapter_label(c.keyword, c.number) if c.number else c.keyword.capitalize()
        rest = c.rest
        if m := re.match(r"(to|of)\s+(annex|appendix|schedule)\s+\S+", rest, re.IGNORECASE):  # `Appendix 1 to Annex 3`
            label = f"{label} {m.group(1).lower()} {chapter_label(m.group(2), m.group().split()[-1])}"
            rest = SEPARATOR_RE.sub("", rest[m.end():])
        title = heading_case(self._title_text(rest, titles))
        if self.current is not None and self.current.unit == "annex" and label == self.chapter_number and (
                not title or title == self.chapter_title or c.line.page > self.current.page_start):
            return  # the annex's label repeated at the head of its next page
        self.chapter_number, self.chapter_title, self.section = label, title, ""
        self.annex_title = title or label
        unit = self._new_unit(c.line.page, article_title=title or label, unit="annex")
        self._open(unit)
        for x in group:
            self._note(x.line, unit)

    def _on_article(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        title = heading_case(self._title_text(c.rest, titles))
        label = number_label(c.keyword, c.number, c.punct) if c.keyword else c.number
        unit = self._new_unit(c.line.page, article_number=label, article_title=title)
        self._open(unit)
        for x in group:
            self._note(x.line, unit)

    def _on_section(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        self._close_table()
        self._close()
        title = self._title_text(c.rest, titles)
        self.section = " ".join([number_label(c.keyword, c.number)] + ([title] if title else []))

    def _on_unnumbered(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        self._open(self._new_unit(c.line.page, article_title=self._title_text(c.line.text.strip(), titles)))

    def _on_part(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        """A chapter-sized title without a number (`PREAMBLE`) opens a part of its own."""
        title = heading_case(self._title_text(c.line.text.strip(), titles))
        self.chapter_number, self.chapter_title, self.section, self.annex_title = "", title, "", ""
        self._open(self._new_unit(c.line.page, chapter_number="", chapter_title=title, section=""))

    def _on_title(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        self._on_body(c, titles, group)  # a title line with no heading before it reads as text

    def _on_instrument(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        """A new agreement's title: it closes what came before and names the units that follow."""
        self._close_table()
        self._close()
        if self.prev_kind != INSTRUMENT:
            self.instrument_lines = []
        self.instrument_lines.append(c.line.text.strip())
        self.instrument = heading_case(join_lines(self.instrument_lines))
        self.chapter_number = self.chapter_title = self.section = self.annex_title = ""

    def _on_toc(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        """Contents entries are dropped: the headings they list come again with their text."""

    def _on_closing(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        if (not self.body or self.body[-1].text.rstrip().endswith((".", ":"))) and (
                self.current is None or self.current.article_number or self.current.article_title):
            self._open(self._new_unit(c.line.page, chapter_number="", chapter_title="", section=""))
        self._on_body(c, titles, group)

    def _on_table(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        ln = c.line
        if self.table is None:  # the unit the table interrupts stays open for the text after it
            caption = self.caption or (self.annex_title if self.chapter_number else "") or "Table"
            self.table = self._new_unit(ln.page, article_title=caption, unit="table")
            self.table_rows = []
        self.table_rows.append(ln)
        self.table.page_end = ln.page
        self._note(ln, self.table)

    def _close_table(self) -> None:
        if self.table is not None:
            self.table.text = "\n".join(" | ".join(x.text.strip() for x in row) for row in _rows(self.table_rows))
            self.units.append(self.table)
            self.table, self.table_rows = None, []

    def _on_body(self, c: Classified, titles: list[str], group: list[Classified]) -> None:
        self._close_table()
        text = c.line.text.strip()
        self.caption = text if (len(text.split()) <= 12 and not text.endswith((".", ";", ":", ","))
                                and re.search(r"[A-Za-z]{3}", text)) else ""
        if self.current is None:
            preamble = "Preamble" if not self.units or self.prev_kind == INSTRUMENT else ""
            self.current = self._new_unit(c.line.page, chapter_title=self.chapter_title or preamble)
            self.body = []
        for x in group:
            self.body.append(x.line)
            self._note(x.line, self.current)


def _rows(cells: list[Line]) -> list[list[Line]]:
    """Table cells (in any reading order) as visual rows, top to bottom, each left to right."""
    rows: list[list[Line]] = []
    for ln in sorted(cells, key=lambda x: (x.page, x.top, x.x0)):
        last = rows[-1][0] if rows else None
        if last is not None and last.page == ln.page and ln.top < last.bottom - 0.3 * (last.bottom - last.top):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda x: x.x0) for r in rows]


def attach_footnotes(pages: list[Page], units: list[Article], markers: list[tuple[int, str, Article]]) -> None:
    """Each footnote goes to the unit whose text cites its marker on that page (else the latest
    citing it before), else to the unit on whose page it is printed."""
    if not units:
        return
    for note in (f for p in pages for f in p.footnotes):
        target = None
        for page, mk, unit in markers:
            if mk == note.number and page <= note.page:
                target = unit
                if page == note.page:
                    break
        (target or units[_unit_on_page(units, note.page)]).footnotes.append(note.text)


def _unit_on_page(units: list[Article], page: int) -> int:
    best = 0
    for k, a in enumerate(units):
        if a.page_start <= page:
            best = k
    return best


def classify_lines(pages: list[Page]) -> tuple[list[Classified], Profile]:
    """Every body line of a document with its kind (heading, title, toc, table, body ...)."""
    clf = LineClassifier(pages)
    return clf.classify(), clf.profile


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
    """Split a document's pages into units: articles (with chapters, titles, pages, clauses, footnotes),
    preambles, annexes and long tables (`Article.unit`), each tagged with its instrument in a bound volume."""
    lines, profile = classify_lines(pages)
    assembler = _Assembler(doc_id, profile)
    units = assembler.run(lines)
    attach_footnotes(pages, units, assembler.markers)
    if len({u.instrument for u in units}) < 2:  # one agreement: its title is the document's
        for u in units:
            u.instrument = ""
    return units


def build_document(path, pages: list[Page], sha256: str = "") -> Document:
    """Convenience: a Document with its articles (metadata is filled by `metadata.detect_metadata`)."""
    from pathlib import Path

    p = Path(path)
    doc = Document(doc_id=p.stem, path=str(p), sha256=sha256, pages=len(pages),
                   ocr=any(pg.ocr for pg in pages))
    doc.articles = segment_document(doc.doc_id, pages)
    return doc
