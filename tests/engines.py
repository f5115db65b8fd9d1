"""Real SPARQL engines for the tests: ``oxigraph serve`` processes (PyPI package ``oxigraph``)
started on free loopback ports, so the remote store backend is tested against a real server.

``BACKENDS`` names the two store backends every store-level test runs on.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BACKENDS = ("embedded", "remote")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oxigraph_binary() -> str:
    """The ``oxigraph`` CLI installed beside the test interpreter (test extra ``oxigraph``)."""
    local = Path(sys.executable).parent / "oxigraph"
    found = str(local) if local.is_file() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph CLI is missing: pip install -e '.[test]' installs it")
    return found


@dataclass
class Engine:
    """One ``oxigraph serve`` process (in memory unless ``location`` is given)."""

    location: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    extra: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> Engine:
        args = [oxigraph_binary(), "serve", "--bind", f"127.0.0.1:{self.port}", *self.extra]
        if self.location is not None:
            args += ["--location", str(self.location)]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/query", params={"query": "ASK {}"},
                             timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def wipe(self) -> None:
        """Empty the engine (every graph, internal ones too)."""
        r = httpx.post(self.url + "/update", content=b"DROP ALL",
                       headers={"Content-Type": "application/sparql-update"}, timeout=60)
        r.raise_for_status()

    def quad_count(self) -> int:
        """Every quad the engine holds, read without Maillage (its own protocol)."""
        r = httpx.post(self.url + "/query",
                       data={"query": "SELECT (COUNT(*) AS ?n) { { ?s ?p ?o } UNION "
                                      "{ GRAPH ?g { ?s ?p ?o } } }"},
                       headers={"Accept": "application/sparql-results+json"}, timeout=60)
        r.raise_for_status()
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    def graphs(self) -> list[str]:
        """The graphs holding at least one triple."""
        r = httpx.post(self.url + "/query",
                       data={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"},
                       headers={"Accept": "application/sparql-results+json"}, timeout=60)
        r.raise_for_status()
        return sorted(b["g"]["value"] for b in r.json()["results"]["bindings"])


def embedded_only(settings: object) -> None:
    """Skip on the remote backend (what only an embedded store has: generations, RocksDB)."""
    import pytest

    if getattr(settings, "is_remote", False):
        pytest.skip("embedded store only")
