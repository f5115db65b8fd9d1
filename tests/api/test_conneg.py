"""Content negotiation: the Accept parser and the format matrix of the SPARQL endpoint."""

from __future__ import annotations

import pytest
from maillage.api import conneg

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/maillage/def#Structure> } LIMIT 2"
ASK = "ASK {}"
CONSTRUCT = "CONSTRUCT { <urn:x> <urn:p> 1 } WHERE {}"


def test_most_specific_range_gives_the_quality():
    ranges = conneg.parse_accept("text/*;q=0.2, text/csv;q=0.9, */*;q=0.1")
    assert conneg.quality(ranges, "text/csv") == 0.9
    assert conneg.quality(ranges, "text/turtle") == 0.2
    assert conneg.quality(ranges, "application/json") == 0.1


def test_q_zero_excludes_and_ties_go_to_server_order():
    assert conneg.negotiate("text/csv;q=0, */*", conneg.RESULTS).name == "json"
    assert conneg.negotiate("text/csv, text/tab-separated-values", conneg.RESULTS).name == "csv"
    assert conneg.negotiate("application/json;q=0, application/sparql-results+json;q=0, "
                            "application/*;q=0, text/xml;q=0.1", conneg.RESULTS).name == "xml"


@pytest.mark.parametrize("header", ["", ",,,", "garbage", "text/html;q=abc", "*/*;;;", "a/b/c"])
def test_malformed_headers_do_not_raise(header):
    conneg.negotiate(header, conneg.RESULTS)
    conneg.prefers_html(header)


MATRIX = [
    (SELECT, None, None, "application/sparql-results+json"),
    (SELECT, "application/json", None, "application/json"),
    (SELECT, "application/sparql-results+xml", None, "application/sparql-results+xml"),
    (SELECT, "text/xml", None, "text/xml"),
    (SELECT, "text/csv", None, "text/csv"),
    (SELECT, "text/tab-separated-values", None, "text/tab-separated-values"),
    (SELECT, "text/csv;q=0.4, text/tab-separated-values;q=0.8", None, "text/tab-separated-values"),
    (SELECT, "text/turtle", None, 406),
    (SELECT, "text/turtle", "tsv", "text/tab-separated-values"),
    (SELECT, None, "application/sparql-results+xml", "application/sparql-results+xml"),
    (ASK, None, None, "application/sparql-results+json"),
    (ASK, "application/sparql-results+xml", None, "application/sparql-results+xml"),
    (ASK, "text/csv", None, 406),
    (CONSTRUCT, None, None, "text/turtle"),
    (CONSTRUCT, "application/ld+json", None, "application/ld+json"),
    (CONSTRUCT, "application/n-triples", None, "application/n-triples"),
    (CONSTRUCT, "application/rdf+xml", None, "application/rdf+xml"),
    (CONSTRUCT, "application/n-quads", None, "application/n-quads"),
    (CONSTRUCT, "application/trig", None, "application/trig"),
    (CONSTRUCT, "application/sparql-results+json", None, 406),
    (CONSTRUCT, "text/*", None, "text/turtle"),
    (CONSTRUCT, None, "jsonld", "application/ld+json"),
    (CONSTRUCT, None, "nt", "application/n-triples"),
]


@pytest.mark.parametrize("query, accept, fmt, expected", MATRIX)
def test_sparql_format_matrix(client, query, accept, fmt, expected):
    params = {"query": query} | ({"format": fmt} if fmt else {})
    headers = {"Accept": accept} if accept else {}
    r = client.get("/sparql", params=params, headers=headers)
    if expected == 406:
        assert r.status_code == 406 and r.json()["error"] == "not-acceptable"
    else:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == expected
        assert "Accept" in r.headers["vary"]
