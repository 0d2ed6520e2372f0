"""Train the learned topic signal: one logistic regression per mission topic on MiniLM embeddings.

    python -m bench.train_topics            (writes pipeline/patterns/topic_classifier.json)
    python -m bench.train_topics --cv       (5-fold precision / recall of the classifier alone, per
                                             probability threshold, on the texts it trains on)

Training text is ours only: the dev half of `bench/labels/topics_own.jsonl` (paragraphs we wrote to
the definitions in docs/topics.md, under headings that mostly do not name the topic), any
`bench/labels/topics_own_train*.jsonl`, the exemplars of `pipeline/patterns/topic_exemplars.toml`,
and our own obligation-strength sentences on goods, institutions and final provisions
(`bench/labels/off_topic_sentences.jsonl`) as ordinary off-topic text. No bench text trains
it: the bench agreements are licensed for testing only. The test half of topics_own.jsonl is never
read here. The shipped file holds only weights.
"""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import numpy as np

from pipeline.analyse import EXEMPLARS, MISSION_TOPICS, TOPIC_CLASSIFIER, TopicSimilarity, titled

LABELS = Path(__file__).resolve().parent / "labels"
C = 4.0  # inverse regularisation: 5-fold CV on the dev half preferred 2 to 8 over 0.5


def training_rows() -> list[dict]:
    """(title, text, topics) of every text we wrote that the classifier may learn from."""
    rows = [r for r in _jsonl(LABELS / "topics_own.jsonl") if r["split"] == "dev"]
    for path in sorted(LABELS.glob("topics_own_train*.jsonl")):
        rows += _jsonl(path)
    rows += [{"title": "", "text": r["text"], "topics": []} for r in _jsonl(LABELS / "off_topic_sentences.jsonl")]
    cfg = tomllib.loads(EXEMPLARS.read_text(encoding="utf-8"))
    for topic, spec in cfg["topics"].items():
        rows += [{"title": "", "text": t, "topics": [topic]} for t in [spec["description"], *spec["positive"].values()]]
    rows += [{"title": "", "text": spec["text"], "topics": []} for spec in cfg["negative"].values()]
    return rows


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cross_validate(rows: list[dict], vectors: np.ndarray) -> None:
    """Out-of-fold precision / recall of each topic's classifier alone, at several thresholds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    for topic in MISSION_TOPICS:
        y = np.array([topic in r["topics"] for r in rows])
        p = cross_val_predict(LogisticRegression(C=C, class_weight="balanced", max_iter=5000), vectors, y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")[:, 1]
        cells = []
        for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
            hit = p >= t
            cells.append(f"{t}: P {(hit & y).sum() / max(hit.sum(), 1):.2f} R {(hit & y).sum() / y.sum():.2f}")
        print(f"{topic:18s} " + " | ".join(cells))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", action="store_true")
    a = ap.parse_args()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TQDM_DISABLE"):
        os.environ.setdefault(var, "1")
    from sklearn.linear_model import LogisticRegression

    from pipeline.embed import Embedder

    rows = training_rows()
    vectors = Embedder().encode([titled(r["title"], r["text"]) for r in rows])
    if a.cv:
        return cross_validate(rows, vectors)
    model = {"embedding": "all-MiniLM-L6-v2", "C": C, "rows": len(rows), "topics": {}}
    for topic in MISSION_TOPICS:
        y = np.array([topic in r["topics"] for r in rows])
        fit = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(vectors, y)
        model["topics"][topic] = {"positives": int(y.sum()), "intercept": round(float(fit.intercept_[0]), 6),
                                  "coef": [round(float(w), 6) for w in fit.coef_[0]]}
    TOPIC_CLASSIFIER.write_text(json.dumps(model) + "\n", encoding="utf-8")
    TopicSimilarity().write_exemplar_vectors()
    print(f"{len(rows)} training texts; positives " +
          ", ".join(f"{t} {m['positives']}" for t, m in model["topics"].items()) + f" -> {TOPIC_CLASSIFIER}")


if __name__ == "__main__":
    main()
