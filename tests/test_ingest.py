"""pipeline/ingest.py: where parsing runs (the whole ingestion is exercised in test_cli, test_faults, test_flows)."""
from __future__ import annotations

from pipeline.ingest import ParseWorkers, serial_submit


def _todo(corpus_dir, *stems):
    return [(corpus_dir / f"{s}.pdf", "sha") for s in stems]


def test_a_small_batch_is_parsed_here_and_a_long_one_in_workers(corpus_dir):
    small = ParseWorkers(2)
    small.plan(_todo(corpus_dir, "india_uae_ict_mou", "india_japan_it_mobility_moc"))
    assert small.pool is None
    long = ParseWorkers(2, min_pages=20)
    long.plan(_todo(corpus_dir, "india_korea_digital_fta", "india_australia_ceca"))
    try:
        assert long.pool is not None and long.pool._max_workers == 2
    finally:
        long.shutdown()
    one_file = ParseWorkers(2, min_pages=1)
    one_file.plan(_todo(corpus_dir, "india_korea_digital_fta"))
    assert one_file.pool is None  # one file cannot be split between workers


def test_asked_for_workers_are_always_started(corpus_dir):
    asked = ParseWorkers(2, min_pages=0)
    asked.plan(_todo(corpus_dir, "india_uae_ict_mou"))
    try:
        assert asked.pool is not None
    finally:
        asked.shutdown()
    single = ParseWorkers(1, min_pages=0)
    single.plan(_todo(corpus_dir, "india_uae_ict_mou", "india_japan_it_mobility_moc"))
    assert single.pool is None


def test_parsing_here_waits_until_the_result_is_asked_for(tmp_path):
    job = serial_submit(str(tmp_path / "missing.pdf"), "sha", False, 10)  # no error yet: nothing parsed
    try:
        job.result()
    except Exception as exc:  # noqa: BLE001 - the parse error arrives with the result
        assert "missing.pdf" in str(exc) or "not found" in str(exc).lower()
    else:
        raise AssertionError("a missing file parsed")
