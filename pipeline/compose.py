"""Position papers as DOCX (python-docx), in two steps: `gather_paper` asks the searcher (and the store)
for each topic's precedents, the partner's track record and model language and returns a plain
`PaperData`; `render_paper` lays that out: cover, TOC field, executive summary, per-topic sections,
a precedents table, real Word footnotes (a `footnotes.xml` part with `w:footnoteReference` runs) and
an annex quoting each cited article once. `compose_paper` does both.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from xml.sax.saxutils import escape

from docx import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt

from .countries import country_short_name, iso3_all
from .fileutil import atomic_write
from .models import Filters, Hit

if TYPE_CHECKING:
    from .store import Store

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


# ------------------------------------------------------------------ what a paper says (no DOCX here)

PRECEDENTS_PER_TOPIC = 8
RECORD_PER_PARTNER = 4
#: carve-out labels of the analyser (patterns/analysis.toml) as a reader names them; "clarification"
#: ("for greater certainty") is left out: it explains a commitment, it does not except from it
EXCEPTION_NAMES = {
    "public_policy": "legitimate public policy objective",
    "security": "security exception",
    "prudential": "prudential measures",
    "domestic_law": "subject to domestic law",
    "scope_exclusion": "scope exclusion",
    "party_delay": "transition period",
    "general": "general carve-out",
}
STRENGTH_NAMES = {"binding": "binding", "best_endeavour": "best-endeavour", "hortatory": "hortatory",
                  "non_binding": "non-binding", "exception": "exception"}
MODELS = (("binding", "Binding model"), ("best_endeavour", "Best-endeavour model"))


class SearcherLike(Protocol):
    def search(self, query: str, filters: Filters | None = None, top: int = 10) -> list[Hit]: ...


@dataclass
class Precedent:
    """One cited article as the paper shows it."""

    hit: Hit
    agreement: str  # short name: `India–Korea DTEPA`
    language: str  # the paragraph quoted
    exceptions: list[str] = field(default_factory=list)  # readable carve-outs: `… objective (para. 3)`
    paragraphs: list[str] = field(default_factory=list)  # the article's paragraphs, for the annex

    @property
    def key(self) -> tuple:
        return article_identity(self.hit)

    @property
    def article(self) -> str:
        """`Art. 12.13 Cross-Border Transfer of Information`."""
        return f"{article_label(self.hit.article_number)} {self.hit.article_title}".strip()

    @property
    def strength(self) -> str:
        return STRENGTH_NAMES.get(self.hit.strength, self.hit.strength) or "not determined"


@dataclass
class TopicData:
    topic: str
    title: str
    stance: Stance
    precedents: list[Precedent]  # one row per article
    partner_record: list[Precedent]  # the partners' own agreements
    models: dict[str, Precedent]  # "binding" / "best_endeavour" → a paragraph of that strength


@dataclass
class PaperData:
    title: str
    negotiation: str
    partners: list[str]
    version: str
    date: date
    topics: list[TopicData]
    # partner -> its agreements (pipeline.matrix rows: the strongest commitment per brief topic)
    matrices: dict[str, list] = field(default_factory=dict)

    def annex(self) -> list[Precedent]:
        """Every cited article once, by agreement then article number."""
        cited: dict[tuple, Precedent] = {}
        for t in self.topics:
            for p in [*t.partner_record, *t.precedents, *t.models.values()]:
                cited.setdefault(p.key, p)
        return sorted(cited.values(), key=lambda p: (p.agreement, p.hit.year, _number_order(p.hit.article_number)))


def article_identity(hit: Hit) -> tuple:
    """One article however it was found (two instruments bound in one volume may share numbers)."""
    return (hit.doc_id, hit.article_id) if hit.article_id is not None else (hit.doc_id, hit.article_number)


def article_label(number: str) -> str:
    """`Article 12.13` → `Art. 12.13`; `Section 3` stays."""
    m = re.match(r"(?i)(article|art\.)\s*[:.\-–]?\s*(.+)", number or "")
    return f"Art. {m.group(2)}" if m else (number or "")


def _number_order(number: str) -> tuple:
    """`Article 9.10` after `Article 9.2`; numbers and letters never compared with each other."""
    return tuple((0, int(n), "") if n.isdigit() else (1, 0, n) for n in re.findall(r"\d+|[^\d\s.]+", number))


def agreement_name(hit: Hit) -> str:
    """The stored short name, else one made from the title the way negotiators write it."""
    from .metadata import short_name

    return hit.short_name or short_name(hit.doc_title or hit.doc_id, hit.parties, hit.kind)


def record_line(p: Precedent) -> str:
    """`India–Korea DTEPA (2023), Art. 12.13 Cross-Border Transfer … — binding; exception: …`."""
    year = f" ({p.hit.year})" if p.hit.year else ""
    line = f"{p.agreement}{year}, {p.article} — {p.strength}"
    if p.exceptions:
        line += f"; exception{'s' if len(p.exceptions) > 1 else ''}: {'; '.join(p.exceptions)}"
    return line


def _readable_exceptions(article, hit: Hit) -> list[str]:
    """The article's carve-outs with their paragraphs (the hit's own labels when the article is not at
    hand); a general `Nothing in this …` label is dropped where the paragraph names its ground."""
    if article is None:
        return [EXCEPTION_NAMES[x] for x in hit.exceptions if x in EXCEPTION_NAMES]
    where: dict[str, list[str]] = {}
    for clause in article.clauses:
        labels = [e.label for e in clause.exceptions if e.label in EXCEPTION_NAMES]
        if len(set(labels)) > 1:
            labels = [x for x in labels if x != "general"]
        for label in dict.fromkeys(labels):
            where.setdefault(EXCEPTION_NAMES[label], []).append(clause.number)
    return [name + (f" (para.\u00a0{', '.join(n for n in paras if n)})" if any(paras) else "")
            for name, paras in where.items()]


def _model_paragraph(article, hit: Hit, strength: str) -> str | None:
    """The article's first paragraph of that strength (the search's strength filter matches an article
    having one, not necessarily the paragraph that answered the query)."""
    if article is None:
        return hit.clause_text if hit.strength == strength else None
    return next((c.text for c in article.clauses if c.strength == strength), None)


def _unique(hits: list[Hit]) -> list[Hit]:
    seen: dict[tuple, Hit] = {}
    for h in hits:
        seen.setdefault(article_identity(h), h)
    return list(seen.values())


def gather_topic(brief: Brief, topic: str, searcher: SearcherLike, store: Store | None = None) -> TopicData:
    """One topic's precedents (each article once), partner record and model paragraphs."""
    query = TOPIC_QUERIES.get(topic, TOPIC_NAMES[topic])
    found = searcher.search(query, Filters(topic=topic), top=PRECEDENTS_PER_TOPIC)
    for extra in brief.queries.get(topic, []):
        found += searcher.search(extra, Filters(topic=topic), top=3)
    record = [h for p in brief.partners
              for h in searcher.search(query, Filters(topic=topic, party=p), top=RECORD_PER_PARTNER)]
    models = {s: searcher.search(query, Filters(topic=topic, strength=s), top=1) for s, _ in MODELS}
    every = [*found, *record, *(h for hs in models.values() for h in hs)]
    articles = store.articles_by_id([h.article_id for h in every if h.article_id is not None]) if store else {}

    def precedent(hit: Hit, language: str | None = None) -> Precedent:
        art = articles.get(hit.article_id)
        return Precedent(hit, agreement_name(hit), language or hit.clause_text or hit.text,
                         _readable_exceptions(art, hit), [c.text for c in art.clauses] if art else [hit.text])

    chosen = {}
    for strength, hits in models.items():
        text = _model_paragraph(articles.get(hits[0].article_id), hits[0], strength) if hits else None
        if text:
            chosen[strength] = precedent(hits[0], text)
    return TopicData(topic, TOPIC_NAMES[topic], brief.stance.get(topic, Stance()),
                     [precedent(h) for h in _unique(found)], [precedent(h) for h in _unique(record)], chosen)


def gather_paper(brief: Brief, searcher: SearcherLike, store: Store | None = None,
                 today: date | None = None) -> PaperData:
    """What the paper will say, topic by topic. `store` (optional) lets the paper read whole articles:
    their carve-outs in every paragraph, and the paragraph of the wanted strength for model language."""
    from .matrix import agreement_rows

    matrices = {p: agreement_rows(store, p, tuple(brief.topics)) for p in brief.partners} if store else {}
    return PaperData(brief.title, brief.negotiation, brief.partners, brief.version, today or date.today(),
                     [gather_topic(brief, t, searcher, store) for t in brief.topics], matrices)


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
        if "footnote reference" not in [st.name for st in doc.styles]:
            # Word's built-in style for note numbers; LibreOffice sets the numbers at the page foot
            # superscript only through it (it ignores direct formatting on `w:footnoteRef`)
            doc.styles.add_style("footnote reference", WD_STYLE_TYPE.CHARACTER).font.superscript = True
        self.style_id = doc.styles["footnote reference"].style_id

    def add(self, paragraph, text: str) -> int:
        """Append a footnote reference to `paragraph` whose note reads `text`; returns its id."""
        fid = self.next_id
        self.next_id += 1
        ref = parse_xml(f'<w:r {nsdecls("w")}><w:rPr><w:rStyle w:val="{self.style_id}"/>'
                        f'<w:vertAlign w:val="superscript"/></w:rPr><w:footnoteReference w:id="{fid}"/></w:r>')
        paragraph._p.append(ref)
        self.element.append(parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{fid}"><w:p><w:pPr><w:spacing w:after="0"/></w:pPr>'
            f'<w:r><w:rPr><w:rStyle w:val="{self.style_id}"/><w:vertAlign w:val="superscript"/><w:sz w:val="18"/>'
            f'</w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve"> {escape(text)}</w:t></w:r>'
            f'</w:p></w:footnote>'))
        return fid


# ------------------------------------------------------------------ document furniture

A4 = (21.0, 29.7)  # cm
MARGIN_CM = 2.2
TEXT_WIDTH_CM = A4[0] - 2 * MARGIN_CM
PRECEDENT_COLUMNS = ("Agreement", "Year", "Article", "Strength", "Exceptions")
PRECEDENT_WIDTHS = (3.0, 1.3, 6.1, 2.6, 3.6)  # cm, summing to the text width; key language spans them all
TOC_LEVELS = 2  # Heading 1-2 (topics and their sections); annex articles are Heading 3, outside the TOC
SHADE_HEADER, SHADE_META = "D9E2F3", "F2F2F2"


def _field(paragraph, instr: str, placeholder: str = "") -> None:
    """A complex field (PAGE, NUMPAGES) that Word / LibreOffice compute on open."""
    for xml in (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>',
                f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>',
                f'<w:r {nsdecls("w")}><w:t>{placeholder}</w:t></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'):
        paragraph._p.append(parse_xml(xml))


def _fill_toc(doc, anchor) -> None:
    """A TOC field (`\\o "1-2"`) whose current result already lists the Heading 1-2 paragraphs (topics and
    their sections; no page numbers), so the contents show even where the field is not recomputed
    (LibreOffice's PDF export keeps the stored result); Word recomputes it on open (`updateFields`)."""
    entries = [(int(p.style.name[-1]), p.text) for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    if not entries:
        return
    # each new paragraph goes directly above the anchor, so creation order is reading order
    ordered = [anchor.insert_paragraph_before() for _ in entries[1:]] + [anchor]
    for n, ((level, text), para) in enumerate(zip(entries, ordered)):
        if n == 0:
            for xml in (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>',
                        f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> TOC \\o "1-{TOC_LEVELS}" \\h \\z '
                        f'</w:instrText></w:r>',
                        f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>'):
                para._p.append(parse_xml(xml))
        fmt = para.paragraph_format
        fmt.left_indent, fmt.space_before, fmt.space_after = Cm(0.8 * (level - 1)), Pt(6 if level == 1 else 0), Pt(2)
        para.add_run(text).bold = level == 1
        if n == len(entries) - 1:
            para._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'))


def _furniture(doc) -> None:
    """A4 pages, the marking in the header, `Page X of Y` in the footer, fields updated on open."""
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(A4[0]), Cm(A4[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
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


def _set_widths(table, widths_cm: tuple[float, ...], font_pt: float = 9) -> None:
    """Fixed column widths (grid and cells, which LibreOffice and Word each read) and a smaller font;
    a cell spanning columns gets their summed width."""
    table.autofit = False
    for col, width in zip(table.columns, widths_cm):
        col.width = Cm(width)
    for row in table.rows:
        start = 0
        for tc in row._tr.tc_lst:
            tc.width = Cm(sum(widths_cm[start:start + tc.grid_span]))
            start += tc.grid_span
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(font_pt)


def _shade(row, fill: str) -> None:
    for tc in row._tr.tc_lst:
        tc.get_or_add_tcPr().append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def _row_flags(row, *flags: str) -> None:
    """`cantSplit` (a row stays on one page), `tblHeader` (repeated on each page)."""
    tr_pr = row._tr.get_or_add_trPr()
    for flag in flags:
        tr_pr.append(parse_xml(f'<w:{flag} {nsdecls("w")}/>'))


# ------------------------------------------------------------------ render


class _Citer:
    """Footnotes for cited articles: the full reference at an article's first citation in the paper,
    the short one after, and one footnote per article per part (summary, each topic)."""

    def __init__(self, notes: Footnotes, annex_numbers: dict[tuple, str]):
        self.notes, self.annex_numbers = notes, annex_numbers
        self.in_paper: set[tuple] = set()
        self.in_part: set[tuple] = set()

    def new_part(self) -> None:
        self.in_part = set()

    def cite(self, paragraph, p: Precedent) -> None:
        if p.key in self.in_part:
            return
        self.in_part.add(p.key)
        self.notes.add(paragraph, footnote_text(p, p.key not in self.in_paper, self.annex_numbers.get(p.key)))
        self.in_paper.add(p.key)


def footnote_text(p: Precedent, first: bool, annex_number: str | None = None) -> str:
    """`India–Korea DTEPA, Art. 12.13, p. 12; text in Annex, A3.`; the first time, the full title too."""
    from .search import citation

    h = p.hit
    named = h.short_name or h.doc_title
    where = (h.citation[len(named):].lstrip(", ") if named and h.citation.startswith(named)
             else citation("", h.article_number, h.page))
    head = p.agreement
    if first and h.doc_title and h.doc_title != p.agreement:
        head = f"{h.doc_title}{f' ({h.year})' if h.year else ''} (“{p.agreement}”)"
    return f"{head}, {where}" + (f"; text in Annex, {annex_number}." if annex_number else ".")


def _cover(doc, data: PaperData) -> None:
    for _ in range(6):
        doc.add_paragraph()
    doc.add_paragraph(data.title, style="Title")
    doc.add_paragraph(data.negotiation, style="Subtitle")
    for label, value in (("Date", data.date.isoformat()), ("Version", data.version),
                         ("Partner(s)", ", ".join(data.partners)), ("Marking", MARKING)):
        p = doc.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _summary(doc, data: PaperData, citer: _Citer) -> None:
    doc.add_heading("Executive summary", level=1)
    citer.new_part()
    for t in data.topics:
        p = doc.add_paragraph()
        p.add_run(t.title + ". ").bold = True
        p.add_run(t.stance.position or "Position to be set by the team.")
        if t.precedents:
            best = t.precedents[0]
            p.add_run(f" Strongest precedent: {best.article} ({best.agreement}"
                      f"{', ' + best.hit.year if best.hit.year else ''}).")
            citer.cite(p, best)
        if t.partner_record:
            binding = sum(r.hit.strength == "binding" for r in t.partner_record)
            p.add_run(f" Partner record: {len(t.partner_record)} provision(s), {binding} binding.")


def _partner_matrices(doc, data: PaperData, notes: Footnotes) -> None:
    """Per partner named in the brief, its agreements against the brief's topics: in each cell the
    strongest commitment found (pipeline.matrix), footnoted with the article that makes it."""
    if not data.matrices:
        return
    doc.add_heading("Partner record", level=1).paragraph_format.page_break_before = True
    doc.add_paragraph("For each partner, the agreements it has signed and, per topic, the strongest commitment "
                      "found in them (binding, best endeavour, hortatory, non-binding); † marks a commitment "
                      "qualified by an exception or carve-out. Each cell's footnote cites the article.")
    topics = [t.topic for t in data.topics]
    for partner, rows in data.matrices.items():
        doc.add_heading(f"{country_short_name(partner)} ({partner})", level=2)
        if not rows:
            doc.add_paragraph("No stored agreement of this partner.")
            continue
        table = doc.add_table(rows=1, cols=2 + len(topics))
        table.style = "Table Grid"
        _row_flags(table.rows[0], "cantSplit", "tblHeader")
        for cell, name in zip(table.rows[0].cells, ["Agreement", "Year", *(t.title for t in data.topics)]):
            cell.paragraphs[0].add_run(name).bold = True
        for row in rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(row.name)
            cells[1].paragraphs[0].add_run(row.year)
            for cell, topic in zip(cells[2:], topics):
                c = row.cells[topic]
                cell.paragraphs[0].add_run(c.strength.replace("_", " ") + (" †" if c.exception else ""))
                if c.citation:
                    notes.add(cell.paragraphs[0], c.citation + ".")


def _stance(doc, stance: Stance) -> None:
    doc.add_heading("Our position", level=2)
    doc.add_paragraph(stance.position or "To be set by the team.")
    if stance.red_lines:
        label = doc.add_paragraph()
        label.add_run("Red lines").bold = True
        label.paragraph_format.keep_with_next = True
        for line in stance.red_lines:
            doc.add_paragraph(line, style="List Bullet")
    if stance.outcome:
        p = doc.add_paragraph()
        p.add_run("Desired outcome: ").bold = True
        p.add_run(stance.outcome)


def _record(doc, t: TopicData, partners: list[str], citer: _Citer) -> None:
    doc.add_heading("Partner's track record", level=2)
    if not t.partner_record:
        doc.add_paragraph(f"No provision on this topic found in stored agreements of {', '.join(partners)}.")
    for r in t.partner_record:
        p = doc.add_paragraph(record_line(r), style="List Bullet")
        citer.cite(p, r)


def _precedents_table(doc, t: TopicData, citer: _Citer) -> None:
    """Two rows per article: its metadata, then its key language across the full text width."""
    doc.add_heading("Precedents", level=2)
    if not t.precedents:
        doc.add_paragraph("No precedent found in the stored agreements.")
        return
    table = doc.add_table(rows=1, cols=len(PRECEDENT_COLUMNS))
    table.style = "Table Grid"
    head = table.rows[0]
    _row_flags(head, "cantSplit", "tblHeader")
    for cell, name in zip(head.cells, PRECEDENT_COLUMNS):
        cell.paragraphs[0].add_run(name).bold = True
    for p in t.precedents:
        meta = table.add_row()
        _row_flags(meta, "cantSplit")
        for cell, value in zip(meta.cells, (p.agreement, p.hit.year, p.article, p.strength, "; ".join(p.exceptions))):
            cell.paragraphs[0].add_run(value)
            cell.paragraphs[0].paragraph_format.keep_with_next = True  # with its key-language row
        citer.cite(meta.cells[2].paragraphs[0], p)
        language = table.add_row()
        _row_flags(language, "cantSplit")  # a quote split from its metadata row reads as another article's
        quote = language.cells[0].merge(language.cells[-1]).paragraphs[0]
        quote.add_run("Key language: ").bold = True
        quote.add_run(f"“{p.language}”").italic = True
    _set_widths(table, PRECEDENT_WIDTHS)
    for i, row in enumerate(table.rows):  # shading after the widths: `w:shd` follows `w:tcW` in a cell
        if i == 0 or i % 2:
            _shade(row, SHADE_HEADER if i == 0 else SHADE_META)
    doc.add_paragraph()


def _models(doc, t: TopicData, citer: _Citer) -> None:
    doc.add_heading("Suggested language", level=2)
    if not t.models:
        doc.add_paragraph("No model paragraph found in the stored agreements.")
    for strength, label in MODELS:
        if (m := t.models.get(strength)) is None:
            continue
        doc.add_heading(label, level=3)
        quote = doc.add_paragraph(f"“{m.language}”")
        quote.paragraph_format.left_indent = quote.paragraph_format.right_indent = Cm(0.8)
        quote.paragraph_format.keep_with_next = True  # with its source line
        source = doc.add_paragraph()
        source.paragraph_format.left_indent = Cm(0.8)
        source.add_run(f"Source: {m.agreement}{f' ({m.hit.year})' if m.hit.year else ''}, {m.article}").italic = True
        citer.cite(source, m)


def _annex(doc, annex: list[Precedent]) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("Annex: cited articles", level=1)
    for n, p in enumerate(annex, 1):
        doc.add_heading(f"A{n}. {p.agreement}{f' ({p.hit.year})' if p.hit.year else ''}, {p.article}", level=3)
        for block in p.paragraphs or [p.hit.text or p.language]:
            doc.add_paragraph(block)
        source = doc.add_paragraph()
        source.add_run(f"Source: {p.hit.citation}.").font.size = Pt(9)


def render_paper(data: PaperData, out: Path) -> Path:
    """Lay out `data` as a DOCX at `out` (written atomically); returns the path."""
    doc = DocxDocument()
    doc.styles["Normal"].font.size = Pt(11)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        doc.styles[name].paragraph_format.keep_with_next = True
    _furniture(doc)
    annex = data.annex()
    citer = _Citer(Footnotes(doc), {p.key: f"A{n}" for n, p in enumerate(annex, 1)})
    _cover(doc, data)
    doc.add_paragraph("Contents", style="TOC Heading")
    toc = doc.add_paragraph()
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _summary(doc, data, citer)
    _partner_matrices(doc, data, citer.notes)
    for t in data.topics:
        citer.new_part()
        doc.add_heading(t.title, level=1).paragraph_format.page_break_before = True
        _stance(doc, t.stance)
        _record(doc, t, data.partners, citer)
        _precedents_table(doc, t, citer)
        _models(doc, t, citer)
    _annex(doc, annex)
    _fill_toc(doc, toc)
    return atomic_write(out, doc.save)


def compose_paper(brief: Brief, searcher: SearcherLike, out: Path, today: date | None = None) -> Path:
    """Write the position paper for `brief` to `out` (DOCX): `gather_paper` then `render_paper`."""
    return render_paper(gather_paper(brief, searcher, getattr(searcher, "store", None), today), out)


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
    _set_widths(table, (4.0, 2.2, 2.4, TEXT_WIDTH_CM - 8.6))
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
