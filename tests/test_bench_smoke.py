"""A small smoke run of the benchmark harness (the full bench is `make bench`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke(bench_dir, tmp_path):
    subprocess.run([sys.executable, "-m", "bench.run_bench", "--smoke", "--skip-throughput", "--bench", str(bench_dir),
                    "--out", str(tmp_path)], cwd=ROOT, check=True, capture_output=True, text=True, timeout=900)
    results = json.loads((tmp_path / "extraction_smoke.json").read_text())
    assert results["extraction"]["f1"] >= 0.97, results["extraction"]
    assert results["extraction"]["page_accuracy"] >= 0.97
    assert results["topics"] and results["ingest"]["docs"] == 4


def test_reader_agreement_scores_the_rules_where_two_readers_agree(tmp_path):
    from bench.strength_eval import reader_agreement

    rows = [{"doc": "pta_1", "article_number": "Article 1", "para": k, "label": label}
            for k, label in enumerate(["binding", "binding", "none", "exception"], 1)]
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps({**r, "label": label}) + "\n"
                              for r, label in zip(rows, ["binding", "binding", "binding", "exception"])))
    out = reader_agreement(rows, ["binding", "none", "binding", "exception"], second)
    assert out["readers_agree"] == 3
    assert out["rules_where_readers_agree"] == round(2 / 3, 4)  # paragraphs 1 and 4 of the three alike
    assert out["rules_vs_second_reader"] == 0.75
    assert 0 < out["kappa"] < 1


def test_none_reader_probe_counts_what_overruling_binding_would_gain_and_lose(tmp_path):
    """Own sentences train the probe; a rules' `binding` it reads as `none` counts as a gain when the label is
    `none` and as a loss when it is `binding`."""
    from bench.strength_eval import none_reader_probe
    from pipeline.models import Clause

    train = tmp_path / "own.jsonl"
    none = ["The panel shall consist of three members.", "The committee shall be composed of officials.",
            "This Agreement shall enter into force on signature.", "The chair shall rotate every year."]
    binding = ["Each Party shall notify the other of any new fee.", "Each Party shall publish its customs laws.",
               "Each Party shall accept the certificate of origin.", "Each Party shall remove the duty on fish."]
    train.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n"
                             for ts, lab in ((none, "none"), (binding, "binding")) for t in ts) * 25)
    texts = ["The panel shall consist of five members.", "Each Party shall publish its fees."]
    clauses = [Clause(text=t, page=0, strength="binding") for t in texts]
    rows = [{"label": "none"}, {"label": "binding"}]
    out = none_reader_probe(rows, clauses, [train])
    assert out["rules"] == 0.5 and out["training_sentences"] == 200
    assert out["words@0.7"] == {"accuracy": 1.0, "flipped": 1, "none_gained": 1, "binding_lost": 0}


def test_unseen_drops_paragraphs_that_share_eight_words_with_training_text():
    from bench.topic_own_eval import unseen
    from bench.train_topics import training_rows

    copied = {"text": "Preamble words. " + training_rows()[0]["text"]}
    fresh = {"text": "Quokka herders of either Party may graze their flocks on the commons of the other in spring."}
    assert unseen([copied, fresh]) == [fresh]
