#!/usr/bin/env python3
"""Check the rendered sample corpus against corpus/expected/*.json using pdfplumber.

    python corpus/check_corpus.py             # checks only; exit 1 on any failure
    python corpus/check_corpus.py --png DIR   # also render one body page of each PDF to DIR/<stem>.png

This verifies the *renderer* (what the PDFs really contain), not the clausebank extractor.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pdfplumber

HERE = Path(__file__).resolve().parent
failures: list[str] = []


def check(ok: bool, msg: str) -> None:
    if not ok:
        failures.append(msg)


def norm(text: str) -> str:
    """Undo line-end hyphenation and collapse whitespace, so logical text can be searched for."""
    return re.sub(r"\s+", " ", re.sub(r"-\n(?=[a-z])", "", text)).strip()


def columns(page, lay) -> list[list[dict]]:
    """Text lines per column (pdfplumber would otherwise merge the two columns of a gazette page)."""
    out = []
    for x in lay["column_x"]:
        top, bottom = page.height - lay["body_top"] - 2, page.height - lay["body_bottom"] + 2
        box = (x - 2, top, min(page.width, x + lay["column_width"] + 2), bottom)
        out.append(page.crop(box).extract_text_lines())
    return out


def check_doc(exp: dict, pdf: pdfplumber.PDF) -> dict:
    stem, lay = exp["stem"], exp["layout"]
    stats = dict(pages=len(pdf.pages), line_start_xref=0, hyphenated=0, cross_page_sentences=0)
    check(len(pdf.pages) == exp["pages"], f"{stem}: {len(pdf.pages)} pages, expected {exp['pages']}")
    if exp["scanned"]:
        for i, page in enumerate(pdf.pages, 1):
            check(len(page.chars) == 0, f"{stem} p{i}: scanned page has a text layer")
            check(len(page.images) == 1, f"{stem} p{i}: expected exactly one image")
        return stats
    texts = [p.extract_text() or "" for p in pdf.pages]
    flat = [norm(t) for t in texts]
    for a in exp["articles"]:
        where = f"{stem} {a['article_number']}"
        page = flat[a["page_start"] - 1]
        check(a["article_label"] in page, f"{where}: heading {a['article_label']!r} not on p{a['page_start']}")
        if a["article_title"]:
            check(a["article_title"][:40] in page, f"{where}: title not on p{a['page_start']}")
        first = " ".join(a["body_start"].split()[:5])
        span = " ".join(flat[a["page_start"] - 1:a["page_end"]])
        check(first in span, f"{where}: body start {first!r} not found")
        for n, fn in zip(a["footnote_numbers"], a["footnotes"]):
            check(f"{n} {' '.join(fn.split()[:6])}" in span, f"{where}: footnote {n} text not at page foot")
    body, sup = lay["body_size"], lay["superscript_size"]
    n_fn = sum(len(a["footnotes"]) for a in exp["articles"])
    n_sup = 0
    for i, page in enumerate(pdf.pages):
        n_sup += sum(1 for c in page.chars if abs(c["size"] - sup) < 0.05 and c["text"].isdigit())
        fn_chars = [c for c in page.chars if abs(c["size"] - lay["footnote_size"]) < 0.05 and not re.search("Italic|Oblique", c["fontname"])]
        if fn_chars:
            check(min(c["top"] for c in fn_chars) > page.height * 0.5, f"{stem} p{i + 1}: footnote text high up")
        if i > 0 or not lay["cover_page"]:
            hdr = [c for c in page.chars if c["size"] == lay["header_size"] and c["fontname"] == lay["header_font"]
                   and abs(page.height - c["bottom"] - lay["header_baseline"]) < 4]
            check(len(hdr) > 5, f"{stem} p{i + 1}: running header missing")
        cols = columns(page, lay)
        for ln in [ln for col in cols for ln in col]:
            c0 = ln["chars"][0]
            if re.match(r"Article \d+(\.\d+)? \(", ln["text"]) and "Bold" not in c0["fontname"]:
                stats["line_start_xref"] += 1
            if ln["text"].endswith("-") and abs(ln["chars"][-1]["size"] - body) < 0.05:
                stats["hyphenated"] += 1
        if i + 1 < len(pdf.pages):  # last body line of this page, first body line of the next one
            last = [ln for ln in cols[-1] if abs(ln["chars"][0]["size"] - body) < 0.05]
            nxt = [ln for ln in columns(pdf.pages[i + 1], lay)[0] if abs(ln["chars"][0]["size"] - body) < 0.05]
            if last and nxt and not re.search(r"[.:;]$", last[-1]["text"]) and nxt[0]["text"][:1].islower():
                stats["cross_page_sentences"] += 1
    check(n_sup >= n_fn, f"{stem}: {n_sup} superscript digits for {n_fn} footnotes")
    stats["superscripts"] = n_sup
    return stats


def main(argv: list[str]) -> int:
    png_dir = Path(argv[argv.index("--png") + 1]) if "--png" in argv else None
    for path in sorted((HERE / "expected").glob("*.json")):
        exp = json.loads(path.read_text(encoding="utf-8"))
        pdf_path = HERE / f"{exp['stem']}.pdf"
        with pdfplumber.open(pdf_path) as pdf:
            stats = check_doc(exp, pdf)
        print(f"{exp['stem']:38} {exp['layout']['columns']} col  {stats}")
        if png_dir:
            import pypdfium2 as pdfium
            png_dir.mkdir(parents=True, exist_ok=True)
            doc = pdfium.PdfDocument(pdf_path)
            doc[min(1, len(doc) - 1)].render(scale=1.5).to_pil().save(png_dir / f"{exp['stem']}.png")
    for f in failures:
        print("FAIL", f)
    print("OK" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
