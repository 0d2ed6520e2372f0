"""Small treaty PDFs with the layouts real agreements have and our bench renderer never makes.

Every text here is written for these tests (a fictional agreement between Arcadia and Borduria).
`python -m tests.data.layouts` rewrites the PDFs next to this file; the tests read those files.

    smallcaps.pdf    article headings in small capitals (first letter larger, not bold), bold sections
    toc.pdf          contents pages (dot leaders, or page numbers in a right-hand column) before the text
    bound.pdf        two agreements bound in one volume, article numbers restarting
    annex.pdf        an annex and an appendix after the last article, and a long tariff table
    textlayer.pdf    ligature glyphs and words split by the text layer
    glued.pdf        a footnote number glued to a heading's title, same size as the title
    wrapped.pdf      body lines that wrap so a line begins with `Article 3` or `Chapter 2`
    schedule.pdf     a rules table without cell gaps whose bold header repeats on each page, and a
                     table whose column headers are `Article 4 | Article 6 | Article 7`
    captitles.pdf    bold article headings, and some set in body type with the title in capitals
                     (`Article 3: PAPERLESS TRADING`), as retyped real agreements mix them
    plaincontents.pdf a page titled `TABLE OF CONTENTS` listing article headings with neither dot
                     leaders nor page numbers
    scopes.pdf       short chapters, one a page, each opening with a bold-italic `Scope` title under a
                     centred `ARTICLE N` (the same bold line on consecutive pages, yet no table header)
"""
from __future__ import annotations

from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

rl_config.invariant = 1
W, H = A4
LEFT, RIGHT, TOP, BOTTOM = 72.0, W - 72.0, H - 80.0, 90.0
HERE = Path(__file__).resolve().parent
# Bitstream Vera ships with reportlab and has the ﬁ / ﬂ ligature glyphs the standard fonts lack
for _name, _file in (("Vera", "Vera.ttf"), ("VeraBd", "VeraBd.ttf")):
    pdfmetrics.registerFont(TTFont(_name, _file))

BODY = ("Each Party shall accord to goods of the other Party treatment no less favourable than the "
        "treatment it accords to its own like goods, in accordance with the economic aims of this "
        "Agreement and the schedules annexed to it.")
FILLER = ("The Parties shall cooperate through their competent authorities, exchange information on "
          "their laws and procedures, and consult each other promptly on any matter arising under "
          "this provision.")


class Sheet:
    """A tiny typesetter: flowing paragraphs, headings in several styles, footnotes at the page foot."""

    def __init__(self, path: Path, running_header: str = "Arcadia - Borduria Agreement"):
        self.path = path
        self.c = canvas.Canvas(str(path), pagesize=A4)
        self.header = running_header
        self.page = 0
        self.notes: list[tuple[str, str]] = []
        self._start_page()

    def _start_page(self) -> None:
        self.page += 1
        self.y = TOP
        self.notes = []
        if self.header:
            self.c.setFont("Helvetica", 8)
            self.c.drawString(LEFT, H - 45, self.header)
        self.c.setFont("Helvetica", 8)
        self.c.drawCentredString(W / 2, 40, f"- {self.page} -")

    def _end_page(self) -> None:
        y = BOTTOM - 12
        for number, text in self.notes:
            self.c.setFont("Times-Roman", 6)
            self.c.drawString(LEFT, y + 3, number)
            self.c.setFont("Times-Roman", 8)
            self.c.drawString(LEFT + 6, y, text)
            y -= 10
        self.c.showPage()

    def new_page(self) -> None:
        self._end_page()
        self._start_page()

    def ensure(self, height: float) -> None:
        if self.y - height < BOTTOM + 12 * len(self.notes) + 10:
            self.new_page()

    def space(self, points: float) -> None:
        self.y -= points

    def para(self, text: str, size: float = 11, lead: float = 14, indent: float = 0, font: str = "Times-Roman") -> None:
        for line in simpleSplit(text, font, size, RIGHT - LEFT - indent):
            self.ensure(lead)
            self.c.setFont(font, size)
            self.c.drawString(LEFT + indent, self.y, line)
            self.y -= lead
        self.y -= 4

    def lines(self, lines: list[str], size: float = 11, lead: float = 14) -> None:
        """Lines set exactly as given (to control where a line starts)."""
        for line in lines:
            self.ensure(lead)
            self.c.setFont("Times-Roman", size)
            self.c.drawString(LEFT, self.y, line)
            self.y -= lead
        self.y -= 4

    def heading(self, text: str, *, font: str = "Times-Bold", size: float = 11, centred: bool = False,
                before: float = 10, note: tuple[str, str] | None = None) -> None:
        self.y -= before
        self.ensure(size + 6)
        self.c.setFont(font, size)
        x = W / 2 - self.c.stringWidth(text, font, size) / 2 if centred else LEFT
        self.c.drawString(x, self.y, text)
        if note:
            self._marker(x + self.c.stringWidth(text, font, size), note)
        self.y -= size + 6

    def smallcaps(self, text: str, *, size: float = 12, small: float = 9.5, before: float = 14,
                  note: tuple[str, str] | None = None) -> None:
        """Small capitals faked the usual way: each word's first letter at `size`, the rest upper-case at `small`."""
        self.y -= before
        self.ensure(size + 6)
        x = LEFT
        for word in text.split():
            # a capital keeps its full size; lower-case letters become small capitals
            first, rest = (word[0], word[1:].upper()) if not word[0].islower() else ("", word.upper())
            self.c.setFont("Times-Roman", size)
            self.c.drawString(x, self.y, first)
            x += self.c.stringWidth(first, "Times-Roman", size)
            self.c.setFont("Times-Roman", small)
            self.c.drawString(x, self.y, rest)
            x += self.c.stringWidth(rest, "Times-Roman", small) + self.c.stringWidth(" ", "Times-Roman", size)
        if note:
            self._marker(x - self.c.stringWidth(" ", "Times-Roman", size), note)
        self.y -= size + 6

    def _marker(self, x: float, note: tuple[str, str]) -> None:
        self.c.setFont("Times-Roman", 7)
        self.c.drawString(x + 0.5, self.y + 4, note[0])
        self.notes.append(note)

    def footnote(self, number: str, text: str) -> None:
        """A note for this page whose marker is printed elsewhere (e.g. glued into a heading)."""
        self.notes.append((number, text))

    def toc_line(self, text: str, page: int, size: float = 11) -> None:
        self.ensure(15)
        self.c.setFont("Times-Roman", size)
        self.c.drawString(LEFT, self.y, text)
        num = str(page)
        nx = RIGHT - self.c.stringWidth(num, "Times-Roman", size)
        self.c.drawString(nx, self.y, num)
        x = LEFT + self.c.stringWidth(text, "Times-Roman", size) + 6
        dots = ""
        while x + self.c.stringWidth(dots + " .", "Times-Roman", size) < nx - 6:
            dots += " ."
        self.c.drawString(x, self.y, dots)
        self.y -= 15

    def table_row(self, cells: list[str], xs: list[float], font: str = "Times-Roman", size: float = 9) -> None:
        self.ensure(13)
        self.c.setFont(font, size)
        for cell, x in zip(cells, xs):
            self.c.drawString(x, self.y, cell)
        self.y -= 13

    def save(self) -> Path:
        self._end_page()
        self.c.save()
        return self.path


def _title_block(s: Sheet, lines: list[str]) -> None:
    for ln in lines:
        s.heading(ln, size=15, centred=True, before=4)
    s.space(10)


def smallcaps(path: Path) -> Path:
    """A US-style FTA whose article headings are small capitals, with bold chapter and section headings."""
    s = Sheet(path)
    _title_block(s, ["FREE TRADE AGREEMENT", "BETWEEN THE REPUBLIC OF ARCADIA", "AND THE KINGDOM OF BORDURIA"])
    s.para("The Republic of Arcadia and the Kingdom of Borduria, resolved to deepen their economic ties, "
           "have agreed as follows:")
    n = 0
    for ch, (ctitle, arts) in enumerate([
        ("Initial Provisions", ["Establishment of a Free Trade Area", "Relation to Other Agreements", "Definitions"]),
        ("Trade in Goods", ["Scope and Coverage", "National Treatment", "Elimination of Customs Duties",
                            "Import Licensing"]),
    ], start=1):
        s.heading(f"CHAPTER {ch}", size=12, centred=True, before=16)
        s.heading(ctitle.upper(), size=12, centred=True, before=0)
        for k, title in enumerate(arts, start=1):
            if ch == 2 and k in (1, 3):
                s.heading(f"Section {'A' if k == 1 else 'B'}: {'General' if k == 1 else 'Tariffs'}", before=12)
            n += 1
            note = ("1", "For greater certainty, this Article applies to customs territories.") if (ch, k) == (2, 2) else None
            s.smallcaps(f"Article {ch}.{k}: {title}", note=note)
            s.para(f"1. {BODY}")
            s.para(f"2. {FILLER} This is paragraph two of Article {ch}.{k}.")
    return s.save()


def toc(path: Path) -> Path:
    """A contents list with dot leaders and page numbers, then the text with `Article N – Title` headings."""
    s = Sheet(path)
    _title_block(s, ["PROTOCOL ON COMPETITION POLICY"])
    s.heading("TABLE OF CONTENTS", centred=True, before=6)
    titles = ["Definitions", "Objectives", "Scope of Application", "Anti-competitive Agreements",
              "Abuse of Dominance", "Merger Control", "Cooperation between Authorities", "Final Provisions"]
    s.toc_line("Preamble", 2)
    for i, t in enumerate(titles, start=1):
        s.toc_line(f"Article {i} – {t}", 3 + i // 2)
    s.new_page()
    s.heading("LIST OF ANNEXES", centred=True, before=6)  # no leaders: the page number stands at the right
    for i, t in enumerate(["Notification Form", "Merger Thresholds", "Fees", "Contact Points"], start=1):
        s.ensure(15)
        s.c.setFont("Times-Roman", 11)
        s.c.drawString(LEFT, s.y, f"Annex {i} – {t}")
        s.c.drawRightString(RIGHT, s.y, str(6 + i))
        s.y -= 15
    s.new_page()
    s.heading("PREAMBLE", centred=True)
    s.para("The States Parties to this Protocol, recognising that open markets need fair competition, "
           "have agreed as follows:")
    for i, t in enumerate(titles, start=1):
        s.heading(f"Article {i} – {t}", before=12)
        s.para(f"1. {BODY}")
        s.para(f"2. {FILLER}")
    return s.save()


def plaincontents(path: Path) -> Path:
    """A page titled `TABLE OF CONTENTS` that lists article headings with neither leaders nor page
    numbers (as some protocols print it), then the preamble on the same page and the articles after."""
    s = Sheet(path)
    s.heading("TABLE OF CONTENTS", centred=True, before=6)
    titles = ["Amendments to Chapter 2", "Amendments to Chapter 3", "Entry into Force", "Depositary"]
    s.lines(["Preamble"])
    for i, t in enumerate(titles, start=1):
        s.space(8)
        s.lines([f"Article {i}.    {t}"])
    s.heading("PREAMBLE", centred=True, before=24)
    s.para("The Parties to this Protocol, wishing to keep their agreement up to date, have agreed as follows:")
    s.new_page()
    for i, t in enumerate(titles, start=1):
        s.heading(f"Article {i}", before=12)
        s.heading(t)
        s.para(f"1. {BODY}")
    return s.save()


def bound(path: Path) -> Path:
    """Two agreements in one volume; the second restarts at Article 1."""
    s = Sheet(path, running_header="")
    first = "AGREEMENT ON TRADE IN GOODS BETWEEN ARCADIA AND BORDURIA"
    second = "AGREEMENT ON TRADE IN SERVICES BETWEEN ARCADIA AND BORDURIA"
    for title, subjects in ((first, ["Definitions", "Tariff Reduction", "Rules of Origin", "Safeguards"]),
                            (second, ["Definitions", "Market Access", "Domestic Regulation"])):
        _title_block(s, [title])
        s.para("The Parties, desiring to expand trade between them, have agreed as follows:")
        for i, t in enumerate(subjects, start=1):
            s.heading(f"Article {i}", centred=True, before=12)
            s.heading(t, centred=True, before=0)
            s.para(f"1. {BODY}")
            s.para(f"2. {FILLER}")
        s.para("IN WITNESS WHEREOF, the undersigned, being duly authorised, have signed this Agreement.")
        s.new_page()
    return s.save()


def annex(path: Path) -> Path:
    """Articles, then an annex with its own numbered rules, an appendix, and a two-page tariff schedule."""
    s = Sheet(path)
    _title_block(s, ["AGREEMENT ON CUSTOMS COOPERATION"])
    for i, t in enumerate(["Scope", "Exchange of Information", "Final Provisions"], start=1):
        s.heading(f"Article {i}: {t}", before=12)
        s.para(f"1. {BODY}")
        s.para(f"2. {FILLER}")
    s.heading("ANNEX 1", centred=True, before=18)
    s.heading("RULES FOR THE EXCHANGE OF CUSTOMS DATA", centred=True, before=0)
    for k in range(1, 4):
        s.para(f"{k}. A request for customs data under this Annex shall state the goods concerned, the "
               f"legal basis of the request and the authority making it; rule {k} applies to every request.")
    s.heading("APPENDIX 1 TO ANNEX 1", centred=True, before=18)
    s.heading("Model Request Form", centred=True, before=0)
    s.para("The requesting authority shall complete every field of this form before sending it.")
    s.new_page()
    s.heading("ANNEX 2", centred=True, before=6)
    s.heading("SCHEDULE OF TARIFF COMMITMENTS OF ARCADIA", centred=True, before=0)
    xs = [LEFT, LEFT + 40, LEFT + 120, LEFT + 360]
    header = ["No.", "HS CODE", "DESCRIPTION", "BASE RATE"]
    goods = ["Live horses", "Live cattle", "Fresh fish", "Frozen fish", "Milk and cream", "Natural honey",
             "Cut flowers", "Potatoes", "Tomatoes", "Onions", "Fresh grapes", "Coffee, not roasted", "Green tea",
             "Black pepper", "Durum wheat", "Rice in the husk", "Maize seed", "Soya beans", "Olive oil",
             "Cane sugar", "Cocoa beans", "Pasta", "Fruit juices", "Mineral waters", "Wine of fresh grapes"]
    row = 0
    for page in range(2):
        s.table_row(header, xs, font="Times-Bold")
        for g in goods[page * 13: page * 13 + 13]:
            row += 1
            s.table_row([str(row), f"{row:02d}01.{row % 9}0", g, f"{5 + row % 4}%"], xs)
        if page == 0:
            s.new_page()
    return s.save()


def textlayer(path: Path) -> Path:
    """Ligature glyphs (ﬁ, ﬂ) in the text layer and words split by a gap inside them."""
    s = Sheet(path, running_header="")
    s.heading("Article 1: Definitions", font="VeraBd", size=10, before=8)
    s.para("1. For the purposes of this Agreement, the economic operators and the economic partnership "
           "referred to in the preamble are defined by each Party. A financial service is any service of "
           "a financial nature. Each Party shall notify the other of its economic measures.", font="Vera", size=10)
    s.heading("Article 2: Notifications", font="VeraBd", size=10, before=12)
    # drawn glyph by glyph so the text layer holds the ligature characters and a gap inside `economic`
    s.y -= 4
    x = LEFT
    for piece, gap in (("The Parties shall notify all ", 0), ("ﬁnancial", 0), (" measures and the ", 0),
                       ("ﬂow", 0), (" of goods under their econo", 0), ("mic partnership.", 3.2)):
        s.c.setFont("Vera", 10)
        s.c.drawString(x + gap, s.y, piece)
        x += gap + s.c.stringWidth(piece, "Vera", 10)
    s.y -= 18
    s.para("2. " + FILLER, font="Vera", size=10)
    return s.save()


def glued(path: Path) -> Path:
    """Footnote numbers printed at title size right after the title (`National Treatment7`)."""
    s = Sheet(path, running_header="")
    s.heading("Article 1: Scope", before=8)
    s.para("1. " + BODY)
    s.heading("Article 2: National Treatment7", before=12)
    s.footnote("7", "For greater certainty, national treatment covers regional levels of government.")
    s.para("1. " + BODY)
    s.heading("Article 3: Transparency", before=12)
    s.para("1. " + FILLER)
    return s.save()


def wrapped(path: Path) -> Path:
    """Plain (not bold) headings, and body lines that wrap so that they start with `Article` or `Chapter`."""
    s = Sheet(path, running_header="")
    s.heading("CHAPTER 1", font="Times-Roman", centred=True, before=8)
    s.heading("GENERAL PROVISIONS", font="Times-Roman", centred=True, before=0)
    s.heading("Article 1 Scope", font="Times-Roman", before=10)
    s.lines(["1. Each Party shall apply the notification procedures set out in",
             "Article 3 Transparency, in Chapter 2 Trade in Goods",
             "and in the Annexes to this Agreement."])
    s.heading("Article 2 Review", font="Times-Roman", before=10)
    s.lines(["1. The Joint Committee shall review this Chapter together with the obligations of",
             "Chapter 2 Trade in Goods and Chapter 3 Rules of Origin, and report",
             "its findings to the Parties every two years."])
    s.heading("Article 3 Transparency", font="Times-Roman", before=10)
    s.lines(["1. Each Party shall publish its laws and regulations of general application promptly."])
    s.heading("CHAPTER 2", font="Times-Roman", centred=True, before=14)
    s.heading("TRADE IN GOODS", font="Times-Roman", centred=True, before=0)
    s.heading("Article 4 National Treatment", font="Times-Roman", before=10)
    s.lines(["1. " + BODY[:80], BODY[80:]])
    return s.save()


def schedule(path: Path) -> Path:
    """A rules table printed without cell gaps: its bold column header and the annex label repeat at
    the head of every page; then an appendix table whose column headers are article numbers."""
    s = Sheet(path)
    for i, t in enumerate(["Scope", "Final Provisions"], start=1):
        s.heading(f"Article {i}: {t}", before=12)
        s.para(f"1. {BODY}")
    s.heading("ANNEX 3 – Arcadia-1", centred=True, before=18)
    s.heading("PRODUCT SPECIFIC RULES", centred=True, before=0)
    s.para("The rules below apply to goods classified under the headings listed in the first column.")
    goods = ["Live horses and asses", "Live bovine animals", "Meat of swine, fresh", "Edible offal", "Fish fillets",
             "Birds' eggs", "Cut flowers and buds", "Dried leguminous vegetables", "Coffee and tea", "Cereal flours",
             "Oil seeds", "Vegetable saps", "Animal fats", "Sausages", "Cane sugar", "Cocoa paste", "Pasta, cooked",
             "Jams and jellies", "Sauces", "Mineral waters", "Wine", "Animal fodder", "Cigars", "Salt", "Iron ores",
             "Coal", "Mineral oils", "Fertilisers", "Paints", "Soap", "Glues", "Explosives"]
    for n, g in enumerate(goods):
        if n % 10 == 0:
            if n:
                s.new_page()
                s.heading(f"ANNEX 3 – Arcadia-{n // 10 + 1}", centred=True, before=0)
            s.heading("HS Code     Description of Goods     Rule of Origin", before=6)
        s.c.setFont("Times-Roman", 11)
        s.lines([f"{n + 1:02d}.{n % 7 + 1:02d}     {g}     {'CC' if n % 2 else 'CTH'} or RVC({40 + n % 3 * 5})"])
    s.heading("APPENDIX 1", centred=True, before=18)
    s.heading("TRANSITIONAL ARRANGEMENTS", centred=True, before=0)
    xs = [LEFT, LEFT + 110, LEFT + 220, LEFT + 330]
    s.table_row(["Party", "Article 4", "Article 6", "Article 7"], xs, font="Times-Bold", size=10)
    for party in ("Arcadia", "Borduria"):
        s.table_row([party, "from 2030", "from 2031", "from 2032"], xs, size=10)
    return s.save()


def scopes(path: Path) -> Path:
    """Four short chapters, one a page; each opens with an article titled `Scope`."""
    s = Sheet(path)
    subjects = ["Customs Procedures", "Technical Barriers to Trade", "Investment", "Dispute Settlement"]
    for n, subject in enumerate(subjects):
        if n:
            s.new_page()
        s.heading(f"CHAPTER {n + 1}", centred=True, size=12.5)
        s.heading(subject.upper(), centred=True, size=12.5, before=0)
        for k, title in enumerate(["Scope", "Cooperation"]):
            s.heading(f"ARTICLE {2 * n + k + 1}", centred=True, before=8)
            s.heading(title, font="Times-BoldItalic", centred=True, before=0)
            s.para(f"1. This Chapter shall apply to {subject.lower()} between the Parties. {FILLER}")
    return s.save()


def captitles(path: Path) -> Path:
    """Articles 1 and 3 under bold headings; 2 and 4 in body type with a capitalised title."""
    s = Sheet(path)
    for n, title in enumerate(["Definitions", "PAPERLESS TRADING", "Cooperation", "PERSONAL DATA PROTECTION"], 1):
        if n % 2:
            s.heading(f"Article {n}: {title}", before=14)
        else:
            s.space(14)
            s.lines([f"Article {n}: {title}"])
        s.para(f"1. {FILLER} This is the text of Article {n}, which refers to Article {n + 6} (Review of".replace(
            " (Review of", ""))
        s.lines(["Article 9 (Review) applies to it."])
    return s.save()


BUILDERS = {"smallcaps": smallcaps, "toc": toc, "bound": bound, "annex": annex, "textlayer": textlayer,
            "glued": glued, "wrapped": wrapped, "schedule": schedule, "scopes": scopes,
            "captitles": captitles, "plaincontents": plaincontents}


def build_all(folder: Path = HERE) -> dict[str, Path]:
    return {name: fn(folder / f"{name}.pdf") for name, fn in BUILDERS.items()}


if __name__ == "__main__":
    for name, p in build_all().items():
        print(name, p)
