"""Benchmark harness: extraction quality and throughput against ../shared/bench.

    python -m bench.run_bench [--bench DIR] [--out bench/results] [--sample N] [--smoke]

1. Throughput, side by side in one run, on the same sample of PDFs, process-parallel on 2 cores:
   plain pdfplumber `page.extract_text()` versus clausebank's structured extraction
   (extract + segment + metadata); pages/s and peak memory of each.
2. Quality: every PDF in bench/tota and bench/mou ingested into a fresh store, the articles dumped
   as JSONL, then `score.py extraction` and `score.py topics`; bench/real ingested and `score.py spot`.
3. Analysis throughput (clauses/s) over the stored clauses, and obligation-strength accuracy on
   tests/data/strength_labelled.jsonl.
The ground truth is only read by score.py. Results go to OUT/extraction.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def _run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def throughput(files: list[Path], mode: str, workers: int) -> dict:
    """Run one extraction mode in its own process tree and report pages/s and peak RSS."""
    cmd = [sys.executable, "-m", "bench.throughput", mode, "--workers", str(workers), *map(str, files)]
    return _run_json(cmd)


def score(bench: Path, what: str, *args: str) -> tuple[dict, str]:
    out = subprocess.run([sys.executable, str(bench / "score.py"), what, *args], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), out


def ingest(home: Path, paths: list[Path], workers: int) -> tuple[float, dict]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "clausebank.cli", "--home", str(home), "ingest", "--no-index",
                           "--workers", str(workers), *map(str, paths)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, {"exit_code": proc.returncode, "log_tail": proc.stderr.strip().splitlines()[-8:]}


def dump_articles(home: Path, out: Path) -> None:
    with out.open("w") as fh:
        subprocess.run([sys.executable, "-m", "clausebank.cli", "--home", str(home), "articles", "--jsonl"],
                       check=True, stdout=fh)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--sample", type=int, default=40, help="PDFs in the side-by-side throughput run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="a few documents only (for the test suite)")
    ap.add_argument("--skip-throughput", action="store_true")
    a = ap.parse_args()
    if not (a.bench / "score.py").exists():
        print(f"benchmark skipped: {a.bench} not found (it lives in ../shared/bench)", file=sys.stderr)
        return 0
    a.out.mkdir(parents=True, exist_ok=True)
    tota = sorted((a.bench / "tota").glob("*.pdf"), key=lambda p: int(p.stem.split("_")[1]))
    mou = sorted((a.bench / "mou").glob("*.pdf"))
    real = sorted((a.bench / "real").glob("*.pdf"))
    if a.smoke:
        tota, mou, real = tota[:3], mou[:1], []
    results: dict = {"command": "python -m bench.run_bench " + " ".join(sys.argv[1:]),
                     "date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}

    if not a.skip_throughput:
        step = max(1, len(tota) // a.sample)
        sample = tota[::step][: a.sample]
        results["throughput_sample_docs"] = len(sample)
        plain = throughput(sample, "plain", a.workers)
        ours = throughput(sample, "structured", a.workers)
        results["throughput"] = {"plain_extract_text": plain, "clausebank": ours,
                                 "ratio": round(ours["pages_per_s"] / plain["pages_per_s"], 3)}
        print(json.dumps(results["throughput"]), file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="clausebank-bench-") as tmp:
        tmp = Path(tmp)
        gt = tmp / "gt"
        gt.mkdir()
        home = a.out / ("home_smoke" if a.smoke else "home")  # kept for `python -m bench.search_bench`
        shutil.rmtree(home, ignore_errors=True)
        for pdf in tota + mou:  # score.py reads one folder of ground truth: link both sets into it
            (gt / f"{pdf.stem}.json").symlink_to(pdf.with_suffix(".json"))
        elapsed, log = ingest(home, tota + mou, 1 if a.smoke else a.workers)  # smoke: the harness, not speed
        articles = a.out / "articles.jsonl"
        dump_articles(home, articles)
        ext, ext_out = score(a.bench, "extraction", "--gt", str(gt), "--pred", str(articles))
        results["ingest"] = {"docs": len(tota) + len(mou), "seconds": round(elapsed, 1), **log}
        results["extraction"] = ext
        results["topics"], _ = score(a.bench, "topics", "--gt", str(gt), "--pred", str(articles))
        if not a.smoke:  # the suite checks strength on its own labels (test_analyse); this takes half a minute
            results["analysis_throughput"] = _run_json([sys.executable, "-m", "bench.analysis_speed",
                                                        str(home), "--workers", str(a.workers)])
        results["extraction_weakest"] = [ln for ln in ext_out.splitlines() if ln.startswith("weakest")]
        if real:
            elapsed, log = ingest(tmp / "real", real, a.workers)
            real_articles = a.out / "articles_real.jsonl"
            dump_articles(tmp / "real", real_articles)
            spot, spot_out = score(a.bench, "spot", "--spec", str(a.bench / "real" / "spot.json"),
                                   "--pred", str(real_articles))
            results["real"] = {"docs": len(real), "seconds": round(elapsed, 1), **log}
            results["spot"] = spot
            results["spot_failures"] = spot_out.strip().splitlines()[:-1][:30]
    name = "extraction_smoke.json" if a.smoke else "extraction.json"
    (a.out / name).write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
