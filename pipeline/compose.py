"""Position papers as DOCX (python-docx): cover, TOC field, executive summary, per-topic sections
with the partner's track record, a precedents table and suggested language, real Word footnotes
(a `footnotes.xml` part with `w:footnoteReference` runs) and an annex of the cited articles.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt

from .countries import iso3_all
from .fileutil import atomic_write
from .models import Filters, Hit
from .search import Searcher

TOPIC_NAMES = {
    "data_flows": "Cross-border data flows",
    "data_localisation": "Data localisation",
    "privacy": "Privacy and personal data protection",
    "it_mobility": "Mobility of IT professionals",
    "customs_duties_electronic": "Customs duties on electronic transmissions",
    "digital_products": "Digital products",
    "source_code": "Source code",
    "electronic_authentication": "Electronic authentication and signatures",
    "paperless_trading": "Paperless trading",
    "online_consumer_protection": "Online consumer protection",
    "unsolicited_messages": "Unsolicited commercial messages",
    "cybersecurity": "Cybersecurity",
}
TOPIC_QUERIES = {
    "data_flows": "allow cross-border transfer of information by electronic means, data processing",
    "data_localisation": "no requirement to use or locate computing facilities in its territory",
    "privacy": "protection of personal information of users of electronic commerce",
    "it_mobility": "temporary entry of business persons, intra-corporate transferees and professionals",
}
MARKING = "DRAFT — FOR OFFICIAL USE ONLY"
PRECEDENT_WIDTHS = (3.6, 1.2, 3.2, 2.2, 2.4, 4.4)  # cm: agreement, year, article, strength, exceptions, language


class BriefError(ValueError):
    """A brief that cannot be used; the message says which key and why."""


@dataclass
class Stance:
    position: str = ""
    red_lines: list[str] = field(default_factory=list)
    outcome: str = ""


@dataclass
class Brief:
    title: str
    negotiation: str
    partners: list[str]
    topics: list[str]
    stance: dict[str, Stance]
    queries: dict[str, list[str]] = field(default_factory=dict)
    version: str = "0.1"


def load_brief(path: Path) -> Brief:
    """Read and check a brief (`*.toml`); unknown topics or partners raise BriefError."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BriefError(f"{path}: cannot read the brief ({exc})") from exc
    for key in ("title", "negotiation", "partners", "topics"):
        if key not in data:
            raise BriefError(f"{path}: missing key {key!r}")
    try:
        partners = iso3_all(data["partners"], str(path), "partner")
    except ValueError as exc:
        raise BriefError(str(exc)) from exc
    for t in data["topics"]:
        if t not in TOPIC_NAMES:
            raise BriefError(f"{path}: unknown topic {t!r}; known: {', '.join(TOPIC_NAMES)}")
    stance = {t: Stance(**{k: v for k, v in (data.get("stance", {}).get(t) or {}).items()
                           if k in ("position", "red_lines", "outcome")}) for t in data["topics"]}
    return Brief(title=data["title"], negotiation=data["negotiation"], partners=partners, topics=data["topics"],
                 stance=stance, queries=data.get("queries", {}), version=str(data.get("version", "0.1")))


# ------------------------------------------------------------------ footnotes part


_FOOTNOTES_XML = (
    f'<w:footnotes {nsdecls("w")}>'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
    '</w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    '</w:footnotes>'
)


class Footnotes:
    """Adds a real footnotes part to a python-docx document and footnote references to runs."""

    def __init__(self, doc):
        self.doc = doc
        self.element = parse_xml(_FOOTNOTES_XML)
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, self.element, doc.part.package)
        doc.part.relate_to(part, RT.FOOTNOTES)
        self.next_id = 1

    def add(self, paragraph, text: str) -> int:
        """Append a footnote reference to `paragraph` whose note reads `text`; returns its id."""
        fid = self.next_id
        self.next_id += 1
        ref = parse_xml(f'<w:r {nsdecls("w")}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                        f'<w:footnoteReference w:id="{fid}"/></w:r>')
        paragraph._p.append(ref)
        self.element.append(parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{fid}"><w:p><w:pPr><w:spacing w:after="0"/></w:pPr>'
            f'<w:r><w:rPr><w:vertAlign w:val="superscript"/><w:sz w:val="18"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve"> {escape(text)}</w:t></w:r>'
            f'</w:p></w:footnote>'))
        return fid


# ------------------------------------------------------------------ document furniture


def _field(paragraph, instr: str, placeholder: str = "") -> None:
    """A complex field (PAGE, NUMPAGES, TOC) that Word / LibreOffice compute on open."""
    for xml in (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>',
                f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>',
                f'<w:r {nsdecls("w")}><w:t>{placeholder}</w:t></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'):
        paragraph._p.append(parse_xml(xml))


def _fill_toc(doc, anchor) -> None:
    """A TOC field whose current result already lists the headings (without page numbers), so the
    contents show even where fields are not updated; Word and LibreOffice recompute it on open."""
    entries = [(int(p.style.name[-1]), p.text) for p in doc.paragraphs
               if p.style.name in ("Heading 1", "Heading 2") and p.text != "Contents"]
    if not entries:
        return
    begin = (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>',
             f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> TOC \\o "1-2" \\h \\z \\u </w:instrText></w:r>',
             f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>')
    # each new paragraph goes directly above the anchor, so creation order is reading order
    ordered = [anchor.insert_paragraph_before() for _ in entries[1:]] + [anchor]
    for i, ((level, text), para) in enumerate(zip(entries, ordered)):
        if i == 0:
            for xml in begin:
                para._p.append(parse_xml(xml))
        para.paragraph_format.left_indent = Cm(0.6 * (level - 1))
        para.add_run(text)
        if i == len(entries) - 1:
            para._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'))


def _furniture(doc) -> None:
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = MARKING
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    _field(footer, "PAGE", "1")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES", "1")
    settings = doc.settings.element
    settings.append(parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>'))


# ------------------------------------------------------------------ compose


def short_title(title: str, parties: list[str]) -> str:
    """`Free Trade Agreement between X and Y` → `Free Trade Agreement (CHL, KOR)`, for tables."""
    head = re.split(r"\s+between\s+|\s+among\s+", title, maxsplit=1, flags=re.I)[0]
    return f"{head} ({', '.join(parties)})" if parties and head != title else head


def _agreement_name(hit: Hit) -> str:
    return hit.short_name or short_title(hit.doc_title, hit.parties) or hit.doc_id


def _set_widths(table, widths_cm: tuple[float, ...], font_pt: float = 9) -> None:
    """Fixed column widths (grid and cells, which LibreOffice and Word each read) and a smaller font."""
    table.autofit = False
    for col, width in zip(table.columns, widths_cm):
        col.width = Cm(width)
        for cell in col.cells:
            cell.width = Cm(width)
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(font_pt)


def _exceptions(hit: Hit) -> str:
    return ", ".join(e.replace("_", " ") for e in hit.exceptions)


def compose_paper(brief: Brief, searcher: Searcher, out: Path, today: date | None = None) -> Path:
    """Write the position paper for `brief` to `out` (DOCX); returns the path."""
    doc = DocxDocument()
    doc.styles["Normal"].font.size = Pt(11)
    notes = Footnotes(doc)
    _furniture(doc)
    cited: dict[tuple[str, str], Hit] = {}

    def cite(paragraph, hit: Hit) -> None:
        notes.add(paragraph, hit.citation + ".")
        cited.setdefault((hit.doc_id, hit.article_number), hit)

    # cover
    doc.add_paragraph(brief.title, style="Title")
    doc.add_paragraph(brief.negotiation, style="Subtitle")
    doc.add_paragraph(f"Date: {(today or date.today()).isoformat()}    Version: {brief.version}")
    doc.add_paragraph(f"Partner(s): {', '.join(brief.partners)}    Marking: {MARKING}")
    doc.add_paragraph("Contents", style="Heading 1")
    toc = doc.add_paragraph()
    doc.add_page_break()

    sections = {}
    for topic in brief.topics:
        query = TOPIC_QUERIES.get(topic, TOPIC_NAMES[topic])
        precedents = searcher.search(query, Filters(topic=topic), top=8)
        for extra in brief.queries.get(topic, []):
            precedents += [h for h in searcher.search(extra, Filters(topic=topic), top=3) if h not in precedents]
        partner_hits = [h for p in brief.partners for h in searcher.search(query, Filters(topic=topic, party=p), top=4)]
        binding = searcher.search(query, Filters(topic=topic, strength="binding"), top=1)
        endeavour = searcher.search(query, Filters(topic=topic, strength="best_endeavour"), top=1)
        sections[topic] = (precedents, partner_hits, binding, endeavour)

    doc.add_heading("Executive summary", level=1)
    for topic in brief.topics:
        precedents = sections[topic][0]
        p = doc.add_paragraph()
        p.add_run(TOPIC_NAMES[topic] + ". ").bold = True
        p.add_run(brief.stance[topic].position or "Position to be set by the team.")
        if precedents:
            p.add_run(f" Strongest precedent: {precedents[0].article_title} ({precedents[0].citation.split(', Art.')[0]}).")
            cite(p, precedents[0])

    for topic in brief.topics:
        precedents, partner_hits, binding, endeavour = sections[topic]
        st = brief.stance[topic]
        doc.add_heading(TOPIC_NAMES[topic], level=1)
        doc.add_heading("Our position", level=2)
        doc.add_paragraph(st.position or "To be set by the team.")
        if st.red_lines:
            doc.add_paragraph("Red lines:")
            for line in st.red_lines:
                doc.add_paragraph(line, style="List Number")
        if st.outcome:
            doc.add_paragraph(f"Desired outcome: {st.outcome}")
        doc.add_heading("Partner's track record", level=2)
        if not partner_hits:
            doc.add_paragraph(f"No provision on this topic found in stored agreements of {', '.join(brief.partners)}.")
        for h in partner_hits:
            p = doc.add_paragraph(style="List Bullet")
            p.add_run(f"{h.article_title} — {h.strength or 'strength not determined'}")
            exc = _exceptions(h)
            if exc:
                p.add_run(f"; exceptions: {exc}")
            cite(p, h)
        doc.add_heading("Precedents", level=2)
        table = doc.add_table(rows=1, cols=6)
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, ("Agreement", "Year", "Article", "Strength", "Exceptions",
                                                     "Key language")):
            cell.text = name
            cell.paragraphs[0].runs[0].bold = True
        for h in precedents:
            row = table.add_row().cells
            row[0].text = _agreement_name(h)
            row[1].text = h.year
            row[2].text = f"{h.article_number} {h.article_title}".strip()
            row[3].text = h.strength
            row[4].text = _exceptions(h)
            row[5].text = h.clause_text[:300]
            cite(row[2].paragraphs[0], h)
        _set_widths(table, PRECEDENT_WIDTHS)
        doc.add_heading("Suggested language", level=2)
        for label, hits in (("Binding model", binding), ("Best-endeavour model", endeavour)):
            if hits:
                doc.add_heading(label, level=3)
                p = doc.add_paragraph(f"“{hits[0].clause_text}”")
                cite(p, hits[0])

    doc.add_page_break()
    doc.add_heading("Annex: cited articles", level=1)
    for hit in cited.values():
        doc.add_heading(f"{hit.citation}: {hit.article_title}", level=2)
        doc.add_paragraph(hit.text or hit.snippet)
    _fill_toc(doc, toc)
    return atomic_write(out, doc.save)


# ------------------------------------------------------------------ exports of hits and baskets

EXPORT_COLUMNS = ("citation", "agreement", "article", "title", "strength", "topics", "text")


def _export_rows(hits: list[Hit]) -> list[dict[str, str]]:
    return [{"citation": h.citation, "agreement": h.short_name or h.doc_id, "article": h.article_number,
             "title": h.article_title, "strength": h.strength, "topics": ", ".join(h.topics),
             "text": h.clause_text or h.snippet.replace("**", "")} for h in hits]


def export_hits(hits: list[Hit], out: Path, title: str = "Clauses") -> Path:
    """Search results or a basket of clauses as CSV or DOCX (by the file's suffix), written atomically."""
    out = Path(out)
    rows = _export_rows(hits)
    if out.suffix.lower() == ".csv":
        return atomic_write(out, lambda tmp: _write_csv(tmp, rows))
    if out.suffix.lower() != ".docx":
        raise ValueError(f"{out.name}: export as .csv or .docx")
    doc = DocxDocument()
    notes = Footnotes(doc)
    _furniture(doc)
    doc.add_heading(title, level=1)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ("Agreement / article", "Strength", "Topics", "Text")):
        cell.text = name
    for r in rows:
        cells = table.add_row().cells
        cells[0].text = f"{r['agreement']} {r['article']} {r['title']}".strip()
        notes.add(cells[0].paragraphs[0], r["citation"] + ".")
        cells[1].text, cells[2].text, cells[3].text = r["strength"], r["topics"], r["text"]
    _set_widths(table, (4.0, 2.2, 2.6, 8.2))
    return atomic_write(out, doc.save)


def _write_csv(path: str, rows: list[dict[str, str]]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def basket_hits(store, basket: Path) -> list[Hit]:
    """A basket file: one `DOC ARTICLE` per line (`india_korea_digital_fta 12.13`); # starts a comment."""
    from .search import make_hit

    hits = []
    for n, line in enumerate(Path(basket).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        doc_id, _, number = line.partition(" ")
        found = store.find_articles(doc_id, number)
        if not found:
            raise BriefError(f"{basket}:{n}: no article {number.strip()!r} in {doc_id!r}")
        hits.append(make_hit(found[0], store.documents_by_id([doc_id])[doc_id]))
    return hits
