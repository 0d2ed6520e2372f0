"""Mission topics on paragraphs we wrote ourselves, to the definitions, in wordings no rule anticipates.

    python -m bench.topic_own_eval [--split test] [--errors] [--file bench/labels/topics_own_test2.jsonl]
                                   [--unseen-only]

`bench/labels/topics_own.jsonl` holds article paragraphs (title, text, topics) written for clausebank
from docs/topics.md, most positives under headings that do not name the topic, with hard negatives
from each topic's "does not count" list; none shares a run of eight words with any bench text. The
dev half trains the learned classifier (bench/train_topics.py); the test half is never trained or
tuned on. `topics_own_test2.jsonl` to `topics_own_test10.jsonl` (splits `test2` to `test10`) were written
later by other writers, blind to the earlier files; each of their rows is scored only on the topics its
writer labelled (`scored`). test3 to test9, each scored once when fresh, now train the classifier
(`RETIRED_TEST_SETS` in bench/train_topics.py); test10 is the held-out set of session 15's final code.
Each paragraph is analysed as a one-paragraph article. Prints precision / recall for our
analyser, the same rules without the model (`rules_only`) and the heading-only baseline of
bench/topic_eval.py, and which signal decided our true positives.
"""
from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from pathlib import Path

from bench.topic_eval import HEADING_KEYWORDS, TOPICS, deciding_signal, prf

OWN = Path(__file__).resolve().parent / "labels" / "topics_own.jsonl"


def articles(rows: list[dict]) -> list:
    from pipeline.models import Article, Clause

    return [Article(doc_id="own", article_number=str(i), article_title=r["title"], text=r["text"], page_start=1,
                    page_end=1, clauses=[Clause(text=r["text"], page=1)]) for i, r in enumerate(rows)]


def unseen(rows: list[dict], n: int = 8) -> list[dict]:
    """The rows whose text shares no run of n words with any training text of the classifier."""
    from bench.train_topics import training_rows

    def runs(text: str) -> set:
        words = re.findall(r"[a-z0-9]+", text.lower())
        return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}

    trained = set().union(*(runs(r["text"]) for r in training_rows()))
    kept = [r for r in rows if not runs(r["text"]) & trained]
    print(f"{len(kept)} of {len(rows)} paragraphs share no run of {n} words with the training text")
    return kept


def scored_prf(rows: list[dict], gold: list[set], pred: list[set], topic: str) -> dict:
    """Precision / recall of a topic over the rows labelled for it (all rows unless they say `scored`)."""
    keep = [i for i, r in enumerate(rows) if topic in r.get("scored", TOPICS)]
    return prf([gold[i] for i in keep], [pred[i] for i in keep], topic)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", action="append", help="dev and/or test (default: both)")
    ap.add_argument("--errors", action="store_true", help="list the paragraphs we get wrong (our own text)")
    ap.add_argument("--file", type=Path, default=OWN, help="labelled paragraphs (default: topics_own.jsonl)")
    ap.add_argument("--unseen-only", action="store_true", help="only paragraphs sharing no run of eight words "
                    "with any text the classifier trains on (a check on near-copies between writers)")
    a = ap.parse_args()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TQDM_DISABLE"):
        os.environ.setdefault(var, "1")
    from pipeline.analyse import Analyser

    all_rows = [json.loads(line) for line in a.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if a.unseen_only:
        all_rows = unseen(all_rows)
    summary = {}
    for split in a.split or sorted({r["split"] for r in all_rows}):
        rows = [r for r in all_rows if r["split"] == split]
        gold = [set(r["topics"]) for r in rows]
        runs = {}
        for name, analyser in (("ours", Analyser()), ("rules_only", Analyser(similarity=False))):
            arts = analyser.analyse_articles(articles(rows))
            runs[name] = [set(x.topics) & set(TOPICS) for x in arts]
            if name == "ours":
                ours = arts
        runs["heading"] = [{t for t, rx in HEADING_KEYWORDS.items() if rx.search(r["title"])} for r in rows]
        summary[split] = {name: {t: scored_prf(rows, gold, pred, t) for t in TOPICS} for name, pred in runs.items()}
        signals = Counter(deciding_signal(x, t) for x, g in zip(ours, gold) for t in TOPICS
                          if t in g and t in set(x.topics))
        summary[split]["deciding_signal"] = dict(signals)
        print(f"== {split}: {len(rows)} paragraphs" + (" (trains the classifier)" if split == "dev" else ""))
        for t in TOPICS:
            print(f"   {t:18s} " + "  ".join(f"{n} P {summary[split][n][t]['p']:.2f} R {summary[split][n][t]['r']:.2f}"
                                             for n in runs) + f"  (positives {summary[split]['ours'][t]['support']})")
        print(f"   deciding signal of true positives: {dict(signals)}")
        if a.errors:
            for r, g, p in zip(rows, gold, runs["ours"]):
                scored = set(r.get("scored", TOPICS))
                if g & scored != p & scored:
                    print(f"    gold {sorted(g)} ours {sorted(p)} [{r['title']}] {r['text'][:160]}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
