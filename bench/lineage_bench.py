"""Clause lineage on the ToTA bench: family recall, modality-change detection, latency.

    python -m bench.lineage_bench recall  HOME [--families bench/lineage_families.json]
    python -m bench.lineage_bench copies  [--sample 150] [--seed 7]
    python -m bench.lineage_bench latency HOME [--lookups 50] [--partner KOR]
    python -m bench.lineage_bench sync    HOME
    python -m bench.lineage_bench subset  HOME DEST [--distractors 1500]

recall: for each query article of bench/lineage_families.json, its relatives are the articles of
OTHER agreements whose ground-truth title is in the family's title list (and, when the family says
so, whose chapter title contains one of its phrases). recall@20 = relatives among 20 returned
articles (the query itself left out) / min(20, relatives). Three rankers: ours (`similar_articles`),
the FAISS nearest neighbours of the article's own body vector, and FTS5 BM25 over the article's words.

copies: pairs made in code from bench articles (read at run time, never stored): a modal edit
(shall -> shall endeavour to, shall -> may, shall not -> may) or a non-modal one (a word swap, a
sentence we write inserted, a sentence deleted), alone and combined. `modality_changes` must report
exactly the modal edits made; precision and recall are over the reported (from, to) pairs.

The families are split dev / test (in the JSON); the ranking rule was chosen on dev only.
latency: 50 lookups after loading (warm) and one cold; on a store without a body index, random
vectors of the same size stand in (timing only). subset: a smaller store with real vectors for
when the full index is not built (see make_subset).

Texts of the bench are read from /work/shared/bench at run time; nothing of them is written out
except document ids and article numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

BENCH = Path(os.environ.get("CLAUSEBANK_BENCH", Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
FAMILIES = Path(__file__).with_name("lineage_families.json")
K = 20


def norm_title(title: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z ]", "", (title or "").lower())).strip()


def ground_truth() -> dict[str, dict]:
    """doc id -> the ground-truth JSON of every ToTA agreement."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((BENCH / "tota").glob("pta_*.json"))}


# ---------------------------------------------------------------- family recall

def relatives(gt: dict[str, dict], family: dict) -> set[tuple[str, str]]:
    """(doc, article key) of the family's articles in agreements other than the query's."""
    from pipeline.models import article_key

    titles, chapters = set(family["titles"]), family.get("chapter_contains")
    out = set()
    for doc, d in gt.items():
        if doc == family["query"]["doc"]:
            continue
        for a in d["articles"]:
            if norm_title(a["article_title"]) in titles and (
                    not chapters or any(c in (a["chapter_title"] or "").lower() for c in chapters)):
                out.add((doc, article_key(a["article_number"])))
    return out


def ambiguous_keys(gt: dict[str, dict]) -> set[tuple[str, str]]:
    """(doc, article key) that name several articles (numbering restarts in each chapter)."""
    from pipeline.models import article_key

    seen: Counter = Counter((doc, article_key(a["article_number"])) for doc, d in gt.items() for a in d["articles"])
    return {k for k, n in seen.items() if n > 1}


def in_family(article, family: dict) -> bool:
    return norm_title(article.article_title) in set(family["titles"])


def recall_at(found: list[tuple[str, str]], relevant: set[tuple[str, str]], k: int = K) -> float:
    return len(set(found[:k]) & relevant) / min(k, len(relevant)) if relevant else float("nan")


def _id_of(store, relative, query) -> int | None:
    """The row id of a relative (None for the query itself)."""
    same = [a for a in store.find_articles(relative.doc, relative.article_number)
            if a.article_title == relative.article_title]
    return same[0].id if same and same[0].id != query.id else None


def run_recall(home: Path, families_path: Path) -> dict:
    from pipeline.index import INDEX_FILES, VectorIndex
    from pipeline.lineage import SignatureIndex, family_of, words
    from pipeline.models import article_key
    from pipeline.store import Store

    gt = ground_truth()
    families = json.loads(families_path.read_text())["families"]
    rows = []
    with Store(home) as store:
        index = VectorIndex.load(home / INDEX_FILES["body"])
        sigs = SignatureIndex(home)

        ambiguous = ambiguous_keys(gt)

        def keys(ids: list[int], fam: dict) -> list[tuple[str, str]]:
            """Hits as (doc, article key); where the key names several articles of the agreement,
            only a hit whose title is the family's counts as that key."""
            arts = store.articles_by_id(ids, with_parts=False)
            out = []
            for i in ids:
                a = arts.get(i)
                key = (a.doc_id, article_key(a.article_number)) if a else None
                out.append(key if a and (key not in ambiguous or in_family(a, fam)) else ("", str(i)))
            return out

        for fam in families:
            q = fam["query"]
            found = store.find_articles(q["doc"], q["article_number"])
            rel = relatives(gt, fam)
            head = {"family": fam["name"], "split": fam["split"], "query": f"{q['doc']} / {q['article_number']}",
                    "relatives": len(rel)}
            if not found:
                rows.append({**head, "error": "query article not in the store"})
                continue
            art = next((a for a in found if in_family(a, fam)), found[0])
            family = family_of(store, art, top=K + 1, index=index, signatures=sigs)
            ours_ids = [i for r in family if (i := _id_of(store, r, art)) is not None][:K]
            vec = index.index.reconstruct(int(art.id))
            faiss_ids = [i for i, _ in index.search(vec, K + 1) if i != art.id][:K]
            bm25_ids = [i for i in store.bm25(list(dict.fromkeys(words(art.text))), limit=K + 1) if i != art.id][:K]
            rows.append({**head, "ours": recall_at(keys(ours_ids, fam), rel),
                         "faiss": recall_at(keys(faiss_ids, fam), rel),
                         "bm25": recall_at(keys(bm25_ids, fam), rel)})
    scored = [r for r in rows if "error" not in r]
    means = {split: {m: round(statistics.mean(r[m] for r in part), 3) for m in ("ours", "faiss", "bm25")}
             for split, part in (("all", scored), ("dev", [r for r in scored if r["split"] == "dev"]),
                                 ("test", [r for r in scored if r["split"] == "test"])) if part}
    return {"families": rows, "mean": means, "queries": len(scored), "missing": len(rows) - len(scored)}


# ---------------------------------------------------------------- modality changes on constructed copies

INSERTED = [  # sentences we wrote; some carry modal verbs, which must not count as a change of modality
    "The Parties shall review the operation of this Article at the request of either Party.",
    "For greater certainty, this paragraph applies to measures of central and regional governments.",
    "Each Party may designate a contact point for the purposes of this Article.",
    "The Committee will meet as often as the Parties agree.",
]
SWAPS = {"measures": "provisions", "Party": "Member", "information": "data", "relevant": "pertinent",
         "appropriate": "suitable", "ensure": "guarantee", "adopt": "introduce", "maintain": "keep",
         "promote": "encourage", "cooperate": "collaborate", "provide": "supply", "requirements": "conditions"}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;:])\s+(?=[A-Z(0-9])", text) if s]


def _sub_one(text: str, pattern: str, repl, rng: random.Random) -> tuple[str, str] | None:
    """`text` with one randomly chosen match of `pattern` replaced, and the replacement with three
    words either side (to check that a later edit left it in place); None when nothing matches."""
    spots = list(re.finditer(pattern, text))
    if not spots:
        return None
    m = rng.choice(spots)
    put = repl(m) if callable(repl) else m.expand(repl)
    new = text[:m.start()] + put + text[m.end():]
    before = " ".join(text[:m.start()].split()[-3:])
    after = " ".join(text[m.end():].split()[:3])
    return new, f"{before} {put} {after}".strip()


SHALL_VERB = r"\bshall (?!not\b|be\b|endeavou?r\b|make every\b|seek\b|strive\b)([a-z]+)"


def modal_edit(text: str, kind: str, rng: random.Random) -> tuple[str, tuple[str, str], str] | None:
    """(edited text, the modal change made, the edited words in context) or None."""
    if kind == "shall->shall endeavour":
        made, change = _sub_one(text, SHALL_VERB, r"shall endeavour to \1", rng), ("shall", "shall endeavour")
    elif kind == "shall->may":
        made, change = _sub_one(text, SHALL_VERB, r"may \1", rng), ("shall", "may")
    elif kind == "shall->may, verb swapped":  # the modal and the verb after it changed together
        verbs = "|".join(w for w in SWAPS if w.islower())
        made = _sub_one(text, rf"\bshall ({verbs})\b", lambda m: f"may {SWAPS[m.group(1)]}", rng)
        change = ("shall", "may")
    elif kind == "shall not->may":
        made, change = _sub_one(text, r"\bshall not\b", "may", rng), ("shall not", "may")
    else:
        raise ValueError(kind)
    return (made[0], change, made[1]) if made else None


def plain_edit(text: str, kind: str, rng: random.Random) -> str | None:
    if kind == "word swap":
        words = [w for w in SWAPS if re.search(rf"\b{w}\b", text)]
        made = _sub_one(text, rf"\b{rng.choice(words)}\b", lambda m: SWAPS[m.group(0)], rng) if words else None
        return made[0] if made else None
    sents = _sentences(text)
    if kind == "sentence inserted":
        at = rng.randrange(len(sents) + 1)
        return " ".join(sents[:at] + [rng.choice(INSERTED)] + sents[at:])
    if kind == "sentence deleted":
        if len(sents) < 3:
            return None
        at = rng.randrange(len(sents))
        return " ".join(sents[:at] + sents[at + 1:])
    raise ValueError(kind)


def _keeping(text: str, kept: str, kind: str, rng: random.Random) -> str | None:
    """A non-modal edit of `text` that leaves the words `kept` (an earlier modal edit) in place."""
    for _ in range(5):
        new = plain_edit(text, kind, rng)
        if new and new != text and kept in new:
            return new
    return None


MODAL_KINDS = ["shall->shall endeavour", "shall->may", "shall->may, verb swapped", "shall not->may"]
PLAIN_KINDS = ["word swap", "sentence inserted", "sentence deleted"]


def make_pairs(sample: int, seed: int = 7) -> list[dict]:
    """Edited copies of `sample` bench articles that say "shall": every edit alone, and each modal
    edit combined with a non-modal one. Each pair: ids, the edit, old and new text, expected changes."""
    rng = random.Random(seed)
    gt = ground_truth()
    pool = [(doc, a) for doc, d in gt.items() for a in d["articles"]
            if re.search(r"\bshall\b", a["text"]) and 30 <= len(a["text"].split()) <= 600]
    pairs = []
    for doc, a in rng.sample(pool, sample):
        old = re.sub(r"\s+", " ", a["text"]).strip()
        ref = {"doc": doc, "article_number": a["article_number"]}
        for kind in PLAIN_KINDS:
            new = plain_edit(old, kind, rng)
            if new and new != old:
                pairs.append({**ref, "edit": kind, "old": old, "new": new, "expected": []})
        for kind in MODAL_KINDS:
            made = modal_edit(old, kind, rng)
            if not made:
                continue
            new, change, kept = made
            pairs.append({**ref, "edit": kind, "old": old, "new": new, "expected": [change]})
            plain = rng.choice(PLAIN_KINDS)
            both = _keeping(new, kept, plain, rng)
            if both:
                pairs.append({**ref, "edit": f"{kind} + {plain}", "old": old, "new": both, "expected": [change]})
            other = rng.choice([k for k in MODAL_KINDS if k != kind])
            second = modal_edit(new, other, rng)
            if second and kept in second[0] and second[2] not in old:
                pairs.append({**ref, "edit": f"{kind} + {other}", "old": old, "new": second[0],
                              "expected": [change, second[1]]})
    return pairs


def run_copies(sample: int, seed: int = 7) -> dict:
    from pipeline.lineage import modality_changes

    pairs = make_pairs(sample, seed)
    tp = fp = fn = exact = 0
    by_edit: dict[str, Counter] = {}
    misses = []
    for p in pairs:
        got, want = Counter(modality_changes(p["old"], p["new"])), Counter(map(tuple, p["expected"]))
        hit = sum((got & want).values())
        tp, fp, fn = tp + hit, fp + sum(got.values()) - hit, fn + sum(want.values()) - hit
        ok = got == want
        exact += ok
        c = by_edit.setdefault(p["edit"], Counter())
        c["pairs"] += 1
        c["exact"] += ok
        if not ok and len(misses) < 15:
            misses.append({"doc": p["doc"], "article_number": p["article_number"], "edit": p["edit"],
                           "expected": p["expected"], "got": sorted(got.elements())})
    return {"pairs": len(pairs), "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0, "exact_pairs": exact / len(pairs),
            "by_edit": {k: dict(v) for k, v in by_edit.items()}, "misses": misses}


# ---------------------------------------------------------------- latency and incremental cost

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def _random_body_index(store):
    """Timing stand-in for a missing body index: a random unit vector per article (same size and
    search cost as the real index; its similarities mean nothing)."""
    from pipeline.embed import DIM
    from pipeline.index import VectorIndex

    ids = store.article_ids()
    vecs = np.random.default_rng(3).standard_normal((len(ids), DIM)).astype("float32")
    index = VectorIndex(Path("/nonexistent"))
    index.add(ids, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    return index


def run_latency(home: Path, lookups: int, partner: str) -> dict:
    from pipeline.index import INDEX_FILES
    from pipeline.lineage import Lineage, similar_articles
    from pipeline.matrix import agreement_rows
    from pipeline.store import Store

    with Store(home) as store:
        rows = store.db.execute("SELECT doc_id, article_number FROM articles WHERE unit != 'table' "
                                "AND article_number != '' ORDER BY id").fetchall()
        picks = random.Random(11).sample([tuple(r) for r in rows], lookups)
        real_index = (home / INDEX_FILES["body"]).exists()
        t = time.perf_counter()
        similar_articles(store, *picks[0])  # cold: loads the signatures and the FAISS index itself
        cold = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        lineage = Lineage(store)
        load = (time.perf_counter() - t) * 1000
        if not real_index:
            lineage.index = _random_body_index(store)
        warm = []
        for doc, number in picks:
            t = time.perf_counter()
            lineage.similar(doc, number)
            warm.append((time.perf_counter() - t) * 1000)
        matrix = []
        for _ in range(3):
            t = time.perf_counter()
            n = len(agreement_rows(store, partner))
            matrix.append((time.perf_counter() - t) * 1000)
    return {"articles": len(rows), "body_index": "real" if real_index else "random vectors (timing only)",
            "lookups": lookups, "cold_first_ms": round(cold, 1), "load_signatures_and_index_ms": round(load, 1),
            "warm_p50_ms": round(percentile(warm, 0.5), 1), "warm_p95_ms": round(percentile(warm, 0.95), 1),
            "matrix_partner": partner, "matrix_agreements": n, "matrix_ms_first": round(matrix[0], 1),
            "matrix_ms_best": round(min(matrix), 1)}


def make_subset(src: Path, dest: Path, distractors: int, families_path: Path) -> dict:
    """A smaller copy of a bench store for when the full FAISS index is not there: every article of
    every family's titles, each query's 100 nearest articles by BM25 and by Jaccard over the whole
    store (the ones that compete for its top 20), and `distractors` more drawn at random; the rest
    is deleted, then the signatures are synced and the body vectors computed."""
    import shutil
    import sqlite3

    from pipeline.embed import Embedder
    from pipeline.index import INDEX_FILES, VectorIndex, article_text
    from pipeline.lineage import SIGNATURES, SignatureIndex, signature, sync_signatures, words
    from pipeline.models import article_key
    from pipeline.store import DB_NAME, Store

    dest.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(src / DB_NAME).backup(sqlite3.connect(dest / DB_NAME))
    shutil.copy(src / SIGNATURES, dest / SIGNATURES)
    if (src / "embeddings.sqlite").exists():  # vectors already computed there are reused
        sqlite3.connect(src / "embeddings.sqlite").backup(sqlite3.connect(dest / "embeddings.sqlite"))
    gt = ground_truth()
    families = json.loads(families_path.read_text())["families"]
    with Store(dest) as store:
        by_key = {}
        for i, doc, number in store.db.execute("SELECT id, doc_id, article_number FROM articles"):
            by_key.setdefault((doc, article_key(number)), []).append(i)
        keep: set[int] = set()
        sigs = SignatureIndex(dest)
        for fam in families:
            for key in relatives(gt, {**fam, "query": {"doc": ""}}):
                keep.update(by_key.get(key, []))
            found = store.find_articles(fam["query"]["doc"], fam["query"]["article_number"])
            if not found:
                continue
            art = found[0]
            keep.add(art.id)
            keep.update(store.bm25(list(dict.fromkeys(words(art.text))), limit=100))
            jac = sigs.jaccard(signature(art.text))
            keep.update(sigs.ids[np.argsort(-jac)[:100]].tolist())
        picked = len(keep)
        rest = sorted(set(store.article_ids()) - keep)
        keep.update(random.Random(5).sample(rest, min(distractors, len(rest))))
        gone = sorted(set(store.article_ids()) - keep)
        with store.transaction() as db:
            for n in range(0, len(gone), 900):
                chunk = gone[n:n + 900]
                db.execute(f"DELETE FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        t = time.perf_counter()
        sync_signatures(store)
        arts = store.articles_by_id(sorted(keep), with_parts=False)
        index = VectorIndex(dest / INDEX_FILES["body"])
        ids = sorted(arts)
        index.add(ids, Embedder(dest).encode([article_text(arts[i]) for i in ids]))
        index.save()
    return {"articles": len(keep), "family_and_neighbours": picked, "random": len(keep) - picked,
            "embedding_seconds": round(time.perf_counter() - t, 1)}


def run_sync(home: Path) -> dict:
    from pipeline.lineage import SIGNATURES, sync_signatures
    from pipeline.store import Store

    with Store(home) as store:
        t = time.perf_counter()
        report = sync_signatures(store)
        report["seconds"] = round(time.perf_counter() - t, 1)
        report["articles"] = store.counts()["articles"]
    report["file_mb"] = round((home / SIGNATURES).stat().st_size / 1e6, 1)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["recall", "copies", "latency", "sync", "subset"])
    ap.add_argument("home", nargs="?", type=Path)
    ap.add_argument("dest", nargs="?", type=Path, help="subset: the new store's home")
    ap.add_argument("--families", type=Path, default=FAMILIES)
    ap.add_argument("--distractors", type=int, default=1500, help="subset: random articles added")
    ap.add_argument("--sample", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7, help="copies: which articles and edits")
    ap.add_argument("--lookups", type=int, default=50)
    ap.add_argument("--partner", default="KOR")
    args = ap.parse_args()
    if args.part != "copies" and args.home is None:
        ap.error(f"{args.part} needs the store's home folder")
    out = {"recall": lambda: run_recall(args.home, args.families), "copies": lambda: run_copies(args.sample, args.seed),
           "latency": lambda: run_latency(args.home, args.lookups, args.partner),
           "sync": lambda: run_sync(args.home),
           "subset": lambda: make_subset(args.home, args.dest, args.distractors, args.families)}[args.part]()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
