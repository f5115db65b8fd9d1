"""The write path: SPARQL Update and admin reload exist only when enabled, with the token."""

from __future__ import annotations

import pytest
from maillage.graph.settings import Settings
from maillage.graph.store import open_store
from webtools import TOKEN, copy_store, start_server

INSERT = ('INSERT DATA { GRAPH <https://w3id.org/maillage/graph/test-updates> { '
          '<https://w3id.org/maillage/id/acteur/test/x> <http://www.w3.org/2000/01/rdf-schema#label> '
          '"Acteur ajouté" } }')
ASK = 'ASK { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Acteur ajouté" }'
UPDATE = {"Content-Type": "application/sparql-update"}


def _generation(location: str) -> str:
    return str(open_store(Settings(store=location)).generation())


@pytest.fixture(scope="module")
def writable(store_path, tmp_path_factory, engine_factory):
    tmp = tmp_path_factory.mktemp("updates")
    store = copy_store(store_path, tmp, engine_factory)
    server = start_server(store, tmp, MAILLAGE_UPDATES="1", MAILLAGE_ADMIN_TOKEN=TOKEN,
                          MAILLAGE_WORKERS="2")
    yield server, str(store)
    server.stop()


def test_writes_need_the_bearer_token(writable):
    server, _ = writable
    with server.http() as http:
        none = http.post("/sparql", content=INSERT.encode(), headers=UPDATE)
        wrong = http.post("/sparql", content=INSERT.encode(),
                          headers={**UPDATE, "Authorization": "Bearer nope"})
        basic = http.post("/sparql", content=INSERT.encode(),
                          headers={**UPDATE, "Authorization": f"Basic {TOKEN}"})
        for r in (none, basic):  # no bearer token: 401
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
            assert r.headers["www-authenticate"].startswith("Bearer")
        assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"  # wrong token
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is False


def test_update_with_token_writes_a_new_generation(writable):
    server, store = writable
    before = _generation(store)
    with server.http() as http:
        r = http.post("/sparql", content=INSERT.encode(),
                      headers={**UPDATE, "Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 204, r.text
        assert _generation(store) != before
        for _ in range(4):  # every process follows the swap
            assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is True


def test_failed_update_leaves_the_store_unchanged(writable):
    server, store = writable
    before = _generation(store)
    with server.http() as http:
        r = http.post("/sparql", data={"update": "INSERT DATA { <a> <b> "},
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and r.json()["error"] == "sparql-syntax"
    assert _generation(store) == before


def test_admin_reload_restarts_the_processes_and_keeps_serving(writable):
    server, _ = writable
    with server.http() as http:
        assert http.post("/admin/reload").status_code == 401
        r = http.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 202 and r.json()["ok"] is True
        for _ in range(10):
            assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is True
