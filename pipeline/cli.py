"""`clausebank` command line (Typer + Rich). Only calls the core modules.

Machine-readable output (`--jsonl`, `--json`) goes to stdout alone; progress, logs and warnings go
to stderr, so `clausebank articles --jsonl > a.jsonl` is clean.
"""
from __future__ import annotations

import os

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "TQDM_DISABLE": "1"}.items():
    os.environ.setdefault(_k, _v)

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from .extract import DEFAULT_MAX_PAGES  # noqa: E402
from .ingest import discover_pdfs, ingest_paths  # noqa: E402
from .store import Store, StoreError  # noqa: E402

app = typer.Typer(
    help="clausebank: find, compare and cite treaty and MoU clauses.\n\n"
         "Typical use: `clausebank ingest corpus/` then `clausebank show DOC` or "
         "`clausebank articles --jsonl > articles.jsonl`.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="markdown",
)
err = Console(stderr=True, soft_wrap=True)
STATE: dict[str, Path] = {}


@app.callback()
def main_options(
    home: Annotated[Path, typer.Option("--home", help="Folder holding the store and indexes.",
                                       envvar="CLAUSEBANK_HOME")] = Path("indexes"),
) -> None:
    STATE["home"] = home


def _store() -> Store:
    try:
        return Store(STATE.get("home", Path("indexes")))
    except (StoreError, OSError) as exc:
        err.print(f"[red]error:[/] cannot open the store: {exc}")
        raise typer.Exit(2)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders (searched recursively for *.pdf).")],
    workers: Annotated[Optional[int], typer.Option(help="Parser processes (default: one per core).")] = None,
    ocr: Annotated[bool, typer.Option(help="OCR scanned PDFs with Tesseract when installed.")] = True,
    max_pages: Annotated[int, typer.Option(help="Refuse PDFs longer than this.")] = DEFAULT_MAX_PAGES,
) -> None:
    """Extract, segment and store PDFs. Unchanged files (same sha256) are skipped.

    Exit code 0 when every file was stored, 1 when some failed (the others are stored).
    """
    files = discover_pdfs(paths)
    if not files:
        err.print("[yellow]no PDF files found in:[/] " + ", ".join(map(str, paths)))
        raise typer.Exit(1)
    with _store() as store, Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.description}"),
                                     console=err, transient=True) as bar:
        task = bar.add_task("", total=len(files))

        def tick(path: str, status: str) -> None:
            if status.startswith("failed"):
                err.print(f"[red]error:[/] {path}: {status[len('failed: '):]}")
            bar.update(task, advance=1, description=Path(path).name)

        report = ingest_paths(store, files, workers=workers, ocr=ocr, max_pages=max_pages, on_progress=tick)
        counts = store.counts()
    err.print(f"ingested {len(report.new)} new, {len(report.changed)} changed, {len(report.unchanged)} unchanged, "
              f"{len(report.failed)} failed; {report.articles} articles, {report.clauses} clauses parsed. "
              f"Store: {counts['documents']} documents, {counts['articles']} articles "
              f"({STATE['home'] / 'clausebank.sqlite'})")
    for path, reason in report.failed:
        err.print(f"  failed: {path}: {reason}")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def articles(
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per article (bench format).")] = False,
    doc: Annotated[Optional[str], typer.Option(help="Only this document (file stem).")] = None,
) -> None:
    """List stored articles; with --jsonl, dump them in the bench format to stdout."""
    with _store() as store:
        if jsonl:
            out = sys.stdout
            for art in store.articles(doc):
                out.write(json.dumps(art.bench_record(), ensure_ascii=False) + "\n")
            return
        table = Table("doc", "article", "title", "pages", "chapter")
        for art in store.articles(doc):
            table.add_row(art.doc_id, art.article_number, art.article_title,
                          f"{art.page_start}-{art.page_end}", art.chapter_title)
        Console().print(table)


@app.command()
def show(
    doc: Annotated[str, typer.Argument(help="Document id (the PDF's file stem).")],
    article: Annotated[Optional[str], typer.Argument(help="Article number, e.g. 12.15 or 'Article 12.15'.")] = None,
) -> None:
    """Show a document's metadata and articles, or one article in full with its citation."""
    console = Console()
    with _store() as store:
        document = store.document(doc)
        if document is None:
            known = ", ".join(d.doc_id for d in store.documents()[:10])
            err.print(f"[red]error:[/] no document {doc!r} in the store (known: {known or 'none'})")
            raise typer.Exit(2)
    if article is None:
        console.print(f"[bold]{document.title}[/]\n{document.doc_id} · {document.kind} · parties: "
                      f"{', '.join(document.parties) or '?'} · signed {document.date_signed or '?'} · "
                      f"{document.pages} pages · {len(document.articles)} articles")
        table = Table("article", "title", "page", "chapter")
        for a in document.articles:
            table.add_row(a.article_number, a.article_title, str(a.page_start), a.chapter_title)
        console.print(table)
        return
    want = _num_key(article)
    matches = [a for a in document.articles if _num_key(a.article_number) == want]
    if not matches:
        err.print(f"[red]error:[/] {doc} has no article {article!r}")
        raise typer.Exit(2)
    for a in matches:
        console.print(f"[bold]{a.article_number}: {a.article_title}[/]  ({citation(document.title, a)})")
        if a.chapter_title:
            console.print(f"[dim]{a.chapter_number} {a.chapter_title}[/]")
        if a.topics:
            console.print(f"topics: {', '.join(a.topics)}")
        for c in a.clauses:
            console.print(c.text, highlight=False)
            notes = [f"strength: [bold]{c.strength or 'none'}[/]" + (f" ({c.strength_evidence!r})" if c.strength_evidence else "")]
            if c.topics:
                notes.append("topics: " + ", ".join(f"{e.label} ({e.phrase!r})" for e in c.topics))
            if c.exceptions:
                notes.append("exceptions: " + ", ".join(f"{e.label} ({e.phrase!r})" for e in c.exceptions))
            ents = [e.phrase if e.label != "COUNTRY" else e.phrase for e in c.entities]
            if ents:
                notes.append("names: " + ", ".join(dict.fromkeys(ents)))
            console.print("  [dim]" + " · ".join(notes) + "[/]", highlight=False)
        for note in a.footnotes:
            console.print(f"[dim]footnote: {note}[/]", highlight=False)


def citation(title: str, a) -> str:
    """`Title, Art. 12.15, p. 430` (pages as a range when the article spans several)."""
    num = _num_key(a.article_number)
    pages = f"p. {a.page_start}" if a.page_start == a.page_end else f"pp. {a.page_start}-{a.page_end}"
    return f"{title}, Art. {num}, {pages}" if num else f"{title}, {pages}"


def _num_key(number: str) -> str:
    import re

    s = (number or "").strip().lower()
    s = re.sub(r"^(article|art\.|section|paragraph|clause|rule)[:.]?\s*", "", s)
    return re.sub(r"[\s:.\-–]+$", "", s)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
