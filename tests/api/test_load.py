"""Bounded load: 50 concurrent clients on a realistic mix against a real ``maillage serve``.

Each client (a thread with its own keep-alive connection) sends a fixed number of requests,
drawn from a seeded mix: SPARQL point lookups (JSON), named queries through the REST API,
Linked Data documents (HTML and Turtle of structures, communes and EPCI) and a few heavy
analytics (a GROUP BY over every structure, the slowest named queries). The test is bounded by
the number of requests, never by time, and asserts no wall-clock figure: every request is
answered, none with an error (no 5xx other than the documented 504 of the query time limit,
no connection error), every answer is well-formed (status, media type, body parsed), every
answer is the answer to its own request (the structure's SIREN in a point lookup, the query
and parameters echoed by the REST API, the ``Link: rel="describes"`` header and the Turtle
subject of a document), and the server is still serving afterwards with no traceback in its
log. The figures of the same kind of mix at 200 clients on a 50,000-structure store are in
RELIABILITY.md (``bench/bench_load.py``).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pyoxigraph import NamedNode, RdfFormat, parse
from webtools import BASE, Server, start_server

CLIENTS = 50
REQUESTS_PER_CLIENT = 30  # 1,500 requests in all
MAI = "https://w3id.org/maillage/def#"
IGEO = "http://rdf.insee.fr/def/geo#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
JSON_RESULTS = "application/sparql-results+json"
GROUP_BY = ("SELECT ?type (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type ; ?p ?o } "
            "GROUP BY ?type ORDER BY DESC(?n)")  # over every typed resource
#: category -> weight (percent of the requests)
MIX = {"point lookup": 40, "named query": 20, "LOD HTML": 18, "LOD Turtle": 20, "heavy": 2}


@dataclass(frozen=True)
class Req:
    category: str
    path: str
    params: dict[str, str] | None
    accept: str
    expect: str  # sparql-json | api-json | html | turtle
    iri: str | None = None


@dataclass(frozen=True)
class Targets:
    structures: list[str]
    communes: list[str]
    epcis: list[str]
    appels: list[str]
    filieres: list[str]


@pytest.fixture(scope="module")
def load_server(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own with the default limits (2 processes, 30 s query limit): the
    session server's 2 s limit is for the time-limit tests."""
    s = start_server(store_path, tmp_path_factory.mktemp("load"), MAILLAGE_WORKERS="2",
                     MAILLAGE_QUERY_TIMEOUT="30", MAILLAGE_ROW_LIMIT="10000")
    yield s
    s.stop()


def _values(http: httpx.Client, query: str) -> list[str]:
    r = http.get("/sparql", params={"query": query}, headers={"Accept": JSON_RESULTS})
    assert r.status_code == 200, r.text
    return sorted({b["x"]["value"] for b in r.json()["results"]["bindings"]})


def discover(server: Server) -> Targets:
    """What the clients ask about: the resources of the test store, read from the server."""
    with server.http() as http:
        t = Targets(
            structures=_values(http, f"SELECT ?x WHERE {{ ?x a <{MAI}Structure> }}"),
            communes=_values(http, f"SELECT ?x WHERE {{ ?x a <{IGEO}Commune> }}"),
            epcis=_values(http, f"SELECT ?x WHERE {{ ?x a <{IGEO}Intercommunalite> }}"),
            appels=_values(http, f"SELECT ?x WHERE {{ ?x a <{MAI}CallForProjects> }}"),
            filieres=_values(http, f"SELECT ?x WHERE {{ ?f a <{MAI}Filiere> ; "
                                   f"<{SKOS}notation> ?x }}"),
        )
    assert all((t.structures, t.communes, t.epcis, t.appels, t.filieres)), t
    return t


def _code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def draw(rng: random.Random, t: Targets) -> Req:
    """One request of the mix."""
    category = rng.choices(list(MIX), list(MIX.values()))[0]
    if category == "point lookup":
        iri = rng.choice(t.structures)
        return Req(category, "/sparql", {"query": f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"},
                   JSON_RESULTS, "sparql-json", iri)
    if category == "named query":
        name, params = rng.choice([
            ("fiche_structure", {"structure": rng.choice(t.structures)}),
            ("mesures_territoire", {"territoire": _code(rng.choice(t.communes))}),
            ("lacunes_epci", {"epci": _code(rng.choice(t.epcis))}),
            ("candidatures_par_theme", {"appel": _code(rng.choice(t.appels))}),
            ("acteurs_filiere_territoire", {"filiere": rng.choice(t.filieres),
                                            "territoire": rng.choice(("93", "77", "75"))}),
        ])
        return Req(category, f"/api/queries/{name}", params, "application/json", "api-json")
    if category in ("LOD HTML", "LOD Turtle"):
        iri = rng.choice(rng.choice((t.structures, t.communes, t.epcis)))
        suffix, accept, expect = (("html", "text/html", "html") if category == "LOD HTML"
                                  else ("ttl", "text/turtle", "turtle"))
        return Req(category, "/" + iri.removeprefix(BASE) + "." + suffix, None, accept, expect,
                   iri)
    if rng.random() < 0.5:
        return Req(category, "/sparql", {"query": GROUP_BY}, JSON_RESULTS, "sparql-json")
    return Req(category, "/api/queries/" + rng.choice(("panorama_filieres",
                                                       "creations_par_filiere")),
               None, "application/json", "api-json")


def problem(req: Req, r: httpx.Response) -> str | None:
    """None for a well-formed answer (or the documented 504 of the time limit), else what is
    wrong with it."""
    ctype = r.headers.get("content-type", "")
    if r.status_code == 504 and "maillage-process" in r.headers and (
            ctype.startswith("text/html") or r.json().get("error") == "query-timeout"):
        return None  # documented: the query time limit (JSON, or its page for a browser)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text[:200]}"
    try:
        if req.expect == "sparql-json":
            assert ctype.startswith(JSON_RESULTS), ctype
            bindings = json.loads(r.content)["results"]["bindings"]
            assert bindings, "no results"
            if req.iri:  # a point lookup answers about its structure
                assert {"p": MAI + "siren", "o": _code(req.iri)} in [
                    {"p": b["p"]["value"], "o": b["o"]["value"]} for b in bindings], (
                    "not the requested structure")
        elif req.expect == "api-json":
            assert ctype.startswith("application/json"), ctype
            data = json.loads(r.content)
            assert data["count"] == len(data["rows"]), "count differs from the rows"
            assert data["query"] == _code(req.path), "not the requested query"
            assert all(data["parameters"].get(k) == v for k, v in (req.params or {}).items()), (
                "not the requested parameters")
        else:
            assert f"<{req.iri}>" in r.headers.get("link", ""), "Link does not name the resource"
            if req.expect == "html":
                assert ctype.startswith("text/html"), ctype
                assert r.content.rstrip().endswith(b"</html>"), "truncated HTML"
            else:
                assert ctype.startswith("text/turtle"), ctype
                subject = NamedNode(req.iri or "")
                assert any(t.subject == subject for t in parse(r.content, RdfFormat.TURTLE)), (
                    "the resource is not described")
    except (AssertionError, ValueError, KeyError, SyntaxError) as exc:
        return f"malformed {req.expect}: {exc}"
    return None


@pytest.mark.timeout(300)
def test_fifty_concurrent_clients_get_only_well_formed_answers(load_server: Server):
    targets = discover(load_server)
    plans = [[draw(rng, targets) for _ in range(REQUESTS_PER_CLIENT)]
             for rng in (random.Random(1000 + i) for i in range(CLIENTS))]
    answered: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(plan: list[Req]) -> None:
        with httpx.Client(base_url=load_server.url, timeout=120,
                          limits=httpx.Limits(max_connections=1)) as http:
            start.wait(60)
            for req in plan:
                try:
                    r = http.get(req.path, params=req.params, headers={"Accept": req.accept})
                except httpx.HTTPError as exc:  # connection error, client time-out
                    with lock:
                        errors.append(f"{req.path}: {type(exc).__name__}: {exc}")
                    continue
                wrong = problem(req, r)
                with lock:
                    answered[req.category] += 1
                    statuses[r.status_code] += 1
                    if wrong:
                        errors.append(f"{req.path} {req.params or ''}: {wrong}")

    threads = [threading.Thread(target=client, args=(p,)) for p in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(280)
    assert not any(thread.is_alive() for thread in threads), "a client never finished"

    assert not errors, f"{len(errors)} error(s), e.g. {errors[:10]}"
    assert sum(answered.values()) == CLIENTS * REQUESTS_PER_CLIENT, answered
    assert set(answered) == set(MIX), answered  # every kind of request was exercised
    assert set(statuses) <= {200, 504}, statuses
    # still serving, and nothing went wrong inside
    assert load_server.proc.poll() is None
    with load_server.http() as http:
        assert http.get("/healthz").status_code == 200
    log = load_server.log.read_text(errors="replace")
    assert "Traceback" not in log and "unexpected error" not in log, log[-3000:]
