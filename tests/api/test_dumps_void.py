"""Dumps (streamed, ETag/Last-Modified, 304, never row-limited) and the VoID/DCAT description."""

from __future__ import annotations

import gzip

from maillage.graph.settings import Settings
from maillage.graph.store import open_store
from pyoxigraph import NamedNode, RdfFormat, parse

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"


def test_full_dump_is_every_quad_despite_the_row_limit(client, store_path):
    r = client.get("/dumps/maillage.nq.gz")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-quads")
    quads = list(parse(gzip.decompress(r.content), RdfFormat.N_QUADS))
    assert len(quads) == open_store(Settings(store=str(store_path))).count() > 20  # row limit is 20
    assert r.headers["etag"] and r.headers["last-modified"]


def test_conditional_requests_get_304(client):
    first = client.get("/dumps/graphs/territoires.ttl")
    assert first.status_code == 200
    assert client.get("/dumps/graphs/territoires.ttl",
                      headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get("/dumps/graphs/territoires.ttl",
                      headers={"If-Modified-Since": first.headers["last-modified"]}
                      ).status_code == 304
    assert client.get("/dumps/graphs/territoires.ttl",
                      headers={"If-None-Match": '"other"'}).status_code == 200


def test_graph_dump_is_the_graph_in_turtle(client, store_path):
    r = client.get("/dumps/graphs/import/ateliers-velo.ttl")
    assert r.status_code == 200
    triples = list(parse(r.content, RdfFormat.TURTLE))
    graph = NamedNode("https://w3id.org/maillage/graph/import/ateliers-velo")
    assert len(triples) == open_store(Settings(store=str(store_path))).count(graph)
    assert client.get("/dumps/graphs/nope.ttl").status_code == 404
    assert client.get("/dumps/graphs/import/ateliers-velo.nt").status_code == 404


def test_dump_list(client):
    body = client.get("/dumps", headers={"Accept": "application/json"}).json()
    names = {g["name"] for g in body["graphs"]}
    assert {"territoires", "synthetique-sirene", "import/ateliers-velo"} <= names
    assert body["dataset"].endswith("/dumps/maillage.nq.gz")


def test_void_and_dcat_description(client):
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    triples = list(parse(r.content, RdfFormat.TURTLE))

    def objects(s, p):
        return [t.object for t in triples if t.subject == s and t.predicate.value == p]

    dataset = NamedNode("https://w3id.org/maillage/.well-known/void#maillage")
    types = {o.value for o in objects(dataset, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")}
    assert {VOID + "Dataset", DCAT + "Dataset"} <= types
    assert [o.value for o in objects(dataset, VOID + "sparqlEndpoint")] == ["http://testserver/sparql"]
    assert objects(dataset, DCTERMS + "title") and objects(dataset, DCTERMS + "description")
    assert objects(dataset, DCTERMS + "publisher") and objects(dataset, DCTERMS + "temporal")
    distributions = objects(dataset, DCAT + "distribution")
    assert NamedNode("http://testserver/dumps/maillage.nq.gz") in distributions
    subsets = objects(dataset, VOID + "subset")
    assert len(subsets) >= 6
    for subset in subsets:  # every graph: title, size, licence, and a Turtle distribution
        assert objects(subset, DCTERMS + "title") and objects(subset, VOID + "triples")
        assert objects(subset, DCTERMS + "license")
        for dist in objects(subset, DCAT + "distribution"):
            assert objects(dist, DCTERMS + "license") and objects(dist, DCAT + "downloadURL")
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).text
    assert "Description du jeu de données" in html
