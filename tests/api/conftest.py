"""Fixtures of the web tests: a store built from the "mini" fixture, the app in process, and
real servers (``maillage serve`` on a free port) for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from maillage.graph.settings import Settings
from engines import BACKENDS
from webtools import Server, build_store, start_server


@pytest.fixture(scope="session", params=BACKENDS)
def store_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               engine_factory) -> Path | str:
    """The test store on each backend: a directory, or the URL of its own ``oxigraph serve``."""
    if request.param == "remote":
        location: Path | str = engine_factory().url
    else:
        location = tmp_path_factory.mktemp("web") / "store"
    build_store(location)
    return location


@pytest.fixture(scope="session")
def client(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The app in process (Starlette test client): fast checks of pages and formats."""
    from fastapi.testclient import TestClient
    from maillage.api.app import create_app

    settings = Settings(store=str(store_path), row_limit=20, query_timeout_s=20,
                        dump_dir=str(tmp_path_factory.mktemp("dumps")))
    with TestClient(create_app(settings), base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def server(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A read-only server: 2 processes, 2 s query limit, 20-row limit."""
    s = start_server(store_path, tmp_path_factory.mktemp("srv"), MAILLAGE_WORKERS="2",
                     MAILLAGE_QUERY_TIMEOUT="2", MAILLAGE_ROW_LIMIT="20",
                     MAILLAGE_MAX_BODY="100000")
    yield s
    s.stop()
