"""Web app benchmark: `python -m bench.web_bench HOME [--seconds 30] [--clients 16] [--port 8765]`.

Starts `clausebank serve` over the store in HOME (read-only), then measures over HTTP:
- start-up: seconds until the first search answers (model and index loaded once, in the lifespan);
- GET /api/search latency with filters, one client at a time (p50 / p95);
- the same under CLIENTS concurrent clients for SECONDS (httpx async): p50 / p95, requests/s, errors;
- the server's resident memory (now and peak, from /proc);
- first contentful paint of the search page in Debian's Chromium (skipped when it is absent).
Prints one JSON object and writes it to --out.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# Our own queries, each with the filters a negotiator would set.
QUERIES = [
    ("cross-border transfer of personal data", {}),
    ("cross-border transfer of personal data", {"topic": "data_flows"}),
    ("location of computing facilities", {"topic": "data_localisation", "from": "2015"}),
    ("protection of personal information of users", {"topic": "privacy"}),
    ("temporary entry of intra-corporate transferees", {"topic": "it_mobility", "kind": "FTA"}),
    ("visa processing times for professionals", {"party": "IND"}),
    ("customs duties on electronic transmissions", {"from": "2018", "to": "2024"}),
    ("source code of software", {"strength": "binding"}),
    ("cooperation on cybersecurity incidents", {"kind": "MoU"}),
    ("paperless trading administration documents", {"party": "SGP"}),
]


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    a = np.asarray(ms)
    return {"n": len(ms), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> dict:
    """Resident memory of the server process, now and at its peak (VmRSS / VmHWM)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024)
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM")}


def start_server(home: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TQDM_DISABLE": "1"}
    env.pop("CLAUSEBANK_TOKEN", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "clausebank.cli", "--home", str(home), "serve",
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/search?q=data&top=1"
    while time.perf_counter() - t0 < 600:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {proc.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise TimeoutError("the server did not answer within 600 s")


def sequential(base: str, rounds: int) -> dict:
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for q, filters in itertools.islice(itertools.cycle(QUERIES), rounds):
            t = time.perf_counter()
            r = client.get("/api/search", params={"q": q, "top": 10, **filters})
            times.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return percentiles(times)


async def concurrent(base: str, clients: int, seconds: float) -> dict:
    """`clients` clients, each sending its next search as soon as the last one answered."""
    times: list[float] = []
    by_query: dict[str, list[float]] = {}
    errors = 0
    deadline = time.perf_counter() + seconds

    async def one_client(offset: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        for q, filters in itertools.islice(itertools.cycle(QUERIES), offset, None):
            if time.perf_counter() >= deadline:
                return
            t = time.perf_counter()
            try:
                r = await client.get("/api/search", params={"q": q, "top": 10, **filters})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            times.append((time.perf_counter() - t) * 1000)
            by_query.setdefault(q + (" +filters" if filters else ""), []).append(times[-1])
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(one_client(k, client) for k in range(clients)))
        wall = time.perf_counter() - t0
    # the tail: whether slow answers belong to some queries or to the queue
    per_query = {q: percentiles(ms)["p50_ms"] for q, ms in sorted(by_query.items())}
    return {**percentiles(times), "clients": clients, "seconds": round(wall, 1),
            "requests_per_s": round(len(times) / wall, 1), "errors": errors, "p50_ms_by_query": per_query}


def first_paint(base: str) -> dict:
    """First contentful paint of the search page with a query, cold (new browser) and warm (reload)."""
    if not CHROMIUM.exists():
        return {"skipped": "no /usr/bin/chromium"}
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"]
    # the paint entry can land after `load`: wait for it (buffered), give up after 10 s
    js = """() => new Promise(done => {
        new PerformanceObserver(list => {
            const fcp = list.getEntriesByName('first-contentful-paint')[0];
            if (fcp) done(fcp.startTime);
        }).observe({type: 'paint', buffered: true});
        setTimeout(() => done(-1), 10000);
    })"""
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        for label in ("cold_ms", "warm_ms"):  # warm: the browser has the CSS and script cached
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/?q=cross-border+transfer+of+personal+data&topic=data_flows", wait_until="load")
            out[label] = round(page.evaluate(js) or -1, 1)
            page.close()
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path, help="a clausebank home with a store and its index")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=100, help="sequential searches")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web_bench.json")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    proc, startup = start_server(args.home, args.port, args.out.with_suffix(".server.log"))
    base = f"http://127.0.0.1:{args.port}"
    try:
        result = {"home": str(args.home), "startup_s": round(startup, 1), "after_start": rss_mb(proc.pid)}
        sequential(base, 10)  # warm-up
        result["sequential"] = sequential(base, args.rounds)
        server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
        result["concurrent"] = load = asyncio.run(concurrent(base, args.clients, args.seconds))
        # where the machine's two cores went: the server's and the load generator's CPU per request
        done = max(load["n"], 1)
        load["server_cpu_ms_per_request"] = round(1000 * (cpu_seconds(proc.pid) - server_cpu) / done, 1)
        load["client_cpu_ms_per_request"] = round(1000 * (time.process_time() - client_cpu) / done, 1)
        result["memory"] = rss_mb(proc.pid)
        result["first_paint"] = first_paint(base)
    finally:
        proc.terminate()
        proc.wait(30)
    text = json.dumps(result, indent=1)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
