"""How fast each command starts: median wall time of N runs of the real `clausebank` entry point.

    python -m bench.startup_bench [--home HOME] [--runs 5]

HOME must hold an ingested store (default: ./indexes, which `make demo` fills). Prints a Markdown
table (command, median, min, max, target) and a JSON summary line. `search` is timed in a fresh
process, so it includes loading the model and the index (the "cold model" case).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = [str(Path(sys.executable).with_name("clausebank"))]
TARGETS = {"--help": 0.5, "show": 1.0, "articles": 1.0, "paper --help": 1.0, "documents": 1.0, "search (cold)": 4.0,
           "search (warm app)": 4.0}
PORT = 8765


def commands(home: Path, doc: str, article: str) -> dict[str, list[str]]:
    h = ["--home", str(home)]
    return {
        "--help": ["--help"],
        "show": [*h, "show", doc, article],
        "articles": [*h, "articles", "--doc", doc],
        "paper --help": ["paper", "--help"],
        "documents": [*h, "documents", "--json"],
        "search (cold)": [*h, "search", "transfer of personal data abroad", "--top", "5"],
    }


def time_with_warm_app(home: Path, args: list[str], runs: int) -> list[float]:
    """`search` while `clausebank serve` runs on the same home (the CLI asks it)."""
    import signal
    import urllib.request

    server = subprocess.Popen(CLI + ["--home", str(home), "serve", "--port", str(PORT)], stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/search?q=data", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        return time_command(args, runs)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(60)


def time_command(args: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(CLI + args, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, default=Path("indexes"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--doc", default="india_korea_digital_fta")
    ap.add_argument("--article", default="12.13")
    a = ap.parse_args()
    summary = {}
    print("| command | median s | min s | max s | target s |\n| --- | --- | --- | --- | --- |")
    cmds = commands(a.home, a.doc, a.article)
    cmds["search (warm app)"] = cmds["search (cold)"]
    for name, args in cmds.items():
        times = time_with_warm_app(a.home, args, a.runs) if name == "search (warm app)" else time_command(args, a.runs)
        summary[name] = round(statistics.median(times), 3)
        label = " (while `clausebank serve` runs)" if name == "search (warm app)" else ""
        print(f"| `clausebank {' '.join(args).replace(str(a.home), 'HOME')}`{label} | {statistics.median(times):.2f} | "
              f"{min(times):.2f} | {max(times):.2f} | {TARGETS[name]} |")
    print(json.dumps({"runs": a.runs, "median_s": summary,
                      "all_within_target": all(summary[k] <= TARGETS[k] for k in summary)}))


if __name__ == "__main__":
    main()
