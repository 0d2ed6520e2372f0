"""The position-paper flow: wraps `pipeline.compose` so drafting teams can schedule or trigger it."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from pipeline.compose import compose_paper, load_brief
from pipeline.search import Searcher
from pipeline.store import Store


@flow(name="clausebank-export")
def export_flow(brief: str, output: str, home: str = "indexes") -> str:
    """Compile the position paper for `brief` into `output` (DOCX)."""
    with Store(Path(home)) as store:
        out = compose_paper(load_brief(Path(brief)), Searcher(store), Path(output))
    get_run_logger().info("position paper written: %s", out)
    return str(out)
