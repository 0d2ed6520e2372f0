"""Obligation-strength accuracy and per-class precision / recall on paragraphs labelled by reading.

    python -m bench.strength_eval [--labels bench/labels/strength.jsonl ...] [--split dev] [--errors]
                                  [--second-reader bench/labels/second_reader_strength_test7.jsonl]
                                  [--none-reader bench/labels/own_strength_sentences.jsonl]

Each label line is {"doc", "article_number", "para", "label", "split"}; the paragraph text is
fetched from the benchmark ground truth by `bench/labels/paragraphs.py` (never copied). Every
labelled document is analysed whole (rules only: strength does not use the similarity signal), so
document-level context such as an MoU's legal-status disclaimer applies as in ingestion. A clause
with no strength counts as `none`. `--errors` lists wrong references (ids only): use it on dev.
`--none-reader` trains two readers (word TF-IDF, MiniLM embedding) on our own sentences labelled `none` or
`binding` and prints the accuracy if each overruled the rules' `binding` with `none` when confident: a probe
of whether such a reader could mend the commonest error (it does not, BENCHMARKS.md session 15).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LABELS = ("binding", "best_endeavour", "hortatory", "non_binding", "exception", "none")


def load_paragraphs(labels: Path):
    """bench/labels/paragraphs.py next to the labels: the one way to turn a reference into text."""
    spec = importlib.util.spec_from_file_location("paragraphs", labels.with_name("paragraphs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predict(rows: list[dict], P) -> list[str]:
    """Strength of each labelled paragraph, its whole document analysed as the pipeline would."""
    return [c.strength or "none" for c in analysed_clauses(rows, P)]


def analysed_clauses(rows: list[dict], P) -> list:
    """The analysed clause of each labelled paragraph, its whole document analysed as the pipeline would."""
    from pipeline.analyse import Analyser
    from pipeline.metadata import detect_kind
    from pipeline.models import Article, Clause, Document

    an = Analyser(similarity=False)
    clauses: dict[tuple[str, int, int], Clause] = {}
    for doc_id in sorted({r["doc"] for r in rows}):
        gt = P._load(doc_id)
        doc = Document(doc_id=doc_id, path="", kind=detect_kind(f"{gt.get('name', '')}\n{gt.get('type', '')}"))
        for k, a in enumerate(gt["articles"]):
            clause_list = [Clause(text=t, page=0) for t in P.paragraphs(a["text"])]
            doc.articles.append(Article(doc_id=doc_id, article_number=a["article_number"],
                                        article_title=a.get("article_title") or "", text=a["text"],
                                        page_start=0, page_end=0, clauses=clause_list))
            for i, c in enumerate(clause_list, 1):
                clauses[(doc_id, k, i)] = c
        an.analyse_document(doc)
    out = []
    for r in rows:
        gt = P._load(r["doc"])
        k = next(i for i, a in enumerate(gt["articles"]) if a["article_number"] == r["article_number"])
        out.append(clauses[(r["doc"], k, r["para"])])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=Path, nargs="+", default=[ROOT / "labels" / "strength.jsonl"])
    ap.add_argument("--split", action="append", help="only these splits (default: all)")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--second-reader", type=Path, help="the same references labelled by a second, blind reader: "
                    "print how far the two readers agree and how the rules score where they do")
    ap.add_argument("--none-reader", type=Path, nargs="+", help="own sentences (text, label) to train the probe on")
    a = ap.parse_args()
    P = load_paragraphs(a.labels[0])
    rows = [json.loads(ln) for path in a.labels for ln in path.read_text().splitlines() if ln.strip()]
    rows = [r for r in rows if not a.split or r["split"] in a.split]
    clauses = analysed_clauses(rows, P)
    preds = [c.strength or "none" for c in clauses]
    by_split = defaultdict(list)
    for r, p in zip(rows, preds):
        by_split[r["split"]].append((r, p))
    summary = {}
    for split, pairs in sorted(by_split.items()):
        conf = Counter((r["label"], p) for r, p in pairs)
        per_class = {}
        for lab in LABELS:
            tp = conf[(lab, lab)]
            pred_n = sum(v for (g, p), v in conf.items() if p == lab)
            gold_n = sum(v for (g, p), v in conf.items() if g == lab)
            per_class[lab] = {"p": round(tp / pred_n, 3) if pred_n else None,
                              "r": round(tp / gold_n, 3) if gold_n else None, "n": gold_n}
        acc = sum(conf[(lab, lab)] for lab in LABELS) / len(pairs)
        summary[split] = {"paragraphs": len(pairs), "accuracy": round(acc, 4), "per_class": per_class}
        print(f"== {split}: {len(pairs)} paragraphs, accuracy {acc:.3f}")
        print("   gold \\ pred " + " ".join(f"{x[:8]:>8s}" for x in LABELS))
        for g in LABELS:
            print(f"   {g:12s} " + " ".join(f"{conf[(g, x)]:8d}" for x in LABELS))
        if a.errors:
            for r, p in pairs:
                if p != r["label"]:
                    print(f"    {r['doc']} {r['article_number']!r} para {r['para']}: gold {r['label']} ours {p}")
    if a.second_reader:
        summary["second_reader"] = reader_agreement(rows, preds, a.second_reader)
    if a.none_reader:
        summary["none_reader"] = none_reader_probe(rows, clauses, a.none_reader)
    print(json.dumps(summary))


def none_reader_probe(rows: list[dict], clauses: list, train_paths: list[Path]) -> dict:
    """Accuracy over all rows if a reader trained on our own none / binding sentences turned the rules'
    `binding` into `none` wherever it gave `none` at least a threshold, per reader and threshold."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from pipeline.analyse import Analyser
    from pipeline.embed import Embedder

    train = [r for path in train_paths for r in map(json.loads, path.read_text().splitlines())
             if r["label"] in ("none", "binding")]
    is_none = [r["label"] == "none" for r in train]
    an = Analyser(similarity=False)
    candidates = [(r, an.operative_sentence(c.text) or c.text)
                  for r, c in zip(rows, clauses) if c.strength == "binding"]
    right = sum((c.strength or "none") == r["label"] for r, c in zip(rows, clauses))
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    embedder = Embedder()
    readers = {
        "words": (words.fit_transform([r["text"] for r in train]), lambda texts: words.transform(texts), 1.0),
        "embedding": (np.asarray(embedder.encode([r["text"] for r in train])),
                      lambda texts: np.asarray(embedder.encode(texts)), 2.0)}
    out = {"paragraphs": len(rows), "rules": round(right / len(rows), 4), "training_sentences": len(train)}
    for name, (x, encode, c) in readers.items():
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, is_none)
        p_none = model.predict_proba(encode([s for _, s in candidates]))[:, 1]
        for threshold in (0.7, 0.8, 0.9):
            flipped = [r["label"] for (r, _), q in zip(candidates, p_none) if q >= threshold]
            gain = flipped.count("none") - flipped.count("binding")
            out[f"{name}@{threshold}"] = {"accuracy": round((right + gain) / len(rows), 4), "flipped": len(flipped),
                                          "none_gained": flipped.count("none"), "binding_lost": flipped.count("binding")}
    print(f"== none reader: rules {out['rules']:.4f}; " + "; ".join(
        f"{k} {v['accuracy']:.4f} ({v['none_gained']} none gained, {v['binding_lost']} binding lost)"
        for k, v in out.items() if "@" in k))
    return out


def reader_agreement(rows: list[dict], preds: list[str], second: Path) -> dict:
    """Agreement of two readers on the same references (share, Cohen's kappa) and the rules' accuracy on the
    rows both readers label alike: whether the rules' gap is in the labels or in the rules."""
    from sklearn.metrics import cohen_kappa_score

    other = {(r["doc"], r["article_number"], int(r["para"])): r["label"]
             for r in map(json.loads, second.read_text().splitlines()) if r}
    keys = [(r["doc"], r["article_number"], int(r["para"])) for r in rows]
    missing = [k for k in keys if k not in other]
    if missing:
        raise SystemExit(f"{len(missing)} references have no second-reader label, e.g. {missing[0]}")
    first, second_labels = [r["label"] for r in rows], [other[k] for k in keys]
    alike = [i for i, (x, y) in enumerate(zip(first, second_labels)) if x == y]
    out = {"paragraphs": len(rows), "readers_agree": len(alike),
           "kappa": round(float(cohen_kappa_score(first, second_labels)), 3),
           "rules_vs_second_reader": round(sum(p == y for p, y in zip(preds, second_labels)) / len(rows), 4),
           "rules_where_readers_agree": round(sum(preds[i] == first[i] for i in alike) / len(alike), 4)}
    print(f"== second reader: the readers agree on {len(alike)} of {len(rows)} (kappa {out['kappa']}); the rules "
          f"score {out['rules_vs_second_reader']:.3f} against the second reader and "
          f"{out['rules_where_readers_agree']:.3f} where the readers agree")
    return out


if __name__ == "__main__":
    main()
