"""The remote backend when the engine misbehaves: it goes away, comes back, refuses writes.

Each test runs a real ``oxigraph serve`` on disk (``--location``) and kills or restarts it for
real. Reads are retried with exponential backoff; writes never leave half a change behind.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from engines import Engine
from maillage.graph import remote
from maillage.graph.errors import StoreError
from maillage.graph.settings import Settings
from maillage.graph.store import open_store
from pyoxigraph import Literal, NamedNode, Quad

G = NamedNode("http://example.org/g")
H = NamedNode("http://example.org/h")


def _quads(graph: NamedNode, n: int, start: int = 0) -> list[Quad]:
    return [Quad(NamedNode(f"http://example.org/s{i}"), NamedNode("http://example.org/p"),
                 Literal(i), graph) for i in range(start, start + n)]


@pytest.fixture
def disk_engine(engine_factory: Callable[..., Engine], tmp_path: Path) -> Engine:
    """An engine persisting to disk, so that it can be killed and started again."""
    return engine_factory(location=tmp_path / "oxigraph")


def _settings(engine: Engine, retries: int = 1) -> Settings:
    return Settings(store=engine.url, store_retries=retries)


def _state(engine: Engine) -> tuple[int, list[str]]:
    return engine.quad_count(), engine.graphs()


def _filled(engine: Engine) -> tuple[int, list[str]]:
    with open_store(_settings(engine)).writing() as w:
        w.add_quads(_quads(G, 50))
    return _state(engine)


def test_reads_are_retried_while_the_engine_restarts(disk_engine: Engine, caplog) -> None:
    _filled(disk_engine)
    store = open_store(_settings(disk_engine, retries=7))  # backoff 0.25 s, doubling: ~32 s
    disk_engine.kill()
    restarted = threading.Event()

    def restart() -> None:
        time.sleep(0.5)  # the first attempts fail: the engine is down
        disk_engine.start()
        restarted.set()

    thread = threading.Thread(target=restart)
    thread.start()
    with caplog.at_level(logging.WARNING, logger="maillage.remote"):
        assert store.count(G) == 50
    thread.join()
    assert restarted.is_set()
    assert any("retry" in r.getMessage() for r in caplog.records), "no retry was needed?"


def test_engine_down_is_a_clear_one_line_error(disk_engine: Engine) -> None:
    _filled(disk_engine)
    disk_engine.kill()
    env = {"MAILLAGE_STORE": disk_engine.url, "MAILLAGE_STORE_RETRIES": "2", "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-m", "maillage.graph.cli", "stats"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert "not reachable" in done.stderr and "tried 3 times" in done.stderr
    assert "Traceback" not in done.stderr


def test_engine_killed_during_the_uploads_changes_nothing(disk_engine: Engine,
                                                          monkeypatch) -> None:
    before = _filled(disk_engine)
    put = remote.RemoteGraphWriter._put

    def put_then_kill(self, graph, path):  # type: ignore[no-untyped-def]
        put(self, graph, path)
        disk_engine.kill()  # the first staging graph is uploaded, the others cannot be

    monkeypatch.setattr(remote.RemoteGraphWriter, "_put", put_then_kill)
    with pytest.raises(StoreError, match="not reachable"):
        with open_store(_settings(disk_engine)).writing() as w:
            w.drop_graph(G)
            w.add_quads(_quads(G, 10, 1000))
            w.add_quads(_quads(H, 10))
    monkeypatch.setattr(remote.RemoteGraphWriter, "_put", put)
    disk_engine.start()
    store = open_store(_settings(disk_engine))
    assert store.count(G) == 50 and store.named_graphs() == [G]  # readers: unchanged
    # the next write sweeps the uploaded staging graph and the stale lock
    with store.writing() as w:
        w.add_quads(_quads(H, 1))
    assert _state(disk_engine) == (before[0] + 1, sorted([G.value, H.value, "urn:maillage:version"]))


def test_engine_gone_at_the_commit_says_nothing_was_applied(disk_engine: Engine,
                                                          monkeypatch) -> None:
    before = _filled(disk_engine)
    bump = remote._bump_version

    def kill_then_bump(txid: str) -> str:  # called once every graph is uploaded
        disk_engine.kill()
        return bump(txid)

    monkeypatch.setattr(remote, "_bump_version", kill_then_bump)
    with pytest.raises(StoreError, match="went away during the commit"):
        with open_store(_settings(disk_engine)).writing() as w:
            w.replace_graph(G, _quads(G, 5, 2000))
    monkeypatch.setattr(remote, "_bump_version", bump)
    disk_engine.start()
    store = open_store(_settings(disk_engine))
    assert store.count(G) == 50
    assert NamedNode("http://example.org/s2000") not in {
        q.subject for q in store.oxigraph.quads_for_pattern(None, None, None, G)}
    with store.writing() as w:  # sweeps the staging graph left behind
        w.add_quads(_quads(G, 1, 50))
    assert _state(disk_engine) == (before[0] + 1, before[1])


def test_a_read_only_engine_refuses_writes_clearly(engine_factory: Callable[..., Engine],
                                                  disk_engine: Engine) -> None:
    before = _filled(disk_engine)
    location = disk_engine.location
    disk_engine.stop()
    read_only = engine_factory()
    read_only.stop()
    read_only.extra = ()
    # the same data served read-only (oxigraph serve-read-only)
    proc = subprocess.Popen([_oxigraph(), "serve-read-only", "--location", str(location),
                             "--bind", f"127.0.0.1:{read_only.port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait(read_only.url)
        store = open_store(_settings(read_only))
        assert store.count(G) == 50
        with pytest.raises(StoreError) as err:
            with store.writing() as w:
                w.add_quads(_quads(H, 3))
        assert "refused" in str(err.value) or "failed" in str(err.value)
        assert store.count(G) == 50 and store.named_graphs() == [G]
    finally:
        proc.terminate()
        proc.wait(10)
    disk_engine.start()
    assert _state(disk_engine) == before


def _oxigraph() -> str:
    from engines import oxigraph_binary

    return oxigraph_binary()


def _wait(url: str) -> None:
    import httpx

    for _ in range(600):
        try:
            if httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("read-only engine did not start")
