"""`clausebank` command line (Typer + Rich), the application layer over `pipeline` and `flows`.

Heavy libraries (torch, spaCy, FAISS, Prefect, pdfplumber) are imported inside the commands that
need them, so `--help`, `show`, `articles` and `documents` start at once.
Machine-readable output (`--jsonl`, `--json`) goes to stdout alone; progress, logs and warnings go
to stderr, so `clausebank articles --jsonl > a.jsonl` is clean.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import set_offline_env

set_offline_env()

DEFAULT_MAX_PAGES = 1500  # the extractor's own default, repeated so --help needs no PDF library

app = typer.Typer(
    help="clausebank: find, compare and cite treaty and MoU clauses.\n\n"
         "Typical use: `clausebank ingest corpus/` then `clausebank search \"personal data\"`, "
         "`clausebank show DOC ARTICLE` or `clausebank articles --jsonl > articles.jsonl`.",
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


def _home() -> Path:
    return STATE.get("home", Path("indexes"))


def _store(must_exist: bool = True):
    from pipeline.store import DB_NAME, Store, StoreError

    if must_exist and not (_home() / DB_NAME).exists():
        raise _fail(f"no store in {_home()}: ingest some PDFs first (`clausebank ingest corpus/`)")
    try:
        return Store(_home())
    except (StoreError, OSError) as exc:
        err.print(f"[red]error:[/] cannot open the store: {exc}")
        raise typer.Exit(2)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders (searched recursively for *.pdf).")],
    workers: Annotated[Optional[int], typer.Option(
        help="Parser processes (default: one per core once the changed files have 60 pages or more; "
             "fewer are parsed in this process).")] = None,
    ocr: Annotated[bool, typer.Option(help="OCR scanned PDFs (Tesseract).")] = True,
    max_pages: Annotated[int, typer.Option(help="Refuse PDFs longer than this.")] = DEFAULT_MAX_PAGES,
    index: Annotated[bool, typer.Option(help="Update the search index (embeddings) after storing.")] = True,
) -> None:
    """Extract, segment, analyse and store PDFs; unchanged files (same sha256) are skipped.

    Exit code 0 when every file was stored, 1 when some failed (the others are stored).
    """
    import os

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.ingest import POOL_MIN_PAGES, ParseWorkers, discover_pdfs, ingest as run_ingest
    from pipeline.lock import WriterBusy
    from pipeline.store import StoreError

    files = discover_pdfs(paths)
    if not files:
        raise _fail("no PDF files found in: " + ", ".join(map(str, paths)), 1)
    # spawned workers inherit no descriptors (not the writer lock) and exit when this process dies
    parsers = ParseWorkers(workers or os.cpu_count() or 1, min_pages=0 if workers else POOL_MIN_PAGES)
    try:
        with Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=err, transient=True) as bar:
            task = bar.add_task("", total=len(files))

            def tick(path: str, status: str) -> None:
                if status.startswith("failed"):
                    err.print(f"[red]error:[/] {escape(path)}: {escape(status[len('failed: '):])}", highlight=False)
                bar.update(task, advance=1, description=escape(Path(path).name))

            report = run_ingest(_home(), files, parsers, ocr=ocr, max_pages=max_pages, index=index,
                                on_progress=tick, on_stage=lambda s: bar.update(task, description=s))
    except (WriterBusy, StoreError) as exc:
        raise _fail(escape(str(exc)))
    finally:
        parsers.shutdown()
    _finish_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _finish_report(report) -> None:
    """Write the run report and say in two lines what happened (and what was recovered or failed)."""
    from rich.markup import escape

    from pipeline.ingest import write_report

    report_path, _ = write_report(report, _home())
    err.print(f"ingested {report.summary()}; {report.articles} articles, {report.clauses} clauses parsed "
              f"in {report.seconds:.0f} s. Report: {report_path}", highlight=False)
    for note in report.recovered:
        err.print(f"[yellow]recovered:[/] {escape(note)}", highlight=False)
    if report.index:
        err.print(f"search index: {report.index['articles']} articles, {report.index['body_added']} embedded, "
                  f"{report.index['body_removed']} removed", highlight=False)
    if report.index_error:
        err.print(f"[red]error:[/] search index not saved: {escape(report.index_error)}", highlight=False)


def _searcher(store):
    from pipeline.search import Searcher

    def make_embedder():
        from pipeline.embed import Embedder

        err.print("[yellow]search index out of date; rebuilding from the store[/]")
        return Embedder(store.home)

    searcher = Searcher(store, make_embedder=make_embedder)
    if searcher.stale:
        err.print("[yellow]an ingestion is running: searching the index as of its last update "
                  "(articles stored since are found by keywords only)[/]")
    return searcher


@app.command()
def search(
    text: Annotated[Optional[str], typer.Argument(help="What you are looking for, in plain words.")] = None,
    topic: Annotated[Optional[str], typer.Option(help="data_flows, data_localisation, privacy, it_mobility, ...")] = None,
    party: Annotated[Optional[str], typer.Option(help="Partner country: ISO-3 code (KOR) or name.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="FTA, MoU, JDI, protocol.")] = None,
    year_from: Annotated[Optional[int], typer.Option("--from", help="Signed in or after this year.")] = None,
    year_to: Annotated[Optional[int], typer.Option("--to", help="Signed in or before this year.")] = None,
    strength: Annotated[Optional[str], typer.Option(help="binding, best_endeavour, hortatory, non_binding, or exception (carve-outs).")] = None,
    doc: Annotated[Optional[str], typer.Option(help="Only this document.")] = None,
    tables: Annotated[bool, typer.Option("--tables", help="Include tariff schedules and other long tables.")] = False,
    top: Annotated[int, typer.Option(help="How many articles to return.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Hits as a JSON list on stdout.")] = False,
    queries: Annotated[Optional[Path], typer.Option(help="Batch: a JSON list of {qid, text, filters}.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Batch output: one line per query (bench format).")] = False,
    export: Annotated[Optional[Path], typer.Option(help="Also write the hits to a .csv or .docx file.")] = None,
) -> None:
    """Search clauses across every stored agreement (keywords + meaning), with filters and citations.

    Example: `clausebank search "transfer of personal data abroad" --party KOR --topic privacy`
    """
    from pipeline.models import Filters
    from pipeline.search import FilterError

    if (text is None) == (queries is None):
        raise _fail("give a search TEXT or --queries FILE (not both)")
    filters = Filters(topic, party, kind, year_from, year_to, strength, doc, tables or None)
    if text is not None and not (as_json or export) and _search_warm_app(text, filters, top):
        return
    with _store() as store:
        searcher = _searcher(store)
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
            hits = searcher.search(text, filters, top=top)
            if export is not None:
                from pipeline.compose import export_hits

                export_hits(hits, export, title=f"Search: {text}")
                err.print(f"exported {len(hits)} hits to {export}")
        except (FilterError, ValueError) as exc:
            raise _fail(str(exc))
        finally:
            searcher.close()
    if as_json:
        sys.stdout.write(json.dumps([vars(h) for h in hits], ensure_ascii=False, indent=1) + "\n")
        return
    _print_hits([vars(h) for h in hits])


def _print_hits(hits: list[dict]) -> None:
    console = Console()
    if not hits:
        console.print("no matching clauses (try fewer filters or other words)")
    for n, h in enumerate(hits, 1):
        console.print(f"[bold]{n}. {h['citation']}[/] — {h['article_title']}  "
                      f"[dim]{h['strength'] or ''} {' '.join(h['topics'])}[/]", highlight=False)
        console.print("   " + h["snippet"].replace("**", ""), highlight=False)


def _search_warm_app(text: str, filters, top: int) -> bool:
    """Ask the web app serving this home, when one runs here (its model and index are warm): a search
    in well under a second instead of loading the model. False when there is none or it fails."""
    import os
    import urllib.parse
    import urllib.request

    from .web import running_server

    server = running_server(_home())
    if server is None or (server["token_required"] and not os.environ.get("CLAUSEBANK_TOKEN")):
        return False
    names = {"year_from": "from", "year_to": "to"}  # the API's parameter names
    params = {"q": text, "top": top, **{names.get(k, k): v for k, v in vars(filters).items() if v is not None}}
    request = urllib.request.Request(f"{server['url']}/api/search?{urllib.parse.urlencode(params)}")
    if server["token_required"]:
        request.add_header("Authorization", f"Bearer {os.environ['CLAUSEBANK_TOKEN']}")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            hits = json.loads(resp.read())["hits"]
    except (OSError, ValueError, KeyError):
        return False
    err.print(f"[dim](answered by the web app at {server['url']})[/]")
    _print_hits(hits)
    return True


@app.command()
def paper(
    brief: Annotated[Path, typer.Argument(help="The brief (TOML): title, negotiation, partners, topics, stances.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the DOCX.")] = Path(
        "outputs/position_paper.docx"),
) -> None:
    """Compile a position paper (DOCX) from a brief: precedents, partner track record, suggested
    language, real footnote citations. Example brief: corpus/briefs/india_korea_digital.toml"""
    from pipeline.compose import BriefError, compose_paper, load_brief

    try:
        loaded = load_brief(brief)
    except BriefError as exc:
        raise _fail(str(exc))
    with _store() as store:
        searcher = _searcher(store)
        try:
            out = compose_paper(loaded, searcher, output)
        finally:
            searcher.close()
    err.print(f"position paper written: {out}")


@app.command()
def basket(
    file: Annotated[Path, typer.Argument(help="One `DOC ARTICLE` per line, e.g. `india_korea_digital_fta 12.13`.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="A .docx or .csv file.")] = Path("outputs/basket.docx"),
) -> None:
    """Export a basket of chosen articles as DOCX (with footnote citations) or CSV."""
    from pipeline.compose import BriefError, basket_hits, export_hits

    with _store() as store:
        try:
            out = export_hits(basket_hits(store, file), output, title=f"Basket: {file.stem}")
        except (BriefError, ValueError, OSError) as exc:
            raise _fail(str(exc))
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
                if art.unit == "article":
                    out.write(json.dumps(art.bench_record(), ensure_ascii=False) + "\n")
            return
        table = Table("doc", "article", "title", "pages", "chapter")
        for art in store.articles(doc):
            table.add_row(art.doc_id, art.article_number, art.article_title,
                          f"{art.page_start}-{art.page_end}", art.chapter_title)
        Console().print(table)


@app.command()
def documents(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list on stdout.")] = False,
) -> None:
    """List stored documents: title, short name, kind, parties, signature date, pages, articles."""
    with _store() as store:
        docs = store.document_summaries()
    if as_json:
        sys.stdout.write(json.dumps(docs, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("doc", "short name", "kind", "parties", "signed", "pages", "articles")
    for d in docs:
        table.add_row(d["doc"], d["short_name"] or d["title"][:50], d["kind"], ", ".join(d["parties"]),
                      d["date_signed"] or "?", str(d["pages"]), str(d["articles"]))
    Console().print(table)


@app.command()
def show(
    doc: Annotated[str, typer.Argument(help="Document id (the PDF's file stem).")],
    article: Annotated[Optional[str], typer.Argument(help="Article number, e.g. 12.15 or 'Article 12.15'.")] = None,
) -> None:
    """Show a document's metadata and articles, or one article in full with its citation."""
    from pipeline.search import make_hit

    console = Console()
    with _store() as store:
        found = store.documents_by_id([doc]).get(doc)
        if found is None:
            known = ", ".join(d["doc"] for d in store.document_summaries()[:10])
            raise _fail(f"no document {doc!r} in the store (known: {known or 'none'})")
        arts = store.find_articles(doc, article) if article is not None else list(store.articles(doc))
    if article is None:
        console.print(f"[bold]{found.title}[/]\n{found.doc_id} · {found.short_name or ''} · {found.kind} · parties: "
                      f"{', '.join(found.parties) or '?'} · signed {found.date_signed or '?'} · "
                      f"{found.pages} pages · {len(arts)} articles", highlight=False)
        table = Table("article", "title", "page", "chapter")
        for a in arts:
            table.add_row(a.article_number, a.article_title, str(a.page_start), a.chapter_title)
        console.print(table)
        return
    if not arts:
        raise _fail(f"{doc} has no article {article!r}")
    for a in arts:
        console.print(f"[bold]{a.article_number}: {a.article_title}[/]  ({make_hit(a, found).citation})", highlight=False)
        if a.chapter_title:
            console.print(f"[dim]{a.chapter_number} {a.chapter_title}[/]", highlight=False)
        if a.topics:
            console.print(f"topics: {', '.join(a.topics)}")
        for c in a.clauses:
            console.print(c.text, highlight=False)
            notes = [f"strength: [bold]{c.strength or 'none'}[/]" + (f" ({c.strength_evidence!r})" if c.strength_evidence else "")]
            if c.topics:
                notes.append("topics: " + ", ".join(f"{e.label} ({e.phrase!r})" for e in c.topics))
            if c.exceptions:
                notes.append("exceptions: " + ", ".join(f"{e.label} ({e.phrase!r})" for e in c.exceptions))
            names = [e.phrase for e in c.entities]
            if names:
                notes.append("names: " + ", ".join(dict.fromkeys(names)))
            console.print("  [dim]" + " · ".join(notes) + "[/]", highlight=False)
        for note in a.footnotes:
            console.print(f"[dim]footnote: {note}[/]", highlight=False)


@app.command()
def similar(
    doc: Annotated[str, typer.Argument(help="Document id (the PDF's file stem).")],
    article: Annotated[str, typer.Argument(help="Article number, e.g. 12.15.")],
    min_similarity: Annotated[float, typer.Option(help="Leave out relatives below this (0-1).")] = 0.3,
    top: Annotated[int, typer.Option(help="At most this many relatives.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list on stdout, oldest first.")] = False,
) -> None:
    """Where did this language come from? Near-copies and paraphrases of an article across agreements,
    oldest first; the earliest is the likely template, and modality changes against it are shown."""
    from pipeline.lineage import similar_articles

    with _store() as store:
        try:
            family = similar_articles(store, doc, article, top=top, min_similarity=min_similarity)
        except KeyError as exc:
            raise _fail(str(exc.args[0]))
    if as_json:
        sys.stdout.write(json.dumps([r.as_json() for r in family], ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("signed", "citation", "title", "copy (Jaccard)", "meaning (cosine)", "changes against the template")
    for r in family:
        changes = "template" if r.template else ", ".join(f"{a} → {b}" for a, b in r.modality_changes)
        table.add_row(r.date_signed or "?", r.citation, r.article_title, f"{r.jaccard:.2f}", f"{r.similarity:.2f}",
                      changes)
    Console().print(table)


@app.command()
def matrix(
    partners: Annotated[list[str], typer.Argument(help="Partner(s): ISO-3 codes or country names.")],
    topics: Annotated[Optional[list[str]], typer.Option("--topics", help="Topic ids (default: the four mission topics).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write a .csv, .xlsx or .docx file.")] = None,
) -> None:
    """What has a partner agreed to on each topic, and how strongly? One row per agreement (one
    partner) or per partner (several), the strongest commitment per topic with its citation."""
    from pipeline.countries import iso3
    from pipeline.matrix import MISSION_TOPICS, agreement_rows, partner_rows, write_matrix

    codes = [iso3(p) for p in partners]
    if None in codes:
        raise _fail(f"unknown partner {partners[codes.index(None)]!r}: use an ISO-3 code (KOR) or a country name")
    chosen = tuple(topics or MISSION_TOPICS)
    with _store() as store:
        rows = agreement_rows(store, codes[0], chosen) if len(codes) == 1 else partner_rows(store, codes, chosen)
    if output is not None:
        try:
            write_matrix(rows, chosen, output, f"Position matrix: {', '.join(codes)}")
        except ValueError as exc:
            raise _fail(str(exc))
        err.print(f"matrix written: {output}")
        return
    table = Table("agreement" if len(codes) == 1 else "partner", "year", *chosen)
    for r in rows:
        table.add_row(r.name, r.year, *[f"{r.cells[t].label()}\n[dim]{r.cells[t].citation}[/]" for t in chosen])
    Console().print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; anything but 127.0.0.1 / localhost needs a token.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the web app (search, articles, compare, basket, corpus; JSON API under /api/).

    Beyond this machine (`--host 0.0.0.0`) an access token is required: CLAUSEBANK_TOKEN, or one
    generated and printed once at start-up."""
    from pipeline.store import DB_NAME

    from .web import TokenError, serve as run_server

    if not (_home() / DB_NAME).exists():
        raise _fail(f"no store in {_home()}: ingest some PDFs first (`clausebank ingest corpus/`)")
    try:
        run_server(_home(), host, port)
    except TokenError as exc:
        raise _fail(str(exc))


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
    """Run the ingest flow once (what the schedule runs) and print where its run report is.

    When nothing changed (every source a local folder, every PDF stored with the same hash, the index
    in line, nothing to recover) the run is answered at once, without starting Prefect."""
    from pipeline.ingest import ingest_if_unchanged
    from pipeline.lock import WriterBusy

    try:
        quick = ingest_if_unchanged(_home(), source or ["corpus", "corpus/inbox"])
    except WriterBusy as exc:
        raise _fail(str(exc))
    if quick is not None:
        _finish_report(quick)
        raise typer.Exit(0 if quick.ok else 1)
    from flows.ingest import ingest_flow, shared_local_api

    flow_fn = ingest_flow
    if dask:
        from prefect_dask import DaskTaskRunner

        runner = DaskTaskRunner() if dask == "local" else DaskTaskRunner(address=dask)
        flow_fn = ingest_flow.with_options(task_runner=runner)
    try:
        with shared_local_api():
            result = flow_fn(home=str(_home()), sources=source)
    except WriterBusy as exc:
        raise _fail(str(exc))
    err.print(f"run report: {result['report']} ({result['new']} new, {result['changed']} changed, "
              f"{result['unchanged']} unchanged, {result['failed']} failed)")
    raise typer.Exit(1 if result["failed"] else 0)


@flows_app.command("serve")
def flows_serve(
    source: Annotated[Optional[list[str]], typer.Option(help="Folder or http(s) URL (repeatable).")] = None,
) -> None:
    """Serve the nightly deployment (02:00 Asia/Kolkata) until interrupted (Ctrl-C)."""
    from flows.deployments import serve_nightly

    serve_nightly(home=str(_home()), sources=source)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
