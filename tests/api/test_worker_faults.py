"""A query worker process killed (SIGKILL) while requests are in flight, over real HTTP.

``maillage serve`` runs its web worker processes under uvicorn's supervisor, all accepting on one
listening socket. A killed worker takes down the connections it had accepted (their clients see
the connection closed, at once: no hang, no answer); connections not yet accepted stay in the
shared queue and are served by the sibling; the supervisor starts a replacement.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time

import httpx
import psutil
import pytest
from webtools import Server, start_server

LIGHT = "ASK { ?s a <https://w3id.org/maillage/def#Structure> }"
TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c }"
#: a few seconds of work on the test store: K times the square of its number of triples
K = 4
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . VALUES ?k { "
         + " ".join(str(i) for i in range(K)) + " } }")
JSON = {"Accept": "application/sparql-results+json"}


def _workers(server: Server) -> set[int]:
    """The web worker processes of the server (children of uvicorn's supervisor)."""
    pids = set()
    for child in psutil.Process(server.proc.pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(
                    child.cmdline()):
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


def _bound_clients(server: Server, per_worker: int) -> dict[int, list[httpx.Client]]:
    """Keep-alive clients, ``per_worker`` on each worker process (a connection stays on the
    process that accepted it)."""
    bound: dict[int, list[httpx.Client]] = {}
    for _ in range(500):
        client = httpx.Client(base_url=server.url, timeout=120)
        pid = client.get("/healthz").json()["pid"]
        if len(bound.setdefault(pid, [])) < per_worker:
            bound[pid].append(client)
        else:
            client.close()
        if len(bound) == 2 and all(len(c) == per_worker for c in bound.values()):
            return bound
    raise AssertionError(f"could not reach both worker processes: {sorted(bound)}")


def _running(client: httpx.Client) -> tuple[int, int]:
    """(pid, jobs running) of the worker process a bound client talks to, from /metrics."""
    text = client.get("/metrics").text
    m = re.search(r'maillage_jobs_running\{pid="(\d+)"\} (\d+)', text)
    assert m, text[:2000]
    return int(m.group(1)), int(m.group(2))


def _count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def served(store_path, tmp_path):
    server = start_server(store_path, tmp_path, MAILLAGE_WORKERS="2",
                          MAILLAGE_QUERY_TIMEOUT="120")
    yield server
    server.stop()


@pytest.mark.timeout(300)
def test_killed_worker_is_replaced_and_the_server_keeps_serving(served: Server):
    server = served
    deadline = time.monotonic() + 60
    while len(_workers(server)) != 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_workers(server)) == 2
    with server.http(headers=JSON) as http:
        triples = _count(http.get("/sparql", params={"query": TRIPLES}))
    assert triples > 100

    bound = _bound_clients(server, per_worker=2)
    victim, survivor = sorted(bound)
    assert {victim, survivor} == _workers(server)

    # light traffic all along, a new connection each time
    stop = threading.Event()
    light: list[tuple[float, int | str]] = []

    def traffic() -> None:
        while not stop.is_set():
            try:
                r = httpx.get(server.url + "/sparql", params={"query": LIGHT}, headers=JSON,
                              timeout=60)
                ok = r.status_code == 200 and json.loads(r.content)["boolean"] is True
                light.append((time.monotonic(), r.status_code if ok else f"bad {r.status_code}"))
            except httpx.HTTPError as exc:
                light.append((time.monotonic(), type(exc).__name__))
            time.sleep(0.02)

    # one heavy query in flight on each process
    heavy: dict[int, httpx.Response | Exception] = {}

    def run_heavy(pid: int) -> None:
        try:
            heavy[pid] = bound[pid][0].get("/sparql", params={"query": HEAVY}, headers=JSON)
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test checks)
            heavy[pid] = exc

    threads = [threading.Thread(target=traffic)]
    threads += [threading.Thread(target=run_heavy, args=(pid,)) for pid in (victim, survivor)]
    for thread in threads:
        thread.start()
    try:
        for pid in (victim, survivor):  # wait until each process is running its heavy query
            deadline = time.monotonic() + 60
            while True:
                answered, running = _running(bound[pid][1])
                assert answered == pid, "a keep-alive connection moved to another process"
                if running >= 1:
                    break
                assert time.monotonic() < deadline, f"process {pid} never ran the heavy query"
                time.sleep(0.01)
        deadline = time.monotonic() + 60
        while len(light) < 3:  # the light traffic is flowing too
            assert time.monotonic() < deadline, "no light request was answered"
            time.sleep(0.01)
        assert heavy == {}, heavy  # both heavy queries are still running
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)

        for thread in threads[1:]:
            thread.join(180)
        # the request in flight on the killed process fails at once (connection closed), and
        # the one on its sibling completes
        lost = heavy[victim]
        assert isinstance(lost, httpx.TransportError), lost
        assert not isinstance(lost, httpx.TimeoutException), lost
        kept = heavy[survivor]
        assert isinstance(kept, httpx.Response) and kept.status_code == 200, kept
        assert _count(kept) == K * triples * triples

        # a replacement process starts and serves
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            workers = _workers(server)
            if len(workers) == 2 and victim not in workers:
                break
            time.sleep(0.1)
        assert len(workers) == 2 and victim not in workers and survivor in workers, workers
        assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == \
            psutil.STATUS_ZOMBIE
        [replacement] = workers - {survivor}
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while replacement not in seen and time.monotonic() < deadline:
            r = httpx.get(server.url + "/healthz", timeout=30)  # a new connection each time
            assert r.status_code == 200, r.text
            seen.add(r.json()["pid"])
        assert replacement in seen and victim not in seen
    finally:
        stop.set()
        threads[0].join(120)
        for clients in bound.values():
            for client in clients:
                client.close()

    # the light traffic never got an error answer; at most the one request that the killed
    # process had accepted lost its connection
    before = [outcome for t, outcome in light if t < killed_at]
    after = [outcome for t, outcome in light if t >= killed_at]
    assert before and after
    failures = [outcome for _, outcome in light if outcome != 200]
    assert all(f in ("RemoteProtocolError", "ReadError") for f in failures), failures
    assert len(failures) <= 1, failures

    with server.http(headers=JSON) as http:
        for _ in range(50):
            with httpx.Client(base_url=server.url, timeout=30) as fresh:
                r = fresh.get("/sparql", params={"query": LIGHT}, headers=JSON)
                assert r.status_code == 200 and json.loads(r.content)["boolean"] is True
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert "maillage_http_requests_total" in metrics.text
        assert re.search(r'maillage_jobs_running\{pid="\d+"\} 0', metrics.text)
