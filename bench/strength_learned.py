"""Would a learned reading of the operative sentence correct the strength rules? Measured in-domain.

    python -m bench.strength_learned [--folds 5]

Every dev paragraph of `bench/labels/strength*.jsonl` (no test file) is analysed as the pipeline
would; a logistic regression then predicts the label from the rules' class (one-hot) alone, with
the MiniLM embedding of the operative sentence, or with its word 1-2-gram TF-IDF, in k folds
grouped by document (no agreement is both trained and scored). A learned arbiter is worth building
only if it beats the rules here, where it is trained on the very kind of text it is scored on; the
bench texts could never train a model we ship (they are licensed for testing), so this is an
upper bound. The second figure asks the narrow question behind most rule errors: among paragraphs
the rules call binding on a plain shall / will / must, how precisely does a classifier pick out
those read as `none` (descriptions of how something is composed or computed)?
"""
from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from bench.strength_eval import LABELS, analysed_clauses, load_paragraphs

LABEL_DIR = Path(__file__).resolve().parent / "labels"
PLAIN_TRIGGERS = {"shall", "will", "shall not", "must"}


def dev_rows() -> list[dict]:
    """Every dev label once (a paragraph labelled in two dev files counts once)."""
    rows, seen = [], set()
    for path in sorted(LABEL_DIR.glob("strength*.jsonl")):
        for line in path.read_text().splitlines():
            r = json.loads(line) if line.strip() else None
            key = r and (r["doc"], r["article_number"], r["para"])
            if r and not r["split"].startswith("test") and key not in seen:
                seen.add(key)
                rows.append(r)
    return rows


def grouped_predictions(features, y, groups, folds: int) -> np.ndarray:
    """Out-of-fold predictions of a logistic regression, folds grouped by document."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    out = np.empty(len(y), dtype=object)
    for train, test in GroupKFold(folds).split(y, y, groups):
        blocks = [f(train, test) for f in features]
        fit = hstack([csr_matrix(b[0]) for b in blocks]).tocsr()
        score = hstack([csr_matrix(b[1]) for b in blocks]).tocsr()
        out[test] = LogisticRegression(C=2, max_iter=3000).fit(fit, y[train]).predict(score)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TQDM_DISABLE"):
        os.environ.setdefault(var, "1")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from pipeline.analyse import Analyser
    from pipeline.embed import Embedder

    rows = dev_rows()
    clauses = analysed_clauses(rows, load_paragraphs(LABEL_DIR / "strength.jsonl"))
    an = Analyser(similarity=False)
    sentences = [an.operative_sentence(c.text) or c.text[:400] for c in clauses]
    rules = np.array([c.strength or "none" for c in clauses])
    y = np.array([r["label"] for r in rows])
    groups = np.array([r["doc"] for r in rows])
    vectors = Embedder().encode(sentences)
    one_hot = (rules[:, None] == np.array(LABELS)[None, :]).astype(float) * 3

    def rule_block(tr, te):
        return one_hot[tr], one_hot[te]

    def embedding_block(tr, te):
        return vectors[tr], vectors[te]

    def tfidf_block(tr, te):
        v = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        return v.fit_transform([sentences[i] for i in tr]), v.transform([sentences[i] for i in te])

    summary = {"paragraphs": len(rows), "documents": len(set(groups)), "rules": round(float((rules == y).mean()), 4)}
    for name, blocks in (("rules one-hot", [rule_block]), ("+ MiniLM", [rule_block, embedding_block]),
                         ("+ TF-IDF", [rule_block, tfidf_block])):
        summary[name] = round(float((grouped_predictions(blocks, y, groups, a.folds) == y).mean()), 4)
    plain = np.array([c.strength == "binding" and c.strength_evidence.lower() in PLAIN_TRIGGERS for c in clauses])
    is_none = y[plain] == "none"
    proba = cross_val_predict(LogisticRegression(C=4, class_weight="balanced", max_iter=3000), vectors[plain],
                              is_none, cv=GroupKFold(a.folds), groups=groups[plain], method="predict_proba")[:, 1]
    summary["plain binding"] = {"paragraphs": int(plain.sum()), "read as none": int(is_none.sum()),
                                "flagged (threshold: flagged, of them none)": {
                                    str(t): [int((proba >= t).sum()), int(((proba >= t) & is_none).sum())]
                                    for t in (0.5, 0.7, 0.8, 0.9)}}
    print(f"{len(rows)} dev paragraphs from {summary['documents']} documents; rule classes {Counter(rules.tolist())}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
