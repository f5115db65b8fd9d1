"""Shared fixtures: settings and stores on temporary directories (never the user's store), and
the same on a real SPARQL engine (``oxigraph serve`` on a free port) for the remote backend.

A test that takes ``settings`` (or ``disk_store``, or ``backend``) runs twice: once on an
embedded store in a temporary directory, once on an emptied ``oxigraph serve`` process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from engines import BACKENDS, Engine
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store

BASE = "https://w3id.org/maillage/"


@pytest.fixture(scope="session")
def engine_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Engine]]:
    """Start fresh ``oxigraph serve`` processes; all are stopped at the end of the session."""
    started: list[Engine] = []

    def start(**kwargs: object) -> Engine:
        log = tmp_path_factory.mktemp("engine") / "oxigraph.log"
        engine = Engine(log=log, **kwargs).start()  # type: ignore[arg-type]
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.stop()


@pytest.fixture(scope="session")
def shared_engine(engine_factory: Callable[..., Engine]) -> Engine:
    """The engine of the function-scoped remote tests (emptied before each)."""
    return engine_factory()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, shared_engine: Engine) -> Engine | None:
    """The emptied engine of a remote test (None on the embedded backend)."""
    if backend != "remote":
        return None
    if shared_engine.proc is None or shared_engine.proc.poll() is not None:
        shared_engine.start()  # a test stopped it on purpose
    shared_engine.wipe()
    return shared_engine


@pytest.fixture
def settings(backend: str, engine: Engine | None, tmp_path, monkeypatch) -> Settings:
    location = engine.url if engine is not None else str(tmp_path / "store")
    monkeypatch.setenv("MAILLAGE_STORE", location)
    monkeypatch.setenv("MAILLAGE_STORE_RETRIES", "1")
    return Settings.from_env()


@pytest.fixture
def disk_store(settings: Settings) -> MaillageStore:
    """The store of ``settings`` (embedded directory or remote engine)."""
    return open_store(settings)  # type: ignore[no-any-return]

