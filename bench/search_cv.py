"""Search fusion chosen by cross-validation over two query sets, scored on the queries it was not tuned on.

    python -m bench.search_cv pool HOME [--systems ...] [--depth 20]  # how many pooled articles are unjudged
    python -m bench.search_cv show HOME [QID...] [--systems ...] [--depth 20] [--all]  # print them to read and grade
    python -m bench.search_cv eval HOME [--folds 5]  # systems, cross-validation, results (bench/results/search_cv/)

`--systems` takes names of NAMED systems or a configuration as JSON ({"k": 10, "weights": {...}});
`--allow-stale` searches a store whose vector index is behind (BM25 pools while it is being built).

Query sets: the 12 shared dev queries (queries_dev.json, relevance from score.py's heading rules,
binary) and our own plain-language queries (bench/queries_own.json, graded 0/1/2 by reading pooled
candidates: bench/qrels_own.jsonl). On ours, unjudged hits count as 0 and judged@10 says how many
of the top 10 were judged. A system is a weighted reciprocal-rank fusion of the Searcher's rankers
(`pipeline.search.FUSION_WEIGHTS`, `RRF_K`); BM25 alone and dense alone are fusions of one ranker.
HOME is used read-only.
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parent.parent
# beside the repo, or beside the folder of worktrees
DEFAULT_BENCH = next((p for p in (ROOT.parent / "shared" / "bench", ROOT.parent.parent / "shared" / "bench")
                      if p.exists()), ROOT.parent / "shared" / "bench")
OWN_QUERIES = ROOT / "bench" / "queries_own.json"
OWN_QRELS = ROOT / "bench" / "qrels_own.jsonl"
OUT = ROOT / "bench" / "results" / "search_cv"
RANKERS = ("bm25_text", "bm25_heading", "dense_text", "dense_heading", "topics")
K = 10  # nDCG@10
POOL_DEPTH = 20


def system(k: int = 60, **weights: float) -> dict:
    return {"k": k, "weights": {r: float(weights.get(r, 0.0)) for r in RANKERS}}


NAMED = {
    "bm25 alone": system(bm25_text=1),
    "dense alone": system(dense_text=1),
    "hybrid before (5 rankers, K=60)": system(60, **dict.fromkeys(RANKERS, 1)),
    "RRF no topic ranker": system(60, bm25_text=1, bm25_heading=1, dense_text=1, dense_heading=1),
    "RRF no heading rankers": system(60, bm25_text=1, dense_text=1, topics=1),
    "RRF text only, K=60": system(60, bm25_text=1, dense_text=1),
    "RRF text only, K=10": system(10, bm25_text=1, dense_text=1),
    "RRF text only, K=30": system(30, bm25_text=1, dense_text=1),
    "RRF text only, K=100": system(100, bm25_text=1, dense_text=1),
    "RRF text, dense x2, K=60": system(60, bm25_text=1, dense_text=2),
    # what the product ships (pipeline.search.FUSION_WEIGHTS, RRF_K: chosen by CV on the 33-document store)
    "product (session 3 CV)": system(10, bm25_text=0.5, dense_text=1, dense_heading=0.25, topics=1),
}
POOLED = ("bm25 alone", "dense alone", "hybrid before (5 rankers, K=60)")


def grid() -> list[dict]:
    """Weighted RRF configurations; dense_text fixed at 1 (RRF is invariant to scaling all weights),
    simplest first so that ties go to fewer rankers."""
    configs = [NAMED["bm25 alone"]]
    for bt, bh, dh, tp, k in itertools.product((0, 0.25, 0.5, 1, 2), (0, 0.25, 0.5, 1), (0, 0.25, 0.5, 1),
                                               (0, 0.25, 0.5, 1), (10, 20, 30, 60, 100)):
        configs.append(system(k, bm25_text=bt, bm25_heading=bh, dense_text=1, dense_heading=dh, topics=tp))
    return sorted(configs, key=lambda c: sum(w > 0 for w in c["weights"].values()))


def label(config: dict) -> str:
    parts = [f"{r}={w:g}" for r, w in config["weights"].items() if w]
    return f"K={config['k']} " + " ".join(parts)


# ---- rankings, fusion


def load_queries(bench: Path) -> tuple[list[dict], list[dict]]:
    return json.loads((bench / "queries_dev.json").read_text()), json.loads(OWN_QUERIES.read_text())


def ranker_lists(searcher, query: dict) -> dict[str, list[int]]:
    """Every ranker's list of article ids, as `Searcher.search` computes them before fusing."""
    from pipeline.search import DEPTH, Filters, _query_terms

    allowed_list = searcher.allowed_ids(Filters(**(query.get("filters") or {})))
    allowed = set(allowed_list) if allowed_list is not None else None
    terms = _query_terms(query["text"])
    # both lists whatever the product's weights (`_lexical_rankings` skips headings when their weight is 0)
    bm25_text, bm25_heading = searcher._bm25(terms, None, allowed), searcher._bm25(terms, "article_title chapter_title",
                                                                                 allowed)
    qvec = searcher.embedder.encode([query["text"]])[0]
    return {
        "bm25_text": bm25_text, "bm25_heading": bm25_heading,
        "dense_text": [i for i, _ in searcher.indexes["body"].search(qvec, DEPTH, allowed_list)],
        "dense_heading": [i for i, _ in searcher.indexes["heading"].search(qvec, DEPTH, allowed_list)],
        "topics": searcher._topic_ranking(query["text"], bm25_text, allowed),
    }


TABLE_IDS: set[int] = set()  # annex tables of the store under test: left out after fusing, as Searcher does


def fuse(rankings: dict[str, list[int]], config: dict, top: int = 50) -> list[int]:
    """Weighted RRF in the Searcher's ranker order (same sums, same tie order as `Searcher.search`)."""
    fused: dict[int, float] = {}
    for name in RANKERS:
        if weight := config["weights"][name]:
            for rank, aid in enumerate(rankings[name]):
                fused[aid] = fused.get(aid, 0.0) + weight / (config["k"] + rank + 1)
    kept = [(a, v) for a, v in fused.items() if a not in TABLE_IDS]
    return [a for a, _ in sorted(kept, key=lambda kv: -kv[1])[:top]]


class Bench:
    """Rankings of every query computed once, article keys, and both relevance sources."""

    def __init__(self, home: Path, bench: Path, allow_stale: bool = False):
        from pipeline.search import Searcher
        from pipeline.store import Store

        self.bench = bench
        self.store = Store(home)
        self.searcher = Searcher(self.store, allow_stale=allow_stale)
        TABLE_IDS.clear()
        TABLE_IDS.update(self.searcher.table_ids)
        self.dev, self.own = load_queries(bench)
        self.queries = {q["qid"]: q for q in self.dev + self.own}
        self.rankings = {qid: ranker_lists(self.searcher, q) for qid, q in self.queries.items()}
        self.keys = {r["id"]: (r["doc_id"], r["article_number"]) for r in
                     self.store.db.execute("SELECT id, doc_id, article_number FROM articles")}
        self.score = _load_score(bench)
        self.docs = {r[0] for r in self.store.db.execute("SELECT doc_id FROM documents")}
        self.gt = gt_dir(bench, self.docs)
        gt = self.score.load_gt(str(self.gt))
        self.dev_rel = {q["qid"]: self.score.relevant(gt, q) for q in self.dev}
        # score.py skips a query with nothing relevant in the ground truth given to it; so do we
        self.skipped = [qid for qid, rel in self.dev_rel.items() if not rel]
        self.dev = [q for q in self.dev if q["qid"] not in self.skipped]
        for qid in self.skipped:
            del self.queries[qid], self.rankings[qid], self.dev_rel[qid]
        self.qrels = load_qrels()

    def ranked_keys(self, qid: str, config: dict, top: int = 50) -> list[tuple[str, str]]:
        """(doc, article number) of the fused list, first occurrence of each key kept (as score.py does)."""
        seen, out = set(), []
        for aid in fuse(self.rankings[qid], config, top):
            key = self.keys[aid]
            if key not in seen:
                seen.add(key)
                out.append(key)
        return out

    def ndcg(self, qid: str, config: dict) -> float:
        ranked = self.ranked_keys(qid, config, 30)[:K]
        if qid in self.dev_rel:
            rel = self.dev_rel[qid]
            key = self.score.num_key
            gains = [1.0 if (d, key(n)) in rel else 0.0 for d, n in ranked]
            ideal = [1.0] * min(K, len(rel))
        else:
            grades = self.qrels.get(qid, {})
            gains = [float(grades.get(k, 0)) for k in ranked]
            # judgments of articles this store does not hold (pooled over a larger store) are not ideal here
            ideal = sorted((float(g) for (d, _), g in grades.items() if d in self.docs), reverse=True)[:K]
        idcg = dcg(ideal)
        return dcg(gains) / idcg if idcg else 0.0

    def judged(self, qid: str, config: dict) -> float:
        ranked = self.ranked_keys(qid, config, 30)[:K]
        return sum(k in self.qrels.get(qid, {}) for k in ranked) / max(len(ranked), 1)


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def _load_score(bench: Path):
    spec = importlib.util.spec_from_file_location("bench_score", bench / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gt_dir(bench: Path, docs: set[str]) -> Path:
    """Ground truth (tota + mou) of the documents in the store only, as a folder of symlinks: in a
    store holding a sample of the bench, articles it cannot hold are not counted as relevant."""
    gt = OUT / f"gt_{len(docs)}"
    gt.mkdir(parents=True, exist_ok=True)
    for f in [*(bench / "tota").glob("*.json"), *(bench / "mou").glob("*.json")]:
        if f.stem in docs and not (gt / f.name).exists():
            (gt / f.name).symlink_to(f)
    return gt


def load_qrels() -> dict[str, dict[tuple[str, str], int]]:
    qrels: dict[str, dict[tuple[str, str], int]] = {}
    if OWN_QRELS.exists():
        for line in OWN_QRELS.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                qrels.setdefault(r["qid"], {})[(r["doc"], r["article_number"])] = r["grade"]
    return qrels


# ---- pooling and reading


def pool(b: Bench, qid: str, systems: list[str], depth: int = POOL_DEPTH) -> list[tuple[str, str]]:
    """Union of the top `depth` of each system, in round-robin order."""
    lists = [b.ranked_keys(qid, NAMED[s] if s in NAMED else json.loads(s), 60)[:depth] for s in systems]
    out: list[tuple[str, str]] = []
    for rank in range(depth):
        for lst in lists:
            if rank < len(lst) and lst[rank] not in out:
                out.append(lst[rank])
    return out


def show(b: Bench, qids: list[str], systems: list[str], show_all: bool, chars: int, depth: int) -> None:
    """Print the pooled articles of each query that are not judged yet: headings and text to read."""
    for qid in qids:
        q = b.queries[qid]
        judged = b.qrels.get(qid, {})
        todo = [k for k in pool(b, qid, systems, depth) if show_all or k not in judged]
        print(f"\n######## {qid} {q['text']!r} {q.get('filters') or ''}  ({len(todo)} to read)")
        for doc, num in todo:
            # a document that numbers articles per chapter holds several under one key: show them all,
            # the key is graded as a whole (score.py and the qrels key on document and number)
            rows = b.store.db.execute("SELECT chapter_title, article_title, text FROM articles WHERE doc_id = ? AND "
                                      "article_number = ? ORDER BY seq", (doc, num)).fetchall()
            for n, r in enumerate(rows):
                text = " ".join(r["text"].split())
                print(f"{'---' if n == 0 else '   +'} {doc}|{num} [{r['chapter_title'][:60]}] {r['article_title']!r}"
                      f"{' grade=' + str(judged[(doc, num)]) if (doc, num) in judged else ''}\n{text[:chars]}"
                      f"{' …(' + str(len(text)) + ')' if len(text) > chars else ''}{later_passage(text, q['text'], chars)}")


def later_passage(text: str, query: str, start: int, width: int = 200) -> str:
    """The passage past the first `start` characters where the query's words (by 5-letter stems)
    are densest: what a reader would scroll to in a long article."""
    from pipeline.search import _query_terms

    stems = {t[:5] for t in _query_terms(query) if len(t) > 3}
    hits = [m.start() for m in re.finditer(r"\w+", text[start:]) if m.group(0).lower()[:5] in stems]
    if len(hits) < 2:
        return ""
    best = max(hits, key=lambda h: sum(h <= x < h + width for x in hits))
    at = start + max(0, best - 40)
    return f"\n    [..at {at}: {text[at:at + width]}]"


# ---- cross-validation


def folds(qids: list[str], n: int, seed: int = 11) -> list[list[str]]:
    """n folds, each query set spread evenly across them."""
    out: list[list[str]] = [[] for _ in range(n)]
    i = 0
    for group in (sorted(q for q in qids if q.startswith("d")), sorted(q for q in qids if not q.startswith("d"))):
        random.Random(seed).shuffle(group)
        for qid in group:
            out[i % n].append(qid)
            i += 1
    return out


def objective(scores: dict[str, float], qids: list[str]) -> float:
    """Mean of the per-set means, so that 12 dev queries weigh as much as our larger set."""
    sets = [[scores[q] for q in qids if q.startswith(p)] for p in ("d", "o")]
    sets = [s for s in sets if s]
    return sum(sum(s) / len(s) for s in sets) / len(sets)


def choose(table: list[dict[str, float]], configs: list[dict], qids: list[str]) -> int:
    best = max(range(len(configs)), key=lambda i: (round(objective(table[i], qids), 6), -i))
    return best


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def cross_validate(b: Bench, nfolds: int) -> dict:
    configs = grid()
    qids = list(b.queries)
    table = [{q: b.ndcg(q, c) for q in qids} for c in configs]
    baselines = {name: {q: b.ndcg(q, NAMED[name]) for q in qids} for name in POOLED}
    schemes = {f"{nfolds}-fold over all {len(qids)} queries": [
        ([q for q in qids if q not in test], test) for test in folds(qids, nfolds)]}
    dev_q, own_q = [q for q in qids if q.startswith("d")], [q for q in qids if q.startswith("o")]
    schemes["tuned on dev, tested on ours"] = [(dev_q, own_q)]
    schemes["tuned on ours, tested on dev"] = [(own_q, dev_q)]
    report = {}
    for scheme, splits in schemes.items():
        held: dict[str, float] = {}
        judged: list[float] = []
        chosen = []
        for train, test in splits:
            i = choose(table, configs, train)
            chosen.append(label(configs[i]))
            held.update({q: table[i][q] for q in test})
            judged += [b.judged(q, configs[i]) for q in test if q.startswith("o")]
        tested = list(held)
        row = {"chosen": chosen, "queries": len(tested), "own judged@10 of cv fusion": round(mean(judged), 3),
               # paired per query against dense alone, the stronger single ranker: wins/ties/losses
               "vs dense alone w/t/l": [sum((held[q] > baselines["dense alone"][q] + 1e-9) for q in tested),
                                        sum(abs(held[q] - baselines["dense alone"][q]) <= 1e-9 for q in tested),
                                        sum((held[q] < baselines["dense alone"][q] - 1e-9) for q in tested)]}
        for part, sel in (("all", tested), ("dev", [q for q in tested if q.startswith("d")]),
                          ("own", [q for q in tested if q.startswith("o")])):
            if sel:
                row[part] = {"cv fusion": round(mean([held[q] for q in sel]), 4),
                             **{n: round(mean([baselines[n][q] for q in sel]), 4) for n in POOLED}}
        report[scheme] = row
    final = configs[choose(table, configs, qids)]
    return {"grid": len(configs), "schemes": report, "final": final, "final_label": label(final)}


# ---- commands


def write_dev_hits(b: Bench, config: dict, path: Path) -> None:
    with path.open("w") as fh:
        for q in b.dev:
            hits = [{"doc": d, "article_number": n} for d, n in b.ranked_keys(q["qid"], config, 50)]
            fh.write(json.dumps({"qid": q["qid"], "hits": hits}) + "\n")


def score_dev(b: Bench, path: Path) -> dict:
    out = subprocess.run([sys.executable, str(b.bench / "score.py"), "retrieval", "--gt", str(b.gt),
                          "--queries", str(b.bench / "queries_dev.json"), "--pred", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def check_searcher_matches(b: Bench, config: dict) -> None:
    """The offline fusion must give what `Searcher.search` gives with the same weights."""
    import pipeline.search as search

    saved = dict(search.FUSION_WEIGHTS), search.RRF_K
    search.FUSION_WEIGHTS.update(config["weights"])
    search.RRF_K = config["k"]
    try:
        for qid, q in b.queries.items():
            hits = b.searcher.search(q["text"], search.Filters(**(q.get("filters") or {})), top=10)
            got = [(h.doc_id, h.article_number) for h in hits]
            want = [b.keys[a] for a in fuse(b.rankings[qid], config, 10)]
            assert got == want, f"{qid}: Searcher.search {got[:3]} != offline fusion {want[:3]}"
    finally:
        search.FUSION_WEIGHTS.update(saved[0])
        search.RRF_K = saved[1]


def cmd_eval(b: Bench, nfolds: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    cv = cross_validate(b, nfolds)
    systems = {**NAMED, f"chosen (all {len(b.queries)} queries, in-sample)": cv["final"]}
    rows = {}
    for name, config in systems.items():
        path = OUT / f"dev_{''.join(c if c.isalnum() else '_' for c in name)}.jsonl"
        write_dev_hits(b, config, path)
        dev = score_dev(b, path)
        ours = [b.ndcg(q["qid"], config) for q in b.own]
        rows[name] = {"config": label(config), "dev ndcg@10 (score.py)": dev["ndcg@10"],
                      "own ndcg@10": round(mean(ours), 4),
                      "own judged@10": round(mean([b.judged(q["qid"], config) for q in b.own]), 3)}
        inproc = mean([b.ndcg(q["qid"], config) for q in b.dev])
        assert abs(inproc - dev["ndcg@10"]) < 1e-3, (name, inproc, dev)
    check_searcher_matches(b, NAMED["hybrid before (5 rankers, K=60)"])
    check_searcher_matches(b, cv["final"])
    return {"command": "python -m bench.search_cv " + " ".join(sys.argv[1:]), "store": str(b.store.home),
            "store_counts": b.store.counts(), "dev_skipped_nothing_relevant": b.skipped, "systems": rows, "cv": cv}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("pool", "show", "eval"))
    ap.add_argument("home", type=Path)
    ap.add_argument("qids", nargs="*")
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--allow-stale", action="store_true", help="a store whose vectors are not all indexed yet")
    ap.add_argument("--all", action="store_true", help="show: judged articles too")
    ap.add_argument("--depth", type=int, default=POOL_DEPTH, help="pool/show: top N of each system")
    ap.add_argument("--chars", type=int, default=700, help="show: characters of text per article")
    ap.add_argument("--systems", nargs="*", default=list(POOLED),
                    help="pool/show: systems pooled (names from NAMED, or a config as JSON)")
    a = ap.parse_args()
    if not (a.bench / "score.py").exists():
        print(f"benchmark skipped: {a.bench} not found", file=sys.stderr)
        return 0
    b = Bench(a.home, a.bench, a.allow_stale)
    if a.cmd == "pool":
        sizes = {q["qid"]: len(pool(b, q["qid"], a.systems, a.depth)) for q in b.own}
        unjudged = {qid: sum(k not in b.qrels.get(qid, {}) for k in pool(b, qid, a.systems, a.depth)) for qid in sizes}
        print(json.dumps({"pooled": sum(sizes.values()), "unjudged": sum(unjudged.values()), "per_query": unjudged}))
    elif a.cmd == "show":
        show(b, a.qids or [q["qid"] for q in b.own], a.systems, a.all, a.chars, a.depth)
    else:
        result = cmd_eval(b, a.folds)
        (OUT / "search_cv.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
