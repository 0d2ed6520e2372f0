#!/usr/bin/env python3
"""Render clausebank's own sample corpus: corpus/texts/*.toml -> corpus/*.pdf + corpus/expected/*.json.

    python corpus/build_corpus.py            # rebuild everything (byte-identical on re-run)
    python corpus/build_corpus.py india_uae_ict_mou   # rebuild selected stems only

The texts are specimen treaty language written for this project. A small line-based layout
engine (not Platypus) is used so that we know exactly where every line, footnote and heading
lands; that knowledge is written to corpus/expected/<stem>.json for the extractor tests.

Markup inside the TOML texts:
  {fn:Text of the footnote}   superscript marker here, footnote at the foot of the same page/column
  *italic*                     italic run (toggles)
  {br}                         force a line break before the next word (used for line-start cross-references)
  "1. ..." / "(a) ..." / "  (i) ..."   paragraph labels: level 0 / 1 / 2 (two leading spaces per extra level)
"""
from __future__ import annotations

import io
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
TEXTS, EXPECTED = HERE / "texts", HERE / "expected"

FAMILIES = {
    "times": dict(R="Times-Roman", B="Times-Bold", I="Times-Italic", BI="Times-BoldItalic"),
    "helvetica": dict(R="Helvetica", B="Helvetica-Bold", I="Helvetica-Oblique", BI="Helvetica-BoldOblique"),
}

# One entry per layout style. margins = (left, right, top, bottom); hang = (label_x, text_x) per level.
BASE = dict(page=A4, family="times", size=11, leading=14, align="justify", columns=1, gutter=0,
            para_space=6, sub_space=3, runin0=False, chapter_new_page=False, cover=True,
            hang=[(0, 28), (28, 56), (56, 84)], fn_size=8, fn_leading=9.5, chapter_fmt=[], article_fmt=[],
            header=("I", 8.5, 40, "right"), footer=("R", 9, 38))  # (font, size, baseline from top, align), (font, size, y)
STYLES = {
    # a) US-style: Letter, ragged right, "Chapter 12" / title, "Article 12.3: Title", chapter-page footer "12-3".
    "us": dict(page=LETTER, margins=(72, 72, 72, 72), align="left", runin0=True, chapter_new_page=True,
               hang=[(0, 0), (36, 58), (58, 80)], header=("I", 9, 42, "center"), footer=("R", 10, 40),
               chapter_fmt=[("Chapter {num}", "B", 12), ("{title}", "B", 12)],
               article_fmt=[("Article {num}: {title}", "B", "left")], article_word="Article"),
    # b) EU-style: A4 justified, "CHAPTER TEN", centred bold "ARTICLE 10.4" + centred italic title, "EN 12 EN".
    "eu": dict(margins=(70, 70, 72, 72), header=("I", 9, 40, "center"), footer=("R", 10, 34),
               chapter_fmt=[("CHAPTER {words}", "B", 11), ("{TITLE}", "B", 11)],
               article_fmt=[("ARTICLE {num}", "B", "center"), ("{title}", "I", "center")], article_word="ARTICLE"),
    # c) ASEAN/gazette-style: two columns, Helvetica 10, header + rule, footer "- 7 -", hyphenation on.
    "asean": dict(family="helvetica", size=10, leading=12.5, columns=2, gutter=18, margins=(56, 56, 78, 66),
                  para_space=5, sub_space=2, hang=[(0, 17), (17, 34), (34, 51)], fn_size=7.5, fn_leading=9,
                  header=("R", 8, 46, "split"), footer=("R", 9, 36),
                  chapter_fmt=[("CHAPTER {num}", "B", 10), ("{TITLE}", "B", 10)],
                  article_fmt=[("Article {num}", "B", "center"), ("{title}", "B", "center")], article_word="Article"),
    # MoU / JDI styles: no cover page, title block on page 1, header on every page.
    "mou_article": dict(margins=(72, 72, 76, 72), cover=False, article_word="ARTICLE",
                        article_fmt=[("ARTICLE {num}", "B", "center"), ("{title}", "B", "center")]),
    "mou_section": dict(family="helvetica", size=10.5, leading=14, align="left", margins=(72, 72, 76, 72),
                        cover=False, hang=[(0, 24), (24, 44), (44, 64)], article_word="Section",
                        article_fmt=[("Section {num} \u2013 {title}", "B", "left")]),
    "mou_paragraph": dict(margins=(80, 80, 76, 72), cover=False, article_word="Paragraph",
                          article_fmt=[("Paragraph {num}", "B", "center")]),
}

ONES = ("ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN TWELVE THIRTEEN FOURTEEN "
        "FIFTEEN SIXTEEN SEVENTEEN EIGHTEEN NINETEEN").split()


def numwords(n: int) -> str:
    tens = {2: "TWENTY", 3: "THIRTY"}
    return ONES[n] if n < 20 else tens[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")


def roman(n: int) -> str:
    vals = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out, n = out + s, n - v
    return out


def plain(text: str) -> str:
    """Logical text: footnote markers, italics and break hints removed."""
    text = re.sub(r"\{fn:[^}]*\}", "", text).replace("{br}", "").replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Word:
    runs: list  # (text, fontname, size, rise)
    br: bool = False
    fns: list = field(default_factory=list)

    @property
    def width(self) -> float:
        return sum(stringWidth(t, f, s) for t, f, s, _ in self.runs)


@dataclass
class Line:
    """One typeset line; draw() puts it in a column whose left edge is X and whose top is at ytop."""
    words: list
    x: float
    width: float
    align: str
    font: str
    size: float
    h: float
    sb: float = 0
    keep: bool = False
    tag: tuple | None = None
    label: str | None = None
    label_x: float = 0
    brk: bool = False

    @property
    def fns(self):
        return [n for w in self.words for n in w.fns]

    def draw(self, c, X, ytop):
        y = ytop - 0.5 * (self.h - self.size) - 0.8 * self.size
        if self.label:
            c.setFont(self.font, self.size)
            c.drawString(X + self.label_x, y, self.label)
        sw = stringWidth(" ", self.font, self.size)
        natural = sum(w.width for w in self.words) + sw * (len(self.words) - 1)
        slack, ws = self.width - natural, 0.0
        x = X + self.x + {"center": slack / 2, "right": slack}.get(self.align, 0)
        if self.align == "justify" and len(self.words) > 1:
            ws = slack / (len(self.words) - 1)
        t = c.beginText(x, y)
        t.setWordSpace(ws)
        for i, w in enumerate(self.words):
            if i:
                t.setFont(self.font, self.size)
                t.setRise(0)
                t.textOut(" ")
            for text, font, size, rise in w.runs:
                t.setFont(font, size)
                t.setRise(rise)
                t.textOut(text)
        t.setRise(0)
        t.setWordSpace(0)  # Tw/Ts belong to the graphics state: do not let them leak into later text
        c.drawText(t)


@dataclass
class Block:
    """A fixed-height drawing (signature block)."""
    h: float
    painter: object
    sb: float = 14
    keep: bool = False
    tag: tuple | None = None
    fns: tuple = ()
    brk: bool = False

    def draw(self, c, X, ytop):
        self.painter(c, X, ytop)


PAGE_BREAK = Block(h=0, painter=None, sb=0, brk=True)
LABEL = re.compile(r"^( *)(\d+\.|\([a-z]+\))\s+")
TOKEN = re.compile(r"\{fn:([^}]*)\}|\{br\}|\*|\s+")


class Renderer:
    def __init__(self, src: dict):
        self.src = src
        self.st = {**BASE, **STYLES[src["style"]]}
        self.F = FAMILIES[self.st["family"]]
        pw, ph = self.st["page"]
        left, right, top, bottom = self.st["margins"]
        n, g = self.st["columns"], self.st["gutter"]
        self.colw = (pw - left - right - g * (n - 1)) / n
        self.col_x = [left + i * (self.colw + g) for i in range(n)]
        self.top, self.bottom = ph - top, bottom
        self.footnotes: list[str] = []
        self.fn_lines: dict[int, list[Line]] = {}
        self.items: list = []
        self.expected: list[dict] = []
        self.hyphenations = 0
        self.hyph = [(h.replace("-", "").lower(), h.index("-")) for h in src.get("hyphenate", [])]

    # ---- text -> words -> lines -------------------------------------------------------------
    def words(self, text: str, font="R", size=None) -> list[Word]:
        size = size or self.st["size"]
        out, cur, italic, br, pos = [], None, False, False, 0

        def add(txt):
            nonlocal cur, br
            if cur is None:
                cur, br = Word([], br), False
                out.append(cur)
            key = ({"R": "I", "I": "R", "B": "BI"}[font]) if italic else font
            cur.runs.append((txt, self.F[key], size, 0))

        for m in TOKEN.finditer(text):
            if m.start() > pos:
                add(text[pos:m.start()])
            pos, tok = m.end(), m.group(0)
            if tok.isspace():
                cur = None
            elif tok == "*":
                italic = not italic
            elif tok == "{br}":
                br = True
            else:
                self.footnotes.append(m.group(1))
                n = len(self.footnotes)
                if cur is None:
                    add("")
                cur.runs.append((str(n), self.F[font], round(size * 0.6, 2), round(size * 0.38, 2)))
                cur.fns.append(n)
        if pos < len(text):
            add(text[pos:])
        return out

    def split_word(self, w: Word, room: float):
        """Hyphenate a single-run word at a configured point if the first part fits into `room`."""
        if len(w.runs) != 1 or w.fns:
            return None
        text, font, size, rise = w.runs[0]
        for stem, cut in self.hyph:
            at = text.lower().find(stem)
            if at < 0 or at + cut < 3 or len(text) - at - cut < 3:
                continue
            head, tail = text[:at + cut] + "-", text[at + cut:]
            if stringWidth(head, font, size) <= room:
                self.hyphenations += 1
                return Word([(head, font, size, rise)]), Word([(tail, font, size, rise)])
        return None

    def wrap(self, words: list[Word], width: float, font: str, size: float, hyph=False):
        """Greedy line breaking; returns [(words, justify?)]."""
        sw = stringWidth(" ", font, size)
        lines, cur, w = [], [], 0.0
        for word in words:
            if word.br and cur:
                lines.append((cur, w > 0.8 * width))
                cur, w = [], 0.0
            ww = word.width
            if cur and w + sw + ww > width:
                split = hyph and self.hyph and self.split_word(word, width - w - sw)
                if split:
                    cur.append(split[0])
                    word, ww = split[1], split[1].width
                lines.append((cur, True))
                cur, w = [word], ww
            else:
                w += ww + (sw if cur else 0)
                cur.append(word)
        if cur:
            lines.append((cur, False))
        return lines

    def text_lines(self, text, *, font="R", size=None, leading=None, x=0.0, width=None, align=None,
                   sb=0.0, keep=False, tag=None, label=None, label_x=0.0, runin=False, hyph=False) -> list[Line]:
        size, leading = size or self.st["size"], leading or self.st["leading"]
        width = self.colw - x if width is None else width
        align = align or self.st["align"]
        words = self.words(text, font, size)
        if label and runin:
            words.insert(0, Word([(label, self.F[font], size, 0)]))
            label = None
        out = []
        for i, (ws, just) in enumerate(self.wrap(words, width, self.F[font], size, hyph)):
            al = align if align != "justify" or just else "left"
            out.append(Line(ws, x, width, al, self.F[font], size, leading, sb if i == 0 else 0, keep, tag,
                            label if i == 0 else None, label_x))
        return out

    # ---- document structure -> items --------------------------------------------------------
    def paragraph(self, text: str, tag, keep=False, sb=None):
        m = LABEL.match(text)
        label, level, body = None, 0, text.strip()
        if m:
            label, body = m.group(2), text[m.end():]
            level = 0 if label[0].isdigit() else 1 + len(m.group(1)) // 2
        lx, tx = self.st["hang"][level]
        if label is None:
            tx = lx
        runin = bool(label) and level == 0 and self.st["runin0"]
        if sb is None:
            sb = self.st["para_space"] if level == 0 else self.st["sub_space"]
        self.items += self.text_lines(body, x=tx, sb=sb, tag=tag, label=label, label_x=lx, runin=runin, keep=keep,
                                      hyph=True)

    def heading(self, lines, tag, sb):
        for k, (text, font, align, size) in enumerate(lines):
            self.items += self.text_lines(text, font=font, size=size, align=align, sb=sb if k == 0 else 1,
                                          keep=True, tag=tag, leading=size * 1.3)

    def build(self):
        src, st = self.src, self.st
        if not st["cover"]:
            for k, t in enumerate(src["title_lines"]):
                small = t.lower() in ("between", "and")
                self.items += self.text_lines(t, font="R" if small else "B", size=11 if small else 13, leading=17,
                                              align="center", sb=0 if k else 4)
            self.items += self.text_lines(src["note"], font="I", size=8, leading=10, align="center", sb=6)
        if src.get("preamble_heading"):
            self.heading([(src["preamble_heading"], "B", "center", st["size"] + 1)], None, 0)
        for p in src.get("preamble", []):
            self.paragraph(p, None)
        chapters = src.get("chapters") or [dict(number=None, title=None, articles=src["articles"])]
        for ch in chapters:
            num, title = ch["number"], ch["title"]
            chapter_label = None
            if num is not None:
                if st["chapter_new_page"]:
                    self.items.append(PAGE_BREAK)
                fmt = dict(num=num, words=numwords(int(num)), title=title, TITLE=title.upper())
                lines = [(f.format(**fmt), font, "center", size) for f, font, size in st["chapter_fmt"]]
                chapter_label = lines[0][0]
                self.heading(lines, ("chap", num), 22)
            for art in ch["articles"]:
                key, fn0 = len(self.expected), len(self.footnotes)
                fmt = dict(num=art["number"], title=art.get("title", ""))
                lines = [(f.format(**fmt), font, al, st["size"]) for f, font, al in st["article_fmt"]]
                self.heading(lines, ("art", key, "head"), 13)
                for p in art["body"]:
                    self.paragraph(p, ("art", key, "body"))
                body = "\n".join(plain(p) for p in art["body"])
                fns = list(range(fn0 + 1, len(self.footnotes) + 1))
                self.expected.append(dict(
                    chapter_number=None if num is None else str(num), chapter_label=chapter_label,
                    chapter_title=title, article_number=f"{st['article_word'].title()} {art['number']}",
                    article_label=f"{st['article_word']} {art['number']}",
                    article_title=plain(art["title"]) if art.get("title") else None,
                    page_start=None, page_end=None, body_start=" ".join(body.split()[:10]), text=body,
                    footnote_numbers=fns, footnotes=[plain(self.footnotes[n - 1]) for n in fns]))
        for k, p in enumerate(src.get("closing", [])):
            self.paragraph(p, None, keep=True, sb=None if k else 20)
        if src.get("signatories"):
            self.items.append(self.signature_block(src["signatories"]))

    def signature_block(self, sigs):
        side = self.colw >= 300
        boxw = self.colw / 2 - 12 if side else self.colw
        wrapped = [[self.text_lines(s[0], font="B", width=boxw, align="left"),
                    self.text_lines(s[1], width=boxw, align="left")] for s in sigs]
        lead = self.st["leading"]
        one = [(len(a) + len(b)) * lead + (46 if side else 60) for a, b in wrapped]
        h = max(one) if side else sum(one)

        def paint(c, X, ytop):
            for k, (head, desig) in enumerate(wrapped):
                x = X + (k * (boxw + 24) if side else 0)
                y = ytop if side else ytop - sum(one[:k])
                for ln in head:
                    ln.draw(c, x, y)
                    y -= lead
                if side:  # align the signature lines of side-by-side blocks
                    y = ytop - lead * max(len(a) for a, _ in wrapped)
                c.setLineWidth(0.9)  # a pen-like flourish standing in for the signature
                p = c.beginPath()
                p.moveTo(x + 8, y - 24)
                p.curveTo(x + 30, y - 2, x + 44, y - 40, x + 66, y - 16)
                p.curveTo(x + 80, y - 4, x + 96, y - 34, x + 120, y - 20)
                c.drawPath(p, stroke=1, fill=0)
                c.setLineWidth(0.4)
                c.line(x, y - 32, x + min(180, boxw), y - 32)
                y -= 38
                for ln in desig:
                    ln.draw(c, x, y)
                    y -= lead
        return Block(h=h, painter=paint, sb=18)

    # ---- pagination ---------------------------------------------------------------------------
    def fn_height(self, fns) -> float:
        if not fns:
            return 0.0
        total = 12.0
        for n in fns:
            if n not in self.fn_lines:
                st = self.st
                self.fn_lines[n] = self.text_lines(self.footnotes[n - 1], size=st["fn_size"],
                                                   leading=st["fn_leading"], x=11, label=str(n), sb=0)
            total += sum(ln.h for ln in self.fn_lines[n]) + 2
        return total

    def paginate(self):
        pages, chapter = [], None

        def new_page():
            pages.append(dict(cols=[[] for _ in self.col_x], fns=[[] for _ in self.col_x], chapter=chapter))
            return pages[-1], 0, self.top
        page, ci, y = new_page()
        items, i = self.items, 0
        while i < len(items):
            it = items[i]
            if it.brk:
                if any(page["cols"]):
                    page, ci, y = new_page()
                i += 1
                continue
            at_top = y == self.top
            need, fns, j = 0.0, list(page["fns"][ci]), i
            while True:  # keep-with-next: a heading must fit together with the line after it
                g = items[j]
                need += g.h + (0 if j == i and at_top else g.sb)
                fns += list(g.fns)
                if not g.keep or j + 1 >= len(items) or items[j + 1].brk:
                    break
                j += 1
            if not at_top and y - need < self.bottom + self.fn_height(fns):
                ci += 1
                if ci == len(self.col_x):
                    page, ci, y = new_page()
                y = self.top
                continue
            y -= 0 if at_top else it.sb
            if it.tag and it.tag[0] == "chap":
                chapter = it.tag[1]
                if not any(page["cols"]):
                    page["chapter"] = chapter
            page["cols"][ci].append((it, y))
            page["fns"][ci] += list(it.fns)
            y -= it.h
            i += 1
        return pages

    # ---- drawing ------------------------------------------------------------------------------
    def draw_cover(self, c):
        src, F = self.src, self.F
        pw, ph = self.st["page"]
        if src.get("series"):
            c.setFont(F["B"], 11)
            c.drawCentredString(pw / 2, ph - 90, src["series"])
            c.setLineWidth(0.8)
            c.line(self.col_x[0], ph - 100, pw - self.col_x[0], ph - 100)
        y, width = ph * 0.66, pw - 2 * self.col_x[0]
        for t in src["cover_lines"]:
            small = t in ("BETWEEN", "AND", "between", "and")
            for ln in self.text_lines(t, font="R" if small else "B", size=12 if small else 16,
                                      width=width, align="center"):
                ln.draw(c, self.col_x[0], y)
                y -= 26
        y -= 40
        for ln in self.text_lines(src["cover_date"], size=12, width=width, align="center"):
            ln.draw(c, self.col_x[0], y)
        y = 120
        for ln in self.text_lines(src["note"], font="I", size=8, leading=10, width=width, align="center"):
            ln.draw(c, self.col_x[0], y)
            y -= 10

    def header_footer(self, c, pno, npages, page):
        src, st, F = self.src, self.st, self.F
        pw, ph = st["page"]
        left, right = st["margins"][0], pw - st["margins"][1]
        hfont, hsize, hy, halign = st["header"]
        ffont, fsize, fy = st["footer"]
        c.setFont(F[hfont], hsize)
        if halign == "split":  # gazette: two header texts and a full-width rule under them
            c.drawString(left, ph - hy, src["header"])
            c.drawRightString(right, ph - hy, src["header_right"])
            c.setLineWidth(0.6)
            c.line(left, ph - hy - 6, right, ph - hy - 6)
        elif halign == "right":
            c.drawRightString(right, ph - hy, src["header"])
        else:
            c.drawCentredString(pw / 2, ph - hy, src["header"])
        style, where = src["style"], src.get("footer_align", "center")
        if style == "us":  # chapter-relative folio "12-3"; front matter in roman numerals
            folio = f"{page['chapter']}-{page['chapter_page']}" if page["chapter"] else roman(pno)
        elif style == "eu":
            folio = str(pno)
        elif style == "asean":
            folio = f"- {pno} -"
        else:
            folio = src["footer"].format(n=pno, N=npages)
        c.setFont(F[ffont], fsize)
        if style == "eu":
            c.drawString(left, fy, "EN")
            c.drawRightString(right, fy, "EN")
        if where == "right":
            c.drawRightString(right, fy, folio)
        else:
            c.drawCentredString(pw / 2, fy, folio)

    def layout(self) -> dict:
        """Facts about the typesetting, for tests and for tuning the extractor."""
        st, F = self.st, self.F
        pw, ph = st["page"]
        return dict(page_size=[round(pw, 2), round(ph, 2)], cover_page=st["cover"], columns=st["columns"],
                    column_x=[round(x, 2) for x in self.col_x], column_width=round(self.colw, 2),
                    body_top=round(self.top, 2), body_bottom=self.bottom, align=st["align"],
                    body_font=F["R"], body_size=st["size"], leading=st["leading"], heading_font=F["B"],
                    italic_font=F["I"], footnote_size=st["fn_size"], footnote_leading=st["fn_leading"],
                    superscript_size=round(st["size"] * 0.6, 2), superscript_rise=round(st["size"] * 0.38, 2),
                    header_font=F[st["header"][0]], header_size=st["header"][1],
                    header_baseline=round(ph - st["header"][2], 2), footer_font=F[st["footer"][0]],
                    footer_size=st["footer"][1], footer_baseline=st["footer"][2])

    def render(self) -> bytes:
        self.build()
        pages = self.paginate()
        cover = 1 if self.st["cover"] else 0
        npages = len(pages) + cover
        count: dict = {}
        for k, p in enumerate(pages):  # chapter-relative page numbers for the US footer
            count[p["chapter"]] = count.get(p["chapter"], 0) + 1
            p["chapter_page"] = count[p["chapter"]]
            for col in p["cols"]:
                for it, _ in col:
                    if it.tag and it.tag[0] == "art":
                        rec = self.expected[it.tag[1]]
                        if it.tag[2] == "head" and rec["page_start"] is None:
                            rec["page_start"] = k + 1 + cover
                        rec["page_end"] = k + 1 + cover
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=self.st["page"], invariant=1)
        c.setTitle(plain(self.src["title"]))
        c.setAuthor("clausebank sample corpus (specimen text)")
        c.setCreator("corpus/build_corpus.py")
        if cover:
            self.draw_cover(c)
            c.showPage()
        for k, p in enumerate(pages):
            for ci, col in enumerate(p["cols"]):
                for it, y in col:
                    it.draw(c, self.col_x[ci], y)
                if p["fns"][ci]:  # footnote area: short rule, then the notes, bottom-aligned
                    x, y = self.col_x[ci], self.bottom + self.fn_height(p["fns"][ci])
                    c.setLineWidth(0.5)
                    c.line(x, y - 4, x + min(120, self.colw * 0.4), y - 4)
                    y -= 12
                    for n in p["fns"][ci]:
                        for ln in self.fn_lines[n]:
                            ln.draw(c, x, y)
                            y -= ln.h
                        y -= 2
            self.header_footer(c, k + 1 + cover, npages, p)
            c.showPage()
        c.save()
        self.npages = npages
        return buf.getvalue()


def scan(pdf: bytes, seed: int, dpi: int = 200) -> bytes:
    """Rasterise a PDF like a photocopy (grey, noisy, slightly rotated) and wrap the images in a PDF
    that has no text layer at all."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    doc = pdfium.PdfDocument(pdf)
    buf, c = io.BytesIO(), None
    for k in range(len(doc)):
        page = doc[k]
        pw, ph = page.get_size()
        c = c or canvas.Canvas(buf, pagesize=(pw, ph), invariant=1)
        img = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        img = img.filter(ImageFilter.GaussianBlur(0.6))
        img = img.rotate(float(rng.uniform(-0.45, 0.45)), resample=Image.BICUBIC, fillcolor=255)
        a = np.asarray(img, dtype=np.float32) * 0.93 + 6   # greyish paper, slightly faded ink
        a += rng.normal(0, 7, a.shape)
        jpeg = io.BytesIO()
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L").save(jpeg, "JPEG", quality=45, optimize=True)
        c.drawImage(ImageReader(jpeg), 0, 0, width=pw, height=ph)  # JPEG bytes are embedded as-is (DCT)
        c.showPage()
    c.setCreator("Scanner")
    c.save()
    return buf.getvalue()


def build(path: Path) -> dict:
    src = tomllib.loads(path.read_text(encoding="utf-8"))
    src["stem"] = path.stem
    r = Renderer(src)
    pdf = r.render()
    if src.get("scanned"):
        pdf = scan(pdf, seed=src.get("seed", 7))
    stem = src["stem"]
    (HERE / f"{stem}.pdf").write_bytes(pdf)
    meta = {k: src.get(k) for k in ("stem", "title", "kind", "style", "parties", "parties_iso3", "date_signed",
                                    "place")}
    missing = [a["article_number"] for a in r.expected if a["page_start"] is None]
    assert not missing, missing
    exp = dict(meta, title=plain(src["title"]), scanned=bool(src.get("scanned")), pages=r.npages, layout=r.layout(),
               preamble=[plain(p) for p in src.get("preamble", [])], articles=r.expected)
    EXPECTED.mkdir(exist_ok=True)
    (EXPECTED / f"{stem}.json").write_text(json.dumps(exp, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{stem}.pdf: {r.npages} pages, {len(r.expected)} articles, {len(r.footnotes)} footnotes, "
          f"{r.hyphenations} hyphenations, {len(pdf) // 1024} KiB", file=sys.stderr)
    return exp


def main(argv: list[str]) -> int:
    files = sorted(TEXTS.glob("*.toml"))
    if argv:
        files = [f for f in files if f.stem in argv]
    for f in files:
        build(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
