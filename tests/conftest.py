"""Shared fixtures: offline environment, a temporary Prefect home, and real PDF files built on the fly."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "TQDM_DISABLE": "1"}.items():
    os.environ.setdefault(_k, _v)
if "PREFECT_HOME" not in os.environ:  # a Prefect home of this test session's own, removed when it ends
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="clausebank-prefect-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
BENCH = ROOT.parent / "shared" / "bench"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    pdfs = sorted(CORPUS.glob("*.pdf"))
    if not pdfs:
        pytest.fail("the sample corpus PDFs are missing: run `python corpus/build_corpus.py`")
    return CORPUS


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    if not (BENCH / "score.py").exists():
        pytest.skip(f"benchmark data not found at {BENCH} (../shared/bench); skipping bench checks")
    return BENCH
