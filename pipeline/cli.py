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
from .index import IndexOutOfDate, sync_index  # noqa: E402
from .lock import WriterBusy, writer_lock  # noqa: E402
from .search import FilterError, Filters, Searcher, citation  # noqa: E402
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
    index: Annotated[bool, typer.Option(help="Update the search index (embeddings) after storing.")] = True,
) -> None:
    """Extract, segment and store PDFs. Unchanged files (same sha256) are skipped.

    Exit code 0 when every file was stored, 1 when some failed (the others are stored).
    """
    files = discover_pdfs(paths)
    if not files:
        err.print("[yellow]no PDF files found in:[/] " + ", ".join(map(str, paths)))
        raise typer.Exit(1)
    try:
        with writer_lock(STATE["home"]), _store() as store:
            with Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TextColumn("{task.description}"), console=err, transient=True) as bar:
                task = bar.add_task("", total=len(files))

                def tick(path: str, status: str) -> None:
                    if status.startswith("failed"):
                        err.print(f"[red]error:[/] {path}: {status[len('failed: '):]}")
                    bar.update(task, advance=1, description=Path(path).name)

                report = ingest_paths(store, files, workers=workers, ocr=ocr, max_pages=max_pages,
                                      on_progress=tick)
            counts = store.counts()
            if index:
                _sync(store)
    except WriterBusy as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)
    err.print(f"ingested {len(report.new)} new, {len(report.changed)} changed, {len(report.unchanged)} unchanged, "
              f"{len(report.failed)} failed; {report.articles} articles, {report.clauses} clauses parsed. "
              f"Store: {counts['documents']} documents, {counts['articles']} articles "
              f"({STATE['home'] / 'clausebank.sqlite'})")
    for path, reason in report.failed:
        err.print(f"  failed: {path}: {reason}")
    raise typer.Exit(0 if report.ok else 1)


def _sync(store: Store) -> None:
    from .embed import Embedder

    with err.status("updating the search index (embedding new articles)…"):
        embedder = Embedder(store.home)
        done = sync_index(store, embedder)
    err.print(f"search index: {done['articles']} articles, {done['body_added']} embedded, "
              f"{done['body_removed']} removed")


def _open_searcher(store: Store) -> Searcher:
    """A Searcher; a stale index is rebuilt first, unless an ingestion is running (it is the one
    writer and brings the index up to date when it ends): then the last saved index is searched."""
    try:
        return Searcher(store)
    except IndexOutOfDate as exc:
        try:
            with writer_lock(store.home):
                err.print(f"[yellow]search index out of date ({exc}); rebuilding from the store[/]")
                _sync(store)
        except WriterBusy:
            err.print("[yellow]an ingestion is running: searching the index as of its last update[/]")
            return Searcher(store, allow_stale=True)
        return Searcher(store)


@app.command()
def search(
    text: Annotated[Optional[str], typer.Argument(help="What you are looking for, in plain words.")] = None,
    topic: Annotated[Optional[str], typer.Option(help="data_flows, data_localisation, privacy, it_mobility, ...")] = None,
    party: Annotated[Optional[str], typer.Option(help="Partner country: ISO-3 code (KOR) or name.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="FTA, MoU, JDI, protocol.")] = None,
    year_from: Annotated[Optional[int], typer.Option("--from", help="Signed in or after this year.")] = None,
    year_to: Annotated[Optional[int], typer.Option("--to", help="Signed in or before this year.")] = None,
    strength: Annotated[Optional[str], typer.Option(help="binding, best_endeavour, hortatory, non_binding.")] = None,
    doc: Annotated[Optional[str], typer.Option(help="Only this document.")] = None,
    top: Annotated[int, typer.Option(help="How many articles to return.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Hits as a JSON list on stdout.")] = False,
    queries: Annotated[Optional[Path], typer.Option(help="Batch: a JSON list of {qid, text, filters}.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Batch output: one line per query (bench format).")] = False,
    export: Annotated[Optional[Path], typer.Option(help="Also write the hits to a .csv or .docx file.")] = None,
) -> None:
    """Search clauses across every stored agreement (keywords + meaning), with filters and citations.

    Example: `clausebank search "transfer of personal data abroad" --party KOR --topic privacy`
    """
    if (text is None) == (queries is None):
        err.print("[red]error:[/] give a search TEXT or --queries FILE (not both)")
        raise typer.Exit(2)
    with _store() as store:
        searcher = _open_searcher(store)
        try:
            if queries is not None:
                for q in json.loads(queries.read_text()):
                    f = q.get("filters") or {}
                    hits = searcher.search(q["text"], Filters(**{k: f[k] for k in f if k in Filters.__dataclass_fields__}),
                                           top=max(top, 10))
                    sys.stdout.write(json.dumps({"qid": q["qid"], "hits": [
                        {"doc": h.doc_id, "article_number": h.article_number, "citation": h.citation,
                         "score": h.score} for h in hits]}) + "\n")
                return
            hits = searcher.search(text, Filters(topic, party, kind, year_from, year_to, strength, doc), top=top)
            if export is not None:
                from .compose import export_hits

                export_hits(hits, store, export, title=f"Search: {text}")
                err.print(f"exported {len(hits)} hits to {export}")
        except (FilterError, ValueError) as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps([vars(h) for h in hits], ensure_ascii=False, indent=1) + "\n")
        return
    console = Console()
    if not hits:
        console.print("no matching clauses (try fewer filters or other words)")
    for n, h in enumerate(hits, 1):
        console.print(f"[bold]{n}. {h.citation}[/] — {h.article_title}  "
                      f"[dim]{h.strength or ''} {' '.join(h.topics)}[/]", highlight=False)
        console.print("   " + h.snippet.replace("**", ""), highlight=False)


@app.command()
def paper(
    brief: Annotated[Path, typer.Argument(help="The brief (TOML): title, negotiation, partners, topics, stances.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the DOCX.")] = Path(
        "outputs/position_paper.docx"),
) -> None:
    """Compile a position paper (DOCX) from a brief: precedents, partner track record, suggested
    language, real footnote citations. Example brief: corpus/briefs/india_korea_digital.toml"""
    from .compose import BriefError, compose_paper, load_brief

    try:
        loaded = load_brief(brief)
    except BriefError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)
    with _store() as store:
        searcher = _open_searcher(store)
        out = compose_paper(loaded, searcher, output)
    err.print(f"position paper written: {out}")


@app.command()
def basket(
    file: Annotated[Path, typer.Argument(help="One `DOC ARTICLE` per line, e.g. `india_korea_digital_fta 12.13`.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="A .docx or .csv file.")] = Path("outputs/basket.docx"),
) -> None:
    """Export a basket of chosen articles as DOCX (with footnote citations) or CSV."""
    from .compose import BriefError, basket_hits, export_hits

    with _store() as store:
        try:
            out = export_hits(basket_hits(store, file), store, output, title=f"Basket: {file.stem}")
        except (BriefError, ValueError, OSError) as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2)
    err.print(f"basket written: {out}")


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
        console.print(f"[bold]{a.article_number}: {a.article_title}[/]  ({citation(document.title, a.article_number, a.page_start)})")
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


def _num_key(number: str) -> str:
    import re

    s = (number or "").strip().lower()
    s = re.sub(r"^(article|art\.|section|paragraph|clause|rule)[:.]?\s*", "", s)
    return re.sub(r"[\s:.\-–]+$", "", s)


flows_app = typer.Typer(help="Prefect flows: run the ingestion once, or serve the nightly schedule.",
                        no_args_is_help=True)
app.add_typer(flows_app, name="flows")


@flows_app.command("run")
def flows_run(
    source: Annotated[Optional[list[str]], typer.Option(help="Folder or http(s) URL (repeatable); "
                                                             "default corpus/ and corpus/inbox/.")] = None,
    dask: Annotated[Optional[str], typer.Option(help="Parse on a Dask cluster: a scheduler address "
                                                     "(tcp://host:8786) or 'local' for a LocalCluster.")] = None,
) -> None:
    """Run the ingest flow once (what the schedule runs) and print where its run report is."""
    from flows.ingest import ingest_flow, shared_local_api

    flow_fn = ingest_flow
    if dask:
        from prefect_dask import DaskTaskRunner

        runner = DaskTaskRunner() if dask == "local" else DaskTaskRunner(address=dask)
        flow_fn = ingest_flow.with_options(task_runner=runner)
    try:
        with shared_local_api():
            result = flow_fn(home=str(STATE.get("home", Path("indexes"))), sources=source)
    except WriterBusy as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)
    err.print(f"run report: {result['report']} ({result['new']} new, {result['changed']} changed, "
              f"{result['unchanged']} unchanged, {result['failed']} failed)")
    raise typer.Exit(1 if result["failed"] else 0)


@flows_app.command("serve")
def flows_serve(
    source: Annotated[Optional[list[str]], typer.Option(help="Folder or http(s) URL (repeatable).")] = None,
) -> None:
    """Serve the nightly deployment (02:00 Asia/Kolkata) until interrupted (Ctrl-C)."""
    from flows.deployments import serve_nightly

    serve_nightly(home=str(STATE.get("home", Path("indexes"))), sources=source)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
