"""Input fuzzing: the segmenter and metadata detection over mutated lines never raise; damaged PDFs
give one clear error line each or a whole stored document, never a traceback or half a document."""
from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.metadata import detect_metadata
from pipeline.models import Footnote, Line, Page
from pipeline.segment import build_document, segment_document

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.faults

# an agreement of our own: the shapes the segmenter and the metadata detector look for
AGREEMENT = [
    "MEMORANDUM OF UNDERSTANDING",
    "BETWEEN THE REPUBLIC OF TESTLAND AND THE KINGDOM OF SAMPLIA",
    "ON COOPERATION IN DIGITAL TRADE",
    "Signed at Port Example on 3 March 2021",
    "CHAPTER 1",
    "GENERAL PROVISIONS",
    "Article 1.1",
    "Definitions",
    "1. For the purposes of this Chapter, personal information means any information about an",
    "identified or identifiable natural person.1",
    "2. Each Party shall endeavour to allow the cross-border transfer of information by electronic means.",
    "Article 1.2: Location of Computing Facilities",
    "Neither Party shall require a covered person to use or locate computing facilities in its territory",
    "as a condition for conducting business, except as provided in Article 1.3.",
    "CHAPTER TWO",
    "MOVEMENT OF PROFESSIONALS",
    "ARTICLE 2",
    "Temporary entry of engineers",
    "(a) the Parties may facilitate visas for software engineers;",
    "(b) nothing in this Article shall prevent a Party from applying measures regarding immigration.",
    "Section A",
    "IN WITNESS WHEREOF the undersigned have signed this Memorandum.",
]
NOISE = st.sampled_from(["\x00", "\x07", "\x1b[31m", "\u200b", "\ufeff", "\u202e", "\r", "\t", "\x0c", "\ud7ff",
                         "डेटा स्थानीयकरण", "البيانات الشخصية", "個人情報", "개인정보", "Ωμέγα", "🙂", "ﬁ", "Ⅻ",
                         "Article", "CHAPTER", "1.", "(a)", "Annex", ":", "—", " "])


def _mutate(line: str, data) -> str:
    action = data.draw(st.sampled_from(["keep", "truncate", "empty", "long", "noise", "text"]))
    if action == "truncate":
        return line[:data.draw(st.integers(0, len(line)))]
    if action == "empty":
        return data.draw(st.sampled_from(["", " ", "\n"]))
    if action == "long":
        return line * data.draw(st.integers(50, 200))
    if action == "noise":
        at = data.draw(st.integers(0, len(line)))
        return line[:at] + "".join(data.draw(st.lists(NOISE, min_size=1, max_size=6))) + line[at:]
    if action == "text":
        return data.draw(st.text(max_size=80))
    return line


@st.composite
def mutated_pages(draw) -> list[Page]:
    lines = draw(st.lists(st.sampled_from(AGREEMENT), min_size=0, max_size=40))
    if draw(st.booleans()):
        lines = list(AGREEMENT) + lines
    lines = draw(st.permutations(lines)) if draw(st.booleans()) else lines
    texts = [_mutate(t, draw(st.data())) for t in lines]
    n_pages = draw(st.integers(1, 3))
    pages = [Page(number=k + 1, width=595, height=842) for k in range(n_pages)]
    for i, text in enumerate(texts):
        page = pages[min(i * n_pages // max(len(texts), 1), n_pages - 1)]
        top = 60 + 14 * len(page.lines)
        markers = [(draw(st.integers(0, len(text))), draw(st.sampled_from(["1", "2", "*", "a"])))] \
            if draw(st.integers(0, 9)) == 0 else []
        page.lines.append(Line(text=text, page=page.number, x0=draw(st.sampled_from([72.0, 90.0, 250.0])),
                               x1=523.0, top=top, bottom=top + 11, size=draw(st.sampled_from([0.0, 9.0, 11.0, 14.0])),
                               bold=draw(st.booleans()), italic=draw(st.booleans()), centred=draw(st.booleans()),
                               column=draw(st.integers(0, 1)), markers=markers))
    if draw(st.booleans()):
        pages[-1].footnotes.append(Footnote("1", draw(st.sampled_from(["1 A note of ours.", "", "1"])), n_pages))
    return pages


FUZZ_SETTINGS = settings(max_examples=int(os.environ.get("CLAUSEBANK_FUZZ_EXAMPLES", 60)), deadline=None,
                         derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ_SETTINGS
@given(mutated_pages())
def test_segment_and_metadata_survive_mutated_lines(tmp_path_factory, pages):
    path = tmp_path_factory.getbasetemp() / "fuzzed_mou.pdf"  # no sidecar beside it
    doc = build_document(path, pages)
    detect_metadata(doc, pages)
    assert segment_document(doc.doc_id, pages) is not None
    for art in doc.articles:
        assert 1 <= art.page_start <= art.page_end <= len(pages)


# ---- damaged PDFs through the real CLI

def corrupted_copies(original: Path, folder: Path, n: int = 20, seed: int = 12) -> list[Path]:
    """`n` copies of a PDF, each with random byte ranges flipped, zeroed or cut off (fixed seed)."""
    rng = random.Random(seed)
    data = original.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        damaged = bytearray(data)
        how = ("flip", "zero", "truncate")[i % 3]
        for _ in range(rng.randint(1, 4)):
            start = rng.randrange(len(damaged))
            end = min(len(damaged), start + rng.randint(1, 400))
            if how == "flip":
                damaged[start:end] = bytes(b ^ rng.randrange(1, 256) for b in damaged[start:end])
            elif how == "zero":
                damaged[start:end] = bytes(end - start)
            else:
                del damaged[start:]
                break
        path = folder / f"damaged_{i:02d}_{how}.pdf"
        path.write_bytes(bytes(damaged))
        out.append(path)
    return out


def run_fuzz_ingest(workdir: Path, n: int = 20) -> dict:
    """Ingest `n` damaged copies of a real sample PDF; returns what the test and the bench check."""
    files = corrupted_copies(ROOT / "corpus" / "india_uae_ict_mou.pdf", workdir / "damaged", n)
    home = workdir / "home"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1"}
    env.pop("CLAUSEBANK_FAULT", None)
    done = subprocess.run([sys.executable, "-m", "clausebank.cli", "--home", str(home), "ingest",
                           str(workdir / "damaged"), "--no-index", "--no-ocr", "--workers", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    errors = {}
    for line in done.stderr.splitlines():
        m = re.match(r"error: (\S+\.pdf): (.+)", line)
        if m:
            errors.setdefault(Path(m.group(1)).stem, []).append(m.group(2))
    stored, partial = set(), []
    if (home / "clausebank.sqlite").exists():
        db = sqlite3.connect(home / "clausebank.sqlite")
        stored = {r[0] for r in db.execute("SELECT doc_id FROM documents")}
        for doc_id, n_art, max_seq in db.execute(
                "SELECT d.doc_id, COUNT(a.id), MAX(a.seq) FROM documents d LEFT JOIN articles a USING (doc_id) "
                "GROUP BY d.doc_id"):
            if n_art and max_seq != n_art - 1:
                partial.append(doc_id)
        partial += [r[0] for r in db.execute(
            "SELECT DISTINCT doc_id FROM articles WHERE doc_id NOT IN (SELECT doc_id FROM documents)")]
        partial += [str(r[0]) for r in db.execute(
            "SELECT article_id FROM clauses WHERE article_id NOT IN (SELECT id FROM articles)")]
        db.close()
    return {"files": [p.stem for p in files], "returncode": done.returncode, "stderr": done.stderr,
            "errors": errors, "stored": stored, "partial": partial}


def test_damaged_pdfs_fail_cleanly_or_store_whole(tmp_path):
    r = run_fuzz_ingest(tmp_path)
    assert "Traceback" not in r["stderr"], r["stderr"][-3000:]
    assert r["returncode"] in (0, 1), r["stderr"][-2000:]
    for stem in r["files"]:
        outcome = (stem in r["stored"], len(r["errors"].get(stem, [])))
        assert outcome in ((True, 0), (False, 1)), (stem, outcome, r["errors"].get(stem))
    assert all("unexpected" not in reason for reasons in r["errors"].values() for reason in reasons), r["errors"]
    assert r["partial"] == []
    assert r["returncode"] == (1 if r["errors"] else 0)
