"""The SPARQL 1.1 Protocol over real HTTP: methods, media types, errors, service description,
CORS, dataset parameters."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/maillage/def#Structure> } ORDER BY ?s"
ASK = "ASK { ?s a <https://w3id.org/maillage/def#Structure> }"
CONSTRUCT = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o "
             "FILTER(?s = <https://w3id.org/maillage/id/structure/900000019>) }")


def test_get_post_form_and_direct_post_give_the_same_answer(server):
    with server.http() as http:
        get = http.get("/sparql", params={"query": SELECT})
        form = http.post("/sparql", data={"query": SELECT})
        direct = http.post("/sparql", content=SELECT.encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert get.status_code == form.status_code == direct.status_code == 200
    assert get.headers["content-type"].startswith("application/sparql-results+json")
    rows = json.loads(get.content)["results"]["bindings"]
    assert rows and json.loads(form.content) == json.loads(direct.content) == json.loads(get.content)


def test_results_formats_agree(server):
    with server.http() as http:
        answers = {}
        for accept, fmt in (("application/sparql-results+json", QueryResultsFormat.JSON),
                            ("application/sparql-results+xml", QueryResultsFormat.XML),
                            ("text/tab-separated-values", QueryResultsFormat.TSV)):
            r = http.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
            assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
            answers[accept] = [s["s"].value for s in parse_query_results(r.content, fmt)]
        csv_answer = http.get("/sparql", params={"query": SELECT}, headers={"Accept": "text/csv"})
    assert len(set(map(tuple, answers.values()))) == 1
    expected = answers["application/sparql-results+json"]
    assert len(expected) >= 4
    assert csv_answer.text.split("\r\n") == ["s", *expected, ""]


def test_ask_and_construct(server):
    with server.http() as http:
        ask = http.get("/sparql", params={"query": ASK})
        assert json.loads(ask.content) == {"head": {}, "boolean": True}
        xml = http.get("/sparql", params={"query": ASK, "format": "xml"})
        assert b"<boolean>true</boolean>" in xml.content
        ttl = http.get("/sparql", params={"query": CONSTRUCT})
        assert ttl.headers["content-type"].startswith("text/turtle")
        triples = list(parse(ttl.content, RdfFormat.TURTLE))
        assert len(triples) > 5
        nq = http.get("/sparql", params={"query": CONSTRUCT},
                      headers={"Accept": "application/n-quads"})
        assert len(list(parse(nq.content, RdfFormat.N_QUADS))) == len(triples)


def test_default_graph_is_the_union_and_from_clauses_are_honoured(server):
    graph = "https://w3id.org/maillage/graph/territoires"
    q_from = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
    q_all = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    with server.http() as http:
        def count(query: str, **params: object) -> int:
            r = http.get("/sparql", params={"query": query, **params})
            return int(json.loads(r.content)["results"]["bindings"][0]["n"]["value"])

        everything, territories = count(q_all), count(q_from)
        assert 0 < territories < everything
        assert count(q_all, **{"default-graph-uri": graph}) == territories


@pytest.mark.parametrize("request_args, status, code", [
    ({"method": "GET", "url": "/sparql?query=ASK%7B%7D&query=ASK%7B%7D"}, 400, "repeated-parameter"),
    ({"method": "POST", "url": "/sparql", "content": b"ASK {}",
      "headers": {"Content-Type": "text/plain"}}, 415, "unsupported-media-type"),
    ({"method": "POST", "url": "/sparql", "content": b"query=ASK%20%7B%7D"}, 415,
     "unsupported-media-type"),
    ({"method": "POST", "url": "/sparql", "content": "ASK {}".encode("utf-16"),
      "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415, "bad-charset"),
    ({"method": "POST", "url": "/sparql", "content": b"ASK { \xff }",
      "headers": {"Content-Type": "application/sparql-query"}}, 400, "bad-encoding"),
    ({"method": "GET", "url": "/sparql?query=%FF%FE"}, 400, "bad-encoding"),
    ({"method": "PUT", "url": "/sparql?query=ASK%7B%7D"}, 405, "method-not-allowed"),
    ({"method": "GET", "url": "/sparql?update=CLEAR%20ALL"}, 405, "update-needs-post"),
    ({"method": "POST", "url": "/sparql", "data": {"query": "ASK {}", "update": "CLEAR ALL"}},
     400, "bad-request"),
    ({"method": "GET", "url": "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri"}, 400,
     "bad-iri"),
])
def test_malformed_requests_are_4xx_in_the_error_shape(server, request_args, status, code):
    with server.http() as http:
        r = http.request(**request_args)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and body["status"] == status and body["error"] == code


def test_syntax_error_gives_the_parser_message_and_position(server):
    with server.http() as http:
        r = http.get("/sparql", params={"query": "SELECT ?x WHERE {\n  ?x ?y \n}"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "sparql-syntax"
    location = body["location"]
    assert location["line"] == 3  # the '}' on line 3, where an object was expected
    assert f"{location['line']}:{location['column']}" in body["message"]
    assert "expected" in body["message"]


def test_406_when_no_format_fits_and_format_parameter_overrides(server):
    with server.http() as http:
        r = http.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
        assert r.status_code == 406 and r.json()["error"] == "not-acceptable"
        r = http.get("/sparql", params={"query": SELECT, "format": "csv"},
                     headers={"Accept": "image/png"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        r = http.get("/sparql", params={"query": CONSTRUCT, "format": "csv"})
        assert r.status_code == 406


def test_service_description_names_the_real_endpoint(server):
    with server.http() as http:
        r = http.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    triples = list(parse(r.content, RdfFormat.TURTLE))
    endpoint = [t.object.value for t in triples
                if t.predicate.value == "http://www.w3.org/ns/sparql-service-description#endpoint"]
    assert endpoint == [server.url + "/sparql"]


def test_browsers_get_the_query_editor(server):
    with server.http() as http:
        r = http.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 303 and r.headers["location"].endswith("/query")


def test_cors_simple_and_preflight(server):
    with server.http() as http:
        r = http.get("/sparql", params={"query": ASK}, headers={"Origin": "https://example.org"})
        assert r.headers["access-control-allow-origin"] == "*"
        assert "Maillage-Truncated" in r.headers["access-control-expose-headers"]
        pre = http.options("/sparql", headers={
            "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]


def test_updates_are_refused_on_a_read_only_server(server):
    with server.http() as http:
        r = http.post("/sparql", content=b"CLEAR ALL",
                      headers={"Content-Type": "application/sparql-update",
                               "Authorization": "Bearer anything"})
        assert r.status_code == 403 and r.json()["error"] == "read-only"
        assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is True


def test_federated_service_calls_do_not_leave_the_server(server):
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    with server.http() as http:
        r = http.get("/sparql", params={"query": query})
    assert r.status_code == 400 and r.json()["error"] == "service-disabled"
