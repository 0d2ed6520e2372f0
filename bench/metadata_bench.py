"""Metadata accuracy: detected title / kind / parties / date / place against values written by reading.

    python -m bench.metadata_bench [--bench DIR]   # 10 real PDFs (DIR/real) + 7 sample-corpus PDFs
    python -m bench.metadata_bench --tota 60       # plus parties/date on 60 random ToTA PDFs (DIR/tota)

Expected values: bench/metadata_expected.json (real PDFs from ../shared/bench/real, the sample corpus
from corpus/). Title: word-level equality after lower-casing and dropping punctuation; kind exact;
parties set equality; date exact; place word-level equality. The ToTA ground truth carries a short
name (`Panama - Singapore`), not the title, so only parties and date are compared there. Image-only
PDFs are skipped with a note when OCR is not available. The last line is a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"
EXPECTED = ROOT / "bench" / "metadata_expected.json"
FIELDS = ("title", "kind", "parties", "date_signed", "place_signed")


def words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).split()


def same(field: str, got, want) -> bool:
    if field in ("title", "place_signed"):
        return words(got) == words(want)
    if field == "parties":
        return set(got) == set(want)
    return got == want


def detect(path: Path, with_pages: bool = False):
    """Extract, segment and detect metadata the way ingestion does (without the clause analysis)."""
    from pipeline.extract import extract_pages
    from pipeline.metadata import detect_metadata
    from pipeline.segment import build_document

    pages = extract_pages(path, max_pages=10_000)
    doc = detect_metadata(build_document(path, pages), pages)
    return (doc, pages) if with_pages else doc


def resolve(key: str, bench: Path) -> Path:
    group, name = key.split("/", 1)
    return (bench / "real" / name) if group == "real" else (ROOT / "corpus" / name)


def run_expected(bench: Path, only: str | None) -> tuple[dict, list[str], list[str]]:
    from pipeline.extract import ocr_available
    from pipeline.metadata import short_name

    expected = {k: v for k, v in json.loads(EXPECTED.read_text()).items() if not k.startswith("_")}
    hits = {f: 0 for f in FIELDS}
    total = 0
    misses, skipped = [], []
    for key, want in expected.items():
        if only and only not in key:
            continue
        path = resolve(key, bench)
        if not path.exists():
            skipped.append(f"{key}: file not found")
            continue
        if want.get("scanned") and not ocr_available():
            skipped.append(f"{key}: image-only PDF and Tesseract is not installed (no OCR)")
            continue
        t0 = time.perf_counter()
        doc = detect(path)
        total += 1
        for f in FIELDS:
            got = getattr(doc, f)
            if same(f, got, want[f]):
                hits[f] += 1
            else:
                misses.append(f"{key} {f}: got {got!r}, expected {want[f]!r}"
                              + (f"  [evidence: {doc.evidence.get(f, '')[:120]!r}]" if doc.evidence.get(f) else ""))
        print(f"{key:50s} {time.perf_counter() - t0:5.1f}s  {short_name(doc.title, doc.parties, doc.kind)}", flush=True)
    return {f: round(hits[f] / total, 3) if total else None for f in FIELDS} | {"n": total}, misses, skipped


def run_tota(bench: Path, n: int, seed: int = 7) -> tuple[dict, list[str]]:
    """Parties (set) and date on a random sample of ToTA PDFs, against their ground-truth JSON. ToTA covers
    print `Signed on <ISO date>`, so the date is also scored from the text with the cover page left out
    (`date_body`: the closing formula alone)."""
    from pipeline.metadata import find_signature

    files = sorted((bench / "tota").glob("pta_*.pdf"), key=lambda p: int(p.stem.split("_")[1]))
    sample = random.Random(seed).sample(files, min(n, len(files)))
    hits = {"parties": 0, "date_signed": 0, "date_body": 0}
    misses = []
    for path in sample:
        truth = json.loads(path.with_suffix(".json").read_text())
        doc, pages = detect(path, with_pages=True)
        got = {"parties": doc.parties, "date_signed": doc.date_signed, "date_body": find_signature(pages[1:])[0]}
        for f in hits:
            want = truth["date_signed"] if f == "date_body" else truth[f]
            if same(f, got[f], want):
                hits[f] += 1
            else:
                misses.append(f"{path.stem} {f}: got {got[f]!r}, expected {want!r}")
    return {f: round(hits[f] / len(sample), 3) for f in hits} | {"n": len(sample)}, misses


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help="the shared benchmark folder")
    ap.add_argument("--only", help="only expected entries whose key contains this")
    ap.add_argument("--tota", type=int, default=0, help="also score parties/date on N random ToTA PDFs")
    ap.add_argument("--no-expected", action="store_true", help="skip the 17 read PDFs")
    args = ap.parse_args()
    summary: dict = {}
    if not args.no_expected:
        acc, misses, skipped = run_expected(args.bench, args.only)
        print("\naccuracy (real + sample corpus):", json.dumps(acc))
        for line in misses:
            print("  MISS", line)
        for line in skipped:
            print("  SKIP", line)
        summary["expected"] = acc
        summary["skipped"] = len(skipped)
    if args.tota and not (args.bench / "tota").exists():
        print(f"ToTA sample skipped: {args.bench / 'tota'} not found", file=sys.stderr)
    elif args.tota:
        acc, misses = run_tota(args.bench, args.tota)
        print(f"\nToTA sample (parties, date): {json.dumps(acc)}")
        for line in misses:
            print("  MISS", line)
        summary["tota"] = acc
    print(json.dumps({"metadata_bench": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
