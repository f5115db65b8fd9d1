"""Helpers of the web tests: the test store and real servers (``maillage serve`` on a free port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from maillage.graph.ontology import load_ontology
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store
from pyoxigraph import RdfFormat

HERE = Path(__file__).parent
MINI = HERE.parent / "data" / "mini" / "mini.trig"
EXTRA = HERE / "data" / "extra.trig"
TOKEN = "s3cret-test-token-0123456789"
BASE = "https://w3id.org/maillage/"


def build_store(path: Path | str) -> MaillageStore:
    """The test store: the real ontology, the mini fixture and the extra geometries.

    ``path`` is a directory (embedded store) or the URL of a SPARQL engine (remote store)."""
    settings = Settings(store=str(path))
    store = open_store(settings)
    with store.writing(fresh=True) as writer:
        load_ontology(writer, settings)
        writer.load(MINI, RdfFormat.TRIG, base_iri=BASE)
        writer.load(EXTRA, RdfFormat.TRIG)
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``maillage serve`` process started by a test."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def http(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def copy_store(location: Path | str, tmp: Path, engine_factory: object = None) -> Path | str:
    """A copy of a test store: a directory copy, or a new engine loaded with a dump."""
    import shutil

    if isinstance(location, str) and location.startswith("http"):
        engine = engine_factory()  # type: ignore[operator]
        dump = tmp / "copy.nq"
        open_store(Settings(store=location)).dump(dump, RdfFormat.N_QUADS)
        target = open_store(Settings(store=engine.url))
        with target.writing(fresh=True) as writer:
            writer.load(dump, RdfFormat.N_QUADS)
        return str(engine.url)
    target_dir = tmp / "store"
    shutil.copytree(location, target_dir, symlinks=True)
    return target_dir


def start_server(store: Path | str, tmp: Path, **settings: str) -> Server:
    """Start ``maillage serve`` on a free port and wait until /healthz answers."""
    port = free_port()
    env = dict(os.environ)
    env.update({"MAILLAGE_STORE": str(store), "MAILLAGE_DUMP_DIR": str(tmp / "dumps")})
    env.update(settings)
    log = tmp / f"server-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "maillage.graph.cli", "serve", "--port", str(port),
             "--log-level", "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


