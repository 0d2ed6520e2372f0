"""One throughput run in its own process tree: `python -m bench.throughput plain|structured FILES...`.

Prints a JSON line: pages, seconds, pages/s, peak RSS (MB) of the worker processes.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def plain_pages(path: str) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def structured_pages(path: str) -> int:
    from pipeline.ingest import parse_pdf

    return parse_pdf(path).pages


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["plain", "structured"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    fn = plain_pages if a.mode == "plain" else structured_pages
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        pages = sum(pool.map(fn, a.files))
    elapsed = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"mode": a.mode, "docs": len(a.files), "pages": pages, "seconds": round(elapsed, 1),
                      "pages_per_s": round(pages / elapsed, 2), "peak_worker_rss_mb": round(peak_mb)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
