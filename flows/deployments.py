"""The one place where schedules live: the nightly ingestion at 02:00 Asia/Kolkata.

Start it with `clausebank flows serve` (or `python -m flows.deployments`). With no Prefect server
configured, Prefect starts a temporary local API; to watch runs in the UI, start
`prefect server start --host 127.0.0.1` and `export PREFECT_API_URL=http://127.0.0.1:4200/api` first.
"""
from __future__ import annotations

from prefect.schedules import Cron

from flows.ingest import ingest_flow, shared_local_api

NIGHTLY = Cron("0 2 * * *", timezone="Asia/Kolkata")


def serve_nightly(home: str = "indexes", sources: list[str] | None = None) -> None:
    """Register the nightly deployment and run it until interrupted."""
    with shared_local_api():
        ingest_flow.serve(name="clausebank-nightly", schedules=[NIGHTLY],
                          parameters={"home": home, "sources": sources or ["corpus", "corpus/inbox"]})


if __name__ == "__main__":
    serve_nightly()
