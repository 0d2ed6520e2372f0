"""pipeline/search.py, index.py and embed.py on the ingested sample corpus (real model, real FAISS)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from pipeline.embed import Embedder
from pipeline.index import INDEX_FILES, IndexOutOfDate, load_indexes, sync_index
from pipeline.ingest import ingest
from pipeline.search import FilterError, Filters, Searcher, citation, highlight
from pipeline.store import Store

TEXT_PDFS = ["india_korea_digital_fta", "india_australia_ceca", "singapore_uae_epa", "india_uae_ict_mou",
             "india_germany_digital_jdi", "india_japan_it_mobility_moc"]


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_dir):
    home = tmp_path_factory.mktemp("home")
    report = ingest(home, [corpus_dir / f"{s}.pdf" for s in TEXT_PDFS])
    assert report.ok and report.index["body_added"] == report.articles, report
    return home


@pytest.fixture(scope="module")
def searcher(home):
    store = Store(home)
    yield Searcher(store)
    store.close()


def test_top_hit_is_the_data_transfer_article(searcher):
    hits = searcher.search("allow cross-border transfer of information by electronic means", top=5)
    top = hits[0]
    assert "transfer of information" in top.article_title.lower()
    doc = searcher.store.documents_by_id([top.doc_id])[top.doc_id]
    number = top.article_number.split()[-1]
    assert top.citation == f"{doc.short_name or doc.title}, Art. {number}, p. {top.page}"
    assert top.clause_text in top.text and top.page >= 1 and top.year == doc.date_signed[:4]


def test_search_threads_read_through_their_own_connections_which_end_with_them(searcher):
    """A web server's request threads come and go (idle workers end): each searches through a read-only
    connection of its own, and a connection lives no longer than its thread."""
    import gc
    import threading

    found = []
    for _ in range(5):
        worker = threading.Thread(target=lambda: found.append(
            (searcher.reader() is not searcher.store, [h.article_id for h in searcher.search("personal data", top=3)])))
        worker.start()
        worker.join()
    gc.collect()
    assert all(own for own, _ in found) and len({tuple(ids) for _, ids in found}) == 1
    assert searcher.reader() is searcher.store  # the thread that made the Searcher uses the given store
    assert len(searcher._readers) <= 2  # the two FTS5 workers' own; none left by the five ended threads


def test_results_grouped_per_article(searcher):
    hits = searcher.search("personal data protection", top=10)
    keys = [(h.doc_id, h.article_number) for h in hits]
    assert len(keys) == len(set(keys))
    assert all(h.snippet for h in hits)


def test_filters(searcher):
    korea = searcher.search("temporary entry of business visitors", Filters(party="Republic of Korea"), top=10)
    assert korea and {h.doc_id for h in korea} == {"india_korea_digital_fta"}
    mous = searcher.search("cooperation", Filters(kind="MoU"), top=10)
    assert mous and all(h.doc_id in {"india_uae_ict_mou", "india_japan_it_mobility_moc"} for h in mous)
    privacy = searcher.search("rules", Filters(topic="privacy"), top=10)
    assert privacy and all("privacy" in h.topics for h in privacy)
    assert searcher.search("cooperation", Filters(year_from=2030), top=5) == []
    binding = searcher.search("temporary entry", Filters(strength="binding"), top=5)
    assert binding
    with pytest.raises(FilterError, match="Atlantis"):
        searcher.search("x", Filters(party="Atlantis"))


def test_index_matches_store_and_follows_deletions(home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    with Store(copy) as store:
        load_indexes(store)  # consistent after ingest
        store.delete("india_uae_ict_mou")
        with pytest.raises(IndexOutOfDate):
            load_indexes(store)
        embedder = Embedder(copy)
        report = sync_index(store, embedder)
        assert report["body_removed"] > 0 and report["body_added"] == 0
        assert embedder.encoded == 0  # nothing re-embedded
        load_indexes(store)


def test_corrupt_index_is_rebuilt_from_store_and_cache(home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    (copy / INDEX_FILES["body"]).write_bytes(b"garbage")
    with Store(copy) as store:
        embedder = Embedder(copy)
        report = sync_index(store, embedder)
        assert report["body_added"] == store.counts()["articles"]
        assert embedder.encoded == 0  # vectors came from the text-hash cache
        load_indexes(store)


def test_embedder_cache_and_normalisation(tmp_path):
    emb = Embedder(tmp_path)
    v = emb.encode(["data flows", "temporary entry", "data flows"])
    assert v.shape == (3, 384) and emb.encoded == 2
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    emb.encode(["temporary entry"])
    assert emb.encoded == 2


def test_citation_and_highlight():
    assert citation("RCEP", "Article 12.15", 430) == "RCEP, Art. 12.15, p. 430"
    assert citation("JDI", "Section 3", 2) == "JDI, Section 3, p. 2"
    assert highlight("Each Party shall allow data flows.", ["data"]) == "Each Party shall allow **data** flows."
