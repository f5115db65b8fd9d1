"""Endpoint benchmark: ``maillage serve`` against native ``oxigraph serve-read-only``.

Usage::

    .venv/bin/python bench/bench_serve.py [--store DIR] [--work DIR] [--structures N]
                                          [--duration S] [--rounds R] [--workers W] [--no-write]

On one store (``--store``, else built in ``--work``: the real reference graph, the real curated
datasets and a labelled synthetic SIRENE import of N structures), in one run, alternating the
two servers round by round:

- point lookups (``SELECT ?p ?o WHERE { <structure> ?p ?o }`` on random structures) per second,
  with wrk (Debian package, installed with apt-get if missing), 16 connections;
- latency of an analytic GROUP BY (structures per NAF activity), sequential, median of runs;
- HTML resource pages (``/id/structure/{siren}.html``) per second, ``maillage serve`` only;
- peak RSS of each server's process tree during the run;
- whether native ``--timeout-s`` survives the point-lookup load (it starts a timer thread per
  query: see BENCHMARKS.md).

Targets: point lookups ≥ 0.5× native, GROUP BY latency ≤ 1.1× native, ≥ 1,000 pages/s.
Results replace the "Endpoint" section of BENCHMARKS.md (between its markers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START, END = "<!-- endpoint-bench:start -->", "<!-- endpoint-bench:end -->"
CONNECTIONS = 16
GROUP_BY = ("PREFIX mai: <https://w3id.org/maillage/def#> "
            "SELECT ?naf (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a mai:Structure ; "
            "mai:activity ?naf } GROUP BY ?naf ORDER BY DESC(?n) ?naf")

BUILD_CHILD = """
import json, sys, time
from pathlib import Path
from maillage.graph.ingest.curated import import_curated
from maillage.graph.ingest.sirene import SireneOptions, import_sirene
from maillage.graph.ingest.synth import generate_stock
from maillage.graph.reference import build_reference
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
root, n = Path(sys.argv[1]), int(sys.argv[2])
settings = Settings.from_env({}, store=str(root / "store"))
store = MaillageStore(settings.store_path)
build_reference(store, settings, fresh=True)
import_curated(store, settings)
synth = root / "synth"
if not (synth / "synth-summary.json").exists():
    generate_stock(synth, n, seed=1)
import_sirene(store, settings, synth / "StockUniteLegale_utf8.csv",
              synth / "StockEtablissement_utf8.csv", SireneOptions(synthetic=True))
print(json.dumps({"triples": store.count()}))
"""

LUA = """
local iris = {%s}
math.randomseed(%d)
request = function()
  local iri = iris[math.random(1, #iris)]
  return wrk.format("GET", %s, {["Accept"] = "%s"})
end
"""


def ensure_wrk() -> str:
    """The wrk binary (apt-get install when missing and root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def build_store(work: Path, structures: int) -> Path:
    root = work / f"store-{structures}"
    if not (root / "store" / "current").exists():
        print(f"building a store with {structures:,} synthetic structures in {root}", flush=True)
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", BUILD_CHILD, str(root), str(structures)],
                       check=True, cwd=ROOT)
    return root / "store"


def sample_structures(store: Path, n: int) -> list[str]:
    """Random structure IRIs of the store (read-only)."""
    from pyoxigraph import Store

    reader = Store.read_only(str(store / os.readlink(store / "current")))
    query = ("SELECT ?s WHERE { ?s a <https://w3id.org/maillage/def#Structure> }")
    iris = [row["s"].value for row in reader.query(query, use_default_graph_as_union=True)]
    del reader
    random.Random(1).shuffle(iris)
    return iris[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process tree, its URL, and an RSS sampler."""

    def __init__(self, name: str, command: list[str], url: str, ready: str,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.url = name, url
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open while the server runs
            prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, cwd=ROOT)
        self.peak_rss = 0
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(url + ready, timeout=5).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss(self) -> int:
        try:
            root = psutil.Process(self.proc.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_rss = max(self.peak_rss, self.rss())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        self._stop.set()
        self.log.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def native(store: Path, timeout: int | None = None) -> Server:
    port = free_port()
    command = [str(BIN / "oxigraph"), "serve-read-only", "--location",
               str(store / os.readlink(store / "current")), "--bind", f"127.0.0.1:{port}",
               "--union-default-graph"]
    if timeout:
        command += ["--timeout-s", str(timeout)]
    return Server("native", command, f"http://127.0.0.1:{port}", "/query?query=ASK%7B%7D")


def maillage(store: Path, workers: int) -> Server:
    port = free_port()
    command = [str(BIN / "maillage"), "serve", "--store", str(store), "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]
    return Server("maillage", command, f"http://127.0.0.1:{port}", "/healthz")


def lua_script(work: Path, name: str, iris: list[str], path_expr: str, accept: str) -> Path:
    quoted = ",".join(json.dumps(i) for i in iris)
    path = work / f"{name}.lua"
    path.write_text(LUA % (quoted, 1, path_expr, accept))
    return path


def point_lookup_path(endpoint: str) -> str:
    """The Lua expression of a point-lookup GET URL (the IRI is percent-encoded in Lua)."""
    before = quote("SELECT ?p ?o WHERE { <", safe="")
    after = quote("> ?p ?o }", safe="")
    return (f'"{endpoint}?query={before}" .. iri:gsub("[^%w%-_%.~]", function(c) '
            f'return string.format("%%%02X", string.byte(c)) end) .. "{after}"')


def run_wrk(wrk: str, url: str, script: Path, seconds: int) -> dict:
    out = subprocess.run([wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s",
                          str(script), url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    return {"rps": rps, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "",
            "p50_ms": _ms(p50), "p99_ms": _ms(p99)}


def _ms(match: re.Match[str] | None) -> float | None:
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def group_by_latency(url: str, runs: int) -> float:
    """Median wall time of the analytic query (after two warm-up runs), in seconds."""
    times = []
    with httpx.Client(timeout=300) as http:
        for i in range(runs + 2):
            t0 = time.perf_counter()
            r = http.get(url, params={"query": GROUP_BY},
                         headers={"Accept": "application/sparql-results+json"})
            r.raise_for_status()
            if i >= 2:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def check_native_timeout(store: Path, wrk: str, script: Path) -> dict:
    """Does ``oxigraph serve-read-only --timeout-s`` survive the point-lookup load?"""
    server = native(store, timeout=30)
    try:
        result = run_wrk(wrk, server.url + "/", script, 5)
        time.sleep(1)
        return {**result, "alive_after": server.alive(),
                "log_tail": Path(server.log.name).read_text()[-300:]}
    finally:
        server.stop()


def benchmark(store: Path, work: Path, args: argparse.Namespace) -> dict:
    wrk = ensure_wrk()
    iris = sample_structures(store, 2000)
    native_lua = lua_script(work, "native-point", iris, point_lookup_path("/query"),
                            "application/sparql-results+json")
    ours_lua = lua_script(work, "maillage-point", iris, point_lookup_path("/sparql"),
                          "application/sparql-results+json")
    pages_lua = lua_script(work, "maillage-pages", iris,
                           'iri:gsub("^https://w3id.org/maillage/", "/") .. ".html"', "text/html")
    results: dict = {"point": {"native": [], "maillage": []},
                     "group_by": {"native": [], "maillage": []}, "pages": []}
    servers = {"native": native(store), "maillage": maillage(store, args.workers)}
    try:
        for name, server in servers.items():  # warm-up: caches, page templates, labels
            script = native_lua if name == "native" else ours_lua
            run_wrk(wrk, server.url + "/", script, 2)
        run_wrk(wrk, servers["maillage"].url + "/", pages_lua, 2)
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            for name in ("native", "maillage"):
                server = servers[name]
                script = native_lua if name == "native" else ours_lua
                results["point"][name].append(run_wrk(wrk, server.url + "/", script,
                                                      args.duration))
                endpoint = server.url + ("/query" if name == "native" else "/sparql")
                results["group_by"][name].append(group_by_latency(endpoint, args.runs))
            results["pages"].append(run_wrk(wrk, servers["maillage"].url + "/", pages_lua,
                                            args.duration))
        results["peak_rss_mb"] = {n: s.peak_rss / 2**20 for n, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    results["native_timeout"] = check_native_timeout(store, wrk, native_lua)
    return results


def summary(results: dict) -> dict:
    native_rps = statistics.median(r["rps"] for r in results["point"]["native"])
    ours_rps = statistics.median(r["rps"] for r in results["point"]["maillage"])
    native_gb = statistics.median(results["group_by"]["native"])
    ours_gb = statistics.median(results["group_by"]["maillage"])
    pages = statistics.median(r["rps"] for r in results["pages"])
    return {"native_rps": native_rps, "maillage_rps": ours_rps, "rps_ratio": ours_rps / native_rps,
            "native_group_by_s": native_gb, "maillage_group_by_s": ours_gb,
            "group_by_ratio": ours_gb / native_gb, "pages_rps": pages}


def markdown(meta: dict, results: dict, s: dict) -> str:
    rounds = results["point"]
    nt = results["native_timeout"]
    per_round = "; ".join(f"{n['rps']:,.0f} / {m['rps']:,.0f}"
                          for n, m in zip(rounds["native"], rounds["maillage"]))
    last_n, last_m = rounds["native"][-1], rounds["maillage"][-1]
    lines = [
        "## Endpoint",
        "",
        (f"Run of `bench/bench_serve.py` on {meta['date']}: {meta['cpus']} cores ({meta['cpu']}), "
         f"{meta['ram_gb']:.0f} GB RAM; Python {meta['python']}, pyoxigraph {meta['pyoxigraph']}, "
         f"CLI oxigraph {meta['oxigraph']}. Load average at start: {meta['load']} — the machine "
         "is shared with other jobs, so the servers were measured alternately, round by round, "
         "and medians are given."),
        "",
        (f"Store: {meta['store_triples']:,} triples ({meta['store']}). `maillage serve "
         f"--workers {meta['workers']}` (default settings: 30 s limit, 10,000 rows) against "
         "`oxigraph serve-read-only --union-default-graph` on the same generation directory; "
         f"wrk, 2 threads, {CONNECTIONS} connections, {meta['duration']} s per measure, "
         f"{meta['rounds']} rounds."),
        "",
        "| measure | native | maillage serve | ratio | target |",
        "|---|---:|---:|---:|---|",
        (f"| point lookups / s (random structure, JSON) | {s['native_rps']:,.0f} | "
         f"{s['maillage_rps']:,.0f} | **{s['rps_ratio']:.2f}×** | ≥ 0.5× |"),
        (f"| analytic GROUP BY latency (structures per NAF) | "
         f"{s['native_group_by_s'] * 1000:,.0f} ms | {s['maillage_group_by_s'] * 1000:,.0f} ms | "
         f"**{s['group_by_ratio']:.2f}×** | ≤ 1.1× |"),
        f"| HTML resource pages / s | — | {s['pages_rps']:,.0f} | | ≥ 1,000 |",
        (f"| peak RSS of the process tree | {results['peak_rss_mb']['native']:,.0f} MB | "
         f"{results['peak_rss_mb']['maillage']:,.0f} MB | | |"),
        "",
        f"Rounds (point lookups/s, native / maillage): {per_round}.",
        (f"Latency p50 / p99 of point lookups (last round): native {last_n['p50_ms']:.2f} / "
         f"{last_n['p99_ms']:.2f} ms, maillage {last_m['p50_ms']:.2f} / {last_m['p99_ms']:.2f} ms."
         f" Pages p50 {results['pages'][-1]['p50_ms']:.1f} ms."),
        "",
        ("Native with `--timeout-s 30` under the same point-lookup load for 5 s: "
         f"{nt['rps']:,.0f} requests/s, {nt['non_2xx']} non-2xx answers, socket errors "
         f"`{nt['socket_errors'] or 'none'}`, server {'alive' if nt['alive_after'] else 'DEAD'} "
         "afterwards."),
        "",
    ]
    return "\n".join(lines) + "\n" + meta.get("analysis", "") + "\n"


def write_section(text: str) -> None:
    from report import replace_section

    replace_section(ROOT / "BENCHMARKS.md", START, END, text, head="# Benchmarks\n")


ANALYSIS = """What limits `maillage serve` on point lookups: each request runs Python, on 2 cores
shared with wrk and with other jobs, where native Oxigraph answers from Rust threads. Measured
in process on a point lookup (sequential): the query and our JSON serializer take ≈ 135 µs, the
HTTP framework (request parsing, middlewares, response) ≈ 80 µs, against ≈ 50 µs of CPU per
request for native; under this shared load each request costs ≈ 0.6 ms of CPU across our two
processes, and the Linux scheduler shares the cores by thread, which favours native's thread
pool over our two busy threads. How the time limit is kept: `Store.query` cannot be
interrupted, so a query runs on a job thread of its web worker process, and a process whose
job passes the limit answers 504 and retires (its CPU is released when it exits, ≤ 3 s later)
while its siblings serve; only lookups bounded by construction (one triple pattern with a
constant subject, or `DESCRIBE <iri>`, or a resource document) run directly on the event loop,
without the thread hand-off. Alternatives measured on this machine: the query run on the event
loop for every request (raw ASGI, no framework) reached 0.43× native but cannot enforce the
limit; a thread hand-off for every request on raw ASGI 0.30×; a pool of separate query
processes (jobs pickled over socket pairs) ≈ 0.1×, since every request then crosses two Python
processes; native `--timeout-s` starts a timer thread per query and died under this load
(above), so delegating to it is not an option. Also done for speed: a fast path for `/sparql`
around the framework's routing, a lean thread pool (a lock per job), cached `Accept` parsing,
uvloop + httptools. The GROUP BY runs in the same engine in both servers: the ratio is within
the noise. HTML pages cost ≈ 1.3–2 ms of CPU each (store reads for the statements, labels and
incoming links, Jinja rendering; maps are cached per set of communes): the pages per second
scale with free cores, and the target is not met on this shared 2-core machine. Peak RSS: two
web worker processes (RocksDB block cache and Python, up to ≈ 450 MB each under load) and the
supervisor (the `maillage` CLI process, ≈ 110 MB), against one native process.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-serve")
    parser.add_argument("--structures", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    store = args.store or build_store(args.work, args.structures)
    meta = {
        "date": dt.date.today().isoformat(), "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "ram_gb": psutil.virtual_memory().total / 2**30, "python": platform.python_version(),
        "pyoxigraph": __import__("pyoxigraph").__version__,
        "oxigraph": subprocess.run([str(BIN / "oxigraph"), "--version"], capture_output=True,
                                   text=True, check=False).stdout.split()[-1],
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()), "store": str(store),
        "workers": args.workers, "duration": args.duration, "rounds": args.rounds,
        "analysis": ANALYSIS,
    }
    from maillage.graph.store import MaillageStore

    meta["store_triples"] = MaillageStore(store).count()
    results = benchmark(store, args.work, args)
    s = summary(results)
    (args.work / "results.json").write_text(json.dumps(
        {"meta": meta, "results": results, "summary": s}, indent=2, default=str))
    text = markdown(meta, results, s)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
