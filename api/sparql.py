"""The SPARQL 1.1 Protocol as a router: ``/sparql`` for queries, updates (opt-in) and the
service description.

The router parses and checks the request (method, media type, repeated or conflicting
parameters, encoding) and sends the work to the worker pool; :func:`run_query`,
:func:`run_update` and :func:`service_description` are the worker side. A malformed request is a
400 with what is wrong; a syntax error a 400 with the parser's message and position; a query
over the time limit a 504; anything unexpected a logged 500.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from maillage.graph.namespaces import PREFIXES
from maillage.graph.store import TRIPLE_RESULTS
from pyoxigraph import DefaultGraph, NamedNode, QueryBoolean, QuerySolutions
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import conneg
from .errors import ApiError, bad_request, not_acceptable
from .results import serialize_boolean, serialize_select, serialize_triples
from .sparqltext import (
    DatasetConflict,
    add_using,
    has_dataset_clause,
    is_bounded_lookup,
    uses_service,
)
from .web import call, error_response, public_url, single, to_response
from .workers import Reply

router = APIRouter()

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
BOOLEAN = tuple(m for m in conneg.RESULTS if m.name in ("json", "xml"))
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
USING_PARAMS = ("using-graph-uri", "using-named-graph-uri")


# ---------------------------------------------------------------------------- request parsing
def parse_params(raw: str) -> dict[str, list[str]]:
    """URL-encoded parameters (UTF-8, strictly), values grouped by name.

    >>> parse_params("query=ASK%20%7B%7D&default-graph-uri=a&default-graph-uri=b")
    {'query': ['ASK {}'], 'default-graph-uri': ['a', 'b']}
    """
    out: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise bad_request("parameters are not valid UTF-8 once percent-decoded",
                          "bad-encoding") from None
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """The media type of a Content-Type header and its parameters.

    >>> media_type("application/sparql-query; charset=UTF-16")
    ('application/sparql-query', {'charset': 'utf-16'})
    """
    kind, *params = (header or "").split(";")
    values = {}
    for p in params:
        key, _, value = p.partition("=")
        values[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), values


def decode_body(body: bytes, params: dict[str, str]) -> str:
    """A request body as text: UTF-8 only, as the protocol requires."""
    charset = params.get("charset", "utf-8")
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "bad-charset", f"the body is declared as {charset}; "
                       "SPARQL requests must be UTF-8", hint="send charset=UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the request body is not valid UTF-8", "bad-encoding") from None


async def read_request(request: Request) -> tuple[dict[str, list[str]], str | None, str | None]:
    """Parameters, and the query or update sent directly in a POST body."""
    params = parse_params(request.scope.get("query_string", b"").decode("latin-1"))
    if request.method == "GET":
        return params, None, None
    kind, type_params = media_type(request.headers.get("content-type"))
    body = await request.body()
    if kind == FORM:
        text = decode_body(body, type_params)
        for name, values in parse_params(text).items():
            params.setdefault(name, []).extend(values)
        return params, None, None
    if kind == QUERY_TYPE:
        return params, decode_body(body, type_params), None
    if kind == UPDATE_TYPE:
        return params, None, decode_body(body, type_params)
    raise ApiError(
        415, "unsupported-media-type",
        f"a POST to the SPARQL endpoint must be {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}"
        + (f", not {kind}" if kind else " (no Content-Type was given)"),
        hint="set the Content-Type header",
    )


# ---------------------------------------------------------------------------- router
async def sparql_endpoint(request: Request) -> Response:
    """The SPARQL 1.1 Protocol endpoint (a plain Starlette route: no dependency injection on
    the hot path)."""
    params, direct_query, direct_update = await read_request(request)
    queries = params.get("query", []) + ([direct_query] if direct_query is not None else [])
    updates = params.get("update", []) + ([direct_update] if direct_update is not None else [])
    if queries and updates:
        raise bad_request("a request carries either a query or an update, not both")
    if updates:
        if request.method == "GET":
            raise ApiError(405, "update-needs-post", "SPARQL updates must be sent with POST",
                           headers={"Allow": "POST"})
        return await _update(request, single(updates, "update") or "", params)
    query = single(queries, "query")
    if query is None:
        if request.method == "POST":
            raise bad_request("the POST carries no query", "missing-query",
                              hint="send query=… (form) or the query as application/sparql-query")
        return await _description(request)
    return await _query(request, query, params)


router.add_route("/sparql", sparql_endpoint, methods=["GET", "POST"], include_in_schema=False)
router.add_route("/sparql/", sparql_endpoint, methods=["GET", "POST"], include_in_schema=False)
PATHS = ("/sparql", "/sparql/")


class SparqlFastPath:
    """Pure ASGI middleware: GET and POST on the endpoint go straight to the protocol handler.

    It sits inside the app's own middlewares (limits, metrics, CORS) and skips the framework's
    routing and dependency layers, which cost as much as a point lookup. Errors still leave in
    the JSON error shape; other methods and paths go through the app as usual.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["path"] not in PATHS
                or scope["method"] not in ("GET", "POST")):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await sparql_endpoint(request)
        except ApiError as error:
            response = error_response(error)
        await response(scope, receive, send)


def _endpoint_url(request: Request) -> str:
    return public_url(request, request.app.state.settings) + "sparql"


async def _query(request: Request, query: str, params: dict[str, list[str]]) -> Response:
    fmt = single(params.get("format", []) or params.get("output", []), "format")
    reply = await call(
        request, "sparql_query", bounded=is_bounded_lookup(query), query=query,
        default_graphs=params.get("default-graph-uri", []),
        named_graphs=params.get("named-graph-uri", []),
        accept=request.headers.get("accept"), fmt=fmt, base_iri=_endpoint_url(request),
    )
    return to_response(reply, {"Vary": "Accept"})


async def _description(request: Request) -> Response:
    accept = request.headers.get("accept")
    if conneg.prefers_html(accept):
        return RedirectResponse(str(request.url_for("query_ui")), status_code=303)
    reply = await call(request, "service_description", endpoint=_endpoint_url(request),
                       public=public_url(request, request.app.state.settings), accept=accept)
    return to_response(reply, {"Vary": "Accept"})


def check_token(request: Request) -> None:
    """Writes need updates enabled and ``Authorization: Bearer <admin token>``."""
    settings = request.app.state.settings
    if not settings.updates_enabled or not settings.admin_token:
        raise ApiError(403, "read-only", "this endpoint is read-only",
                       hint="updates exist only with MAILLAGE_UPDATES=1 and an admin token")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "a valid bearer token is required for writes",
                       headers={"WWW-Authenticate": 'Bearer realm="maillage"'})
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        raise ApiError(403, "forbidden", "this bearer token does not allow writes",
                       hint="send the admin token (MAILLAGE_ADMIN_TOKEN) of this server",
                       headers={"WWW-Authenticate": 'Bearer realm="maillage", error="invalid_token"'})


async def _update(request: Request, update: str, params: dict[str, list[str]]) -> Response:
    check_token(request)
    reply = await call(
        request, "sparql_update", update=update,
        using=params.get("using-graph-uri", []), using_named=params.get("using-named-graph-uri", []),
        base_iri=_endpoint_url(request),
    )
    return to_response(reply)


# ---------------------------------------------------------------------------- worker side
def _iris(values: list[str], name: str) -> list[NamedNode]:
    try:
        return [NamedNode(v) for v in values]
    except ValueError as exc:
        raise bad_request(f"{name}: not an absolute IRI ({exc})", "bad-iri") from None


def dataset_arguments(query: str, default_graphs: list[str], named_graphs: list[str]
                      ) -> dict[str, Any]:
    """The engine arguments for the dataset: the protocol's, the query's, or the union.

    >>> dataset_arguments("SELECT * {}", [], [])
    {'use_default_graph_as_union': True}
    >>> sorted(dataset_arguments("SELECT * {}", ["http://g"], []))
    ['default_graph', 'named_graphs']
    """
    if default_graphs or named_graphs:
        defaults: list[Any] = _iris(default_graphs, "default-graph-uri") or [DefaultGraph()]
        return {"default_graph": defaults,
                "named_graphs": _iris(named_graphs, "named-graph-uri")}
    if has_dataset_clause(query):
        return {}
    return {"use_default_graph_as_union": True}


def _choose(offers: tuple[conneg.MediaType, ...], accept: str | None, fmt: str | None
            ) -> conneg.MediaType:
    chosen = conneg.by_name(fmt, offers) if fmt else conneg.negotiate(accept, offers)
    if chosen is None:
        raise not_acceptable(sorted({o.media_type for o in offers}))
    return chosen


def run_query(ctx: Any, query: str, default_graphs: list[str], named_graphs: list[str],
              accept: str | None, fmt: str | None, base_iri: str) -> Reply:
    """Worker side of a query: evaluate, negotiate the format, serialize within the row limit."""
    if uses_service(query):
        raise bad_request("federated queries (SERVICE) are not run by this endpoint",
                          "service-disabled", hint="query each endpoint separately")
    args = dataset_arguments(query, default_graphs, named_graphs)
    result = ctx.oxigraph().query(query, base_iri=base_iri, **args)
    limit = ctx.settings.row_limit
    headers = {"Maillage-Row-Limit": str(limit)}
    if isinstance(result, QuerySolutions):
        chosen = _choose(conneg.RESULTS, accept, fmt)
        out = serialize_select(result, chosen.name, limit, base_iri)
    elif isinstance(result, QueryBoolean):
        chosen = _choose(BOOLEAN, accept, fmt)
        out = serialize_boolean(bool(result), chosen.name)
    elif isinstance(result, TRIPLE_RESULTS):
        chosen = _choose(conneg.RDF, accept, fmt)
        out = serialize_triples(result, chosen.engine, limit, PREFIXES)  # type: ignore[arg-type]
    else:  # pragma: no cover - pyoxigraph has no other result kind
        raise TypeError(f"unexpected query result {type(result)!r}")
    if out.truncated:
        headers["Maillage-Truncated"] = "true"
        headers["Warning"] = f'199 maillage "results truncated at the row limit of {limit}"'
    return Reply(200, chosen.content_type, out.body, headers)


def run_update(ctx: Any, update: str, using: list[str], using_named: list[str],
               base_iri: str) -> Reply:
    """Worker side of an update: one atomic write (a new store generation)."""
    try:
        text = add_using(update, using, using_named)
    except DatasetConflict as exc:
        raise bad_request(str(exc), "dataset-conflict") from None
    _iris(using + using_named, "using-graph-uri")
    ctx.store.update(text, base_iri=base_iri)
    return Reply(204, "text/plain", b"")


def service_description(ctx: Any, endpoint: str, public: str, accept: str | None) -> Reply:
    """The SPARQL 1.1 Service Description of the endpoint, in an RDF format."""
    from .void import service_description_quads

    chosen = _choose(conneg.RDF, accept, None)
    triples = service_description_quads(ctx, endpoint, public)
    out = serialize_triples(iter(triples), chosen.engine, 10**9, PREFIXES | _SD_PREFIXES)  # type: ignore[arg-type]
    return Reply(200, chosen.content_type, out.body)


_SD_PREFIXES = {"sd": "http://www.w3.org/ns/sparql-service-description#",
                "formats": "http://www.w3.org/ns/formats/"}
