"""Issue 5 benchmark: the nightly ingest flow over the whole bench corpus, then an unchanged re-run.

    python -m bench.flow_bench [--bench DIR] [--home bench/results/flowhome] [--fresh] [--server]

Runs `clausebank --home HOME flows run --source bench/tota --source bench/mou` as a user would (a
fresh process, the real Prefect API), twice: the first run ingests, parses, embeds and indexes
everything (skipped when HOME already holds the corpus, unless --fresh); the second finds every file
unchanged. Wall-clock time of each process, and the stage table and peak memory from the flow's own
run report. With --server a `prefect server start` runs on 127.0.0.1 first (the production shape,
where the API is already up); without it each run starts its own local API.
Results go to bench/results/flow.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def run_flow(home: Path, sources: list[Path], env: dict) -> dict:
    """One `flows run` in its own process: wall seconds, exit code, the run report's text."""
    cmd = [sys.executable, "-m", "clausebank.cli", "--home", str(home), "flows", "run"]
    for src in sources:
        cmd += ["--source", str(src)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m = re.search(r"[Rr](?:un r)?eport: (\S+)", done.stderr)
    if not m:
        raise SystemExit(f"flows run wrote no report (exit {done.returncode}):\n{done.stderr[-3000:]}")
    report = Path(m.group(1)).read_text()
    return {"wall_seconds": round(wall, 1), "exit_code": done.returncode, "report": report,
            "flow_seconds": float(re.search(r"Duration: ([\d.]+) s", report).group(1))}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server(env: dict):
    """A `prefect server start` on 127.0.0.1, torn down afterwards; yields its API URL."""
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                             "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit("prefect server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / "results" / "flowhome")
    ap.add_argument("--fresh", action="store_true", help="delete HOME first and ingest everything")
    ap.add_argument("--server", action="store_true", help="run against a `prefect server start` on 127.0.0.1")
    args = ap.parse_args()
    if not (args.bench / "tota").is_dir():
        raise SystemExit(f"benchmark data not found at {args.bench}; nothing to measure")
    sources = [args.bench / "tota", args.bench / "mou"]
    if args.fresh and args.home.exists():
        shutil.rmtree(args.home)
    env = {**os.environ, "TQDM_DISABLE": "1", "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_HOME": str(args.home.parent / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    out: dict = {"home": str(args.home), "server": args.server}
    with (prefect_server(env) if args.server else nullcontext()) as url:
        if url:
            env["PREFECT_API_URL"] = url
        if not (args.home / "articles.faiss").exists():
            out["full"] = run_flow(args.home, sources, env)
            print(out["full"]["report"])
        out["unchanged"] = run_flow(args.home, sources, env)
    print(out["unchanged"]["report"])
    summary = {k: {"wall_seconds": v["wall_seconds"], "flow_seconds": v["flow_seconds"], "exit_code": v["exit_code"]}
               for k, v in out.items() if isinstance(v, dict)}
    summary["server"] = args.server
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "flow.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
