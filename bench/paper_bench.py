"""Position-paper build time: `python -m bench.paper_bench HOME [--brief FILE]`.

Builds the example brief's paper twice with one warm Searcher (the second build is the figure:
the first also loads the model), then counts its pages with LibreOffice when installed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home", type=Path)
    ap.add_argument("--brief", type=Path, default=ROOT / "corpus" / "briefs" / "india_korea_digital.toml")
    a = ap.parse_args()
    from pipeline.compose import compose_paper, load_brief
    from pipeline.search import Searcher
    from pipeline.store import Store

    brief = load_brief(a.brief)
    with Store(a.home) as store, tempfile.TemporaryDirectory() as tmp:
        searcher = Searcher(store)
        out = Path(tmp) / "paper.docx"
        times = []
        for _ in range(3):
            t = time.perf_counter()
            compose_paper(brief, searcher, out)
            times.append(round(time.perf_counter() - t, 2))
        pages = None
        if shutil.which("soffice"):
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp, str(out)],
                           check=True, capture_output=True, timeout=300)
            import pdfplumber

            with pdfplumber.open(Path(tmp) / "paper.pdf") as pdf:
                pages = len(pdf.pages)
        print(json.dumps({"build_seconds": times, "warm_build_seconds": min(times[1:]), "pages": pages,
                          "size_kb": round(out.stat().st_size / 1024)}))


if __name__ == "__main__":
    main()
