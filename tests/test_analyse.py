"""pipeline/analyse.py: topics with evidence, obligation strength, exceptions, entities."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.analyse import default_analyser
from pipeline.models import Article, Clause

DATA = Path(__file__).resolve().parent / "data" / "strength_labelled.jsonl"


@pytest.fixture(scope="module")
def an():
    return default_analyser()


def _clause(an, text: str) -> Clause:
    return an.analyse_clause(Clause(text=text, page=1))


@pytest.mark.parametrize("text,label,trigger", [
    ("Each Party shall allow the cross-border transfer of information by electronic means.", "binding", "shall"),
    ("No Party shall require a covered person to use computing facilities in its territory.", "binding", "No Party shall"),
    ("The Parties shall endeavour to exchange information on personal data protection.", "best_endeavour", "shall endeavour"),
    ("The Parties recognise the importance of the free flow of information.", "hortatory", "recognise"),
    ("The Participants will exchange experts on digital public infrastructure.", "non_binding", "will"),
    ("This Memorandum does not create legally binding obligations under international law.", "non_binding",
     "does not create legally binding obligations"),
])
def test_strength_with_trigger(an, text, label, trigger):
    c = _clause(an, text)
    assert (c.strength, c.strength_evidence.lower()) == (label, trigger.lower())


def test_topics_have_evidence(an):
    c = _clause(an, "Each Party shall allow the cross-border transfer of information by electronic means, "
                    "including personal information, and no Party shall require the use of local computing facilities.")
    found = {e.label: e.phrase.lower() for e in c.topics}
    assert found["data_flows"] == "cross-border transfer of information"
    assert found["privacy"] == "personal information"
    assert found["data_localisation"] == "computing facilities"
    ev = next(e for e in c.topics if e.label == "privacy")
    assert c.text[ev.start:ev.end].lower() == "personal information"


def test_exceptions_detected(an):
    c = _clause(an, "Nothing in this Article shall prevent a Party from adopting measures inconsistent with paragraph 2 "
                    "to achieve a legitimate public policy objective, or to protect its essential security interests.")
    labels = {e.label for e in c.exceptions}
    assert {"general", "public_policy", "security"} <= labels
    delay = _clause(an, "13 Viet Nam shall not be obliged to apply this paragraph for a period of five years.")
    assert "party_delay" in {e.label for e in delay.exceptions}


def test_entities_laws_countries_dates(an):
    c = _clause(an, "Singapore applies the Personal Data Protection Act 2012 and participates in the APEC Cross-Border "
                    "Privacy Rules system since 5 March 2018, like the Republic of Korea.")
    names = [e.phrase for e in c.entities if e.label == "LAW"]
    assert any("Personal Data Protection Act 2012" in n for n in names), names
    assert any("Privacy Rules" in n for n in names), names
    assert [e.phrase for e in c.entities if e.label == "COUNTRY"] == ["SGP", "KOR"]
    assert [e.phrase for e in c.entities if e.label == "DATE"] == ["5 March 2018"]


def _article(chapter: str, *texts: str) -> Article:
    return Article(doc_id="d", article_number="Article 9.4", article_title="Working Group", text=" ".join(texts),
                   page_start=1, page_end=1, chapter_title=chapter, clauses=[Clause(text=t, page=1) for t in texts])


def test_article_topics_chapter_context_and_mentions(an):
    treaty = an.analyse_article(_article("Temporary Entry of Business Persons",
                                         "The Parties shall establish a working group.",
                                         "It shall review personal data rules."), "FTA")
    assert treaty.topics == ["it_mobility"]  # one passing mention of personal data is not the subject
    assert treaty.clauses[1].topics[0].label == "privacy"  # but the clause keeps its evidence
    mou = an.analyse_article(_article("", "The Participants will exchange views on personal data protection."), "MoU")
    assert mou.topics == ["privacy"]
    dense = " ".join(["Each Party shall protect personal data."] * 5)
    assert "privacy" in an.analyse_article(_article("", dense), "FTA").topics


def test_title_topics_respect_exclusions(an):
    assert {e.label for e in an.title_topics("Cross-Border Transfer of Information")} == {"data_flows"}
    assert an.title_topics("Plant Protection and Privacy of Growers") == []


def test_labelled_strength_accuracy(an):
    if not DATA.exists():
        pytest.skip("tests/data/strength_labelled.jsonl not written yet")
    rows = [json.loads(ln) for ln in DATA.read_text().splitlines() if ln.strip()]
    assert len(rows) >= 200
    right, total = Counter(), Counter()
    for r in rows:
        total[r["label"]] += 1
        right[r["label"]] += _clause(an, r["text"]).strength == r["label"]
    accuracy = sum(right.values()) / len(rows)
    per_class = {k: round(right[k] / total[k], 3) for k in total}
    assert accuracy >= 0.95, per_class


def test_footnote_carve_out_linked_to_citing_clause(an):
    art = Article(doc_id="d", article_number="Article 3", article_title="Transfer of Information", text="x",
                  page_start=1, page_end=1, footnotes=["7 Ruritania shall not be obliged to apply paragraph 2 for a "
                                                       "period of five years after entry into force."],
                  clauses=[Clause(text="1. Scope text.", page=1, number="1"),
                           Clause(text="2. Each Party shall allow transfers.", page=1, number="2", footnote_refs=["7"])])
    an.analyse_article(art, "FTA")
    assert not any(e.phrase.startswith("footnote") for e in art.clauses[0].exceptions)
    linked = [e for e in art.clauses[1].exceptions if e.phrase.startswith("footnote 7")]
    assert {e.label for e in linked} >= {"party_delay"}
