"""Remote store benchmark: Maillage on an ``oxigraph serve`` engine against the embedded store.

Usage::

    .venv/bin/python bench/bench_remote.py [--scale idf|small] [--rounds 3] [--duration 10]
                                           [--work DIR] [--keep] [--no-write] [--report-only]

Input: labelled synthetic SIRENE stock files (``maillage synth --structures N --seed 2018``,
written into ``var/bench-remote/synth-<scale>`` and reused when present); ``idf`` = 50,000
active ESS units, ``small`` = 2,000 (a quick check of the script).

1. **Ingest**, every step a child process of the real CLI, measured with ``/usr/bin/time``
   (wall, CPU, peak RSS): ``maillage init``, ``maillage import sirene --synthetic``,
   ``maillage import curated``, ``maillage analyze``, then ``maillage dump`` (N-Quads), on
   (a) a fresh embedded store directory and (b) a fresh ``oxigraph serve --location DIR`` (on
   disk, like a deployment), whose CPU time and peak RSS are sampled per step. On the remote
   backend the CLI runs under a thin wrapper that times the backend's own phases (lock, graph
   fetches, uploads, the final SPARQL Update): behaviour unchanged. References measured in the
   same run on the embedded store's dump: native ``oxigraph load --location NEW --file
   store.nq``, and a plain Graph Store POST of that N-Quads file to a fresh ``oxigraph serve``
   (with a transaction, the protocol's default, and with Oxigraph's ``?no_transaction`` bulk
   mode). Both stores are then compared graph by graph (triple counts).
2. **Reads**: named queries with their ``example`` parameters through the in-process API
   (``run_named_query(open_store(settings), id, params)``), read whole, both backends
   alternately, median of ``--rounds`` rounds after one warm-up round. Results are compared
   (same rows, order-insensitive) on the remote engine that ran the ingest and on an engine
   serving a copy of the embedded store (the same bytes: every row must be equal).
   Also: the cost of the remote backend's named-graph listing (``MAILLAGE_STORE_GRAPHS_TTL=0``,
   the default, fetches it with every query) and in-process latencies of a point lookup and of
   an HTML resource page, with the number of engine requests each one makes.
3. **Endpoint**: ``maillage serve --workers 2`` on the embedded store, on the remote store
   (``MAILLAGE_STORE_GRAPHS_TTL`` 0 and 5) and native ``oxigraph serve-read-only
   --union-default-graph`` on a copy: point lookups per second (SPARQL SELECT of a random
   structure's statements, JSON) and HTML resource pages per second, with wrk (2 threads, 16
   connections, ``--duration`` seconds per measure), servers alternated round by round.
4. **Fault**: the engine is killed (SIGKILL) and restarted on the same port and location
   about 1 s later; a named query run during the outage with ``MAILLAGE_STORE_RETRIES=5``
   must succeed: how long it waited, how many retries.

Results replace the section of BENCHMARKS.md between ``<!-- remote-bench:start -->`` and
``<!-- remote-bench:end -->`` (appended when missing) unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import Server, ensure_wrk, free_port, run_wrk

START, END = "<!-- remote-bench:start -->", "<!-- remote-bench:end -->"
SCALES = {"idf": 50_000, "small": 2_000}
SEED = 2018
CONNECTIONS = 16
BASE = "https://w3id.org/maillage/"
STRUCTURE = BASE + "def#Structure"
#: the named queries of the read comparison (their ``example`` parameters are used)
READ_QUERIES = ("panorama_domaines", "acteurs_filiere_territoire", "fiche_structure", "graphes",
                "recherche", "zones_blanches_epci", "lacunes_epci")
LISTING = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
STEPS = ("init", "import sirene", "import curated", "analyze", "dump")

#: runs the CLI in a child process, timing the remote backend's phases (behaviour unchanged)
CLI_CHILD = r"""
import functools, json, sys, time
from maillage.graph import remote as R
out, argv = sys.argv[1], sys.argv[2:]
acc = {}
def wrap(cls, name, key):
    orig = getattr(cls, name)
    @functools.wraps(orig)
    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            slot = acc.setdefault(key, [0.0, 0])
            slot[0] += time.perf_counter() - t0
            slot[1] += 1
    setattr(cls, name, timed)
for cls, name, key in [
        (R._WriteLock, "acquire", "lock acquire"), (R._WriteLock, "release", "lock release"),
        (R._WriteLock, "sweep_staging", "staging sweep"),
        (R.RemoteGraphWriter, "_materialize", "graph fetch (staged)"),
        (R.RemoteGraphWriter, "commit", "commit"), (R.RemoteGraphWriter, "_put", "upload (PUT)"),
        (R.RemoteOxigraph, "update", "SPARQL Update"), (R.RemoteOxigraph, "_run", "query (to headers)"),
        (R.RemoteOxigraph, "graph_reader", "graph GET (to headers)"),
        (R._ResponseReader, "readinto", "answer bodies (read)")]:
    wrap(cls, name, key)
t0 = time.perf_counter()
from maillage.graph.cli import main
code = main(argv)
acc["total (in process)"] = [time.perf_counter() - t0, 1]
with open(out, "w") as fh:
    json.dump(acc, fh)
sys.exit(code)
"""


# ----------------------------------------------------------------------------- processes
def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: ours without any MAILLAGE_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLAGE_")}
    env.update(extra)
    return env


class Engine:
    """One ``oxigraph serve`` process on a free loopback port, its CPU and RSS sampled."""

    def __init__(self, location: Path, log: Path, port: int | None = None) -> None:
        self.location, self.log = location, log
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._cpu0 = 0.0
        self.peak = 0
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> float:
        """Start and wait until it answers; the seconds it took."""
        t0 = time.perf_counter()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "oxigraph"), "serve", "--location", str(self.location),
                 "--bind", f"127.0.0.1:{self.port}"], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/query", params={"query": "ASK {}"},
                             timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.02)
        else:
            raise RuntimeError("oxigraph serve did not start")
        self._stop = threading.Event()
        threading.Thread(target=self._sample, args=(self._stop, self.proc.pid),
                         daemon=True).start()
        return time.perf_counter() - t0

    def _sample(self, stop: threading.Event, pid: int) -> None:
        try:
            process = psutil.Process(pid)
            while not stop.wait(0.1):
                self.peak = max(self.peak, process.memory_info().rss)
        except psutil.Error:
            pass

    def cpu(self) -> float:
        try:
            t = psutil.Process(self.proc.pid).cpu_times()  # type: ignore[union-attr]
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    def rss(self) -> int:
        try:
            return int(psutil.Process(self.proc.pid).memory_info().rss)  # type: ignore[union-attr]
        except psutil.Error:
            return 0

    def mark(self) -> None:
        self._cpu0, self.peak = self.cpu(), self.rss()

    def since_mark(self) -> dict[str, float]:
        return {"cpu_s": round(self.cpu() - self._cpu0, 2),
                "peak_rss_mb": round(max(self.peak, self.rss()) / 2**20)}

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def timed(cmd: list[str], log: Path, env: dict[str, str], engine: Engine | None = None
          ) -> dict[str, Any]:
    """Run ``cmd`` under /usr/bin/time: wall and CPU seconds, peak RSS; the engine's share."""
    stats = log.with_suffix(".time")
    if engine is not None:
        engine.mark()
    with log.open("w") as out:
        proc = subprocess.run(["/usr/bin/time", "-o", str(stats), "-f", "%e %M %U %S", *cmd],
                              stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}… failed:\n{log.read_text()[-3000:]}")
    wall, rss, user, system = stats.read_text().split()[-4:]
    result: dict[str, Any] = {"wall_s": float(wall), "cpu_s": round(float(user) + float(system), 2),
                              "peak_rss_mb": round(int(rss) / 1024)}
    if engine is not None:
        result["engine"] = engine.since_mark()
    return result


# ----------------------------------------------------------------------------- 1. ingest
def synth_inputs(scale: str) -> Path:
    """``maillage synth`` files of the scale, reused when present."""
    out = ROOT / "var" / "bench-remote" / f"synth-{scale}"
    if not (out / "synth-summary.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(BIN / "maillage"), "synth", "--structures", str(SCALES[scale]),
                        "--seed", str(SEED), "--out", str(out)], check=True, cwd=ROOT)
    return out


def ingest(store: str, synth: Path, work: Path, engine: Engine | None) -> dict[str, Any]:
    """The four CLI steps and a dump, each a measured child process."""
    work.mkdir(parents=True, exist_ok=True)
    reports, scratch = work / "reports", work / "scratch"
    scratch.mkdir(exist_ok=True)
    commands = {
        "init": ["init"],
        "import sirene": ["import", "sirene", "--synthetic",
                          "--unites-legales", str(synth / "StockUniteLegale_utf8.csv"),
                          "--etablissements", str(synth / "StockEtablissement_utf8.csv"),
                          "--report-dir", str(reports), "--work-dir", str(scratch)],
        "import curated": ["import", "curated", "--report-dir", str(reports)],
        "analyze": ["analyze"],
        "dump": ["dump", str(work / "store.nq")],
    }
    env = child_env(TMPDIR=str(scratch))
    out: dict[str, Any] = {}
    for step, args in commands.items():
        print(f"  {step}", flush=True)
        phases = work / f"{step.replace(' ', '-')}.phases.json"
        cmd = [sys.executable, "-c", CLI_CHILD, str(phases), *args, "--store", store]
        out[step] = timed(cmd, work / f"{step.replace(' ', '-')}.log", env, engine)
        if engine is not None:
            out[step]["phases"] = {k: [round(v[0], 2), v[1]]
                                   for k, v in json.loads(phases.read_text()).items()}
        print(f"    {out[step]}", flush=True)
    with (work / "store.nq").open("rb") as fh:
        out["dump_lines"] = sum(1 for _ in fh)
    return out


def graph_counts(store: Any) -> dict[str, int]:
    return {g.value: store.count(g) for g in store.named_graphs()}


def counts_check(expected: dict[str, int], url: str) -> str:
    """Triples per named graph of the remote engine against the embedded store's."""
    from maillage.graph.store import open_store

    found = graph_counts(open_store(settings_for(url)))
    diff = {g: (expected.get(g), found.get(g)) for g in set(expected) | set(found)
            if expected.get(g) != found.get(g)}
    if diff:
        return f"Triples per named graph DIFFER (embedded, remote): {diff}."
    return f"Triples per named graph: all {len(expected)} graphs equal on both backends."


def http_load(nquads: Path, location: Path, log: Path, bulk: bool) -> dict[str, Any]:
    """POST the N-Quads file to /store of a fresh ``oxigraph serve`` (Graph Store Protocol)."""
    engine = Engine(location, log)
    engine.start()
    try:
        engine.mark()
        t0 = time.perf_counter()
        with nquads.open("rb") as fh:
            r = httpx.post(engine.url + "/store" + ("?no_transaction" if bulk else ""),
                           content=iter(lambda: fh.read(1 << 20), b""),
                           headers={"Content-Type": "application/n-quads"}, timeout=3600)
        wall = time.perf_counter() - t0
        if r.status_code >= 300:
            return {"error": f"HTTP {r.status_code} {r.text[:300]}", "wall_s": round(wall, 2)}
        return {"wall_s": round(wall, 2), **engine.since_mark()}
    finally:
        engine.stop()
        shutil.rmtree(location, ignore_errors=True)


def references(nquads: Path, work: Path) -> dict[str, Any]:
    """What the engine itself takes for the same data: offline bulk load and HTTP loads."""
    work.mkdir(parents=True, exist_ok=True)
    print("  native oxigraph load", flush=True)
    native = timed([str(BIN / "oxigraph"), "load", "--location", str(work / "native"),
                    "--file", str(nquads)], work / "native.log", child_env())
    shutil.rmtree(work / "native", ignore_errors=True)
    print(f"    {native}\n  HTTP POST /store (transaction)", flush=True)
    post = http_load(nquads, work / "http-tx", work / "http-tx.log", bulk=False)
    print(f"    {post}\n  HTTP POST /store?no_transaction", flush=True)
    bulk = http_load(nquads, work / "http-bulk", work / "http-bulk.log", bulk=True)
    print(f"    {bulk}", flush=True)
    return {"native_load": native, "http_post": post, "http_post_bulk": bulk}


# ----------------------------------------------------------------------------- 2. reads
def settings_for(store: str, **env: str) -> Any:
    from maillage.graph.settings import Settings

    return Settings.from_env(env, store=store)


def read_rows(store: Any, settings: Any, query_id: str) -> tuple[list[str], list[tuple]]:
    from maillage.graph.catalog import get_query, run_named_query

    result = run_named_query(store, query_id, get_query(query_id).example, settings)
    names = [v.value for v in result.variables]
    rows = [tuple(None if row[i] is None else str(row[i]) for i in range(len(names)))
            for row in result]
    return names, rows


#: what legitimately differs between two separate ingests: generation times, analysis run ids
_RUN_SPECIFIC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|(?<=/id/analyse/)[a-z-]+-\d{8}T\d{6}Z")
EXAMPLES: dict[str, Any] = {}
_CODE_LIST = re.compile(r'^"[\w.-]+( [\w.-]+)+"$')


def compare(a: tuple[list[str], list[tuple]], b: tuple[list[str], list[tuple]],
            label: str = "") -> str:
    """"equal", "equal up to …", or how many rows differ (order-insensitive)."""
    if a[0] != b[0]:
        return f"COLUMNS DIFFER: {a[0]} / {b[0]}"
    ca, cb = collections.Counter(a[1]), collections.Counter(b[1])
    if ca == cb:
        return "equal"

    def norm(rows: list[tuple]) -> collections.Counter[tuple]:
        return collections.Counter(tuple(None if v is None else _RUN_SPECIFIC.sub("*", v)
                                         for v in row) for row in rows)

    def unordered(rows: list[tuple]) -> collections.Counter[tuple]:
        return collections.Counter(tuple(
            v if v is None or not _CODE_LIST.match(v) else " ".join(sorted(v[1:-1].split()))
            for v in row) for row in rows)

    only_a, only_b = ca - cb, cb - ca
    EXAMPLES[label] = [next(iter(only_a), None), next(iter(only_b), None)]
    if norm(a[1]) == norm(b[1]):
        return f"equal up to generation times / analysis run ids ({sum(only_a.values())} rows)"
    if unordered(a[1]) == unordered(b[1]):
        return (f"equal up to the order inside a GROUP_CONCAT list ({sum(only_a.values())} "
                "rows)")
    return f"DIFFER: {sum(only_a.values())} rows only embedded, {sum(only_b.values())} only remote"


def reads(embedded: str, remote_url: str, copy_url: str, rounds: int) -> dict[str, Any]:
    from maillage.graph.catalog import get_query
    from maillage.graph.store import open_store

    backends = {"embedded": settings_for(embedded), "remote": settings_for(remote_url)}
    stores = {name: open_store(s) for name, s in backends.items()}
    times: dict[str, dict[str, list[float]]] = {q: {"embedded": [], "remote": []}
                                                 for q in READ_QUERIES}
    answers: dict[str, dict[str, Any]] = {q: {} for q in READ_QUERIES}
    for r in range(rounds + 1):  # round 0 warms the caches up and is not counted
        for q in READ_QUERIES:
            for name in (("embedded", "remote") if r % 2 else ("remote", "embedded")):
                t0 = time.perf_counter()
                answer = read_rows(stores[name], backends[name], q)
                elapsed = time.perf_counter() - t0
                if r:
                    times[q][name].append(elapsed)
                answers[q][name] = answer
        print(f"  round {r}/{rounds}", flush=True)
    copy_settings = settings_for(copy_url)
    copy_store = open_store(copy_settings)
    out: dict[str, Any] = {}
    for q in READ_QUERIES:
        emb, rem = (statistics.median(times[q][n]) for n in ("embedded", "remote"))
        copy_answer = read_rows(copy_store, copy_settings, q)
        out[q] = {"params": get_query(q).example, "rows": len(answers[q]["embedded"][1]),
                  "embedded_s": emb, "remote_s": rem, "ratio": rem / emb,
                  "equal_copy": compare(answers[q]["embedded"], copy_answer, f"{q} copy"),
                  "equal_ingested": compare(answers[q]["embedded"], answers[q]["remote"],
                                            f"{q} ingested")}
        print(f"  {q}: {out[q]}", flush=True)
    return out


def listing_costs(urls: dict[str, str], n: int = 50) -> dict[str, dict[str, float]]:
    """Median engine round trip of the named-graph listing (and variants) per engine."""
    queries = {"listing (as sent)": LISTING,
               "listing without DISTINCT": "SELECT ?g WHERE { GRAPH ?g { } }",
               "point lookup": f"SELECT ?p ?o WHERE {{ <{BASE}id/territoire/commune/93066> ?p ?o }}",
               "ASK {}": "ASK {}"}
    out: dict[str, dict[str, float]] = {}
    with httpx.Client(timeout=60) as http:
        for engine, url in urls.items():
            out[engine] = {}
            for name, query in queries.items():
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = http.post(url + "/query", data={"query": query},
                                  headers={"Accept": "application/sparql-results+json"})
                    r.raise_for_status()
                    samples.append(time.perf_counter() - t0)
                out[engine][name] = statistics.median(samples)
    print(f"  listing costs: {out}", flush=True)
    return out


class EngineCalls:
    """Counts the remote backend's engine requests (in this process) while active."""

    def __init__(self) -> None:
        from maillage.graph import remote

        self.cls, self.orig = remote.RemoteOxigraph, remote.RemoteOxigraph._run
        self.requests = self.listings = 0
        self.kinds: collections.Counter[str] = collections.Counter()

    def __enter__(self) -> Self:
        orig, counter = self.orig, self

        def counted(this: Any, query: str, *a: Any, **k: Any) -> Any:
            counter.requests += 1
            counter.listings += query.strip() == LISTING
            shape = re.sub(r"<[^>]*>|\"[^\"]*\"", "…", " ".join(query.split()))
            counter.kinds[re.sub(r"^(PREFIX \w*: … ?)+", "", shape)[:90]] += 1
            return orig(this, query, *a, **k)

        self.cls._run = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.cls._run = self.orig  # type: ignore[method-assign]


def latencies(embedded: str, remote_url: str, iris: list[str]) -> dict[str, Any]:
    """Sequential in-process costs: the graph listing, a point lookup, an HTML page."""
    from maillage.api.jobs import WorkerContext, run_job
    from maillage.graph.store import open_store

    out: dict[str, Any] = {}
    remote = open_store(settings_for(remote_url))
    samples = []
    for _ in range(200):
        t0 = time.perf_counter()
        graphs = remote.oxigraph.live_graphs(fresh=True)
        samples.append(time.perf_counter() - t0)
    out["listing_s"], out["graphs"] = statistics.median(samples), len(graphs)
    configs = {"embedded": settings_for(embedded), "remote TTL 0": settings_for(remote_url),
               "remote TTL 5": settings_for(remote_url, MAILLAGE_STORE_GRAPHS_TTL="5")}
    lookups = iris[:300]
    for name, settings in configs.items():
        store = open_store(settings)
        for iri in lookups[:20]:  # warm-up
            list(store.query(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"))
        with EngineCalls() as calls:
            t0 = time.perf_counter()
            for iri in lookups:
                rows = list(store.query(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"))
                assert rows, iri
            point = (time.perf_counter() - t0) / len(lookups)
        ctx = WorkerContext(settings)
        pages = iris[300:340]
        for iri in iris[340:345]:  # warm-up: labels, graph descriptions, templates
            run_job(ctx, "resource", {"iri": iri, "fmt": "html", "public": "http://127.0.0.1/"})
        with EngineCalls() as page_calls:
            t0 = time.perf_counter()
            for iri in pages:
                reply = run_job(ctx, "resource", {"iri": iri, "fmt": "html",
                                                  "public": "http://127.0.0.1/"})
                assert getattr(reply, "status", None) == 200, reply
            page = (time.perf_counter() - t0) / len(pages)
        out[name] = {"point_s": point, "point_requests": calls.requests / len(lookups),
                     "point_listings": calls.listings / len(lookups), "page_s": page,
                     "page_requests": page_calls.requests / len(pages),
                     "page_listings": page_calls.listings / len(pages),
                     "page_request_kinds": page_calls.kinds.most_common(8)}
        print(f"  {name}: {out[name]}", flush=True)
    return out


# ----------------------------------------------------------------------------- 3. endpoint
LUA = """
local iris = {%s}
math.randomseed(1)
request = function()
  local iri = iris[math.random(1, #iris)]
  return wrk.format("GET", %s, {["Accept"] = "%s"})
end
"""


def lua(work: Path, name: str, iris: list[str], path_expr: str, accept: str) -> Path:
    path = work / f"{name}.lua"
    path.write_text(LUA % (",".join(json.dumps(i) for i in iris), path_expr, accept))
    return path


def lookup_path(endpoint: str, tail: str = "") -> str:
    """Lua expression of a point-lookup GET (``tail`` is added inside the WHERE block)."""
    before = quote("SELECT ?p ?o WHERE { <", safe="")
    after = quote(f"> ?p ?o {tail}}}", safe="")
    return (f'"{endpoint}?query={before}" .. iri:gsub("[^%w%-_%.~]", function(c) '
            f'return string.format("%%%02X", string.byte(c)) end) .. "{after}"')


#: ``maillage serve`` whose listening socket says IPPROTO_TCP, so that asyncio sets TCP_NODELAY
#: on the connections it accepts (uvicorn's own socket says 0: Nagle then holds the body of
#: every keep-alive answer until the client's delayed ACK, 40 ms later)
NODELAY_SERVE = r"""
import socket, sys, uvicorn
bind = uvicorn.Config.bind_socket
def bind_tcp(self):
    sock = bind(self)
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
uvicorn.Config.bind_socket = bind_tcp
from maillage.graph.cli import main
sys.exit(main(sys.argv[1:]))
"""


def maillage_server(store: str, workers: int, nodelay: bool = False, **env: str) -> Server:
    port = free_port()
    head = [sys.executable, "-c", NODELAY_SERVE] if nodelay else [str(BIN / "maillage")]
    return Server("maillage", [*head, "serve", "--store", store, "--port", str(port),
                               "--workers", str(workers), "--log-level", "warning"],
                  f"http://127.0.0.1:{port}", "/healthz", env=child_env(**env))


def native_server(location: Path) -> Server:
    port = free_port()
    return Server("native", [str(BIN / "oxigraph"), "serve-read-only", "--location",
                             str(location), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"],
                  f"http://127.0.0.1:{port}", "/query?query=ASK%7B%7D")


def endpoint(embedded: str, engine: Engine, copy: Path, iris: list[str], work: Path,
             args: argparse.Namespace) -> dict[str, Any]:
    wrk = ensure_wrk()
    accept = "application/sparql-results+json"
    scripts = {
        "native": lua(work, "native-point", iris, lookup_path("/query"), accept),
        "point": lua(work, "point", iris, lookup_path("/sparql"), accept),
        "point-threads": lua(work, "point-threads", iris, lookup_path("/sparql", "FILTER(true) "),
                             accept),
        "pages": lua(work, "pages", iris, f'iri:gsub("^{BASE}", "/") .. ".html"', "text/html"),
    }
    servers = {
        "native": native_server(copy),
        "embedded": maillage_server(embedded, args.workers, nodelay=True),
        "remote TTL 0": maillage_server(engine.url, args.workers, nodelay=True),
        "remote TTL 5": maillage_server(engine.url, args.workers, nodelay=True,
                                        MAILLAGE_STORE_GRAPHS_TTL="5"),
        "embedded, as committed": maillage_server(embedded, args.workers),
        "remote TTL 0, as committed": maillage_server(engine.url, args.workers),
    }
    #: (measure, server, script)
    plan = [("point", "native", "native"), ("point", "embedded", "point"),
            ("point", "remote TTL 0", "point"), ("point", "remote TTL 5", "point"),
            ("point (job threads)", "remote TTL 5", "point-threads"),
            ("point (job threads)", "embedded", "point-threads"),
            ("pages", "embedded", "pages"), ("pages", "remote TTL 0", "pages"),
            ("pages", "remote TTL 5", "pages"),
            ("point", "embedded, as committed", "point"),
            ("point", "remote TTL 0, as committed", "point")]
    results: dict[str, Any] = {f"{m} | {s}": [] for m, s, _ in plan}
    engine_cost: dict[str, list[float]] = {k: [] for k in results if "remote" in k}
    try:
        for measure, server, script in plan:  # warm-up: caches, templates, labels
            run_wrk(wrk, servers[server].url + "/", scripts[script], 2)
        engine.peak = engine.rss()
        for r in range(args.rounds):
            print(f"  round {r + 1}/{args.rounds}", flush=True)
            for measure, server, script in plan:
                key = f"{measure} | {server}"
                cpu0 = engine.cpu()
                res = run_wrk(wrk, servers[server].url + "/", scripts[script], args.duration)
                if key in engine_cost:
                    engine_cost[key].append((engine.cpu() - cpu0) / max(1.0, res["rps"]
                                                                         * args.duration))
                results[key].append(res)
                print(f"    {key}: {res['rps']:,.0f}/s non-2xx {res['non_2xx']} "
                      f"p50 {res['p50_ms']} ms", flush=True)
        peaks = {name: s.peak_rss / 2**20 for name, s in servers.items()}
        peaks["engine"] = engine.peak / 2**20
    finally:
        for s in servers.values():
            s.stop()
    return {"runs": results, "engine_cpu_per_request_s": engine_cost, "peak_rss_mb": peaks}


# ----------------------------------------------------------------------------- 4. fault
class _Retries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((time.perf_counter(), record.getMessage()))


def fault(engine: Engine, embedded: str, delay_s: float = 1.0) -> dict[str, Any]:
    """Kill the engine, restart it ``delay_s`` later; a query during the outage must succeed."""
    from maillage.graph.store import open_store

    query = "fiche_structure"
    expected = read_rows(open_store(settings_for(embedded)), settings_for(embedded), query)
    settings = settings_for(engine.url, MAILLAGE_STORE_RETRIES="5")
    store = open_store(settings)
    read_rows(store, settings, query)  # connection pool warm
    handler = _Retries()
    logger = logging.getLogger("maillage.remote")
    logger.addHandler(handler)
    restart: dict[str, float] = {}

    def restart_later(t_kill: float) -> None:
        time.sleep(max(0.0, t_kill + delay_s - time.perf_counter()))
        restart["started_at"] = time.perf_counter() - t_kill
        restart["ready_after"] = engine.start() + restart["started_at"]

    try:
        engine.stop(signal.SIGKILL)
        t_kill = time.perf_counter()
        thread = threading.Thread(target=restart_later, args=(t_kill,))
        thread.start()
        t0 = time.perf_counter()
        try:
            answer = read_rows(store, settings, query)
            outcome = compare(expected, answer, "fault")
        except Exception as exc:  # noqa: BLE001 - the figure is whether it failed
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
        waited = time.perf_counter() - t0
        thread.join()
    finally:
        logger.removeHandler(handler)
    return {"query": query, "outcome": outcome, "waited_s": round(waited, 2),
            "query_started_after_kill_s": round(t0 - t_kill, 3),
            "restart_started_s": round(restart.get("started_at", -1), 2),
            "engine_ready_s": round(restart.get("ready_after", -1), 2),
            "retries": len(handler.messages),
            "retry_times_s": [round(t - t_kill, 2) for t, _ in handler.messages]}


# ----------------------------------------------------------------------------- report
def machine() -> dict[str, Any]:
    import pyoxigraph

    oxigraph = subprocess.run([str(BIN / "oxigraph"), "--version"], capture_output=True,
                              text=True, check=False).stdout.strip()
    wrk = shutil.which("wrk")
    wrk_v = (subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout
             .split(" Copyright")[0].strip() if wrk else "missing")
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.machine())
    return {"date": dt.date.today().isoformat(), "cores": os.cpu_count(), "cpu": cpu,
            "ram_gb": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(), "pyoxigraph": pyoxigraph.__version__,
            "oxigraph": oxigraph, "httpx": httpx.__version__, "wrk": wrk_v,
            "load_start": [round(x, 1) for x in os.getloadavg()]}


def _s(x: float) -> str:
    return f"{x:.1f} s" if x >= 10 else f"{x:.2f} s"


def _ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms" if x < 0.1 else f"{x * 1000:,.0f} ms"


def md_ingest(r: dict[str, Any]) -> list[str]:
    emb, rem = r["ingest"]["embedded"], r["ingest"]["remote"]
    lines = [
        "### 1. Ingest (each step a child process of the CLI)",
        "",
        ("| step | embedded: wall / CPU / peak RSS | remote: wall / CPU / peak RSS (maillage) | "
         "engine: CPU / peak RSS | remote / embedded (wall) |"),
        "|---|---|---|---|---:|",
    ]
    tot = {k: [0.0, 0.0, 0.0] for k in ("e", "r", "g")}
    for step in STEPS:
        e, m = emb[step], rem[step]
        g = m["engine"]
        for key, vals in (("e", e), ("r", m)):
            tot[key][0] += vals["wall_s"]
            tot[key][1] += vals["cpu_s"]
        tot["g"][1] += g["cpu_s"]
        lines.append(
            f"| `{step}` | {_s(e['wall_s'])} / {_s(e['cpu_s'])} / {e['peak_rss_mb']:,} MB | "
            f"{_s(m['wall_s'])} / {_s(m['cpu_s'])} / {m['peak_rss_mb']:,} MB | "
            f"{_s(g['cpu_s'])} / {g['peak_rss_mb']:,} MB | {m['wall_s'] / e['wall_s']:.2f}× |")
    lines.append(
        f"| **total** | **{_s(tot['e'][0])}** / {_s(tot['e'][1])} | **{_s(tot['r'][0])}** / "
        f"{_s(tot['r'][1])} | {_s(tot['g'][1])} / {max(rem[s]['engine']['peak_rss_mb'] for s in STEPS):,} MB "
        f"| **{tot['r'][0] / tot['e'][0]:.2f}×** |")
    ref = r["references"]
    nat, post, bulk = ref["native_load"], ref["http_post"], ref["http_post_bulk"]
    quads = emb["dump_lines"]
    ingest_r = sum(rem[s]["wall_s"] for s in STEPS if s != "dump")
    ingest_e = sum(emb[s]["wall_s"] for s in STEPS if s != "dump")

    def http(x: dict[str, Any]) -> str:
        if "error" in x:
            return f"failed after {_s(x['wall_s'])}: {x['error']}"
        return (f"{_s(x['wall_s'])} ({quads / x['wall_s']:,.0f} quads/s), engine CPU "
                f"{_s(x['cpu_s'])}, engine peak RSS {x['peak_rss_mb']:,} MB")

    lines += [
        "",
        (f"Data at the end: {quads:,} quads. {r['ingest']['counts_check']}"),
        "",
        f"References on the same {quads:,} quads (N-Quads of the embedded store after the four steps):",
        "",
        (f"- native `oxigraph load --location NEW --file store.nq` (offline bulk loader): "
         f"{_s(nat['wall_s'])}, CPU {_s(nat['cpu_s'])}, peak RSS {nat['peak_rss_mb']:,} MB → "
         f"native / remote ingest (init + imports + analyze, wall) = "
         f"**{nat['wall_s'] / ingest_r:.2f}×**, native / embedded = {nat['wall_s'] / ingest_e:.2f}×, "
         f"native / remote `import sirene` step = {nat['wall_s'] / rem['import sirene']['wall_s']:.2f}×;"),
        f"- Graph Store `POST /store` of that file to a fresh `oxigraph serve` (one transaction): {http(post)};",
        f"- the same with Oxigraph's `?no_transaction` (its bulk loader): {http(bulk)}.",
        "",
        ("Where the remote steps spend their time (the backend's phases, timed inside the CLI "
         "process; seconds and calls; \"to headers\" = until the engine's answer starts; the "
         "SPARQL Update column includes the lock's heartbeat updates, sent every 20 s from "
         "another thread, so it overlaps the others):"),
        "",
        "| step | " + " | ".join(k for k in PHASES) + " |",
        "|---|" + "---:|" * len(PHASES),
    ]
    for step in STEPS:
        ph = rem[step].get("phases", {})
        cells = [(f"{ph[k][0]:.2f}" + ("" if k == PHASES[-1] else f" ({ph[k][1]})"))
                 if k in ph else "—" for k in PHASES]
        lines.append(f"| `{step}` | " + " | ".join(cells) + " |")
    return lines + [""]


PHASES = ("total (in process)", "lock acquire", "graph fetch (staged)", "commit", "upload (PUT)",
          "SPARQL Update", "query (to headers)", "graph GET (to headers)", "answer bodies (read)")


def md_reads(r: dict[str, Any]) -> list[str]:
    rd, lat = r["reads"], r["latencies"]
    lines = [
        "### 2. Reads (named queries, in-process API, results read whole)",
        "",
        (f"Median of {r['args']['rounds']} rounds after a warm-up round, the two backends "
         "alternated. *equal (copy)*: remote engine serving a copy of the embedded store's "
         "files; *equal (ingested)*: the engine that ran the remote ingest, against the "
         "embedded store that ran the embedded one."),
        "",
        "| query | params | rows | embedded | remote | remote / embedded | equal (copy) | equal (ingested) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for q, x in rd.items():
        params = ", ".join(f"{k}={v}" for k, v in x["params"].items()) or "—"
        lines.append(f"| `{q}` | {params} | {x['rows']:,} | {_ms(x['embedded_s'])} | "
                     f"{_ms(x['remote_s'])} | **{x['ratio']:.2f}×** | {x['equal_copy']} | "
                     f"{x['equal_ingested']} |")
    total_e = sum(x["embedded_s"] for x in rd.values())
    total_r = sum(x["remote_s"] for x in rd.values())
    lines += [
        f"| **sum** | | | {_ms(total_e)} | {_ms(total_r)} | **{total_r / total_e:.2f}×** | | |",
        "",
        (f"Named-graph listing (`{LISTING}`, sent before every query when "
         f"`MAILLAGE_STORE_GRAPHS_TTL=0`), through the backend, on the ingested engine of "
         f"this run: {_ms(lat['listing_s'])} per fetch (median of 200), "
         f"{lat['graphs']} graphs, each then sent twice with the query (`default-graph-uri` "
         "and `named-graph-uri`)."),
        "",
        ("Engine round trip (median of 50, HTTP keep-alive, no dataset parameters; the ingested "
         "engine right after the imports, on a copy of the embedded store, and the ingested engine "
         "after the restart of section 4): " + "; ".join(
            f"{engine}: " + ", ".join(f"{q} {_ms(t)}" for q, t in costs.items())
            for engine, costs in r["listing_costs"].items()) + "."),
        "",
        "Sequential, in process (no HTTP server in front):",
        "",
        "| | point lookup | engine requests per lookup | HTML resource page | engine requests per page (listings) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("embedded", "remote TTL 0", "remote TTL 5"):
        x = lat[name]
        reqs = ("—" if name == "embedded" else f"{x['point_requests']:.1f}")
        preqs = ("—" if name == "embedded"
                 else f"{x['page_requests']:.1f} ({x['page_listings']:.1f})")
        lines.append(f"| {name} | {_ms(x['point_s'])} | {reqs} | {_ms(x['page_s'])} | {preqs} |")
    return lines + [""]


def md_endpoint(r: dict[str, Any]) -> list[str]:
    ep = r["endpoint"]
    med = {k: statistics.median(x["rps"] for x in v) for k, v in ep["runs"].items()}
    native = med["point | native"]
    lines = [
        "### 3. Endpoint (`maillage serve --workers 2`, wrk)",
        "",
        (f"wrk 2 threads, {CONNECTIONS} connections, {r['args']['duration']} s per measure, "
         f"{r['args']['rounds']} rounds, servers alternated; medians. Native = `oxigraph "
         "serve-read-only --union-default-graph` on a copy of the embedded store. The "
         "`maillage serve` rows are measured with one change, so that they compare the "
         "backends: the listening socket is re-created with protocol IPPROTO_TCP (wrapper "
         "`NODELAY_SERVE` in the script), so that asyncio sets TCP_NODELAY on the connections; "
         "*as committed* rows run `maillage serve` unchanged, where every keep-alive answer "
         "waits ≈ 40 ms (Nagle's algorithm against the client's delayed ACK: uvicorn's socket "
         "says protocol 0, and asyncio only sets TCP_NODELAY for IPPROTO_TCP sockets). *job "
         "threads*: the same lookup with `FILTER(true)` added, which makes the server run it on "
         "its job threads instead of on the event loop."),
        "",
        "| measure | server | requests / s | / native | / embedded | p50 / p99 (last round) | non-2xx | engine CPU per request |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for key, runs in ep["runs"].items():
        measure, server = key.split(" | ")
        emb_key = f"{measure} | embedded"
        last = runs[-1]
        vs_native = f"{med[key] / native:.2f}×" if measure.startswith("point") else "—"
        vs_emb = f"{med[key] / med[emb_key]:.2f}×" if emb_key in med and server != "native" else "—"
        cost = ep["engine_cpu_per_request_s"].get(key)
        cost_txt = f"{statistics.median(cost) * 1e6:,.0f} µs" if cost else "—"
        lines.append(
            f"| {measure} | {server} | **{med[key]:,.0f}** | {vs_native} | {vs_emb} | "
            f"{last['p50_ms']:.1f} / {last['p99_ms']:.1f} ms | "
            f"{sum(x['non_2xx'] for x in runs)} | {cost_txt} |")
    rounds = "; ".join(f"{k}: " + " / ".join(f"{x['rps']:,.0f}" for x in v)
                       for k, v in ep["runs"].items())
    peaks = ", ".join(f"{k} {v:,.0f} MB" for k, v in ep["peak_rss_mb"].items())
    ttl0, ttl5 = med["point | remote TTL 0"], med["point | remote TTL 5"]
    p0, p5 = med["pages | remote TTL 0"], med["pages | remote TTL 5"]
    lines += [
        "",
        (f"Named-graph listing with every query (TTL 0, the default) against TTL 5: point "
         f"lookups {ttl0:,.0f} vs {ttl5:,.0f}/s (TTL 5 = {ttl5 / ttl0:.2f}× TTL 0), pages "
         f"{p0:,.0f} vs {p5:,.0f}/s ({p5 / p0:.2f}×)."),
        "",
        f"Every round (requests/s): {rounds}.",
        "",
        f"Peak RSS of each process tree during the measures: {peaks} (the engine serving the remote backend).",
        "",
    ]
    return lines


def md_fault(r: dict[str, Any]) -> list[str]:
    f, rec = r["fault"], r["recovery"]
    ok = f["outcome"] == "equal"
    first = r.get("first_recovery")
    return [
        "### 4. Engine killed: recovery, and a query during the outage",
        "",
        *([(f"The ingested engine, killed (SIGKILL) after the imports with "
            f"{first['wal_mb']:,} MB of RocksDB write-ahead log on disk (the log of every write "
            f"since it started), answered again {first['restart_s']:.1f} s after its restart "
            f"(load average {first['run_machine_load'][0]}). {first['counts_check']}"), ""]
          if first else []),
        (f"At the end of this run (the engine had served reads only since its last start), "
         f"it was killed again (SIGKILL) and restarted: {rec['wal_mb']:,} MB of RocksDB "
         "write-ahead log to replay, "
         + (f"answering again after **{rec['restart_s']:.1f} s**. {rec['counts_check']}"
            if "restart_s" in rec else f"**{rec['failed']}**.")),
        "",
        (f"Retries: the engine serving the copy (no pending log) killed (SIGKILL) and restarted "
         f"on the same port and location "
         f"{f['restart_started_s']:.2f} s later (answering again {f['engine_ready_s']:.2f} s after "
         f"the kill); `{f['query']}` started {f['query_started_after_kill_s'] * 1000:.0f} ms after the "
         f"kill with `MAILLAGE_STORE_RETRIES=5` (backoff 0.25 s × 2^n): "
         f"**{'succeeded' if ok else f['outcome']}**"
         + (", rows equal to the embedded store's" if ok else "")
         + f", after waiting {f['waited_s']:.2f} s; {f['retries']} retries logged at "
         + ", ".join(f"{t:.2f}" for t in f["retry_times_s"]) + " s after the kill."),
        "",
    ]


def markdown(r: dict[str, Any]) -> str:
    m, a = r["machine"], r["args"]
    lines = [
        "## Remote store",
        "",
        (f"Run of `bench/bench_remote.py --scale {a['scale']}` on {m['date']}: {m['cores']} cores "
         f"({m['cpu']}), shared with other jobs, {m['ram_gb']} GB RAM; Python {m['python']}, "
         f"pyoxigraph {m['pyoxigraph']}, CLI {m['oxigraph']} (`oxigraph serve --location DIR`, "
         f"on disk), httpx {m['httpx']}, {m['wrk']}. Load average "
         f"{', '.join(map(str, m['load_start']))} at the start, "
         f"{', '.join(map(str, r['load_end']))} at the end ({r['elapsed_s'] / 60:.1f} min)"
         + (f"; section 1 and its references come from an earlier run on the same day "
            f"(load average {', '.join(map(str, r['ingest_machine']['load_start']))} at its "
            "start) whose stores this one reused (`--reuse-ingest`)" if "ingest_machine" in r
            else "") + ". Wall times on a shared machine are pessimistic; CPU seconds are "
         "given too."),
        "",
        (f"Input: labelled synthetic SIRENE stock (`maillage synth --structures "
         f"{SCALES[a['scale']]:,} --seed {SEED}`), the real reference graph and curated "
         "datasets. Embedded = `--store DIR`; remote = `--store http://127.0.0.1:PORT` "
         "(`MAILLAGE_STORE`), default settings (`MAILLAGE_STORE_GRAPHS_TTL=0`, 4 retries) "
         "unless stated."),
        "",
        *md_ingest(r),
        *md_reads(r),
        *md_endpoint(r),
        *md_fault(r),
    ]
    if r.get("analysis"):
        lines += [r["analysis"].strip(), ""]
    return "\n".join(lines)


def write_section(text: str) -> None:
    from report import replace_section

    replace_section(ROOT / "BENCHMARKS.md", START, END, text, head="# Benchmarks\n")


# ----------------------------------------------------------------------------- main
def sample_structures(embedded: str, n: int) -> list[str]:
    from maillage.graph.store import open_store

    store = open_store(settings_for(embedded))
    iris = [row["s"].value for row in
            store.query(f"SELECT ?s WHERE {{ ?s a <{STRUCTURE}> FILTER(STRSTARTS(STR(?s), "
                        f"\"{BASE}id/structure/\")) }}")]
    random.Random(1).shuffle(iris)
    return iris[:n]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from maillage.graph.store import open_store
    from pyoxigraph import Store

    t_start = time.perf_counter()
    work = args.work
    saved = work / f"ingest-{args.scale}.json"
    stale = ("ref", "copy", "copy-engine", "endpoint")
    for sub in stale if args.reuse_ingest else ("embedded", "remote", *stale):
        shutil.rmtree(work / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"machine": machine(), "args": {
        "scale": args.scale, "rounds": args.rounds, "duration": args.duration,
        "workers": args.workers}}
    synth = synth_inputs(args.scale)
    embedded = str(work / "embedded" / "store")
    engine = Engine(work / "remote" / "engine", work / "remote-engine.log")
    if args.reuse_ingest:  # the stores and figures of section 1 from a previous --keep run
        first = json.loads(saved.read_text())
        result.update({k: first[k] for k in ("ingest", "references", "listing_costs")})
        result["ingest_machine"] = first["machine"]
        wal = sum(p.stat().st_size for p in engine.location.glob("*.log")) / 2**20
        result["resume_restart"] = {"wal_mb": round(wal),
                                    "restart_s": round(engine.start(args.recovery_limit), 2)}
        print(f"resumed: engine restarted {result['resume_restart']}", flush=True)
    else:
        (work / "remote").mkdir(parents=True)
        engine.start()
    try:
        if not args.reuse_ingest:
            print("== 1. ingest, embedded", flush=True)
            ingest_e = ingest(embedded, synth, work / "embedded", None)
            print("== 1. ingest, remote", flush=True)
            ingest_r = ingest(engine.url, synth, work / "remote", engine)
            result["listing_costs"] = listing_costs({"ingested engine": engine.url})
            counts_e = graph_counts(open_store(settings_for(embedded)))
            result["ingest"] = {"embedded": ingest_e, "remote": ingest_r,
                                "counts_check": counts_check(counts_e, engine.url)}
            print(result["ingest"]["counts_check"], flush=True)
            print("== references", flush=True)
            result["references"] = references(work / "embedded" / "store.nq", work / "ref")
            for f in (work / "embedded" / "store.nq", work / "remote" / "store.nq"):
                f.unlink(missing_ok=True)
            saved.write_text(json.dumps({k: result[k] for k in (
                "machine", "ingest", "references", "listing_costs")}, indent=1))
        else:
            counts_e = graph_counts(open_store(settings_for(embedded)))
            result["resume_restart"]["counts_check"] = counts_check(counts_e, engine.url)

        store_dir = Path(embedded)
        copy = work / "copy"
        Store.read_only(str(store_dir / os.readlink(store_dir / "current"))).backup(str(copy))
        copy_engine = Engine(work / "copy-engine", work / "copy-engine.log")
        shutil.copytree(copy, copy_engine.location)
        copy_engine.start()
        try:
            print("== 2. reads", flush=True)
            result["reads"] = reads(embedded, engine.url, copy_engine.url, args.rounds)
            result["listing_costs"].update(listing_costs({"engine on a copy": copy_engine.url}))
            print("== 4. fault (engine on a copy)", flush=True)
            result["fault"] = fault(copy_engine, embedded)
            print(f"  {result['fault']}", flush=True)
        finally:
            copy_engine.stop()
        iris = sample_structures(embedded, 2000)
        print("== 2. latencies", flush=True)
        result["latencies"] = latencies(embedded, engine.url, iris)
        print("== 3. endpoint", flush=True)
        (work / "endpoint").mkdir()
        result["endpoint"] = endpoint(embedded, engine, copy, iris, work / "endpoint", args)
        print("== 4. crash recovery", flush=True)
        engine.stop(signal.SIGKILL)
        wal = sum(p.stat().st_size for p in engine.location.glob("*.log")) / 2**20
        result["recovery"] = {"wal_mb": round(wal)}
        try:
            result["recovery"]["restart_s"] = round(engine.start(args.recovery_limit), 2)
            result["recovery"]["counts_check"] = counts_check(counts_e, engine.url)
            result["listing_costs"].update(
                listing_costs({"ingested engine, restarted": engine.url}))
        except RuntimeError as exc:
            result["recovery"]["failed"] = f"not answering after {args.recovery_limit} s: {exc}"
        print(f"  {result['recovery']}", flush=True)
    finally:
        engine.stop()
    result["disk_mb"] = {
        "embedded": round(sum(p.stat().st_size for p in Path(embedded).rglob("*")
                              if p.is_file()) / 2**20),
        "engine": round(sum(p.stat().st_size for p in engine.location.rglob("*")
                            if p.is_file()) / 2**20)}
    if not args.keep:
        for sub in ("embedded", "remote", "ref", "copy", "copy-engine"):
            shutil.rmtree(work / sub, ignore_errors=True)
    result["load_end"] = [round(x, 1) for x in os.getloadavg()]
    result["elapsed_s"] = time.perf_counter() - t_start
    return result


ANALYSIS = """### What limits the remote backend

**Ingest.** The commit, not Maillage's own work: the remote steps spend 82 CPU-seconds in
the CLI process (59 embedded) but 847 in the engine. Each replaced or new graph is uploaded to
a staging graph with a Graph Store PUT, which Oxigraph runs as one transaction (121 s for the
1.89 M-triple SIRENE graph), then moved into place by `MOVE` inside the commit's single SPARQL
Update: Oxigraph copies every quad into the target and deletes it from the staging graph in one
in-memory transaction — the rest of that commit, 244 s (with the local N-Triples dump of the
staged graph), and an 8.1 GB engine peak. The engine loads the
same 2.0 M quads in 53.9 s with one transactional POST and in 10.7 s with `?no_transaction`.
`import curated` (1,276 triples of curated data) takes 469 s instead of 1.7 s: inside its
write block, lookups that name no graph (`filiere_domains` in `graph/ingest/csv_import.py`,
`CommuneTable.from_store` in `graph/ingest/locate.py`) make `RemoteGraphWriter._materialize_for`
stage every graph of the engine, the SIRENE graph included (7 Graph Store GETs, 27 s), and a
staged graph counts as replaced, so the commit uploads all 11 graphs again (105 s) and moves
them (the rest of the commit, 335 s), although only the four import graphs changed; engine
peak 10.5 GB. The
engine's write-ahead log reached 7.5 GB (recovery after a kill: section 4).

**Reads.** Every remote read names its dataset (the 12 live graphs as `default-graph-uri`
and `named-graph-uri`). Measured separately on the engine serving the copy: the same
inlined queries take 15.3–16.2 s (`panorama_domaines`) and 5.9–6.2 s (`zones_blanches_epci`)
with the graph list, 17.4 s and 5.9 s with `default-graph-uri` alone, but 1.9 s and 0.7 s with
Oxigraph's `union-default-graph`: Oxigraph evaluates each pattern over the list of graphs
instead of its union index, so aggregations are 2.7–4.3× slower than embedded. Selective
queries are faster remotely (`fiche_structure` 9.9 ms against 1,124 ms): the remote backend
inlines the parameters into the query text (`inline_values`), the embedded store passes them
as pyoxigraph `substitutions`, which its planner does not use to pick an index; measured
separately on the embedded store, `fiche_structure` takes 1.0–1.2 s with substitutions and
2–3 ms with the same values inlined (`panorama_domaines` and `zones_blanches_epci` do not
change). `synergies_classement` is not in the table: at this scale it took 141 s on the
embedded store and did not answer within 120 s on the remote one (measured separately).
The only row difference between the backends is the order of the commune codes inside the
`GROUP_CONCAT` of `acteurs_filiere_territoire` (3 rows), which the query leaves unspecified.

**Endpoint.** A point lookup costs the remote backend one engine round trip (≈ 0.4 ms on the
engine, 358 µs of its CPU) plus, with `MAILLAGE_STORE_GRAPHS_TTL=0`, the named-graph listing
(a second round trip): 1.6× fewer lookups per second than with a 5 s TTL. The listing costs
0.4–0.5 ms on an engine that was restarted or loaded from files, but 6.0 ms on the engine that
had just run the imports (its memtables hold the deletions of every `MOVE`; 10.6 ms in a
`--scale small` run): on such an engine, that `--scale small` run of this script measured 154
lookups/s with TTL 0 against 1,246/s with TTL 5 (11.5 ms against 0.48 ms of engine CPU per
lookup).
An HTML resource page makes ≈ 22.6 engine requests (one `quads_for_pattern` per label or
value shown, 20.5 of them `GRAPH ?g { <s> <p> ?o }`), so pages run at 0.13× embedded whatever
the TTL (those pattern reads do not use the graph list). Lookups and warm pages run on the
server's event loop (`bounded`); with the remote backend this blocks the loop for the engine
round trip, which did not cost throughput here (the job-thread variant was slower) but would
stall every request of the worker, `/healthz` included, if the engine hangs (up to
`MAILLAGE_STORE_TIMEOUT`, 600 s). As committed, `maillage serve` answers every keep-alive
request in ≈ 44 ms whatever the backend (the *as committed* rows): the switch from uvloop to
asyncio's loop lost TCP_NODELAY (uvloop sets it on every TCP connection; asyncio only on
sockets whose protocol is IPPROTO_TCP, and uvicorn's listening socket says 0).

**Engine recovery.** Oxigraph replays its write-ahead log when it restarts after a kill:
5.4 s for the 7.5 GB left by the imports here, 10.4 s for the 455 MB of a `--scale small` run
(40.6 s in another one under a load average of 10), 0.1 s once replayed. The retry budget of
`MAILLAGE_STORE_RETRIES=5` is 7.75 s (0.25 s × (1 + 2 + 4 + 8 + 16)); the default 4 retries
give 3.75 s.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="idf")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk measure.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-remote")
    parser.add_argument("--keep", action="store_true", help="Keep the stores and engines.")
    parser.add_argument("--reuse-ingest", action="store_true",
                        help="Skip section 1: reuse the stores and figures a --keep run left.")
    parser.add_argument("--recovery-limit", type=float, default=900,
                        help="Longest wait for the killed engine's recovery, seconds.")
    parser.add_argument("--no-write", action="store_true", help="Do not touch BENCHMARKS.md.")
    parser.add_argument("--report-only", action="store_true",
                        help="Rewrite the section from WORK/results-SCALE.json without running.")
    args = parser.parse_args()
    saved = args.work / f"results-{args.scale}.json"
    if args.report_only:
        result = json.loads(saved.read_text())
    else:
        result = run(args)
        result["differences"] = EXAMPLES
        saved.write_text(json.dumps(result, indent=1, default=str))
    result["analysis"] = ANALYSIS
    text = markdown(result)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
