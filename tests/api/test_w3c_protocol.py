"""The W3C SPARQL 1.1 Protocol and Service Description tests, over real HTTP.

Each ``mf:ProtocolTest`` of ``w3c/protocol/manifest.ttl`` (an unaltered copy, see
``w3c/SOURCES.md``) becomes a test case: the store is rewritten with the test's ``ut:graphData``
(a new generation, which the running server follows), then the ``ht:Request`` list is sent in
order and each ``ht:Response`` expectation (status class, result format, boolean) is checked.
Updates need the admin bearer token on this server: the runner adds the ``Authorization``
header to every request, nothing else is changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store
from pyoxigraph import NamedNode, Quad, RdfFormat, parse
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from webtools import TOKEN, start_server

W3C = Path(__file__).parent / "w3c"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
SD = "http://www.w3.org/ns/sparql-service-description#"
RESULT_TYPES = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": ("application/sparql-results+json", "application/sparql-results+xml",
                "text/csv", "text/tab-separated-values"),
    "RDF": ("application/rdf+xml", "text/turtle", "application/n-triples", "text/html"),
}


@dataclass
class Step:
    """One HTTP request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]
    boolean: bool | None = None
    result_format: str | None = None


@dataclass
class ProtocolTest:
    name: str
    steps: list[Step]
    graphs: dict[str, Path] = field(default_factory=dict)


def _step(g: Graph, request: URIRef) -> Step:
    headers = {}
    for h in Collection(g, g.value(request, HT.headers)) if g.value(request, HT.headers) else []:
        headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
    body_node = g.value(request, HT.body)
    body = None
    if body_node is not None:
        encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(body_node, CNT.chars)).encode(encoding)
    response = g.value(request, HT.resp)
    boolean = g.value(response, MF.expectedBoolean)
    fmt = g.value(response, MF.expectedFormat)
    return Step(str(g.value(request, HT.methodName)), str(g.value(request, HT.absolutePath)),
                headers, body,
                {str(s).rsplit("StatusCode", 1)[-1] for s in g.objects(response, MF.expectedStatus)},
                None if boolean is None else bool(boolean.toPython()),
                None if fmt is None else str(fmt))


def load_protocol_tests() -> list[ProtocolTest]:
    g = Graph().parse(W3C / "protocol" / "manifest.ttl", format="turtle",
                      publicID=BASE + "protocol/manifest.ttl")
    manifest = next(g.subjects(MF.entries, None))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        steps = [_step(g, r) for r in Collection(g, g.value(action, HT.requests))]
        graphs = {str(g.value(d, RDFS.label)): W3C / "protocol" / str(g.value(d, UT.graph)).rsplit("/", 1)[-1]
                  for d in g.objects(entry, UT.graphData)}
        tests.append(ProtocolTest(str(entry).rsplit("#", 1)[-1], steps, graphs))
    return tests


PROTOCOL_TESTS = load_protocol_tests()


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory: pytest.TempPathFactory, store_path, engine_factory):
    """An empty store of the backend ``store_path`` is on (the mini store itself is unused)."""
    tmp = tmp_path_factory.mktemp("w3c")
    location = engine_factory().url if str(store_path).startswith("http") else tmp / "store"
    store = open_store(Settings(store=str(location)))
    with store.writing(fresh=True):
        pass
    server = start_server(location, tmp, MAILLAGE_UPDATES="1", MAILLAGE_ADMIN_TOKEN=TOKEN,
                          MAILLAGE_WORKERS="2", MAILLAGE_QUERY_TIMEOUT="10")
    yield server, store
    server.stop()


def _reset(store: MaillageStore, graphs: dict[str, Path]) -> None:
    with store.writing(fresh=True) as writer:
        for name, path in graphs.items():
            quads = [Quad(t.subject, t.predicate, t.object, NamedNode(name))
                     for t in parse(path=str(path), format=RdfFormat.N_TRIPLES)]
            writer.add_quads(quads)


def _check(step: Step, response) -> None:  # type: ignore[no-untyped-def]
    status_class = f"{response.status_code // 100}xx"
    assert status_class in step.statuses, (response.status_code, response.text[:300])
    if step.result_format:
        kind = response.headers["content-type"].split(";")[0].strip()
        assert kind in RESULT_TYPES[step.result_format], kind
    if step.boolean is not None:
        if "json" in response.headers["content-type"]:
            assert json.loads(response.content)["boolean"] is step.boolean
        else:
            assert f"<boolean>{str(step.boolean).lower()}</boolean>".encode() in response.content


@pytest.mark.parametrize("test", PROTOCOL_TESTS, ids=[t.name for t in PROTOCOL_TESTS])
def test_protocol(w3c_server, test: ProtocolTest) -> None:
    server, store = w3c_server
    _reset(store, test.graphs)
    with server.http() as http:
        for step in test.steps:
            headers = dict(step.headers, Authorization=f"Bearer {TOKEN}")
            response = http.request(step.method, step.path, headers=headers, content=step.body)
            _check(step, response)


def test_the_manifest_has_all_34_protocol_tests() -> None:
    assert len(PROTOCOL_TESTS) == 34


def _service_description(server) -> tuple[list, str]:  # type: ignore[no-untyped-def]
    with server.http() as http:
        response = http.get("/sparql/", headers={"Accept": "application/rdf+xml, text/turtle"})
    assert response.status_code == 200
    kind = response.headers["content-type"].split(";")[0]
    fmt = {"application/rdf+xml": RdfFormat.RDF_XML, "text/turtle": RdfFormat.TURTLE}[kind]
    return list(parse(response.content, fmt)), server.url + "/sparql"


SD_TESTS = [str(s).rsplit("#", 1)[-1] for s in Graph().parse(
    W3C / "service-description" / "manifest.ttl", format="turtle").subjects(
    URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
    URIRef("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#ServiceDescriptionTest"))]


@pytest.mark.parametrize("name", sorted(SD_TESTS))
def test_service_description(w3c_server, name: str) -> None:
    server, _ = w3c_server
    triples, endpoint = _service_description(server)
    if name == "returns-rdf":
        assert triples
    elif name == "has-endpoint-triple":
        assert any(t.predicate.value == SD + "endpoint" and t.object.value == endpoint
                   for t in triples)
    else:
        assert name == "conforms-to-schema"
        _conforms(triples)


def _conforms(triples: list) -> None:  # type: ignore[type-arg]
    def objects(s, p):  # type: ignore[no-untyped-def]
        return [t.object for t in triples if t.subject == s and t.predicate.value == SD + p]

    services = [t.subject for t in triples if t.object.value == SD + "Service"]
    assert len(services) == 1
    service = services[0]
    assert len(objects(service, "endpoint")) == 1
    languages = {o.value for o in objects(service, "supportedLanguage")}
    assert languages and languages <= {SD + "SPARQL10Query", SD + "SPARQL11Query", SD + "SPARQL11Update"}
    assert all(isinstance(o, NamedNode) for o in objects(service, "resultFormat"))
    assert all(isinstance(o, NamedNode) for o in objects(service, "feature"))
    for dataset in objects(service, "defaultDataset"):
        assert objects(dataset, "defaultGraph")
        for named in objects(dataset, "namedGraph"):
            assert len(objects(named, "name")) == 1
