"""PDF → pages of body lines and footnotes, from characters, fonts and positions (pdfplumber).

What happens here, page by page:
1. words with font name and size (pdfplumber splits a word where the font changes, so a raised
   footnote marker becomes its own word);
2. column detection (a vertical gutter that no line crosses) and reading order per column;
3. words grouped into lines; superscript markers recorded and removed from the text;
4. across pages: running headers, footers and page numbers removed by repetition and position;
5. text-layer artefacts repaired: ligature characters (`ﬁ`), words split by a gap (`econo mic`);
6. footnote blocks (smaller type at the foot of the page) split off from the body, and note numbers
   glued to a word (`Treatment7`) turned into markers.

Scanned pages (no text layer) are OCR'd with Tesseract when it is installed.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import median

from .models import Footnote, Line, Page
from .textutil import join_lines

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 1500
HEADER_ZONE = 0.11  # top share of the page where running headers live
FOOTER_ZONE = 0.10  # bottom share where footers and page numbers live
PAGE_NUMBER_RE = re.compile(
    r"^[\-–—(\[]*\s*(page\s+)?([0-9]+|[ivxlcdm]+|[0-9]+\s*[-–]\s*[0-9]+|[A-Z]{1,3}\s*[-–]\s*[0-9]+)"
    r"(\s*(of|/)\s*[0-9]+)?\s*[\-–—)\]]*$",
    re.IGNORECASE,
)


class ExtractionError(Exception):
    """A PDF that cannot be read; the message names the reason (the caller adds the file)."""


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    italic: bool
    spaced: bool = True  # the text layer has a space character before it (False: only a gap)


@lru_cache(maxsize=4096)
def _font_flags(fontname: str) -> tuple[bool, bool]:
    name = fontname.split("+")[-1].lower()
    bold = any(k in name for k in ("bold", "black", "heavy", "semibold", "demi", "-bd", ",bd")) or name.endswith("-bo")
    italic = any(k in name for k in ("italic", "oblique", "-it", ",it")) or name.endswith("-bi")
    return bold, italic


# ---------------------------------------------------------------- page level


def _words_from_chars(chars: list[dict]) -> list[Word]:
    """Group pdfplumber characters into words in one pass over the content stream.

    A word ends at a space, a change of font or size (so a raised footnote marker is its own word),
    a jump in position, or a gap. Characters drawn twice at the same spot (fake bold) are dropped.
    This replaces `page.extract_words()`, whose clustering costs more than the whole of this stage.
    """
    words: list[Word] = []
    seen: set[tuple[str, int, int]] = set()
    text = ""
    after_space = True
    font = ""
    size = x0 = x1 = top = bottom = 0.0
    for c in chars:
        ch = c["text"]
        key = (ch, round(c["x0"]), round(c["top"]))
        if key in seen:
            continue
        seen.add(key)
        if not ch.strip() or not c.get("upright", True):
            if text:
                words.append(_word(text, font, size, x0, x1, top, bottom, spaced))
                text = ""
            after_space = True
            continue
        csize = float(c["size"])
        if text and c["fontname"] == font and abs(csize - size) < 0.05 and abs(c["top"] - top) < 1.5 \
                and -0.5 <= c["x0"] - x1 <= min(1.5, 0.2 * csize):
            text += ch
            x1 = max(x1, c["x1"])
            bottom = max(bottom, c["bottom"])
            continue
        if text:
            words.append(_word(text, font, size, x0, x1, top, bottom, spaced))
        text, font, size, spaced, after_space = ch, c["fontname"], csize, after_space, False
        x0, x1, top, bottom = c["x0"], c["x1"], c["top"], c["bottom"]
    if text:
        words.append(_word(text, font, size, x0, x1, top, bottom, spaced))
    return words


# typographic ligatures some fonts put in the text layer as one character
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})


def _word(text: str, font: str, size: float, x0: float, x1: float, top: float, bottom: float,
          spaced: bool) -> Word:
    bold, italic = _font_flags(font)
    if not text.isascii():
        text = text.translate(LIGATURES)
    return Word(text, x0, x1, top, bottom, size, bold, italic, spaced)


def _find_gutter(words: list[Word], width: float) -> float | None:
    """The x of a vertical gutter between two columns, or None for a one-column page."""
    if len(words) < 40:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    crossings = [0] * (hi - lo)
    for w in words:
        a, b = max(int(w.x0), lo), min(int(w.x1) + 1, hi)
        for x in range(a, b):
            crossings[x - lo] += 1
    # the longest run of x positions crossed by (almost) no word
    allowed = max(1, len(words) // 200)
    best_len, best_mid, run_start = 0, None, None
    for i, c in enumerate(crossings + [allowed + 1]):
        if c <= allowed:
            if run_start is None:
                run_start = i
        elif run_start is not None:
            if i - run_start > best_len:
                best_len, best_mid = i - run_start, lo + (run_start + i) / 2
            run_start = None
    if best_mid is None or best_len < 6:
        return None
    left = sum(1 for w in words if w.x1 <= best_mid)
    right = sum(1 for w in words if w.x0 >= best_mid)
    # both sides must carry real text, and lines on the left must end near the gutter
    if min(left, right) < 0.2 * len(words):
        return None
    # prose columns hold several words per line; a table's narrow last column (`6%`) holds one
    for side in ([w for w in words if w.x1 <= best_mid], [w for w in words if w.x0 >= best_mid]):
        if len(side) < 2.5 * len({round(w.top) for w in side}):
            return None
    near = sum(1 for w in words if w.x1 <= best_mid and w.x1 > best_mid - width * 0.12)
    if near < 5:
        return None
    return best_mid


def _group_lines(words: list[Word]) -> list[list[Word]]:
    """Group words into visual lines by vertical overlap (superscripts and small caps included)."""
    words = sorted(words, key=lambda w: (w.top, w.x0))
    lines: list[list[Word]] = []
    spans: list[tuple[float, float]] = []
    for w in words:
        placed = False
        for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            top, bottom = spans[i]
            overlap = min(bottom, w.bottom) - max(top, w.top)
            if overlap >= 0.45 * min(bottom - top, w.bottom - w.top):
                lines[i].append(w)
                spans[i] = (min(top, w.top), max(bottom, w.bottom))
                placed = True
                break
        if not placed:
            lines.append([w])
            spans.append((w.top, w.bottom))
    out: list[list[Word]] = []
    for ln in lines:
        ln.sort(key=lambda w: w.x0)
        out += _split_wide_gaps(ln)
    out.sort(key=lambda ln: (min(w.top for w in ln), ln[0].x0))
    return out


def _split_wide_gaps(words: list[Word]) -> list[list[Word]]:
    """Split a visual line where a wide gap separates two texts (left/right header parts, table cells)."""
    parts = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        if w.x0 - prev.x1 > max(4 * max(w.size, prev.size), 36):
            parts.append([w])
        else:
            parts[-1].append(w)
    return parts


def _make_line(words: list[Word], page_no: int, page_width: float, column: int, col_bounds: tuple[float, float],
               gaps: dict[int, list[int]] | None = None) -> Line:
    """One Line from its words; `gaps` collects, by id(line), where a space stands for a gap only
    (no space character in the text layer): the places a word may have been split."""
    sizes = Counter()
    for w in words:
        sizes[round(w.size, 1)] += len(w.text)
    size = sizes.most_common(1)[0][0]
    main = [w for w in words if w.size >= size * 0.85] or words
    baseline = median(w.bottom for w in main)
    markers: list[tuple[int, str]] = []
    text = ""
    prev: Word | None = None
    bold_chars = italic_chars = total = 0
    unspaced: list[int] = []
    for w in words:
        is_sup = (w.size < size * 0.85 and w.bottom < baseline - 0.2 * size
                  and re.fullmatch(r"[0-9]{1,3}[,)]?|[*†‡]|[a-z]", w.text) is not None and prev is not None)
        if is_sup:
            markers.append((len(text), w.text.rstrip(",)")))
            prev = w
            continue
        gap = (w.x0 - prev.x1) if prev is not None else 0.0
        if text and gap > 0.12 * size:
            if not w.spaced:
                unspaced.append(len(text))
            text += " "
        text += w.text
        prev = w
        n = len(w.text)
        total += n
        bold_chars += n if w.bold else 0
        italic_chars += n if w.italic else 0
    x0 = min(w.x0 for w in words)
    x1 = max(w.x1 for w in words)
    lo, hi = col_bounds
    mid = (lo + hi) / 2
    centred = abs((x0 + x1) / 2 - mid) < 0.04 * (hi - lo) and (x1 - x0) < 0.8 * (hi - lo)
    line = Line(
        text=text, page=page_no, x0=x0, x1=x1,
        top=min(w.top for w in words), bottom=max(w.bottom for w in words), size=size,
        bold=total > 0 and bold_chars / total >= 0.7, italic=total > 0 and italic_chars / total >= 0.7,
        centred=centred, column=column, markers=markers,
    )
    if gaps is not None and unspaced:
        gaps[id(line)] = unspaced
    return line


def lines_from_words(words: list[Word], page_no: int, width: float,
                     gaps: dict[int, list[int]] | None = None) -> list[Line]:
    """Order a page's words into lines, column by column (full-width lines split the bands)."""
    gutter = _find_gutter(words, width)
    if gutter is None:
        bounds = (min((w.x0 for w in words), default=0.0), max((w.x1 for w in words), default=width))
        return [_make_line(ws, page_no, width, 0, bounds, gaps) for ws in _group_lines(words) if ws]
    left = [w for w in words if w.x1 <= gutter]
    right = [w for w in words if w.x0 >= gutter]
    spanning = [w for w in words if w.x0 < gutter < w.x1]
    left_x0 = min((w.x0 for w in left), default=0)
    right_x1 = max((w.x1 for w in right), default=width)
    out: list[Line] = []
    span_lines = _group_lines(spanning) if spanning else []
    # bands between full-width lines: read the left column, then the right one
    cuts = [min(w.top for w in ln) for ln in span_lines] + [float("inf")]
    prev_cut = -1.0
    for i, cut in enumerate(cuts):
        for col, ws, bounds in ((0, left, (left_x0, gutter)), (1, right, (gutter, right_x1))):
            band = [w for w in ws if prev_cut <= w.top < cut]
            out += [_make_line(g, page_no, width, col, bounds, gaps) for g in _group_lines(band)]
        if i < len(span_lines):
            out.append(_make_line(span_lines[i], page_no, width, 0, (left_x0, right_x1), gaps))
            prev_cut = max(w.bottom for w in span_lines[i])
    return out


# ---------------------------------------------------------------- document level


HEADING_START_RE = re.compile(r"^(article|art\.|chapter|section|part|annex)\b", re.IGNORECASE)


def _norm_repeat(text: str) -> str:
    """Key under which running text repeats: numbers folded, except in heading-like lines."""
    if HEADING_START_RE.match(text):
        return text.lower().strip()
    return re.sub(r"[0-9]+|\b[ivxlc]+\b", "#", text.lower()).strip()


def remove_running_text(pages: list[Page]) -> None:
    """Drop running headers, footers and page numbers: repeated text in the top/bottom zones.

    Lines that differ only in their numbers count as one running text when those numbers track the
    page number (`EN 12 EN`, `Page 7`); `ARTICLE 7` at the top of several pages does not.
    """
    n = len(pages)
    exact: Counter[tuple[str, str]] = Counter()
    groups: dict[tuple[str, str], list[tuple[int, set[int]]]] = {}
    for p in pages:
        seen = set()
        for ln in p.lines:
            zone = _zone(ln, p)
            key = (zone, _norm_repeat(ln.text))
            if zone and key not in seen:
                seen.add(key)
                exact[(zone, ln.text.strip().lower())] += 1
                offsets = {int(x) - p.number for x in re.findall(r"[0-9]+", ln.text)}
                groups.setdefault(key, []).append((p.number, offsets))
    need = max(2, int(0.3 * n)) if n >= 3 else 2
    running = {key for key, occ in groups.items() if len(occ) >= need and _tracks_page(occ)}

    def is_running(ln: Line, zone: str) -> bool:
        return (exact[(zone, ln.text.strip().lower())] >= need or (zone, _norm_repeat(ln.text)) in running
                or PAGE_NUMBER_RE.match(ln.text.strip()) is not None)

    for p in pages:
        p.lines = [ln for ln in p.lines if not ((zone := _zone(ln, p)) and is_running(ln, zone))]


def _tracks_page(occurrences: list[tuple[int, set[int]]]) -> bool:
    """True when the group has no numbers, or one number-minus-page offset common to 80% of it."""
    if all(not offs for _, offs in occurrences):
        return True
    common = Counter(o for _, offs in occurrences for o in offs)
    return bool(common) and common.most_common(1)[0][1] >= 0.8 * len(occurrences)


def _zone(ln: Line, p: Page) -> str:
    if ln.bottom <= p.height * HEADER_ZONE + 4:
        return "top"
    if ln.top >= p.height * (1 - FOOTER_ZONE) - 4:
        return "bottom"
    return ""


FOOTNOTE_START_RE = re.compile(r"^(\d{1,3}|[*†‡])\s*(?=\S)")


def split_footnotes(page: Page, body_size: float) -> None:
    """Move the block of small-type lines at the foot of each column into `page.footnotes`."""
    by_col: dict[int, list[Line]] = {}
    for ln in page.lines:
        by_col.setdefault(ln.column, []).append(ln)
    notes: list[Line] = []
    for col_lines in by_col.values():
        block: list[Line] = []
        for ln in reversed(col_lines):
            if ln.size < body_size * 0.9 and ln.top > page.height * 0.4:
                block.append(ln)
            else:
                break
        block.reverse()
        # a footnote block starts with a numbered note, or with a marker we pulled out as superscript
        if block and (FOOTNOTE_START_RE.match(block[0].text) or (block[0].markers and block[0].markers[0][0] == 0)):
            notes += block
    if not notes:
        return
    ids = {id(ln) for ln in notes}
    page.lines = [ln for ln in page.lines if id(ln) not in ids]
    current: Footnote | None = None
    for ln in notes:
        text = ln.text
        if ln.markers and ln.markers[0][0] == 0:
            text = f"{ln.markers[0][1]} {text}"
        m = FOOTNOTE_START_RE.match(text)
        if m:
            current = Footnote(number=m.group(1), text=text.strip(), page=page.number)
            page.footnotes.append(current)
        elif current is not None:
            current.text = join_lines([current.text, text])


WORD_RE = re.compile(r"[A-Za-z]+")
# two letter runs separated by one space, the second in lower case (`econo mic`); overlapping
SPLIT_PAIR_RE = re.compile(r"(?<![\w\-])(?=([A-Za-z]+) ([a-z]+)(?![\w\-]))")


def repair_split_words(pages: list[Page], gaps: dict[int, list[int]]) -> None:
    """Join words split by extraction (`econo mic` → `economic`): only where the text layer has no
    space character, just a gap (`gaps`, by id(line)), and by the document's own vocabulary: the
    joined word must occur whole at least twice, and more often than the split pair, and one of the
    two pieces must never occur outside such splits (so `in formation`, two real words, stays; so
    does `defined in` where a noisy text also has `definedin`)."""
    lines = [ln for p in pages for ln in p.lines]
    vocab = Counter(w.lower() for ln in lines for w in WORD_RE.findall(ln.text))
    found: list[tuple[Line, list[tuple[int, str, str]]]] = []
    pairs: Counter[tuple[str, str]] = Counter()
    for ln in lines:
        hits = []
        unspaced = set(gaps.get(id(ln), ()))
        for m in SPLIT_PAIR_RE.finditer(ln.text) if unspaced else ():
            left, right = m.group(1), m.group(2)
            if m.start() + len(left) in unspaced and vocab[(left + right).lower()] >= 2:
                hits.append((m.start() + len(left), left.lower(), right))
                pairs[(left.lower(), right)] += 1
        if hits:
            found.append((ln, hits))
    for ln, hits in found:
        cut = [pos for pos, left, right in hits
               if (vocab[left] <= (n := pairs[(left, right)]) or vocab[right] <= n) and vocab[left + right.lower()] > n]
        if cut:
            _remove_chars(ln, cut)


def _remove_chars(ln: Line, positions: list[int]) -> None:
    """Drop the characters at these offsets of the line's text, keeping marker offsets in step."""
    chars = list(ln.text)
    for pos in sorted(positions, reverse=True):
        del chars[pos]
    ln.text = "".join(chars)
    ln.markers = [(off - sum(1 for pos in positions if pos < off), mk) for off, mk in ln.markers]


# a note number printed at text size right after a word (`National Treatment7`)
GLUED_MARKER_RE = re.compile(r"(?<=[A-Za-z]{3})([0-9]{1,3})(?=[\s,.;:)]|$)")


def recover_glued_markers(page: Page) -> None:
    """Take footnote numbers glued to a word out of the text and record them as markers, when a note
    with that number is printed at this page's foot and nothing else on the page cites it."""
    numbers = {f.number for f in page.footnotes}
    if not numbers:
        return
    cited = {mk for ln in page.lines for _, mk in ln.markers}
    for ln in page.lines:
        for m in reversed(list(GLUED_MARKER_RE.finditer(ln.text))):
            number = m.group(1)
            if number in numbers and number not in cited:
                cited.add(number)
                _remove_chars(ln, list(range(m.start(), m.end())))
                ln.markers = sorted(ln.markers + [(m.start(), number)])


def detect_body_size(pages: list[Page]) -> float:
    sizes: Counter[float] = Counter()
    for p in pages:
        for ln in p.lines:
            sizes[round(ln.size, 1)] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


# ---------------------------------------------------------------- OCR


def ocr_available() -> bool:
    from .ocr import unavailable_reason

    return not unavailable_reason()


def _ocr_words(pdf_page, dpi: int | None = None) -> list[Word]:
    from .ocr import DPI, recognise_page

    return [Word(w.text, w.x0, w.x1, w.top, w.bottom, round((w.bottom - w.top) * 1.35 / 0.5) * 0.5, False, False)
            for w in recognise_page(pdf_page, dpi or DPI)]


# ---------------------------------------------------------------- entry point


def check_pdf_file(path: Path) -> None:
    """Cheap checks before parsing: exists, not empty, looks like a PDF."""
    if not path.exists():
        raise ExtractionError("file not found")
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError("empty file (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise ExtractionError("not a PDF (no %PDF header)")


@contextmanager
def _closing_quietly(pdf):
    """Close the PDF afterwards; a damaged file may fail to close too, and that must not hide the
    clear reason its extraction already gave."""
    try:
        yield pdf
    finally:
        with suppress(Exception):
            pdf.close()


def count_pages(paths: Iterable[Path], enough: int) -> int:
    """Pages in these PDFs, counted until `enough` (an unreadable file counts none: parsing says why)."""
    from pdfminer.pdfpage import PDFPage

    total = 0
    for path in paths:
        try:
            with open(path, "rb") as fh:
                for _ in PDFPage.get_pages(fh):
                    total += 1
                    if total >= enough:
                        return total
        except Exception:  # noqa: BLE001 - damaged or not a PDF
            continue
    return total


def extract_pages(path: Path | str, *, ocr: bool = True, max_pages: int = DEFAULT_MAX_PAGES) -> list[Page]:
    """Read a PDF into pages of body lines and footnotes (headers, footers, page numbers removed)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    path = Path(path)
    check_pdf_file(path)
    try:
        pdf = pdfplumber.open(path)
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ExtractionError("password-protected PDF (encrypted; supply an unprotected copy)") from exc
    except PDFSyntaxError as exc:
        raise ExtractionError(f"corrupt or truncated PDF ({exc})") from exc
    except Exception as exc:  # pdfminer raises many types for damaged files; pdfplumber wraps them
        inner = " ".join(type(x).__name__ for x in (exc, *exc.args))
        if "password" in inner.lower() or "encrypt" in inner.lower():
            raise ExtractionError("password-protected PDF (encrypted; supply an unprotected copy)") from exc
        raise ExtractionError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    with _closing_quietly(pdf):
        try:
            n = len(pdf.pages)
        except Exception as exc:
            raise ExtractionError(f"corrupt or truncated PDF ({type(exc).__name__}: {exc})") from exc
        if n == 0:
            raise ExtractionError("PDF has no pages")
        if n > max_pages:
            raise ExtractionError(f"{n} pages exceeds the limit of {max_pages} (raise it with --max-pages)")
        pages: list[Page] = []
        gaps: dict[int, list[int]] = {}  # id(line) → offsets of spaces the text layer does not have
        scanned: list[int] = []
        for i, pp in enumerate(pdf.pages, start=1):
            try:
                words = _words_from_chars(pp.chars)
            except Exception as exc:
                raise ExtractionError(f"corrupt PDF: page {i} cannot be read ({type(exc).__name__}: {exc})") from exc
            page = Page(number=i, width=float(pp.width), height=float(pp.height))
            if not words and pp.images:
                scanned.append(i)
            page.lines = lines_from_words(words, i, page.width, gaps)
            pages.append(page)
    if scanned and len(scanned) >= max(1, 0.5 * len(pages)):
        if not ocr:
            raise ExtractionError("scanned PDF with no text layer (OCR disabled)")
        if not ocr_available():
            from .ocr import unavailable_reason

            raise ExtractionError(f"scanned PDF with no text layer, and {unavailable_reason()}")
        _ocr_pages(path, pages, scanned)
    elif not any(p.lines for p in pages):
        raise ExtractionError("PDF has no extractable text")
    remove_running_text(pages)
    repair_split_words(pages, gaps)
    body_size = detect_body_size(pages)
    for p in pages:
        split_footnotes(p, body_size)
        recover_glued_markers(p)
    return pages


def _ocr_pages(path: Path, pages: list[Page], numbers: list[int], dpi: int | None = None) -> None:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    try:
        for i in numbers:
            page = pages[i - 1]
            words = _ocr_words(doc[i - 1], dpi)
            page.lines = lines_from_words(words, i, page.width)
            page.ocr = True
    finally:
        doc.close()
