"""`make demo`: ingest the sample corpus, search it, write a position paper, say what to try next.

Exits 0 when the demo ran; a PDF that cannot be read here (a scan where no OCR engine can run) is
reported as skipped with its reason, as a user would see it, and does not fail the demo.
"""
from __future__ import annotations

import sys
from pathlib import Path

from . import set_offline_env

set_offline_env()

ROOT = Path(__file__).resolve().parent.parent
DEMO_QUERIES = [
    ("allow cross-border transfer of information by electronic means", {}),
    ("no requirement to use or locate computing facilities locally", {}),
    ("temporary entry of IT professionals and business visitors", {"party": "IND", "kind": "FTA"}),
]


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    from pipeline.compose import compose_paper, load_brief
    from pipeline.ingest import ingest, write_report
    from pipeline.models import Filters
    from pipeline.search import Searcher
    from pipeline.store import Store

    console = Console()
    home, corpus = ROOT / "indexes", ROOT / "corpus"
    console.print(f"[bold]1. Ingesting the sample corpus[/] ({corpus}) and building the search index")
    report = ingest(home, sorted(corpus.glob("*.pdf")),
                    on_progress=lambda p, s: console.print(f"   {Path(p).name}: {s}", highlight=False),
                    on_stage=lambda s: console.print(f"   [dim]{s}…[/]"))
    write_report(report, home)
    with Store(home) as store:
        table = Table("document", "kind", "parties", "signed", "pages", "articles")
        for d in store.document_summaries():
            table.add_row(d["short_name"] or d["title"][:60], d["kind"], ", ".join(d["parties"]),
                          d["date_signed"] or "?", str(d["pages"]), str(d["articles"]))
        console.print(table)
        console.print("\n[bold]2. Searching[/]")
        searcher = Searcher(store)
        for query, filters in DEMO_QUERIES:
            console.print(f"\n[cyan]» {query}[/] {filters or ''}", highlight=False)
            for hit in searcher.search(query, Filters(**filters), top=3):
                console.print(f"   {hit.citation} — {hit.article_title} [dim]({hit.strength})[/]", highlight=False)
        console.print("\n[bold]3. Compiling a position paper[/] (corpus/briefs/india_korea_digital.toml)")
        paper = compose_paper(load_brief(corpus / "briefs" / "india_korea_digital.toml"), searcher,
                              ROOT / "outputs" / "position_paper_india_korea.docx")
        searcher.close()
        counts = store.counts()
    console.print(f"   written: {paper}")
    for path, reason in report.failed:
        console.print(f"[yellow]skipped:[/] {Path(path).name}: {reason}", highlight=False)
    console.print(f"\n[bold]Done.[/] Store: {home / 'clausebank.sqlite'} ({counts['documents']} documents, "
                  f"{counts['articles']} articles, {counts['clauses']} clauses); position paper: {paper}")
    console.print("Try: [cyan].venv/bin/clausebank search \"personal data protection\" --party KOR[/], "
                  "[cyan].venv/bin/clausebank show india_korea_digital_fta 12.13[/] or "
                  "[cyan].venv/bin/clausebank documents[/]")
    console.print("\n[bold]Open the web app[/] (search, read, compare, collect, export in the browser):\n"
                  "   [cyan].venv/bin/clausebank serve[/]   then open http://127.0.0.1:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
