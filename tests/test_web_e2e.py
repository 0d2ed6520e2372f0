"""The negotiator's journey in a real browser: Playwright driving Debian's Chromium (headless) against
the app served by uvicorn. Screenshots of every page at 1280 and 800 px go to outputs/screenshots/."""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium): `apt-get install chromium` "
                "to run the browser journey", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")

from docx import Document as DocxDocument  # noqa: E402

from clausebank.web.app import create_app  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from tests.test_web import write_specimen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "outputs" / "screenshots"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"]
TOKEN = "e2e-token-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no answer from {url} within {seconds} s")


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_dir) -> Path:
    folder = tmp_path_factory.mktemp("e2e-in")
    for stem in ("india_korea_digital_fta", "india_japan_it_mobility_moc", "india_uae_ict_mou"):
        shutil.copy(corpus_dir / f"{stem}.pdf", folder)
    write_specimen(folder / "specimen_atlantica.pdf")
    home = tmp_path_factory.mktemp("e2e-home")
    assert ingest(home, sorted(folder.glob("*.pdf")), ocr=False).ok
    return home


@pytest.fixture(scope="module")
def base_url(home, tmp_path_factory):
    """The app on 127.0.0.1 (no token), served by uvicorn in a thread."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(home, state_dir=tmp_path_factory.mktemp("e2e-state")),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(f"http://127.0.0.1:{port}/static/style.css")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS, headless=True)
        yield b
        b.close()


def shoot(page, name: str) -> None:
    """The current page at 1280 and 800 px wide, whole length."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_negotiator_journey(browser, base_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # search as you type (debounced), then filter by party: the results change without a reload
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("cross-border transfer of information", delay=20)
    page.wait_for_url("**/?q=cross-border*")
    page.locator(".summary", has_text="results for").wait_for()
    assert page.locator(".hit").count() > 0 and page.locator(".hit mark").count() > 0
    page.select_option("#f-party", "KOR")
    page.wait_for_url("**party=KOR*")
    page.locator("#f-party option[value=KOR][selected]").wait_for(state="attached")
    citations = page.locator(".hit .citation").all_inner_texts()
    assert citations and all("Korea" in c for c in citations)
    shoot(page, "search")

    # open the first article; its PDF link serves the source at the cited page
    page.locator(".hit .citation").first.click()
    page.wait_for_url("**/article/india_korea_digital_fta/**")
    assert page.locator(".paragraph").count() >= 1
    pdf_href = page.locator("a.pdf-link").get_attribute("href")
    assert pdf_href.startswith("/pdf/india_korea_digital_fta#page=")
    pdf = page.request.get(base_url + pdf_href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"
    page.locator("#similar .relatives li").first.wait_for()  # the Similar clauses panel loads by itself
    shoot(page, "article")
    page.locator("a.lineage-link").click()
    page.wait_for_url("**/lineage/india_korea_digital_fta/**")
    assert page.locator(".timeline li.template .template-badge").count() == 1
    shoot(page, "lineage")

    # two articles into the basket from a search; the count in the header follows
    page.goto(base_url + "/?q=cross-border+transfer+electronic+means&doc=specimen_atlantica")
    for number in ("Art. 1,", "Art. 2,"):
        hit = page.locator(".hit", has=page.locator(".citation", has_text=number))
        hit.locator("button", has_text="Add to basket").click()
        hit.locator(".in-basket").wait_for()
    assert page.locator("#basket-count").inner_text() == "2"

    # the basket survives a reload; compare the two: the change of obligation is visible
    page.goto(base_url + "/basket")
    page.reload()
    assert page.locator("table.basket tbody tr").count() == 2
    shoot(page, "basket")
    page.locator("button", has_text="Compare ticked").click()
    page.wait_for_url("**/compare?a=*")
    modal = page.locator(".difftext ins.modal")
    assert modal.count() >= 1 and "endeavour" in modal.first.inner_text()
    assert page.locator(".modality li").count() >= 1
    shoot(page, "compare")

    # export the basket as DOCX and open it
    page.goto(base_url + "/basket")
    with page.expect_download() as download:
        page.locator("button", has_text="Export DOCX").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("clausebank-basket-") and saved.suffix == ".docx"
    table = DocxDocument(io.BytesIO(saved.read_bytes())).tables[0]
    assert len(table.rows) == 3 and "Article 1" in table.rows[1].cells[0].text

    # the partner matrix: colour-coded cells that open the article
    page.goto(base_url + "/matrix")
    page.select_option("#partner", "KOR")
    page.locator(".matrix-form button").click()
    page.wait_for_url("**/matrix?partner=KOR")
    cell = page.locator("table.matrix td.strength-binding a").first
    shoot(page, "matrix")
    cell.click()
    page.wait_for_url("**/article/india_korea_digital_fta/**")

    page.goto(base_url + "/corpus")
    assert page.locator("svg.chart").count() == 1
    shoot(page, "corpus")
    page.goto(base_url + "/docs")
    page.locator(".swagger-ui .opblock-summary-path", has_text="/api/search").wait_for()
    shoot(page, "api-docs")
    page.goto(base_url + "/article/no_such_doc/1")
    assert page.locator("h1").inner_text() == "Not found"
    shoot(page, "not-found")
    assert not errors, errors


def test_token_journey_on_a_non_local_bind(browser, home, tmp_path):
    """`clausebank serve --host 0.0.0.0` (reached here through 127.0.0.1): no token -> the login page,
    a wrong token -> refused, the right one -> the search page."""
    port = free_port()
    env = {**os.environ, "CLAUSEBANK_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "clausebank.cli", "--home", str(home), "serve",
                               "--host", "0.0.0.0", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/static/style.css")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/?q=privacy")
        assert "/login?next=" in page.url
        shoot(page, "login")
        page.fill("#token", "not-the-token")
        page.click("button[type=submit]")
        page.locator("[role=alert]", has_text="Access refused").wait_for()
        assert "/login" in page.url
        api = page.request.get(f"http://127.0.0.1:{port}/api/search?q=privacy")
        assert api.status == 401
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url("**/?q=privacy")
        assert page.locator(".hit").count() > 0
    finally:
        server.terminate()
        server.wait(30)
