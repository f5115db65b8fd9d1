"""One JSON error shape on every route (the Datasette rule), checked here."""

from __future__ import annotations

import pytest
from maillage.api.errors import ERROR_KEYS

ERRORS = [
    ("GET", "/nowhere", 404),
    ("GET", "/id/structure/000000000.ttl", 404),
    ("GET", "/def.pdf", 404),
    ("GET", "/voc/unknown.html", 404),
    ("GET", "/sparql?query=SELEC", 400),
    ("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", 400),
    ("POST", "/sparql", 400),
    ("DELETE", "/sparql", 405),
    ("GET", "/api/queries/nope", 404),
    ("GET", "/api/queries/acteurs_filiere_territoire", 400),
    ("GET", "/dumps/graphs/nope.ttl", 404),
    ("GET", "/territoire?code=abc", 400),
    ("POST", "/admin/reload", 403),
    ("GET", "/.well-known/void?format=pdf", 406),
]


@pytest.mark.parametrize("method, path, status", ERRORS)
def test_error_shape(client, method, path, status):
    headers = {"Accept": "application/json"}
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    r = client.request(method, path, headers=headers, content=b"" if method == "POST" else None)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == ERROR_KEYS
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["hint"] is None or isinstance(body["hint"], str)
    assert body["location"] is None or set(body["location"]) == {"line", "column"}
