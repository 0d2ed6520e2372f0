"""`make demo`: ingest the sample corpus and show what was found in each document."""
from __future__ import annotations

import os
import sys
from pathlib import Path

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1", "TQDM_DISABLE": "1"}.items():
    os.environ.setdefault(_k, _v)

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from .compose import compose_paper, load_brief  # noqa: E402
from .embed import Embedder  # noqa: E402
from .index import sync_index  # noqa: E402
from .ingest import ingest_paths  # noqa: E402
from .search import Filters, Searcher  # noqa: E402
from .store import Store  # noqa: E402

DEMO_QUERIES = [
    ("allow cross-border transfer of information by electronic means", Filters()),
    ("no requirement to use or locate computing facilities locally", Filters()),
    ("temporary entry of IT professionals and business visitors", Filters(party="IND", kind="FTA")),
]

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    console = Console()
    home = ROOT / "indexes"
    corpus = ROOT / "corpus"
    console.print(f"[bold]1. Ingesting the sample corpus[/] ({corpus})")
    with Store(home) as store:
        report = ingest_paths(store, sorted(corpus.glob("*.pdf")),
                              on_progress=lambda p, s: console.print(f"   {Path(p).name}: {s}"))
        table = Table("document", "kind", "parties", "signed", "pages", "articles", "footnotes", "OCR")
        for doc in store.documents():
            full = store.document(doc.doc_id)
            table.add_row(doc.title[:60], doc.kind, ", ".join(doc.parties), doc.date_signed or "?", str(doc.pages),
                          str(len(full.articles)), str(sum(len(a.footnotes) for a in full.articles)),
                          "yes" if doc.ocr else "")
        console.print(table)
        console.print("\n[bold]2. Building the search index[/] (MiniLM embeddings, FAISS + FTS5)")
        done = sync_index(store, Embedder(home))
        console.print(f"   {done['articles']} articles indexed, {done['body_added']} newly embedded")
        console.print("\n[bold]3. Searching[/]")
        searcher = Searcher(store)
        for query, filters in DEMO_QUERIES:
            shown = {k: v for k, v in vars(filters).items() if v is not None}
            console.print(f"\n[cyan]» {query}[/] {shown or ''}")
            for hit in searcher.search(query, filters, top=3):
                console.print(f"   {hit.citation} — {hit.article_title} [dim]({hit.strength})[/]", highlight=False)
        console.print("\n[bold]4. Compiling a position paper[/] (corpus/briefs/india_korea_digital.toml)")
        paper = compose_paper(load_brief(corpus / "briefs" / "india_korea_digital.toml"), searcher,
                              ROOT / "outputs" / "position_paper_india_korea.docx")
        console.print(f"   written: {paper}")
        counts = store.counts()
    console.print(f"\n[bold]Done.[/] Store: {home / 'clausebank.sqlite'} ({counts['documents']} documents, "
                  f"{counts['articles']} articles, {counts['clauses']} clauses); index: {home}/*.faiss; "
                  f"position paper: {paper}")
    console.print("Try: [cyan].venv/bin/clausebank search \"personal data protection\" --party KOR[/], "
                  "[cyan].venv/bin/clausebank show india_korea_digital_fta 12.13[/] or "
                  "[cyan].venv/bin/clausebank articles --jsonl > outputs/articles.jsonl[/]")
    for path, reason in report.failed:
        console.print(f"[red]failed:[/] {path}: {reason}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
