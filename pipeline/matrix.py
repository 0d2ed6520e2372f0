"""Partner position matrices: what a partner has agreed to on each topic, and how strongly.

A cell is the strongest commitment found in the partner's agreements on that topic (binding >
best-endeavour > hortatory > non-binding > none) with its citation, and whether an exception
qualifies it. A carve-out or permission ("Nothing in this Article shall prevent a Party from
adopting...") is not a commitment, even though it says "shall": it only marks the cell as qualified.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .models import Article, Document, Filters

MISSION_TOPICS = ("data_flows", "data_localisation", "privacy", "it_mobility")
STRENGTH_RANK = {"binding": 4, "best_endeavour": 3, "hortatory": 2, "non_binding": 1}


@dataclass
class Cell:
    strength: str = "none"
    citation: str = ""
    doc: str = ""
    article_number: str = ""
    exception: bool = False  # an exception or carve-out qualifies the commitment
    on_topic: bool = False  # the commitment is made in a paragraph that is itself on the topic

    def label(self) -> str:
        if self.strength == "none":
            return "none"
        return self.strength.replace("_", "-") + (" (with exception)" if self.exception else "")


@dataclass
class Row:
    """One agreement (or, for several partners, one partner's best across its agreements)."""

    name: str
    year: str
    cells: dict[str, Cell]


# exception labels that do not qualify a commitment ("For greater certainty, ..." only explains it)
NOT_QUALIFYING = {"clarification"}


def _commitment(art: Article, topic: str) -> Cell:
    """The strongest commitment an article makes on a topic (paragraphs that carry the topic's
    evidence, or all of them when none does) and whether an exception qualifies it: a carve-out
    paragraph anywhere in the article, or an exception within the paragraphs on the topic."""
    evidenced = [c for c in art.clauses if any(e.label == topic for e in c.topics)]
    on_topic = evidenced or art.clauses
    exception = any(c.strength == "exception" for c in art.clauses) or any(
        e.label not in NOT_QUALIFYING for c in on_topic for e in c.exceptions)
    best = max((c for c in on_topic if c.strength in STRENGTH_RANK), key=lambda c: STRENGTH_RANK[c.strength],
               default=None)
    return Cell(best.strength if best else "none", exception=exception, on_topic=bool(evidenced and best))


def _stronger(a: Cell, b: Cell) -> bool:
    """Is `a` the better cell: a stronger commitment; at equal strength, one made in a paragraph on
    the topic (not just somewhere in an article on it), then one that no exception qualifies."""
    def rank(c: Cell) -> tuple[int, bool, bool]:
        return STRENGTH_RANK.get(c.strength, 0), c.on_topic, not c.exception

    return rank(a) > rank(b)


def agreement_rows(store, partner: str, topics: tuple[str, ...] = MISSION_TOPICS) -> list[Row]:
    """One row per agreement the partner signed (oldest first), a cell per topic."""
    from .search import make_hit

    docs = sorted((d for d in store.documents() if partner in d.parties), key=lambda d: (d.date_signed, d.doc_id))
    rows = []
    for doc in docs:
        cells = {t: Cell() for t in topics}
        # only the articles on a topic asked about are read whole (with their paragraphs)
        on_topics = store.ids_with_topics(set(topics), store.filtered_article_ids(Filters(doc=doc.doc_id)))
        arts = store.articles_by_id(sorted(on_topics))
        for art in sorted(arts.values(), key=lambda a: a.id):
            for t in set(art.topics) & set(topics):
                cell = _commitment(art, t)
                if not cells[t].citation or _stronger(cell, cells[t]):
                    cell.citation = make_hit(art, doc).citation
                    cell.doc, cell.article_number = doc.doc_id, art.article_number
                    cells[t] = cell
        rows.append(Row(_name(doc), doc.year, cells))
    return rows


def partner_rows(store, partners: list[str], topics: tuple[str, ...] = MISSION_TOPICS) -> list[Row]:
    """One row per partner: its strongest commitment per topic and the agreement where it was made."""
    out = []
    for p in partners:
        best = {t: Cell() for t in topics}
        for row in agreement_rows(store, p, topics):
            for t, cell in row.cells.items():
                if _stronger(cell, best[t]) or (not best[t].citation and cell.citation):
                    best[t] = cell
        out.append(Row(p, "", best))
    return out


def _name(doc: Document) -> str:
    return doc.short_name or doc.title or doc.doc_id


def write_matrix(rows: list[Row], topics: tuple[str, ...], out: Path, title: str) -> Path:
    """CSV (topic ids as column names, then `<topic>_citation` / `<topic>_exception`), XLSX or DOCX."""
    from .fileutil import atomic_write

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return atomic_write(out, lambda tmp: _write_csv(tmp, rows, topics))
    if suffix == ".xlsx":
        return atomic_write(out, lambda tmp: _write_xlsx(tmp, rows, topics, title))
    if suffix == ".docx":
        return atomic_write(out, lambda tmp: _write_docx(tmp, rows, topics, title))
    raise ValueError(f"{out.name}: write the matrix as .csv, .xlsx or .docx")


def flat_records(rows: list[Row], topics: tuple[str, ...]) -> list[dict[str, str]]:
    recs = []
    for r in rows:
        rec = {"agreement": r.name, "year": r.year}
        for t in topics:
            c = r.cells[t]
            rec[t] = c.strength
            rec[f"{t}_citation"] = c.citation
            rec[f"{t}_exception"] = "yes" if c.exception else ""
        recs.append(rec)
    return recs


def _write_csv(path: str, rows: list[Row], topics: tuple[str, ...]) -> None:
    import csv

    recs = flat_records(rows, topics)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["agreement", "year", *[k for t in topics for k in
                                                                      (t, f"{t}_citation", f"{t}_exception")]])
        writer.writeheader()
        writer.writerows(recs)


FILLS = {"binding": "1F7A3A", "best_endeavour": "8DBF5A", "hortatory": "F2C14E", "non_binding": "E8A36B",
         "none": "DDDDDD"}


def _write_xlsx(path: str, rows: list[Row], topics: tuple[str, ...], title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "matrix"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Agreement", "Year", *topics])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r.name, r.year, *[f"{r.cells[t].label()}\n{r.cells[t].citation}".strip() for t in topics]])
        for col, t in enumerate(topics, start=3):
            cell = ws.cell(row=ws.max_row, column=col)
            cell.fill = PatternFill("solid", fgColor=FILLS[r.cells[t].strength])
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 40
    for col in "CDEF":
        ws.column_dimensions[col].width = 34
    wb.save(path)


def _write_docx(path: str, rows: list[Row], topics: tuple[str, ...], title: str) -> None:
    from docx import Document as DocxDocument

    doc = DocxDocument()
    doc.add_heading(title, level=1)
    table = doc.add_table(rows=1, cols=2 + len(topics))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ["Agreement", "Year", *topics]):
        cell.text = name
    for r in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = r.name, r.year
        for cell, t in zip(cells[2:], topics):
            cell.text = f"{r.cells[t].label()}\n{r.cells[t].citation}".strip()
    doc.save(path)
