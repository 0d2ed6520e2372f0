"""Train the learned topic signal: per mission topic, the mean of two logistic regressions, one on the
MiniLM embedding, one on word and word-pair TF-IDF of the same text.

    python -m bench.train_topics            (writes pipeline/patterns/topic_classifier.json)
    python -m bench.train_topics --cv       (5-fold precision / recall of the classifier alone, per
                                             probability threshold, on the texts it trains on)

Training text is ours only: the dev half of `bench/labels/topics_own.jsonl` (paragraphs we wrote to
the definitions in docs/topics.md, under headings that mostly do not name the topic), any
`bench/labels/topics_own_train*.jsonl`, the held-out sets already scored (`RETIRED_TEST_SETS`), the
exemplars of `pipeline/patterns/topic_exemplars.toml`,
and our own obligation-strength sentences on goods, institutions and final provisions
(`bench/labels/off_topic_sentences.jsonl`) as ordinary off-topic text. No bench text trains
it: the bench agreements are licensed for testing only. The test half of topics_own.jsonl is never
read here. The shipped file holds only weights and the TF-IDF vocabulary with its idf (the words our
own texts use, no sentence of them).

Why two readers: the embedding alone confuses near misses that share its gist (temporary admission of
goods with temporary entry of persons, technology transfer with data transfer); the words tell them
apart (BENCHMARKS.md, session 11).
"""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import numpy as np

from pipeline.analyse import EXEMPLARS, MISSION_TOPICS, TOPIC_CLASSIFIER, WORDS_SETTINGS, TopicSimilarity, titled

LABELS = Path(__file__).resolve().parent / "labels"
C = 4.0  # inverse regularisation: 5-fold CV on the dev half preferred 2 to 8 over 0.5
WORDS_C = 16.0  # the same for the TF-IDF reader; 8 to 32 scored alike on the looked-at own sets
WORDS_MIN_DF = 2  # a word or pair in one training text only is noise
WORDS_SHARE = 0.5  # weight of the TF-IDF reader in the mean (0.4 to 0.6 scored alike)
# held-out sets scored once and then retired into training: more wordings to learn from, and the next
# fresh set (topics_own_test10.jsonl in session 15) measures the result
RETIRED_TEST_SETS = [f"topics_own_test{n}.jsonl" for n in (3, 4, 5, 6, 7, 8, 9)]


def training_rows() -> list[dict]:
    """(title, text, topics) of every text we wrote that the classifier may learn from."""
    rows = [r for r in _jsonl(LABELS / "topics_own.jsonl") if r["split"] == "dev"]
    for path in [*sorted(LABELS.glob("topics_own_train*.jsonl")), *(LABELS / f for f in RETIRED_TEST_SETS)]:
        rows += _jsonl(path)
    rows += [{"title": "", "text": r["text"], "topics": []} for r in _jsonl(LABELS / "off_topic_sentences.jsonl")]
    cfg = tomllib.loads(EXEMPLARS.read_text(encoding="utf-8"))
    for topic, spec in cfg["topics"].items():
        rows += [{"title": "", "text": t, "topics": [topic]} for t in [spec["description"], *spec["positive"].values()]]
    rows += [{"title": "", "text": spec["text"], "topics": []} for spec in cfg["negative"].values()]
    return rows


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fit(texts: list[str], vectors: np.ndarray, rows: list[dict]) -> dict:
    """The classifier file's content: both readers' weights per topic and the TF-IDF vocabulary."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(**WORDS_SETTINGS, min_df=WORDS_MIN_DF)
    counts = words.fit_transform(texts)
    model = {"embedding": "all-MiniLM-L6-v2", "C": C, "rows": len(rows), "words_share": WORDS_SHARE,
             "words": {"vocabulary": words.get_feature_names_out().tolist(),
                       "idf": [round(float(x), 5) for x in words.idf_]}, "topics": {}}
    for topic in MISSION_TOPICS:
        y = np.array([topic in r["topics"] for r in rows])
        on_vectors = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(vectors, y)
        on_words = LogisticRegression(C=WORDS_C, class_weight="balanced", max_iter=5000).fit(counts, y)
        model["topics"][topic] = {"positives": int(y.sum()),
                                  "intercept": round(float(on_vectors.intercept_[0]), 6),
                                  "coef": [round(float(w), 6) for w in on_vectors.coef_[0]],
                                  "words_intercept": round(float(on_words.intercept_[0]), 5),
                                  "words_coef": [round(float(w), 5) for w in on_words.coef_[0]]}
    return model


def cross_validate(rows: list[dict], texts: list[str], vectors: np.ndarray) -> None:
    """Out-of-fold precision / recall of each topic's classifier alone, at several thresholds."""
    from sklearn.model_selection import KFold

    from pipeline.analyse import TopicClassifier

    p = {topic: np.zeros(len(rows)) for topic in MISSION_TOPICS}
    for train, test in KFold(5, shuffle=True, random_state=0).split(vectors):  # one fit serves every topic
        fold = TopicClassifier(fit([texts[i] for i in train], vectors[train], [rows[i] for i in train]))
        for topic, probability in fold.probabilities([texts[i] for i in test], vectors[test]).items():
            p[topic][test] = probability
    for topic in MISSION_TOPICS:
        y = np.array([topic in r["topics"] for r in rows])
        cells = []
        for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
            hit = p[topic] >= t
            cells.append(f"{t}: P {(hit & y).sum() / max(hit.sum(), 1):.2f} R {(hit & y).sum() / y.sum():.2f}")
        print(f"{topic:18s} " + " | ".join(cells))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", action="store_true")
    a = ap.parse_args()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TQDM_DISABLE"):
        os.environ.setdefault(var, "1")
    from pipeline.embed import Embedder

    rows = training_rows()
    texts = [titled(r["title"], r["text"]) for r in rows]
    vectors = Embedder().encode(texts)
    if a.cv:
        return cross_validate(rows, texts, vectors)
    model = fit(texts, vectors, rows)
    TOPIC_CLASSIFIER.write_text(json.dumps(model) + "\n", encoding="utf-8")
    TopicSimilarity().write_exemplar_vectors()
    print(f"{len(rows)} training texts; positives " +
          ", ".join(f"{t} {m['positives']}" for t, m in model["topics"].items()) + f" -> {TOPIC_CLASSIFIER}")


if __name__ == "__main__":
    main()
