"""Fuzzing over real HTTP: the named-query REST API from its own OpenAPI document (schemathesis),
the doors the document does not describe (Linked Data paths, Accept headers, /sparql query
strings) with Hypothesis, and the parameter binding of every named query in process.

Every run is reproducible and bounded: derandomized Hypothesis (fixed seed), a fixed number of
examples per operation, no example database. The budget is a count of cases, never a time.

The schemathesis run uses the app's real document (``create_app(...).openapi()``, checked equal
to what the server serves at ``/api/openapi.json``) and every default check except
``negative_data_rejection``: the server is deliberately lenient where the document is strict
(it trims spaces, upper-cases INSEE codes, completes ``id/…`` paths into IRIs), so a few
"schema-violating" values are rightly accepted. ``positive_data_acceptance``, status codes,
content types and response bodies (JSON Schemas of results and errors) are all checked. A 5xx
fails the test, except a 504 whose body says ``query-timeout`` (the documented time limit; the
server below has a 30 s limit, so none is expected on the test store).
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from maillage.api.app import create_app
from maillage.api.errors import ERROR_KEYS, ApiError
from maillage.api.queries import bind_checked
from maillage.graph.catalog import all_queries
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from schemathesis.specs.openapi.checks import negative_data_rejection
from webtools import Server, start_server

MAX_EXAMPLES = 30  # per operation and per generation mode (plus schemathesis' coverage cases)
SEED = 20_240_611


def _document() -> dict:
    """The OpenAPI document of the app (in-memory store: building it touches no disk)."""
    app = create_app(Settings(store="memory-store-for-openapi"), store=MaillageStore(None))
    return app.openapi()


DOCUMENT = _document()
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all",
                   "database": "none"},
    "phases": {"stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_server(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A read-only server with a generous time limit (no timeout is expected while fuzzing)."""
    s = start_server(store_path, tmp_path_factory.mktemp("fuzz"), MAILLAGE_WORKERS="2",
                     MAILLAGE_QUERY_TIMEOUT="30", MAILLAGE_ROW_LIMIT="20",
                     MAILLAGE_MAX_BODY="100000")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def session(fuzz_server: Server) -> Iterator[requests.Session]:
    """One keep-alive connection for the schemathesis cases (requests is its transport)."""
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def http(fuzz_server: Server) -> Iterator[httpx.Client]:
    with fuzz_server.http() as client:
        yield client


def _is_timeout(response: object) -> bool:
    """A 504 from the documented query time limit (the JSON error says so)."""
    if getattr(response, "status_code", None) != 504:
        return False
    try:
        return response.json()["error"] == "query-timeout"  # type: ignore[attr-defined]
    except ValueError:
        return False


def _check_error_shape(r: httpx.Response) -> None:
    assert r.status_code < 500 or _is_timeout(r), (r.request.url, r.status_code, r.text[:300])
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        assert set(body) == ERROR_KEYS and body["status"] == r.status_code, r.text[:300]


# ---------------------------------------------------------------------------- OpenAPI (schemathesis)
def test_the_fuzzed_document_is_the_one_the_server_serves(http):
    served = http.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    operations = [p for p in DOCUMENT["paths"] if p.startswith("/api/queries/")]
    assert len(operations) == len(all_queries())
    one = DOCUMENT["paths"]["/api/queries/acteurs_filiere_territoire"]["get"]
    required = {p["name"] for p in one["parameters"] if p["required"]}
    assert required == {"filiere", "territoire"}  # required parameters are documented as such
    assert "422" not in one["responses"]  # FastAPI's default, never answered (400 is)


@schema.parametrize()
@pytest.mark.timeout(300)
def test_named_query_api_conforms_to_its_openapi_document(case, fuzz_server, session):
    response = case.call(base_url=fuzz_server.url, session=session, timeout=60)
    if _is_timeout(response):
        return  # the documented time limit, not a server error
    case.validate_response(response, excluded_checks=[negative_data_rejection])


# ---------------------------------------------------------------------------- parameter binding
PARAMETERS = [(q, p) for q in all_queries() for p in q.params]
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
IRI_LIKE = st.builds(lambda scheme, rest: f"{scheme}:{rest}",
                     st.sampled_from(["http", "https", "urn", "a", "id/x"]),
                     st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                             max_size=40))


VALID_CODES = {"territoire": "93", "region": "11", "departement": "93", "commune": "93048",
               "epci": "200054781", "siren": "900000019", "siret": "90000003500106",
               "filiere": "velo", "domaine": "mobilite-douce", "famille": "associations",
               "programme": "frec", "appel": "appel-test", "naf": "38.32Z", "tranche": "NN"}
VALID_KINDS = {"iri": "id/structure/900000019", "integer": "5", "year": "2020",
               "date": "2020-01-01", "literal": "vélo"}


def _valid(param) -> str:
    if param.choices:
        return param.choices[0]
    if param.kind == "code":
        return VALID_CODES[param.identifies]
    return VALID_KINDS[param.kind]


def test_the_valid_values_bind():
    """The other parameters of the property below get values that bind."""
    for query in all_queries():
        terms = bind_checked(query, {p.name: _valid(p) for p in query.params},
                             Settings(store="unused"))
        assert set(terms) == {p.name for p in query.params}


@pytest.mark.parametrize("query, param", PARAMETERS, ids=[f"{q.id}-{p.name}" for q, p in
                                                          PARAMETERS])
@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(value=st.one_of(ANY_TEXT, IRI_LIKE))
def test_binding_any_text_is_a_term_or_a_400(query, param, value):
    """Whatever the text, a parameter binds to one RDF term or is a 400 ``bad-parameter``
    naming it (never a pyoxigraph ValueError, which the server would answer as a 500)."""
    params = {p.name: _valid(p) for p in query.params}
    params[param.name] = value
    try:
        terms = bind_checked(query, params, Settings(store="unused"))
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "bad-parameter", exc
        assert param.name in exc.message, exc.message
        return
    assert set(terms) >= {p.name for p in query.params if p.required}


# ---------------------------------------------------------------------------- undocumented doors
SEGMENT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                  max_size=30)


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/id/", "/voc/", "/graph/", "/dumps/graphs/", "/def.",
                              "/api/queries/", "/static/"]),
       segments=st.lists(SEGMENT, min_size=1, max_size=4),
       suffix=st.sampled_from(["", ".html", ".ttl", ".jsonld", ".nq"]))
@pytest.mark.timeout(300)
def test_linked_data_and_dump_paths_never_fail(http, route, segments, suffix):
    path = route + "/".join(quote(s, safe="") for s in segments) + suffix
    r = http.get(path, headers={"Accept": "application/json"}, follow_redirects=False)
    assert r.status_code in (200, 303, 400, 404, 406, 414), (path, r.status_code, r.text[:300])
    _check_error_shape(r)


ACCEPT = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
            max_size=200),
    st.lists(st.tuples(st.sampled_from(["*/*", "text/*", "text/turtle", "application/json",
                                        "text/html", "text/csv", "x/y", "*", ""]),
                       st.sampled_from(["", ";q=0", ";q=1", ";q=abc", ";q=1e999", ";q=-1",
                                        ";q=nan", ";q=0.5;q=0.9", ";level=1", ";;"])),
             max_size=8).map(lambda items: ", ".join(m + q for m, q in items)),
)


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accept=ACCEPT, path=st.sampled_from([
    "/sparql?query=ASK%7B%7D", "/sparql?query=SELECT%20*%20%7B%3Fs%20%3Fp%20%3Fo%7D%20LIMIT%201",
    "/sparql", "/api/queries/graphes", "/id/structure/900000019",
    "/id/structure/900000019.ttl", "/def", "/.well-known/void", "/dumps"]))
@pytest.mark.timeout(300)
def test_any_accept_header_is_served_or_406(http, accept, path):
    r = http.get(path, headers={"Accept": accept.strip().encode("latin-1")},
                 follow_redirects=False)
    assert r.status_code in (200, 303, 406), (path, accept, r.status_code, r.text[:300])
    _check_error_shape(r)


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), name=st.sampled_from(["query", "format", "texte", "x"]))
@pytest.mark.timeout(300)
def test_any_bytes_in_a_query_string_are_an_answer_or_a_4xx(http, raw, name):
    target = f"?{name}=" + quote(raw, safe=string.ascii_letters)
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    for path in ("/sparql", "/api/queries/recherche"):
        r = http.get(path + target, headers={"Accept": "application/json"},
                     follow_redirects=False)
        assert r.status_code in (200, 303, 400, 406), (path, raw, r.status_code, r.text[:300])
        _check_error_shape(r)
        if not utf8:  # never decoded with replacement characters
            assert r.status_code == 400 and r.json()["error"] == "bad-encoding", (path, raw)
        if r.status_code == 400:
            assert r.json()["error"] in ("bad-encoding", "bad-parameter", "sparql-syntax",
                                         "missing-query", "bad-request"), r.text
