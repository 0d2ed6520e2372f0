"""Search latency and memory in a fresh, search-only process (what a negotiator's search process holds).

    python -m bench.search_latency HOME QUERIES_JSON [--hits OUT.jsonl] [--rounds 3] [--profile]

Opens the store, the FAISS indexes and the model once, runs every query once to warm up (writing its
top-50 hits to --hits in the bench format), then times `rounds` passes over all queries at top 10,
query embedding included. Prints one JSON line: p50/p95 in ms, resident memory now and at peak, and
with --profile the median time of each part of a search.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def profile_parts(searcher, queries: list[dict]) -> dict[str, float]:
    """Median ms of each part of a search, run one after the other (in `search` the FTS5 rankers
    overlap the query embedding and the FAISS searches)."""
    from pipeline.search import Filters, _query_terms

    parts: dict[str, list[float]] = {}

    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        parts.setdefault(name, []).append((time.perf_counter() - t) * 1000)
        return out

    for q in queries:
        f = Filters(**(q.get("filters") or {}))
        allowed_list = timed("filters", lambda: searcher.allowed_ids(f))
        allowed = set(allowed_list) if allowed_list is not None else None
        terms = _query_terms(q["text"])
        qvec = timed("query embedding", lambda: searcher.embedder.encode([q["text"]])[0])
        lexical = timed("bm25 body + headings (worker thread)",
                        lambda: searcher._lexical_pool.submit(searcher._lexical_rankings, terms, allowed).result())[0]
        timed("dense body", lambda: searcher.indexes["body"].search(qvec, 200, allowed_list))
        timed("dense headings", lambda: searcher.indexes["heading"].search(qvec, 200, allowed_list))
        timed("topic ranker", lambda: searcher._topic_ranking(q["text"], lexical, allowed))
        timed("hits (snippets, citations)", lambda: searcher.hits([(i, 1.0) for i in lexical[:10]], q["text"]))
    return {k: round(statistics.median(v), 2) for k, v in parts.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--hits", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    from pipeline.search import Filters, Searcher
    from pipeline.store import Store

    queries = json.loads(a.queries.read_text())
    store = Store(a.home)
    searcher = Searcher(store)
    hits_out = a.hits.open("w") if a.hits else None
    for q in queries:  # warm-up pass, and the hits that are scored
        hits = searcher.search(q["text"], Filters(**(q.get("filters") or {})), top=50)
        if hits_out:
            hits_out.write(json.dumps({"qid": q["qid"], "hits": [
                {"doc": h.doc_id, "article_number": h.article_number} for h in hits]}) + "\n")
    if hits_out:
        hits_out.close()
    latencies = []
    for _ in range(a.rounds):
        for q in queries:
            f = Filters(**(q.get("filters") or {}))
            t = time.perf_counter()
            searcher.search(q["text"], f, top=10)
            latencies.append((time.perf_counter() - t) * 1000)
    out = {"queries": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
           "p95_ms": round(percentile(latencies, 0.95), 1), "rss_mb": round(_rss_mb()),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if a.profile:
        out["parts_median_ms"] = profile_parts(searcher, queries)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
