"""The negotiator's web app (FastAPI + Jinja2 + HTMX): search, article, compare, basket and corpus
pages with stable URLs, and a JSON API under /api/. Opens the store read-only; the model and the
indexes are loaded once at start-up."""
from __future__ import annotations

import gc
import logging
import re
import secrets
import tempfile
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import auth
from .basket import Baskets
from .chart import corpus_chart
from .corpus import POOL, STRENGTHS, BadRequest, Corpus, NotFound, RawFilters, split_item
from .diff import similarity, word_diff

log = logging.getLogger("clausebank.web")
HERE = Path(__file__).parent
SESSION_COOKIE = "clausebank_session"
MISSION_TOPICS = ["data_flows", "data_localisation", "privacy", "it_mobility"]
SIMILAR_PANEL = 8  # relatives shown beside an article; the lineage page shows the whole family
STRENGTH_NAMES = {"binding": "binding", "best_endeavour": "best endeavour", "hortatory": "hortatory",
                  "non_binding": "non-binding", "exception": "exception"}


def create_app(home: Path | str, token: str | None = None, public: bool = False,
               state_dir: Path | str | None = None) -> FastAPI:
    """The app over the clausebank home `home`. `public`: reachable beyond this machine, so `token`
    is required (TokenError otherwise). Baskets live in `state_dir` (default `<home>/web`)."""
    if public:
        auth.check_token(token)
    home = Path(home)
    baskets = Baskets(Path(state_dir or home / "web") / "baskets.json")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        corpus = Corpus(home)
        corpus.warm_up()
        # The imports, the model and the indexes leave some 500,000 objects that live as long as the
        # app; every full collection walked them all (26 pauses of up to 274 ms in 30 s under 16
        # clients, the tail of p95). Frozen, collections look only at what requests allocate.
        gc.collect()
        gc.freeze()
        app.state.corpus = corpus
        yield
        corpus.close()

    app = FastAPI(title="clausebank", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Find, compare and cite treaty and MoU clauses: search with filters and facets, "
                              "articles in full, exports of chosen articles.")
    app.state.token = token
    app.state.baskets = baskets
    templates = _templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_middleware(app)
    _install_error_pages(app, templates)
    _page_routes(app, templates)
    _api_routes(app)
    _docs_route(app)
    return app


def _docs_route(app: FastAPI) -> None:
    """FastAPI's OpenAPI page, with Swagger UI served from static/ (the default loads it from a CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="clausebank API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")


# ------------------------------------------------------------------ templates and helpers


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    from pipeline.compose import TOPIC_NAMES

    env = templates.env

    def topic_name(topic: str) -> str:
        return TOPIC_NAMES.get(topic, topic.replace("_", " "))

    def strength_name(strength: str) -> str:
        return STRENGTH_NAMES.get(strength, strength or "none")

    env.filters.update(mark=mark_terms, article_url=article_url, topic_name=topic_name,
                       strength_name=strength_name, party_name=party_name)
    env.globals.update(urlencode=urlencode, STRENGTHS=STRENGTHS, POOL=POOL, TOPIC_NAMES=TOPIC_NAMES,
                       MISSION_TOPICS=MISSION_TOPICS, item_key=item_key, topic_name_of=topic_name,
                       strength_name_of=strength_name, party_name_of=party_name)
    return templates


def mark_terms(snippet: str) -> Markup:
    """A search snippet, escaped, with its `**term**` marks as <mark>."""
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<mark>\1</mark>", str(escape(snippet))))


def article_url(doc_id: str, ref: str) -> str:
    return f"/article/{quote(doc_id, safe='')}/{quote(ref, safe='')}"


def item_key(doc_id: str, ref: str) -> str:
    return f"{doc_id}:{ref}"


def paragraphs_text(article) -> str:
    """An article's text one paragraph a line, so a comparison keeps the drafters' structure."""
    return "\n".join(c.text for c in article.clauses) or article.text


def party_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_3=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code) if country else code


def _page(templates: Jinja2Templates, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    session = getattr(request.state, "session", "")
    basket = request.app.state.baskets.items(session)
    context.update(request=request, basket_count=len(basket), basket_items=set(basket),
                   auth_required=request.app.state.token is not None)
    return templates.TemplateResponse(request, name, context, status_code=status)


def _download(data: bytes, stem: str, fmt: str) -> Response:
    """A file download with a generated name (never one taken from the request)."""
    name = f"clausebank-{stem}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.{fmt}"
    media = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "csv": "text/csv; charset=utf-8"}[fmt]
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export(corpus: Corpus, items: list[str], fmt: str, title: str, skip_gone: bool = False) -> bytes:
    """DOCX or CSV bytes for `doc:ref` items; `skip_gone`: leave out articles no longer stored (a
    basket kept across ingestions) instead of answering 404."""
    from pipeline.compose import export_hits

    hits = []
    for item in items:
        try:
            hits.append(corpus.hit(item)[0])
        except NotFound:
            if not skip_gone:
                raise
    if not hits:
        raise BadRequest("nothing to export: add articles from a search first")
    with tempfile.TemporaryDirectory(prefix="clausebank-export-") as tmp:
        out = export_hits(hits, Path(tmp) / f"export.{fmt}", title=title)
        return out.read_bytes()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# ------------------------------------------------------------------ middleware and errors


def _install_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def guard_and_session(request: Request, call_next):
        token = app.state.token
        path = request.url.path
        if token and not path.startswith(auth.OPEN_PATHS) and not auth.authorised(
                token, request.cookies.get(auth.COOKIE), request.headers.get("authorization")):
            if _is_api(request) or path in ("/openapi.json", "/docs", "/redoc"):
                return JSONResponse({"detail": "access token required: send Authorization: Bearer <token>"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            target = path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        session = request.cookies.get(SESSION_COOKIE)
        fresh = not session or not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", session)
        request.state.session = secrets.token_urlsafe(24) if fresh else session
        response = await call_next(request)
        _security_headers(response, path)
        if fresh:
            response.set_cookie(SESSION_COOKIE, request.state.session, max_age=60 * 60 * 24 * 180,
                                httponly=True, samesite="lax")
        return response


# Pages load only their own script and styles; /docs runs Swagger UI's inline start-up script.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _security_headers(response: Response, path: str) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if path != "/docs" and not path.startswith("/pdf/"):
        response.headers.setdefault("Content-Security-Policy", CSP)


def _install_error_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    def error(request: Request, status: int, message: str):
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        title = {404: "Not found", 422: "Cannot use that request", 401: "Access refused"}.get(status, "Error")
        return _page(templates, request, "error.html", status=status, title=title, message=message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return error(request, 404, str(exc))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return error(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        def where(loc: tuple) -> str:
            names = [str(x) for x in loc[1:] if isinstance(x, str)]
            return ".".join(names) or (str(loc[0]) if loc else "request")

        parts = [f"{where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        return error(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if exc.status_code != 404 else f"nothing at {request.url.path}"
        return error(request, exc.status_code, str(message))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)
        return error(request, 500, "something went wrong on the server; the error has been logged")


# ------------------------------------------------------------------ pages


def _filters(topic: str | None = None, party: str | None = None, kind: str | None = None,
             year_from: Annotated[str | None, Query(alias="from")] = None,
             year_to: Annotated[str | None, Query(alias="to")] = None,
             strength: str | None = None, doc: str | None = None) -> RawFilters:
    return RawFilters(topic, party, kind, year_from, year_to, strength, doc)


FilterParams = Annotated[RawFilters, Depends(_filters)]


def _page_routes(app: FastAPI, templates: Jinja2Templates) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, filters: FilterParams, q: str = "",
                    page: Annotated[int, Query(ge=1, le=1000)] = 1):
        corpus: Corpus = request.app.state.corpus
        result = corpus.search(q[:500], filters, page)
        docs, _ = corpus.summaries()
        doc_names = {d["doc"]: d["short_name"] or d["title"][:60] or d["doc"] for d in docs}
        context = dict(result=result, doc_names=doc_names,
                       base_query=[("q", result.query)] + filters.query_items())
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "live":
            return _page(templates, request, "_live.html", **context)
        return _page(templates, request, "search.html", **context)

    @app.get("/article/{doc}/{ref:path}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, doc: str, ref: str):
        from pipeline.search import make_hit

        corpus: Corpus = request.app.state.corpus
        document, found, outline = corpus.articles(doc, ref)
        pos = next(k for k, o in enumerate(outline) if o["id"] == found[0].id)
        neighbours = {name: (o, corpus.ref_of(doc, o["id"])) if o else None for name, o in
                      (("prev", outline[pos - 1] if pos > 0 else None),
                       ("next", outline[pos + 1] if pos + 1 < len(outline) else None))}
        canonical = corpus.ref_of(doc, found[0].id)
        return _page(templates, request, "article.html", document=document, articles=found,
                     citations={a.id: make_hit(a, document).citation for a in found}, ref=canonical,
                     in_basket=item_key(doc, canonical) in request.app.state.baskets.items(request.state.session),
                     **neighbours)

    @app.get("/pdf/{doc}", include_in_schema=False)
    def pdf(request: Request, doc: str):
        path = request.app.state.corpus.pdf_path(doc)
        return FileResponse(path, media_type="application/pdf", filename=f"{doc}.pdf",
                            content_disposition_type="inline")

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request, a: Annotated[list[str], Query()] = []):  # noqa: B006
        if not 2 <= len(a) <= 4:
            raise BadRequest(f"compare 2 to 4 articles (got {len(a)}): /compare?a=doc:number&a=doc:number")
        corpus: Corpus = request.app.state.corpus
        entries = [corpus.entry(item) for item in a]
        texts = [paragraphs_text(article) for _, _, article in entries]
        columns = []
        for n, (hit, ref, _) in enumerate(entries):
            segments, changes = word_diff(texts[0], texts[n]) if n else ([], [])
            columns.append(dict(hit=hit, ref=ref, text=texts[n], segments=segments, changes=changes,
                                similarity=similarity(texts[0], texts[n]) if n else 1.0))
        return _page(templates, request, "compare.html", columns=columns)

    @app.get("/similar/{doc}/{ref:path}", response_class=HTMLResponse, include_in_schema=False)
    def similar_panel(request: Request, doc: str, ref: str):
        """The article page's "Similar clauses" panel (loaded by HTMX after the article shows)."""
        article, family = request.app.state.corpus.family(doc, ref, top=SIMILAR_PANEL + 1)
        others = sorted((r for r in family if (r.doc, r.article_number) != (doc, article.article_number)),
                        key=lambda r: -r.similarity)
        return _page(templates, request, "_similar.html", doc=doc, ref=ref, relatives=others)

    @app.get("/lineage/{doc}/{ref:path}", response_class=HTMLResponse, include_in_schema=False)
    def lineage_page(request: Request, doc: str, ref: str,
                     top: Annotated[int, Query(ge=2, le=50)] = 20,
                     min_similarity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5):
        """An article's family as a timeline: the likely template first, each later text with its
        similarity figures and, on click, its word diff against the template."""
        corpus: Corpus = request.app.state.corpus
        article, family = corpus.family(doc, ref, top=top, min_similarity=min_similarity)
        template_text = family[0].text
        entries = []
        for n, r in enumerate(family):
            # a paraphrase shares too little wording for a word diff to help (lineage leaves r.diff empty)
            segments, changes = word_diff(template_text, r.text) if n and r.diff else ([], [])
            entries.append(dict(rel=r, segments=segments, changes=changes, url=article_url(r.doc, r.article_number),
                                current=(r.doc, r.article_number) == (doc, article.article_number)))
        return _page(templates, request, "lineage.html", article=article, doc=doc, ref=ref, entries=entries,
                     top=top, min_similarity=min_similarity, template_text=template_text)

    @app.get("/matrix", response_class=HTMLResponse, include_in_schema=False)
    def matrix_page(request: Request, partner: Annotated[list[str], Query(max_length=12)] = []):  # noqa: B006
        """Partner position matrix: the strongest commitment per topic, colour-coded, linked to the article."""
        corpus: Corpus = request.app.state.corpus
        partners = [p.strip().upper() for p in partner if p.strip()][:8]
        rows = corpus.matrix(partners) if partners else []
        return _page(templates, request, "matrix.html", partners=partners, rows=rows, topics=MISSION_TOPICS,
                     known=corpus.parties(), active="matrix")

    @app.get("/basket", response_class=HTMLResponse, include_in_schema=False)
    def basket_page(request: Request):
        return _page(templates, request, "basket.html", entries=_basket_entries(request))

    def _basket_entries(request: Request) -> list[dict]:
        corpus: Corpus = request.app.state.corpus
        entries = []
        for item in request.app.state.baskets.items(request.state.session):
            try:
                hit, ref = corpus.hit(item)
            except (NotFound, BadRequest):  # the document was withdrawn since: show it as gone
                entries.append(dict(item=item, hit=None, ref=""))
                continue
            entries.append(dict(item=item, hit=hit, ref=ref))
        return entries

    def _after_change(request: Request):
        if request.headers.get("hx-request"):
            return _page(templates, request, "_basket_list.html", entries=_basket_entries(request), oob=True)
        return RedirectResponse("/basket", status_code=303)

    @app.post("/basket/add", include_in_schema=False)
    def basket_add(request: Request, item: Annotated[str, Form()]):
        _, ref = request.app.state.corpus.hit(item)  # unknown articles are refused (404)
        key = item_key(split_item(item)[0], ref)
        items = request.app.state.baskets.add(request.state.session, key)
        if request.headers.get("hx-request"):
            return _page(templates, request, "_basket_button.html", item=key, in_basket=True, count=len(items))
        return RedirectResponse(request.headers.get("referer") or "/basket", status_code=303)

    @app.post("/basket/remove", include_in_schema=False)
    def basket_remove(request: Request, item: Annotated[str, Form()]):
        request.app.state.baskets.remove(request.state.session, item)
        return _after_change(request)

    @app.post("/basket/move", include_in_schema=False)
    def basket_move(request: Request, item: Annotated[str, Form()], step: Annotated[int, Form(ge=-1, le=1)]):
        request.app.state.baskets.move(request.state.session, item, step)
        return _after_change(request)

    @app.post("/basket/export", include_in_schema=False)
    def basket_export(request: Request, format: Annotated[Literal["docx", "csv"], Form()] = "docx"):
        items = request.app.state.baskets.items(request.state.session)
        return _download(_export(request.app.state.corpus, items, format, "Basket", skip_gone=True), "basket", format)

    @app.post("/basket/paper", include_in_schema=False)
    async def basket_paper(request: Request):
        form = await request.form()
        brief = _brief_from_form(form)
        from starlette.concurrency import run_in_threadpool

        data = await run_in_threadpool(_paper, request.app.state.corpus, brief)
        return _download(data, "position-paper", "docx")

    @app.get("/corpus", response_class=HTMLResponse, include_in_schema=False)
    def corpus_page(request: Request):
        from pipeline.compose import TOPIC_NAMES

        corpus: Corpus = request.app.state.corpus
        docs, topics_by_doc = corpus.summaries()
        chart = corpus_chart(docs, topics_by_doc, MISSION_TOPICS, TOPIC_NAMES)
        return _page(templates, request, "corpus.html", docs=docs, chart=Markup(chart),
                     reports=[(name, _markdown(text)) for name, text in corpus.run_reports()],
                     quarantined=corpus.quarantined(), stale=corpus.stale)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/"):
        return _page(templates, request, "login.html", next=_safe_next(next), failed=False, hide_nav=True)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
        expected = request.app.state.token
        if expected is None:
            return RedirectResponse(_safe_next(next), status_code=303)
        if not auth.token_matches(expected, token):
            return _page(templates, request, "login.html", status=401, next=_safe_next(next), failed=True,
                         hide_nav=True)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(auth.COOKIE, auth.cookie_value(expected), httponly=True, samesite="strict",
                            max_age=60 * 60 * 12)
        return response


def _safe_next(target: str) -> str:
    """Only a path on this site (no `//host` or scheme): a login must not redirect elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _markdown(text: str) -> Markup:
    """A run report (Markdown written by the ingester) as HTML; raw HTML in it is not passed through."""
    from markdown_it import MarkdownIt

    return Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))


def _brief_from_form(form) -> "object":
    from pipeline.compose import TOPIC_NAMES, Brief, Stance
    from pipeline.countries import iso3_all

    title, negotiation = (form.get("title") or "").strip(), (form.get("negotiation") or "").strip()
    if not title or not negotiation:
        raise BadRequest("a position paper needs a title and the negotiation it is for")
    try:
        partners = iso3_all([p.strip() for p in (form.get("partners") or "").split(",") if p.strip()],
                            "partners", "partner")
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    topics = [t for t in form.getlist("topics")]
    if not topics:
        raise BadRequest("choose at least one topic for the position paper")
    unknown = [t for t in topics if t not in TOPIC_NAMES]
    if unknown:
        raise BadRequest(f"unknown topic {unknown[0][:40]!r}")
    stance = {t: Stance(position=(form.get(f"position_{t}") or "").strip(),
                        red_lines=[ln.strip() for ln in (form.get(f"red_lines_{t}") or "").splitlines() if ln.strip()],
                        outcome=(form.get(f"outcome_{t}") or "").strip()) for t in topics}
    return Brief(title=title[:200], negotiation=negotiation[:200], partners=partners, topics=topics, stance=stance)


def _paper(corpus: Corpus, brief) -> bytes:
    from pipeline.compose import compose_paper

    with tempfile.TemporaryDirectory(prefix="clausebank-paper-") as tmp, corpus.lock:
        return compose_paper(brief, corpus.searcher, Path(tmp) / "paper.docx").read_bytes()


# ------------------------------------------------------------------ JSON API


class Problem(BaseModel):
    detail: str = Field(description="What was wrong, in words (never a stack trace).")


ERRORS = {404: {"model": Problem, "description": "Unknown document or article"},
          422: {"model": Problem, "description": "A parameter that cannot be used"}}


class ApiHit(BaseModel):
    citation: str
    doc: str
    article_number: str
    article_title: str
    snippet: str = Field(description="The best paragraph around the query terms, which are marked **like this**.")
    strength: str
    topics: list[str]
    score: float
    url: str = Field(description="The article's page.")


class SearchResponse(BaseModel):
    query: str
    total: int = Field(description="Results the query has (at most 100); `hits` holds the first `top`.")
    stale_index: bool
    hits: list[ApiHit]
    facets: dict[str, dict[str, int]] = Field(description="Counts per topic, party, kind, year, strength, doc.")


class ApiParagraph(BaseModel):
    number: str
    text: str
    page: int
    strength: str
    strength_evidence: str
    exceptions: list[str]
    topics: list[str]


class ApiRelative(BaseModel):
    doc: str
    article_number: str
    article_title: str
    date_signed: str
    similarity: float = Field(description="Cosine of the article vectors (paraphrase), 0-1.")
    jaccard: float = Field(description="Word-shingle Jaccard (shared wording, copy), 0-1.")
    citation: str
    template: bool = Field(description="The oldest of the family: the likely template.")
    url: str


class ApiArticle(BaseModel):
    doc: str
    article_number: str
    article_title: str
    chapter_number: str
    chapter_title: str
    citation: str
    page_start: int
    page_end: int
    topics: list[str]
    paragraphs: list[ApiParagraph]
    footnotes: list[str]
    document: dict
    pdf_url: str


class ExportRequest(BaseModel):
    items: list[str] | None = Field(None, description="`doc:number` items; default: this session's basket.",
                                    max_length=200)
    format: Literal["docx", "csv"] = "docx"


def _api_routes(app: FastAPI) -> None:
    @app.get("/api/search", response_model=SearchResponse, tags=["search"], summary="Search clauses",
             responses=ERRORS)
    def api_search(request: Request, filters: FilterParams, q: Annotated[str, Query(max_length=500)] = "",
                   top: Annotated[int, Query(ge=1, le=100)] = 10):
        """Search clauses (keywords + meaning) with filters; an empty `q` lists the filtered articles."""
        result = request.app.state.corpus.search(q, filters, top=top)
        hits = [ApiHit(citation=h.citation, doc=h.doc_id, article_number=h.article_number,
                       article_title=h.article_title, snippet=h.snippet, strength=h.strength, topics=h.topics,
                       score=h.score, url=article_url(h.doc_id, result.refs.get(h.article_id, "")))
                for h in result.hits]
        return SearchResponse(query=result.query, total=result.total, stale_index=result.stale, hits=hits,
                              facets=result.facets)

    @app.get("/api/articles/{doc}/{ref:path}", response_model=list[ApiArticle], tags=["articles"],
             summary="An article in full", responses=ERRORS)
    def api_article(request: Request, doc: str, ref: str):
        """An article in full (a list: a volume binding several agreements may repeat a number)."""
        from pipeline.search import make_hit

        document, found, _ = request.app.state.corpus.articles(doc, ref)
        meta = {k: v for k, v in document.to_dict().items() if k not in ("articles", "path", "sha256")}
        return [ApiArticle(
            doc=a.doc_id, article_number=a.article_number, article_title=a.article_title,
            chapter_number=a.chapter_number, chapter_title=a.chapter_title, citation=make_hit(a, document).citation,
            page_start=a.page_start, page_end=a.page_end, topics=a.topics, footnotes=a.footnotes, document=meta,
            pdf_url=f"/pdf/{quote(doc, safe='')}#page={a.page_start}",
            paragraphs=[ApiParagraph(number=c.number, text=c.text, page=c.page, strength=c.strength,
                                     strength_evidence=c.strength_evidence,
                                     exceptions=list(dict.fromkeys(e.label for e in c.exceptions)),
                                     topics=list(dict.fromkeys(e.label for e in c.topics))) for c in a.clauses])
            for a in found]

    @app.get("/api/similar/{doc}/{ref:path}", response_model=list[ApiRelative], tags=["lineage"],
             summary="An article's near-copies and paraphrases", responses=ERRORS)
    def api_similar(request: Request, doc: str, ref: str, top: Annotated[int, Query(ge=1, le=100)] = 20,
                    min_similarity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0):
        """The article's family across the store, oldest first (the first is the likely template):
        `similarity` is the cosine of the MiniLM vectors (paraphrase), `jaccard` the word-shingle
        overlap (copy). The article itself is included."""
        _, family = request.app.state.corpus.family(doc, ref, top=top, min_similarity=min_similarity)
        return [ApiRelative(**r.as_json(), template=r.template, url=article_url(r.doc, r.article_number))
                for r in family]

    @app.get("/api/matrix", tags=["lineage"], summary="Partner position matrix", responses=ERRORS)
    def api_matrix(request: Request, partner: Annotated[list[str], Query(min_length=1, max_length=8)]):
        """For one partner a row per agreement it signed, for several a row per partner: per topic the
        strongest commitment, its citation and whether an exception qualifies it."""
        from pipeline.matrix import flat_records

        rows = request.app.state.corpus.matrix([p.strip().upper() for p in partner])
        return {"topics": MISSION_TOPICS, "rows": flat_records(rows, tuple(MISSION_TOPICS))}

    @app.post("/api/export", tags=["basket"], summary="Export articles as DOCX or CSV", responses={**ERRORS, 200: {
        "content": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}, "text/csv": {}}}})
    def api_export(request: Request, body: ExportRequest):
        """Articles (or this session's basket) as a DOCX with footnoted citations, or as CSV."""
        from_basket = body.items is None
        items = request.app.state.baskets.items(request.state.session) if from_basket else body.items
        data = _export(request.app.state.corpus, items, body.format, "Basket", skip_gone=from_basket)
        return _download(data, "basket", body.format)
