"""Crash-test table for issue 12: every crash point x `clausebank ingest` / `clausebank flows run`,
each killed there with SIGKILL and restarted at once; then the fuzz cases.

    PYTHONPATH=$PWD python -m bench.fault_bench [--runs 1] [--commands ingest flows] [--points ...]
        [--fuzz-examples 200] [--out bench/results/fault_bench.md]

Per row: runs, recoveries whose store matched a clean run's (and FAISS ids the store's, no temp file),
orphan processes left, median time from restart to a completed run. Fuzz: cases run, exceptions.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="clausebank-prefect-"))
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TQDM_DISABLE": "1", "DO_NOT_TRACK": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}.items():
    os.environ.setdefault(_k, _v)

from tests.test_faults import INDEX_POINTS, POINTS, clean_snapshot, crash_and_restart  # noqa: E402


def crash_rows(commands: list[str], points: list[str], runs: int, workdir: Path) -> list[str]:
    clean = clean_snapshot(workdir)
    rows = ["| command | crash point | runs | fault fired | restart exit 0 | store = clean run | FAISS = store "
            "| orphans left | temp files left | restart → done (s, median) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for command in commands:
        for point in points:
            index = command == "flows" or point in INDEX_POINTS
            results = []
            for k in range(runs):
                results.append(crash_and_restart(workdir / f"{command}-{point}-{k}", point, command, index))
            fired = sum(r["crashed"].returncode == -9 for r in results)
            ok = sum(r["restart"].returncode == 0 for r in results)
            same = sum(r["snapshot"] == clean for r in results)
            faiss_ok = sum(r["index_ok"] in (True, None) for r in results)
            orphans = sum(len(r["orphans"]) for r in results)
            temps = sum(len(r["temp_files"]) for r in results)
            secs = statistics.median(r["restart_seconds"] for r in results)
            rows.append(f"| {command} | {point} | {runs} | {fired} | {ok} | {same} | {faiss_ok} | {orphans} | {temps} "
                        f"| {secs:.1f} |")
            print(rows[-1], flush=True)
    return rows


def fuzz_rows(examples: int, workdir: Path) -> list[str]:
    from hypothesis import given, settings

    from pipeline.metadata import detect_metadata
    from pipeline.segment import build_document
    from tests.test_fuzz import mutated_pages, run_fuzz_ingest

    seen, raised = [0], []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None)
    @given(mutated_pages())
    def one(pages):
        seen[0] += 1
        try:
            detect_metadata(build_document(workdir / "fuzzed.pdf", pages), pages)
        except Exception:
            raised.append(traceback.format_exc(limit=2))

    one()
    pdf = run_fuzz_ingest(workdir / "pdf-fuzz")
    unexpected = [s for s, reasons in pdf["errors"].items() if any("unexpected" in r for r in reasons)]
    rows = ["| fuzz | cases | exceptions / bad outcomes |", "| --- | --- | --- |",
            f"| segment + metadata over mutated lines | {seen[0]} | {len(raised)} |",
            f"| damaged PDFs via `clausebank ingest` | {len(pdf['files'])} | "
            f"traceback: {'Traceback' in pdf['stderr']}; stored {len(pdf['stored'])}, clear errors "
            f"{len(pdf['errors']) - len(unexpected)}, 'unexpected' errors {len(unexpected)} {unexpected}; "
            f"partly stored {len(pdf['partial'])} |"]
    for row in rows[2:]:
        print(row, flush=True)
    return rows + ([f"\nfirst exception:\n```\n{raised[0]}```"] if raised else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--commands", nargs="+", default=["ingest", "flows"])
    ap.add_argument("--points", nargs="+", default=list(POINTS))
    ap.add_argument("--fuzz-examples", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("bench/results/fault_bench.md"))
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="clausebank-faults-") as tmp:
        lines = crash_rows(args.commands, args.points, args.runs, Path(tmp))
        lines += [""] + fuzz_rows(args.fuzz_examples, Path(tmp))
    lines.append(f"\n{time.time() - t0:.0f} s in all (`python -m bench.fault_bench "
                 f"--runs {args.runs} --commands {' '.join(args.commands)}`)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
