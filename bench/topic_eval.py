"""Mission-topic precision / recall / F1 on articles labelled by reading.

    python -m bench.topic_eval LABELS.jsonl [LABELS.jsonl ...] [--errors] [--quick]
    python -m bench.topic_eval bench/labels/topics_real.jsonl --home HOME   (after `clausebank --home
        HOME ingest --no-index ../shared/bench/real/*.pdf`)
    python -m bench.topic_eval --whole-documents 160   (classifier-only hits on whole dev documents)

Each label line is {"doc", "article_number", "article_index", "topics", "split"}; every labelled
document is analysed whole, as ingestion does (`no_chapter_context`: the same without the chapter
context of Analyser._chapter_context). The article's title and text come from the benchmark ground truth (../shared/bench/tota/{doc}.json, or mou/),
split into numbered paragraphs as the segmenter does. Prints, per split, the figures for: our
analyser (`ours`), the same rules without the similarity signal (`rules_only`) and a heading-only
baseline (`heading`: the title names the topic by a plain keyword), and which signal decided our
positive labels. `--errors` lists the articles we get wrong (ids only, no bench text): use it on dev.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.labels.paragraphs import BENCH, paragraphs
from bench.labels.paragraphs import _load as ground_truth

LABELS = Path(__file__).resolve().parent / "labels"
TOPICS = ("data_flows", "data_localisation", "privacy", "it_mobility")
# heading-only baseline: the article title names the topic by a plain keyword
HEADING_KEYWORDS = {
    "data_flows": re.compile(r"transfer of (information|data)|data flow|flow of (information|data)|"
                             r"movement of (information|data)|cross-border (information|data)", re.I),
    "data_localisation": re.compile(r"computing facilit|locali[sz]ation|data storage|location of data", re.I),
    "privacy": re.compile(r"privacy|personal (data|information)|data protection", re.I),
    "it_mobility": re.compile(r"temporary entry|movement of (natural )?persons|business (persons|visitors)|visa|"
                              r"professional qualifications|mobility", re.I),
}
def article_position(row: dict, arts: list[dict]) -> int:
    """Index of the labelled article in the ground truth: by its ground-truth id when the label has one
    (numbers repeat in documents that restart numbering per chapter), else by index, else by number."""
    if row.get("tota_article_id"):
        return next(i for i, a in enumerate(arts) if a.get("tota_article_id") == row["tota_article_id"])
    idx = row.get("article_index")
    if idx is None or idx >= len(arts) or arts[idx]["article_number"] != row["article_number"]:
        idx = next(i for i, a in enumerate(arts) if a["article_number"] == row["article_number"])
    return idx


def labelled_article(row: dict):
    """The Article a label line points at, with its paragraphs as clauses."""
    from pipeline.models import Article, Clause

    arts = ground_truth(row["doc"])["articles"]
    a = arts[article_position(row, arts)]
    return Article(doc_id=row["doc"], article_number=a["article_number"], article_title=a.get("article_title") or "",
                   text=a["text"], page_start=a.get("page_start", 0), page_end=a.get("page_end", 0),
                   chapter_number=a.get("chapter_number") or "", chapter_title=a.get("chapter_title") or "",
                   clauses=[Clause(text=p, page=a.get("page_start", 0)) for p in paragraphs(a["text"])])


def document_articles(doc_id: str) -> list:
    """Every article of a ground-truth document, in order, with its paragraphs as clauses."""
    return [labelled_article({"doc": doc_id, "article_number": x["article_number"], "article_index": i})
            for i, x in enumerate(ground_truth(doc_id)["articles"])]


def read_labels(paths: list[Path]) -> list[dict]:
    """The label lines of these JSONL files, in order."""
    return [json.loads(ln) for p in paths for ln in p.read_text().splitlines() if ln.strip()]


def in_whole_documents(rows: list[dict], analyser) -> list:
    """The labelled articles, each analysed with every other article of its document (as ingestion
    does: a paragraph may read its chapter's context), in the order of `rows`."""
    by_doc: dict[str, dict[int, object]] = {}
    for doc_id in dict.fromkeys(r["doc"] for r in rows):
        whole = document_articles(doc_id)
        analyser.analyse_articles(whole)
        by_doc[doc_id] = dict(enumerate(whole))
    out = []
    for r in rows:
        out.append(by_doc[r["doc"]][article_position(r, ground_truth(r["doc"])["articles"])])
    return out


def prf(gold: list[set], pred: list[set], topic: str) -> dict:
    tp = sum(topic in g and topic in p for g, p in zip(gold, pred))
    fp = sum(topic not in g and topic in p for g, p in zip(gold, pred))
    fn = sum(topic in g and topic not in p for g, p in zip(gold, pred))
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"p": round(prec, 3), "r": round(rec, 3), "f1": round(f1, 3), "support": tp + fn, "tp": tp, "fp": fp}


def deciding_signal(art, topic: str) -> str:
    """'rule', 'similarity', 'rule+similarity', 'classifier' or 'chapter context': what decided the topic in
    the article's paragraphs (the classifier only where nothing else did)."""
    kinds = set()
    for c in art.clauses:
        evs = [e for e in c.topics if e.label == topic]
        if evs:
            if all(e.phrase.startswith("chapter context") for e in evs):
                kinds.add("chapter")
                continue
            if all(e.phrase.startswith("classifier ") for e in evs):
                kinds.add("classifier")
                continue
            sim = any(e.phrase.startswith("similarity ") for e in evs)
            rule = any(not e.phrase.startswith("similarity ") for e in evs)
            kinds.add("rule+similarity" if sim and rule else "similarity" if sim else "rule")
    if kinds == {"chapter"}:
        return "chapter context"
    kinds.discard("chapter")
    if kinds == {"classifier"}:
        return "classifier"
    kinds.discard("classifier")
    return "rule" if kinds == {"rule"} else "similarity" if kinds == {"similarity"} else "rule+similarity"


def speed(doc_ids: list[str]) -> None:
    """Whole-document analysis time with and without the similarity signal (model load excluded)."""
    from pipeline.analyse import Analyser, topic_similarity
    from pipeline.models import Document

    t = time.perf_counter()
    topic_similarity()
    load = time.perf_counter() - t
    result = {"model_load_s": round(load, 2)}
    for name, an in (("rules_only", Analyser(similarity=False)), ("ours", Analyser())):
        pages = clauses = 0
        elapsed = 0.0
        for doc_id in doc_ids:
            gt = ground_truth(doc_id)
            doc = Document(doc_id=doc_id, path="", kind="FTA", articles=document_articles(doc_id))
            t = time.perf_counter()
            an.analyse_document(doc)
            elapsed += time.perf_counter() - t
            pages += gt.get("pages") or max(a["page_end"] for a in gt["articles"])
            clauses += sum(len(a.clauses) for a in doc.articles)
        result[name] = {"docs": len(doc_ids), "pages": pages, "clauses": clauses, "seconds": round(elapsed, 2),
                        "ms_per_page": round(1000 * elapsed / pages, 1), "clauses_per_s": round(clauses / elapsed)}
    sim = topic_similarity()
    result["embedded_texts"] = sim.embedder.encoded if sim else 0
    print(json.dumps(result))


def sweep(rows: list[dict], grid_search: bool = True) -> None:
    """Per topic, the thresholds with the best F1 (then recall) on the dev rows only, and the precision
    and recall at each threshold of the learned classifier (only those without `grid_search`)."""
    import itertools

    from pipeline.analyse import Analyser

    rows = [r for r in rows if r["split"].startswith("dev")]
    an = Analyser()
    arts = [labelled_article(r) for r in rows]
    prepared = an.prepare_articles(arts)
    grid = {"with_phrase": [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6], "with_mention": [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
            "alone": [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9], "veto_margin": [-0.05, 0.0, 0.05, 0.1, 1.0]}
    configured = {t: dict(an.decision[t]) for t in TOPICS}
    for topic in TOPICS:
        gold = [topic in r["topics"] for r in rows]
        results = []
        for values in itertools.product(*grid.values()) if grid_search else ():
            an.decision[topic] = {**configured[topic], **dict(zip(grid, values))}
            pred = [any(e.label == topic for p in paras for e in an.paragraph_topics(p)) for paras in prepared]
            tp = sum(g and q for g, q in zip(gold, pred))
            fp = sum(q and not g for g, q in zip(gold, pred))
            fn = sum(g and not q for g, q in zip(gold, pred))
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            results.append((round(f1, 3), tp - fn, -fp, values))
        results.sort(reverse=True)
        print(topic, "support", sum(gold), "best (f1, tp-fn, -fp, thresholds):" if grid_search else "")
        for r in results[:8]:
            print("   ", r)
        # the learned classifier's threshold, the other thresholds as configured: it is chosen for the
        # precision it keeps here (its recall is measured on our own paragraphs, bench.topic_own_eval)
        cells = []
        for threshold in (*CLASSIFIER_THRESHOLDS, 0.95, 1.01):
            an.decision[topic] = {**configured[topic], "classifier": threshold}
            pred = [any(e.label == topic for p in paras for e in an.paragraph_topics(p)) for paras in prepared]
            tp = sum(g and q for g, q in zip(gold, pred))
            fp = sum(q and not g for g, q in zip(gold, pred))
            cells.append(f"{threshold}: P {tp / (tp + fp) if tp + fp else 1:.2f} R {tp / max(sum(gold), 1):.2f}")
        print("    classifier threshold:", " | ".join(cells))
        an.decision[topic] = configured[topic]


WHOLE_DOCUMENT_SEED = 11
CLASSIFIER_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def whole_document_hits(n_docs: int, label_paths: list[Path]) -> None:
    """Classifier-only decisions on whole even (dev) documents, per data topic and classifier threshold,
    on articles that no dev label calls positive for the topic. The dev readers report no unlabelled
    data-flow, localisation or privacy provision left in the even documents, so these are (nearly all)
    false positives at the base rate of whole agreements; labelled sets are rich in positives. Printed
    beside the number of dev-labelled positives in the same documents. (it_mobility is left out: its
    unlabelled positives in the even documents are many.)"""
    import random

    from pipeline.analyse import Analyser

    docs = sorted(p.stem for p in (BENCH / "tota").glob("pta_*.json") if int(p.stem.split("_")[1]) % 2 == 0)
    random.Random(WHOLE_DOCUMENT_SEED).shuffle(docs)
    docs = docs[:n_docs]
    sample = set(docs)
    positive = {(r["doc"], r["article_number"], t) for r in read_labels(label_paths) if r["split"].startswith("dev")
                for t in r["topics"]}
    arts = [art for d in docs for art in document_articles(d)]
    an = Analyser()
    prepared = an.prepare_articles(arts)
    print(f"{len(docs)} even documents, {len(arts)} articles")
    for topic in ("data_flows", "data_localisation", "privacy"):
        labelled = len({(d, a) for d, a, t in positive if t == topic and d in sample})
        configured, cells = an.decision[topic]["classifier"], []
        for threshold in CLASSIFIER_THRESHOLDS:
            an.decision[topic]["classifier"] = threshold
            hits = 0
            for art, paras in zip(arts, prepared):
                evidence = [e for p in paras for e in an.paragraph_topics(p) if e.label == topic]
                hits += bool(evidence and (art.doc_id, art.article_number, topic) not in positive
                             and all(e.phrase.startswith("classifier") for e in evidence))
            cells.append(f"{threshold}: {hits}")
        an.decision[topic]["classifier"] = configured
        print(f"{topic:18s} (dev-labelled positives {labelled}) classifier-only hits on other articles: "
              + " | ".join(cells))


def from_store(rows: list[dict], home: Path) -> list:
    """The stored articles the label lines point at (doc, article number, first page)."""
    from pipeline.store import Store

    with Store(home, readonly=True) as store:
        by_key = {(x.doc_id, x.article_number, x.page_start): x for d in {r["doc"] for r in rows}
                  for x in store.articles(d) if x.unit == "article"}
    missing = [r for r in rows if (r["doc"], r["article_number"], r["page_start"]) not in by_key]
    if missing:
        raise SystemExit(f"{len(missing)} labelled articles are not in {home}, e.g. {missing[0]}")
    return [by_key[(r["doc"], r["article_number"], r["page_start"])] for r in rows]


def other_systems(rows: list[dict]) -> tuple[list[set], list[set]]:
    """Predictions of the rules alone, and of our analyser without the chapter context."""
    from pipeline.analyse import Analyser

    pred_rules = [set(x.topics) & set(TOPICS) for x in in_whole_documents(rows, Analyser(similarity=False))]
    saved = Analyser._chapter_context
    Analyser._chapter_context = staticmethod(lambda *_: None)  # the same analyser, chapter context off
    try:
        pred_noctx = [set(x.topics) & set(TOPICS) for x in in_whole_documents(rows, Analyser())]
    finally:
        Analyser._chapter_context = saved
    return pred_rules, pred_noctx


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels", nargs="*", type=Path)
    ap.add_argument("--speed", help="comma-separated doc ids: time whole-document analysis instead")
    ap.add_argument("--errors", action="store_true", help="list wrong articles (ids only); dev only")
    ap.add_argument("--quick", action="store_true", help="our analyser only (no rules_only / no-context runs)")
    ap.add_argument("--home", type=Path, help="labels on real PDFs: read the articles `clausebank --home HOME "
                    "ingest` stored (matched on doc, article number and first page)")
    ap.add_argument("--sweep", action="store_true", help="search the decision thresholds on split=dev rows")
    ap.add_argument("--classifier-sweep", action="store_true", help="--sweep for the classifier threshold only")
    ap.add_argument("--whole-documents", type=int, metavar="N", help="classifier-only hits on N whole even "
                    "documents, per threshold (labels: bench/labels/topics_dev*.jsonl unless given)")
    a = ap.parse_args()
    if a.speed:
        return speed(a.speed.split(","))
    if a.whole_documents:
        return whole_document_hits(a.whole_documents, a.labels or sorted(LABELS.glob("topics_dev*.jsonl")))
    if a.sweep or a.classifier_sweep:
        return sweep(read_labels(a.labels), grid_search=not a.classifier_sweep)
    rows = read_labels(a.labels)
    t = time.perf_counter()
    if a.home:  # real PDFs: the topics `clausebank ingest` stored
        arts = from_store(rows, a.home)
    else:
        from pipeline.analyse import Analyser, topic_similarity

        if topic_similarity() is None:
            raise SystemExit("similarity model did not load")
        arts = in_whole_documents(rows, Analyser())
    elapsed = time.perf_counter() - t
    pred_ours = [set(x.topics) & set(TOPICS) for x in arts]
    systems = {"ours": pred_ours}
    if not (a.home or a.quick):
        rules_only, no_context = other_systems(rows)
        systems.update(no_chapter_context=no_context, rules_only=rules_only)
    systems["heading"] = [{tp for tp, rx in HEADING_KEYWORDS.items() if rx.search(x.article_title)} for x in arts]
    by_split = defaultdict(list)
    for i, r in enumerate(rows):
        by_split[r["split"]].append(i)
    summary = {}
    for split, idx in sorted(by_split.items()):
        gold = [set(rows[i]["topics"]) for i in idx]
        res = {name: {tp: prf(gold, [pred[i] for i in idx], tp) for tp in TOPICS} for name, pred in systems.items()}
        signals = Counter(f"{tp}:{deciding_signal(arts[i], tp)}" for i in idx for tp in sorted(pred_ours[i]))
        summary[split] = {"articles": len(idx), **res, "decided_by": dict(sorted(signals.items()))}
        print(f"== {split}: {len(idx)} articles")
        for name in systems:
            print(f"  {name:10s} " + "  ".join(f"{tp} P {m['p']:.2f} R {m['r']:.2f} F1 {m['f1']:.2f} (n={m['support']})"
                                              for tp, m in res[name].items()))
        print("  decided by:", dict(sorted(signals.items())))
        if a.errors:
            for i in idx:
                if pred_ours[i] != set(rows[i]["topics"]):
                    ev = {tp: [e.phrase for c in arts[i].clauses for e in c.topics if e.label == tp][:3]
                          for tp in pred_ours[i]}
                    print(f"    {rows[i]['doc']} {rows[i]['article_number']!r} gold={sorted(rows[i]['topics'])} "
                          f"ours={sorted(pred_ours[i])} {ev}")
    clauses = sum(len(x.clauses) for x in arts)
    summary["speed"] = {"articles": len(arts), "clauses": clauses, "seconds": round(elapsed, 2),
                        "clauses_per_s": round(clauses / elapsed, 1)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
