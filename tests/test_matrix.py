"""pipeline/matrix.py: a partner's strongest commitment per topic, exceptions not counted as commitments."""
from __future__ import annotations

import csv

import pytest

from pipeline.matrix import agreement_rows, partner_rows, write_matrix
from pipeline.models import Article, Clause, Document, Evidence
from pipeline.store import Store

TOPICS = ("data_flows", "privacy")


def _art(doc_id, number, topic, clauses):
    return Article(doc_id=doc_id, article_number=f"Article {number}", article_title="T", text=" ".join(
        t for t, _ in clauses), page_start=number, page_end=number, topics=[topic],
        clauses=[Clause(text=t, page=number, strength=s, topics=[Evidence(topic, "x")]) for t, s in clauses])


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path) as s:
        s.upsert(Document("kor_2015", "/k1.pdf", "1", "Korea–X FTA", "FTA", ["KOR", "CHL"], "2015-01-01", articles=[
            _art("kor_2015", 1, "data_flows", [("Each Party shall endeavour to allow transfers.", "best_endeavour")]),
            # a carve-out says "shall" but commits nothing
            _art("kor_2015", 2, "privacy", [("Nothing shall prevent a Party from protecting privacy.", "exception")]),
        ]))
        s.upsert(Document("kor_2020", "/k2.pdf", "2", "Korea–Y FTA", "FTA", ["KOR", "SGP"], "2020-01-01", articles=[
            _art("kor_2020", 5, "data_flows", [("Each Party shall allow transfers.", "binding"),
                                               ("Nothing shall prevent measures for public policy.", "exception")]),
        ]))
        yield s


def test_rows_per_agreement(store):
    rows = agreement_rows(store, "KOR", TOPICS)
    assert [(r.name, r.year) for r in rows] == [("Korea–X FTA", "2015"), ("Korea–Y FTA", "2020")]
    assert rows[0].cells["data_flows"].strength == "best_endeavour"
    assert rows[0].cells["privacy"].strength == "none"  # only an exception: no commitment
    assert rows[0].cells["privacy"].exception and rows[0].cells["privacy"].citation
    assert rows[1].cells["data_flows"].strength == "binding" and rows[1].cells["data_flows"].exception
    assert rows[1].cells["data_flows"].citation == "Korea–Y FTA, Art. 5, p. 5"


def test_several_partners_take_the_strongest(store):
    kor, chl = partner_rows(store, ["KOR", "CHL"], TOPICS)
    assert kor.cells["data_flows"].strength == "binding" and kor.cells["data_flows"].doc == "kor_2020"
    assert chl.cells["data_flows"].strength == "best_endeavour"


def test_csv_columns_are_topic_ids(store, tmp_path):
    out = write_matrix(agreement_rows(store, "KOR", TOPICS), TOPICS, tmp_path / "m.csv", "KOR")
    rows = list(csv.DictReader(out.open()))
    assert rows[1]["data_flows"] == "binding" and rows[1]["data_flows_exception"] == "yes"
    xlsx = write_matrix(agreement_rows(store, "KOR", TOPICS), TOPICS, tmp_path / "m.xlsx", "KOR")
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert ws["C4"].value.startswith("binding") and ws["C4"].fill.fgColor.rgb.endswith("1F7A3A")
    with pytest.raises(ValueError, match=".csv, .xlsx or .docx"):
        write_matrix([], TOPICS, tmp_path / "m.txt", "x")


def test_equal_strength_prefers_the_paragraph_on_the_topic(tmp_path):
    from pipeline.models import Evidence as Ev

    def art(number, clauses):
        return Article(doc_id="kor_2018", article_number=f"Article {number}", article_title="T",
                       text=" ".join(c.text for c in clauses), page_start=number, page_end=number,
                       topics=["it_mobility"], clauses=clauses)

    general = art(1, [Clause(text="Each Party shall apply its measures expeditiously.", page=1, strength="binding")])
    grant = art(2, [Clause(text="Each Party shall grant temporary entry to business visitors.", page=2,
                           strength="binding", topics=[Ev("it_mobility", "temporary entry")],
                           exceptions=[Ev("clarification", "For greater certainty")])])
    with Store(tmp_path) as s:
        s.upsert(Document("kor_2018", "/k.pdf", "3", "Korea–Z FTA", "FTA", ["KOR"], "2018-01-01",
                          articles=[general, grant]))
        cell = agreement_rows(s, "KOR", ("it_mobility",))[0].cells["it_mobility"]
    assert (cell.strength, cell.article_number) == ("binding", "Article 2")
    assert not cell.exception  # "for greater certainty" explains, it does not qualify
