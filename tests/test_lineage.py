"""pipeline/lineage.py: families of copied clauses in a real store with real signatures and vectors."""
from __future__ import annotations

import pytest

from pipeline.lineage import SignatureIndex, modality_changes, similar_articles, sync_signatures, word_diff
from pipeline.models import Article, Clause, Document
from pipeline.store import Store

# our own texts: a template (2010), a copy that softens it (2015), a paraphrase (2019), an unrelated article
TEMPLATE = ("Each Party shall adopt or maintain a legal framework that provides for the protection of the "
            "personal information of the users of electronic commerce, taking into account international "
            "standards and the criteria of relevant international bodies.")
SOFTENED = TEMPLATE.replace("Each Party shall adopt", "Each Party shall endeavour to adopt")
PARAPHRASE = ("The Parties will put in place laws protecting the personal data of people who buy and sell "
              "online, guided by the work of international organisations on the subject.")
UNRELATED = "Customs duties on originating goods shall be eliminated in ten equal annual instalments."


def _doc(doc_id: str, year: int, texts: list[str]) -> Document:
    arts = [Article(doc_id=doc_id, article_number=f"Article {i}", article_title=f"Title {i}", text=t,
                    page_start=i, page_end=i, clauses=[Clause(text=t, page=i)]) for i, t in enumerate(texts, 1)]
    return Document(doc_id=doc_id, path=f"/x/{doc_id}.pdf", sha256=doc_id, title=f"Agreement {doc_id}",
                    kind="FTA", parties=["IND"], date_signed=f"{year}-06-01", articles=arts)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from pipeline.embed import Embedder
    from pipeline.index import sync_index

    home = tmp_path_factory.mktemp("lineage")
    with Store(home) as store:
        store.upsert(_doc("c_2019", 2019, [UNRELATED, PARAPHRASE]))
        store.upsert(_doc("b_2015", 2015, [SOFTENED]))
        store.upsert(_doc("a_2010", 2010, [TEMPLATE, UNRELATED.replace("ten", "five")]))
        sync_index(store, Embedder(home))
        assert sync_signatures(store) == {"signed": 5, "removed": 0}
    return home


def test_family_oldest_first_with_template_and_modality_change(home):
    with Store(home) as store:
        family = similar_articles(store, "b_2015", "1", top=3, min_similarity=0.3)
    assert [r.doc for r in family] == ["a_2010", "b_2015", "c_2019"]
    assert family[0].template and not family[1].template
    # figures are against the article asked about: the template is a copy, the 2019 text a paraphrase
    assert family[0].jaccard > 0.7 and family[2].jaccard < 0.2
    assert family[2].similarity > 0.5
    assert family[1].modality_changes == [("shall", "shall endeavour")]
    assert ("+", "endeavour to") in family[1].diff


def test_unrelated_articles_are_left_out(home):
    with Store(home) as store:
        family = similar_articles(store, "a_2010", "1", top=5, min_similarity=0.5)
    assert {r.doc for r in family} == {"a_2010", "b_2015", "c_2019"}
    assert all("Customs" not in r.article_title for r in family)


def test_signatures_are_added_incrementally(home, tmp_path):
    import shutil

    copy = tmp_path / "h"
    shutil.copytree(home, copy)
    with Store(copy) as store:
        before = SignatureIndex(copy).sigs.copy()
        store.upsert(_doc("d_2021", 2021, [TEMPLATE]))
        assert sync_signatures(store) == {"signed": 1, "removed": 0}
        store.delete("b_2015")
        assert sync_signatures(store) == {"signed": 0, "removed": 1}
        after = SignatureIndex(copy)
        assert len(after.ids) == 5 and (after.sigs[:3] == before[[0, 1, 3]]).all()


def test_modality_changes_on_constructed_edits():
    base = "Each Party shall allow the cross-border transfer of information. A Party may adopt measures."
    assert modality_changes(base, base) == []
    assert modality_changes(base, base.replace("shall allow", "shall endeavour to allow")) == [
        ("shall", "shall endeavour")]
    assert modality_changes(base, base.replace("A Party may", "A Party shall not")) == [("may", "shall not")]
    assert modality_changes(base, base.replace("information", "data")) == []  # a word swap
    assert modality_changes(base, base + " The Parties shall cooperate.") == []  # a sentence added


def test_modality_changes_pair_each_modal_with_the_one_in_its_place():
    lead = "For the purposes of this Article, each Party shall "
    two = lead + "publish its rules. Each Party shall endeavour to simplify procedures."
    # the first sentence's tail removed: its "each Party shall" must not be read as softened to "shall endeavour"
    assert modality_changes(two, lead + "endeavour to simplify procedures.") == []
    assert modality_changes(two, two.replace("shall publish", "may publish")) == [("shall", "may")]
    # the modal and the verb after it changed together; the verb is not part of the modal
    assert modality_changes("Each Party shall ensure that fees are reasonable.",
                            "Each Party may seek that fees are reasonable.") == [("shall", "may")]
    assert modality_changes("A Party shall ensure access.", "A Party shall endeavour to ensure access.") == [
        ("shall", "shall endeavour")]
    assert modality_changes("Parties shall endeavor to meet.", "Parties shall endeavour to meet.") == []  # spelling
    assert modality_changes("A Party shall not require it. It shall apply.",
                            "A Party may require it. It may apply.") == [("shall not", "may"), ("shall", "may")]


def test_word_diff_marks_added_and_removed():
    assert word_diff("a b c", "a x c") == [("=", "a"), ("-", "b"), ("+", "x"), ("=", "c")]
