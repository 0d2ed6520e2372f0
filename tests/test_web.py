"""The web app (clausebank/web) through FastAPI's TestClient, over a real store ingested from the
sample corpus plus a PDF of our own whose text carries markup and a change of modality."""
from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from docx import Document as DocxDocument
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clausebank.cli import app as cli_app
from clausebank.web.app import create_app
from clausebank.web.auth import TokenError, resolve_token
from clausebank.web.corpus import RawFilters
from clausebank.web.diff import word_diff
from pipeline.ingest import ingest, write_report
from tests import pdfs

SCRIPT = "<script>alert('pwned')</script>"
CORPUS_DOCS = ("india_korea_digital_fta", "india_japan_it_mobility_moc", "india_uae_ict_mou")


def write_specimen(path: Path) -> Path:
    """Two articles that differ by 'shall' -> 'shall endeavour to', one carrying markup in its text."""
    return pdfs.simple_treaty(path, [[
        ("bold", "AGREEMENT ON DIGITAL COOPERATION"),
        ("bold", "BETWEEN THE REPUBLIC OF INDIA AND ATLANTICA"),
        ("body", "Signed at New Delhi on 2 March 2022"),
    ], [
        ("bold", f"Article 1: Transfer {SCRIPT} of Data"),
        ("body", "1. Each Party shall allow the cross-border transfer of information by electronic means."),
        ("body", f"2. The string {SCRIPT} zanzibarite is quoted here as plain text."),
        ("bold", "Article 2: Transfer of Data in Services"),
        ("body", "1. Each Party shall endeavour to allow the cross-border transfer of information by "
                 "electronic means."),
        ("body", "2. Nothing in this Article shall prevent a Party from adopting a measure for a public "
                 "policy objective."),
    ]])


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_dir) -> Path:
    folder = tmp_path_factory.mktemp("web-in")
    for stem in CORPUS_DOCS:
        shutil.copy(corpus_dir / f"{stem}.pdf", folder)
    write_specimen(folder / "specimen_atlantica.pdf")
    (folder / "minutes.pdf").write_text("meeting minutes, not a PDF")
    home = tmp_path_factory.mktemp("web-home")
    report = ingest(home, sorted(folder.glob("*.pdf")), ocr=False)
    write_report(report, home)
    assert len(report.new) == 4 and len(report.failed) == 1
    return home


@pytest.fixture(scope="module")
def client(home, tmp_path_factory):
    with TestClient(create_app(home, state_dir=tmp_path_factory.mktemp("web-state"))) as c:
        yield c


def test_search_with_filters_and_facets(client):
    r = client.get("/api/search", params={"q": "cross-border transfer of information", "party": "KOR", "top": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["hits"] and len(body["hits"]) <= 5
    assert {h["doc"] for h in body["hits"]} == {"india_korea_digital_fta"}
    assert set(body["facets"]["party"]) == {"IND", "KOR"} and body["facets"]["party"]["KOR"] == body["total"]
    hit = body["hits"][0]
    assert set(hit) >= {"citation", "doc", "article_number", "article_title", "snippet", "strength", "topics", "score"}
    assert "Art. 12.13" in " ".join(h["citation"] for h in body["hits"])

    everything = client.get("/api/search", params={"q": "cross-border transfer of information"}).json()
    assert len(everything["facets"]["doc"]) > 1  # without the filter, more documents answer

    page = client.get("/", params={"q": "cross-border transfer", "party": "KOR"})
    assert page.status_code == 200 and "<html" in page.text
    assert re.search(r'<option value="KOR" selected>[^<]*\(\d+\)</option>', page.text)
    assert "<mark>transfer</mark>" in page.text.lower() or "<mark>Transfer</mark>" in page.text


def test_searches_in_parallel_threads_answer_as_one_at_a_time(client):
    """The app searches in several request threads at once (each with its own SQLite connection);
    pages, pools and facets must not leak between concurrent searches."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.models import Filters

    corpus = client.app.state.corpus
    queries = ("cross-border transfer of information", "personal data protection",
               "temporary entry of business persons", "customs duties")
    vectors = {q: corpus.searcher.query_vector(q) for q in queries}
    asks = [(q, page) for q in queries for page in (1, 2, 3)]

    def ranked(ask):  # the query already embedded, so that threads meet in the ranking itself
        hits, pool = corpus.searcher.ranked(ask[0], Filters(), slice((ask[1] - 1) * 10, ask[1] * 10), vectors[ask[0]])
        return [h.article_id for h in hits], pool

    def page(ask):
        res = corpus.search(ask[0], RawFilters(), page=ask[1])
        return [h.article_id for h in res.hits], res.total, res.facets

    for answer in (ranked, page):
        alone = [answer(a) for a in asks]
        assert len({tuple(a[0]) for a in alone}) == len(asks)  # every page differs
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(5):
                assert list(pool.map(answer, asks)) == alone


def test_objects_loaded_at_start_up_are_left_out_of_garbage_collection(client):
    """Full collections walking the model's and the imports' objects were the 16-client tail (BENCHMARKS.md)."""
    import gc

    assert gc.get_freeze_count() > 100_000


def test_browse_by_topic_and_partial_update(client):
    r = client.get("/api/search", params={"topic": "it_mobility", "top": 100})
    body = r.json()
    assert body["total"] == body["facets"]["topic"]["it_mobility"] > 0
    assert all("it_mobility" in h["topics"] for h in body["hits"])
    partial = client.get("/", params={"topic": "it_mobility"}, headers={"HX-Request": "true", "HX-Target": "live"})
    assert partial.status_code == 200 and "<html" not in partial.text and 'class="hit"' in partial.text
    second = client.get("/", params={"q": "data", "page": 2})
    assert 'aria-current="page">2<' in second.text


def test_article_page(client):
    r = client.get("/article/india_korea_digital_fta/8.4")
    assert r.status_code == 200
    text = r.text
    assert "Transfer of Information and Processing of Data" in text
    assert text.count('class="paragraph"') == 4
    assert "strength-binding" in text and "Exceptions:" in text
    assert "Footnotes" in text
    assert re.search(r'href="/pdf/india_korea_digital_fta#page=\d+"', text)
    assert 'rel="prev" href="/article/india_korea_digital_fta/8.3"' in text
    assert 'rel="next" href="/article/india_korea_digital_fta/8.5"' in text
    assert "Republic of Korea" in text or "Korea" in text  # the document's metadata
    same = client.get("/article/india_korea_digital_fta/Article%208.4")
    assert same.status_code == 200
    api = client.get("/api/articles/india_korea_digital_fta/8.4").json()
    assert api[0]["article_number"] == "Article 8.4" and len(api[0]["paragraphs"]) == 4 and api[0]["footnotes"]


def test_similar_clauses_panel_and_api(client):
    page = client.get("/article/specimen_atlantica/1")
    assert 'hx-get="/similar/specimen_atlantica/1"' in page.text  # the panel loads after the article
    panel = client.get("/similar/specimen_atlantica/1")
    assert panel.status_code == 200 and "<html" not in panel.text
    assert 'href="/article/specimen_atlantica/Article%202"' in panel.text
    assert 'href="/lineage/specimen_atlantica/1"' in panel.text
    family = client.get("/api/similar/specimen_atlantica/1", params={"top": 5}).json()
    assert [r["template"] for r in family] == [True] + [False] * (len(family) - 1)
    twin = next(r for r in family if r["doc"] == "specimen_atlantica" and r["article_number"] == "Article 2")
    assert twin["jaccard"] > 0.1 and twin["similarity"] > 0.3
    assert set(twin) >= {"doc", "article_number", "article_title", "date_signed", "similarity", "jaccard", "citation"}
    strict = client.get("/api/similar/specimen_atlantica/1", params={"min_similarity": 0.999}).json()
    assert [r["article_number"] for r in strict] == ["Article 1"]
    assert client.get("/api/similar/specimen_atlantica/1", params={"min_similarity": 2}).status_code == 422


def test_lineage_page_shows_the_template_and_changes_of_obligation(client):
    """The specimen (signed 2022) is older than the India–Korea DTEPA (2023), whose Art. 12.13 copies
    its transfer paragraph with "shall endeavour to allow" turned into "shall allow"."""
    r = client.get("/lineage/specimen_atlantica/2", params={"top": 20, "min_similarity": 0.5})
    assert r.status_code == 200
    entries = r.text[r.text.index('<ol class="timeline">'):].split('<li class="')[1:]
    assert "likely template" in entries[0] and "this article" in entries[0] and "2022-03-02" in entries[0]
    assert "Nothing in this Article shall prevent" in entries[0]  # the template's text in full
    copy = next(e for e in entries if "Art. 12.13," in e)
    assert "1 change of obligation" in copy and '<del class="modal">endeavour to </del>' in copy
    assert "Compare side by side" in next(e for e in entries if "Art. 12.8," in e)  # a paraphrase: no word diff
    dates = re.findall(r'<span class="date">([\d-]+)</span>', r.text)
    assert dates == sorted(dates)
    assert client.get("/lineage/specimen_atlantica/99").status_code == 404


def test_partner_matrix_page_and_api(client):
    r = client.get("/matrix", params={"partner": "KOR"})
    assert r.status_code == 200 and '<table class="matrix">' in r.text
    assert 'class="cell strength-binding"><a href="/article/india_korea_digital_fta/' in r.text
    api = client.get("/api/matrix", params={"partner": "KOR"}).json()
    assert api["topics"] == ["data_flows", "data_localisation", "privacy", "it_mobility"]
    assert [row["agreement"] for row in api["rows"]] == ["India–Korea DTEPA"]
    assert api["rows"][0]["data_flows"] == "binding" and "Art." in api["rows"][0]["data_flows_citation"]
    several = client.get("/matrix", params=[("partner", "KOR"), ("partner", "IND")])
    assert several.status_code == 200 and "Korea" in several.text and "India" in several.text
    bad = client.get("/matrix", params={"partner": "ZZZ"})
    assert bad.status_code == 422 and "signed no stored agreement" in bad.text
    assert '<select id="partner"' in client.get("/matrix").text


@pytest.mark.parametrize("url", ["/article/no_such_doc/1", "/article/india_korea_digital_fta/99.99",
                                 "/no/such/page", "/pdf/no_such_doc", "/pdf/..%2F..%2Fetc%2Fpasswd"])
def test_unknown_things_are_404_pages(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert "Not found" in r.text and "Traceback" not in r.text


def test_unknown_article_api_is_json_404(client):
    r = client.get("/api/articles/india_korea_digital_fta/99.99")
    assert r.status_code == 404 and "no article" in r.json()["detail"]


@pytest.mark.parametrize("params, words", [
    ({"from": "20x3"}, "four digits"), ({"strength": "strong"}, "strength"), ({"party": "Atlantis"}, "unknown party"),
    ({"doc": "nothing_here"}, "no document"), ({"from": "2024", "to": "2020"}, "after"), ({"top": "0"}, "top"),
])
def test_bad_filters_are_422_with_a_message(client, params, words):
    api = client.get("/api/search", params={"q": "data", **params})
    assert api.status_code == 422 and words in api.json()["detail"]
    if "top" not in params:
        page = client.get("/", params={"q": "data", **params})
        assert page.status_code == 422 and words in page.text and "Traceback" not in page.text


def test_pdf_text_is_escaped(client):
    page = client.get("/", params={"q": "zanzibarite"})
    assert "zanzibarite" in page.text
    assert SCRIPT not in page.text and "&lt;script&gt;" in page.text
    hit = client.get("/api/search", params={"q": "zanzibarite", "top": 1}).json()["hits"][0]
    article = client.get(hit["url"])
    assert article.status_code == 200 and SCRIPT not in article.text and "&lt;script&gt;alert" in article.text


def test_pdf_route_serves_known_documents_only(client):
    r = client.get("/pdf/india_korea_digital_fta")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_basket_reorder_export_and_compare(client):
    for item in ("specimen_atlantica:1", "specimen_atlantica:2", "india_korea_digital_fta:Article 12.13"):
        assert client.post("/basket/add", data={"item": item}, headers={"HX-Request": "true"}).status_code == 200
    assert client.post("/basket/add", data={"item": "india_korea_digital_fta:99.99"}).status_code == 404
    page = client.get("/basket").text
    order = [page.index(k) for k in ("specimen_atlantica:1", "specimen_atlantica:2", "india_korea_digital_fta:12.13")]
    assert order == sorted(order)
    client.post("/basket/move", data={"item": "india_korea_digital_fta:12.13", "step": -1})
    page = client.get("/basket").text
    assert page.index("india_korea_digital_fta:12.13") < page.index("specimen_atlantica:2")

    docx = client.post("/basket/export", data={"format": "docx"})
    assert docx.status_code == 200
    disposition = docx.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="clausebank-basket-\d{8}-\d{6}\.docx"', disposition)
    table = DocxDocument(io.BytesIO(docx.content)).tables[0]
    assert len(table.rows) == 4 and "12.13" in table.rows[2].cells[0].text
    rows = list(csv.DictReader(io.StringIO(client.post("/basket/export", data={"format": "csv"}).text)))
    assert [r["article"] for r in rows] == ["Article 1", "Article 12.13", "Article 2"]

    client.post("/basket/remove", data={"item": "india_korea_digital_fta:12.13"})
    api = client.post("/api/export", json={"format": "csv"})
    assert [r["article"] for r in csv.DictReader(io.StringIO(api.text))] == ["Article 1", "Article 2"]
    chosen = client.post("/api/export", json={"items": ["india_uae_ict_mou:@5"], "format": "docx"})
    assert chosen.status_code == 200 and DocxDocument(io.BytesIO(chosen.content)).tables
    assert client.post("/api/export", json={"items": ["india_uae_ict_mou:99"]}).status_code == 404

    compare = client.get("/compare", params=[("a", "specimen_atlantica:1"), ("a", "specimen_atlantica:2")])
    assert compare.status_code == 200
    assert re.search(r'<ins class="modal">endeavour to </ins>', compare.text)
    assert "Changes of obligation" in compare.text
    assert client.get("/compare", params={"a": "specimen_atlantica:1"}).status_code == 422


def test_word_diff_marks_modality():
    segments, changes = word_diff("Each Party shall allow transfers.", "Each Party shall endeavour to allow transfers.")
    assert [(s.op, s.text, s.modal) for s in segments if s.op != "equal"] == [("insert", "endeavour to ", True)]
    assert changes[0].before == "shall allow" and changes[0].after == "shall endeavour to allow"
    _, none = word_diff("The Parties met in Delhi.", "The Parties met in Seoul.")
    assert none == []
    _, stronger = word_diff("A Party may adopt measures.", "A Party shall adopt measures.")
    assert [(c.before, c.after) for c in stronger] == [("Party may adopt", "Party shall adopt")]
    _, rewritten = word_diff("2. The string is quoted here as plain text only.",
                             "2. Nothing in this Article shall prevent a Party from adopting a measure.")
    assert rewritten == []  # new wording altogether, not the same duty made weaker or stronger


def test_position_paper_from_the_brief_form(client):
    r = client.post("/basket/paper", data={"title": "Position paper: data", "negotiation": "Round 1",
                                           "partners": "Korea", "topics": ["privacy"],
                                           "position_privacy": "A framework for personal data.",
                                           "red_lines_privacy": "No adequacy obligation.\n"})
    assert r.status_code == 200
    paper = DocxDocument(io.BytesIO(r.content))
    text = "\n".join(p.text for p in paper.paragraphs)
    assert "Position paper: data" in text and "No adequacy obligation." in text and "KOR" in text
    bad = client.post("/basket/paper", data={"title": "x", "negotiation": "y", "partners": "Atlantis",
                                             "topics": ["privacy"]})
    assert bad.status_code == 422 and "Atlantis" in bad.text


def test_api_docs_work_offline(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert not re.search(r'(src|href)="https?://', docs.text)  # nothing from a CDN
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/articles/{doc}/{ref}", "/api/export"} <= set(paths)
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_corpus_page(client):
    r = client.get("/corpus")
    assert r.status_code == 200
    for doc in CORPUS_DOCS:
        assert doc in r.text
    assert "minutes.pdf" in r.text and "not a PDF" in r.text  # quarantined, with its reason
    assert "<svg" in r.text and "Agreements signed" in r.text
    assert "<table>" in r.text  # the run report's Markdown tables, rendered


def test_keeps_serving_while_an_ingestion_writes(client, home, tmp_path):
    """A document stored after start-up, with the vector index not yet updated: found by keywords,
    and the answer says the index is behind."""
    new = pdfs.simple_treaty(tmp_path / "late_arrival.pdf", [[
        ("bold", "Article 1: Quillwort Cooperation"), ("body", "The Parties shall cooperate on quillwort data.")]])
    binding = {"q": "quillwort", "strength": "binding"}  # the app keeps the ids a set of filters allows
    assert "late_arrival" not in {h["doc"] for h in client.get("/api/search", params=binding).json()["hits"]}
    report = ingest(home, [new], ocr=False, index=False)
    assert report.new
    body = client.get("/api/search", params={"q": "quillwort"}).json()
    assert body["stale_index"] is True and body["hits"][0]["doc"] == "late_arrival"
    assert client.get("/api/search", params=binding).json()["hits"][0]["doc"] == "late_arrival"

    from pipeline.embed import Embedder
    from pipeline.index import sync_index
    from pipeline.store import Store

    with Store(home) as store:  # what the ingestion does at its end: the index catches up
        sync_index(store, Embedder(home))
    assert client.get("/api/search", params={"q": "quillwort"}).json()["stale_index"] is False


def test_token_required_beyond_localhost(home, tmp_path):
    token = "a-long-enough-test-token-123"
    with pytest.raises(TokenError):
        create_app(home, token=None, public=True)
    with pytest.raises(TokenError):
        create_app(home, token="short", public=True)
    with TestClient(create_app(home, token=token, public=True, state_dir=tmp_path)) as c:
        first = c.get("/?q=data", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        assert c.get("/api/search?q=data").status_code == 401
        assert c.get("/static/style.css").status_code == 200
        wrong = c.post("/login", data={"token": "guess", "next": "/"}, follow_redirects=False)
        assert wrong.status_code == 401 and "not right" in wrong.text
        right = c.post("/login", data={"token": token, "next": "/?q=data"}, follow_redirects=False)
        assert right.status_code == 303 and right.headers["location"] == "/?q=data"
        assert token not in right.headers["set-cookie"]
        assert c.get("/?q=data").status_code == 200
        outside = c.post("/login", data={"token": token, "next": "//evil.example/"}, follow_redirects=False)
        assert outside.headers["location"] == "/"
    with TestClient(create_app(home, token=token, public=True, state_dir=tmp_path)) as api:
        assert api.get("/api/search?q=data", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert api.get("/api/search?q=data", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_serve_refuses_to_expose_without_a_usable_token(home, monkeypatch):
    generated, was_generated = resolve_token("0.0.0.0", None)
    assert was_generated and len(generated) >= 16
    assert resolve_token("127.0.0.1", None) == (None, False)
    monkeypatch.setenv("CLAUSEBANK_TOKEN", "short")
    result = CliRunner().invoke(cli_app, ["--home", str(home), "serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2 and "refusing" in result.stderr


def test_cli_search_asks_the_running_app(home, tmp_path):
    """`clausebank search` answers from a warm `clausebank serve` of the same home, and loads no model."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = [sys.executable, "-m", "clausebank.cli", "--home", str(home)]
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/search?q=data", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert (home / "web" / "server.json").exists()
        done = subprocess.run([*cli, "search", "transfer of information by electronic means", "--top", "3"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"answered by the web app at http://127.0.0.1:{port}" in done.stderr
        assert "1. " in done.stdout and "Art." in done.stdout
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(60)
    assert not (home / "web" / "server.json").exists()
    cold = subprocess.run([*cli, "search", "transfer of information", "--top", "1"], capture_output=True, text=True,
                          timeout=300)
    assert cold.returncode == 0 and "answered by the web app" not in cold.stderr
