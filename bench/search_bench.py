"""Retrieval benchmark: `python -m bench.search_bench HOME [--bench DIR] [--out DIR] [--no-rag]`.

HOME is a store with bench/tota + bench/mou ingested (`run_bench` leaves one in bench/results/home).
In one run: index build (embedding throughput side by side with raw SentenceTransformer.encode),
clausebank hybrid search, the BM25 reference on ground-truth articles (score.py bm25), and a
generic-RAG baseline (fixed 1,000-character chunks of the extracted text, same MiniLM, FAISS, no
structure); nDCG@10 of each; search latency p50/p95 warm and resident memory, measured in a fresh
search-only process (`bench.search_latency`).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def score_retrieval(bench: Path, gt: Path, hits: Path) -> dict:
    out = subprocess.run([sys.executable, str(bench / "score.py"), "retrieval", "--gt", str(gt), "--queries",
                          str(bench / "queries_dev.json"), "--pred", str(hits)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def rag_baseline(store, embedder, queries: list[dict], out: Path) -> None:
    """Fixed 1,000-character chunks over each document's extracted text; a chunk cites the article
    it overlaps most; dense retrieval only, no titles or chapters."""
    import faiss

    chunks, cite, parties = [], [], {}
    for d in store.documents():
        parties[d.doc_id] = set(d.parties)
        text, spans = "", []
        for a in store.articles(d.doc_id):
            start = len(text)
            text += a.text + " "
            spans.append((start, len(text), a.article_number))
        for c0 in range(0, len(text), 1000):
            c1 = c0 + 1000
            best = max(spans, key=lambda s: min(c1, s[1]) - max(c0, s[0]))
            chunks.append(text[c0:c1])
            cite.append((d.doc_id, best[2]))
    vecs = embedder.encode(chunks)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    with out.open("w") as fh:
        for q in queries:
            party = (q.get("filters") or {}).get("party")
            _, ids = index.search(embedder.encode([q["text"]]), 400)
            hits, seen = [], set()
            for i in ids[0]:
                doc, num = cite[i]
                if (party and party not in parties[doc]) or (doc, num) in seen or not num:
                    continue
                seen.add((doc, num))
                hits.append({"doc": doc, "article_number": num})
            fh.write(json.dumps({"qid": q["qid"], "hits": hits[:50]}) + "\n")
    return len(chunks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--no-rag", action="store_true", help="skip the generic-RAG baseline (slow: embeds every chunk)")
    a = ap.parse_args()
    if not (a.bench / "score.py").exists():
        print(f"benchmark skipped: {a.bench} not found", file=sys.stderr)
        return 0
    from pipeline.embed import Embedder
    from pipeline.index import sync_index
    from pipeline.store import Store

    a.out.mkdir(parents=True, exist_ok=True)
    gt = a.out / "gt"
    gt.mkdir(exist_ok=True)
    for f in list((a.bench / "tota").glob("*.json")) + list((a.bench / "mou").glob("*.json")):
        if not (gt / f.name).exists():
            (gt / f.name).symlink_to(f)
    queries = json.loads((a.bench / "queries_dev.json").read_text())
    results: dict = {"command": "python -m bench.search_bench " + " ".join(sys.argv[1:])}
    store = Store(a.home)
    embedder = Embedder(a.home)

    # embedding throughput: raw encode vs the cached, batched embedder, same texts, same run
    sample = [r[0] for r in store.db.execute("SELECT text FROM articles ORDER BY id LIMIT 600")]
    t = time.perf_counter()
    embedder.model.encode([s[:1600] for s in sample], batch_size=64, normalize_embeddings=True)
    raw = len(sample) / (time.perf_counter() - t)
    fresh = Embedder(None)
    t = time.perf_counter()
    fresh.encode(sample)
    ours = len(sample) / (time.perf_counter() - t)
    results["embedding"] = {"texts": len(sample), "raw_encode_per_s": round(raw, 1), "embedder_per_s": round(ours, 1),
                            "ratio": round(ours / raw, 3)}
    t = time.perf_counter()
    built = sync_index(store, embedder)
    results["index_build"] = {**built, "seconds": round(time.perf_counter() - t, 1), "embedded": embedder.encoded,
                              "size_mb": round(sum((a.home / f).stat().st_size for f in
                                                   ("articles.faiss", "headings.faiss")) / 2**20, 1)}
    again = Embedder(a.home)
    sync_index(store, again)
    results["index_build"]["re_embedded_on_second_sync"] = again.encoded

    # latency and memory in a fresh process that only searches (this one also built the index)
    hits_path = a.out / "hits.jsonl"
    latency = subprocess.run([sys.executable, "-m", "bench.search_latency", str(a.home),
                              str(a.bench / "queries_dev.json"), "--hits", str(hits_path), "--profile"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    results["search_process"] = json.loads(latency.strip().splitlines()[-1])
    results["clausebank"] = score_retrieval(a.bench, gt, hits_path)
    bm25 = subprocess.run([sys.executable, str(a.bench / "score.py"), "bm25", "--gt", str(gt), "--queries",
                           str(a.bench / "queries_dev.json"), "--out", str(a.out / "bm25.jsonl")],
                          capture_output=True, text=True, check=True).stdout
    results["bm25_ground_truth"] = json.loads(bm25.strip().splitlines()[-1])
    if not a.no_rag:
        t = time.perf_counter()
        # its own vector cache, so the chunks do not fill the home's and a re-run is quick
        n = rag_baseline(store, Embedder(a.out / "rag-cache"), queries, a.out / "rag.jsonl")
        results["generic_rag"] = {**score_retrieval(a.bench, gt, a.out / "rag.jsonl"), "chunks": n,
                                  "seconds": round(time.perf_counter() - t, 1)}
    (a.out / "search.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
