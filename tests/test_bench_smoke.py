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
