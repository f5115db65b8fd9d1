"""The named queries of the library as a REST API: ``/api/queries/{id}?param=…`` → JSON or CSV.

One route per named query is generated when the app is built, with the query's declared
parameters as documented query parameters, so ``/api/openapi.json`` describes every query: which
parameters are required, the pattern or choices of each, and the JSON shapes of answers and
errors (tests/api/test_fuzz.py fuzzes the API from that document). Values are checked in one
place only, :func:`maillage.graph.catalog.bind_params` (the CLI's rules, never spliced into the
text), after the query string is decoded as strict UTF-8; errors use the one JSON error shape;
results are cut at the row limit, which the answer says.

>>> python_value(None) is None
True
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from itertools import islice
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from maillage.graph.catalog import (
    CODES,
    MAX_LITERAL,
    NamedQuery,
    Param,
    Term,
    all_queries,
    bind_params,
    bind_value,
    get_query,
)
from maillage.graph.errors import QueryError
from pyoxigraph import Literal, QueryBoolean, QuerySolutions, Variable
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, not_found
from .web import call, public_url, to_response
from .workers import Reply

XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                              "positiveInteger", "unsignedInt", "unsignedLong")}
DECIMALS = {XSD + t for t in ("decimal", "double", "float")}
#: The JSON error shape (see :mod:`maillage.api.errors`) as a JSON Schema.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "status", "error", "message", "hint", "location"],
    "properties": {
        "ok": {"const": False},
        "status": {"type": "integer"},
        "error": {"type": "string", "minLength": 1},
        "message": {"type": "string", "minLength": 1},
        "hint": {"type": ["string", "null"]},
        "location": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["line", "column"],
            "properties": {"line": {"type": ["integer", "null"]},
                           "column": {"type": ["integer", "null"]}}}]},
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": f"{text} (JSON error shape: ok, status, error, message, hint, "
                            "location)",
             "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, text in (
        (400, "Invalid, missing, unknown or repeated parameter, or not UTF-8"),
        (404, "Unknown query"),
        (406, "No format of the Accept header can be produced (json, csv)"),
        (414, "The request target is too long"),
        (503, "The server is saturated or the store is unavailable"),
        (504, "The query ran longer than the time limit"),
    )
}
LIST_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["queries"],
    "properties": {"queries": {"type": "array", "items": {
        "type": "object", "required": ["id", "summary", "parameters", "url"],
        "properties": {"id": {"type": "string"}, "summary": {"type": "string"},
                       "parameters": {"type": "array"}, "url": {"type": "string"}}}}},
}
#: The printable characters Python's ``str.strip`` removes: a value made only of them counts as
#: not given (see :func:`maillage.graph.catalog.bind_params`).
_SPACES = "".join(chr(c) for c in range(0x20, 0x3001) if chr(c).isspace())


def python_value(term: Any) -> Any:
    """A JSON-friendly value for a term: numbers and booleans typed, IRIs and text as strings.

    >>> python_value(Literal("3", datatype=__import__("pyoxigraph").NamedNode(XSD + "integer")))
    3
    """
    if term is None:
        return None
    if isinstance(term, Literal):
        datatype = term.datatype.value
        try:
            if datatype in INTEGERS:
                return int(term.value)
            if datatype in DECIMALS:
                return float(term.value)
        except ValueError:
            return term.value
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
    return term.value


def query_summary(q: NamedQuery, public: str) -> dict[str, Any]:
    """What /api/queries lists for one query."""
    return {
        "id": q.id, "topic": q.topic, "summary": q.summary, "description": q.description,
        "tags": list(q.tags), "type": q.query_type, "returns": q.returns, "example": q.example,
        "parameters": [{"name": p.name, "kind": p.kind, "required": p.required,
                        "default": p.default, "description": p.description,
                        "identifies": p.identifies, "choices": list(p.choices)}
                       for p in q.params],
        "url": f"{public}api/queries/{q.id}", "source": q.source,
    }


# ---------------------------------------------------------------------------- worker side
def run_named(ctx: Any, query_id: str, params: dict[str, str], fmt: str) -> Reply:
    """Worker side: bind the parameters, run, serialize (``json`` or ``csv``)."""
    try:
        query = get_query(query_id)
    except QueryError as exc:
        raise not_found(str(exc).split("\n")[0], hint=exc.hint) from None
    bindings = bind_checked(query, params, ctx.settings)
    result = ctx.oxigraph().query(
        query.text, use_default_graph_as_union=True,
        substitutions={Variable(k): v for k, v in bindings.items()} or None)
    if isinstance(result, QueryBoolean):
        return Reply(200, "application/json", json.dumps({"query": query_id,
                                                          "boolean": bool(result)}).encode())
    if not isinstance(result, QuerySolutions):
        raise ApiError(400, "not-a-table", f"query {query_id!r} builds a graph, not a table",
                       hint="run it on /sparql to get RDF")
    limit = ctx.settings.row_limit
    columns = [v.value for v in result.variables]
    rows = [[row[c] for c in columns] for row in islice(result, limit + 1)]
    truncated = len(rows) > limit
    rows = rows[:limit]
    headers = {"Maillage-Row-Limit": str(limit)}
    if truncated:
        headers["Maillage-Truncated"] = "true"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([["" if t is None else t.value for t in row] for row in rows])
        return Reply(200, "text/csv; charset=utf-8", buf.getvalue().encode("utf-8"), headers)
    body = {"query": query_id, "parameters": {k: v.value for k, v in bindings.items()},
            "columns": columns, "rows": [dict(zip(columns, map(python_value, row)))
                                         for row in rows],
            "count": len(rows), "truncated": truncated, "rowLimit": limit}
    return Reply(200, "application/json",
                 json.dumps(body, ensure_ascii=False).encode("utf-8"), headers)


# ---------------------------------------------------------------------------- routes
def _format(request: Request, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("json", "csv"):
            raise ApiError(400, "bad-parameter", f"format {fmt[:20]!r} is not json or csv",
                           hint="format=json or format=csv")
        return fmt
    from . import conneg

    chosen = conneg.negotiate(request.headers.get("accept"), (conneg.JSON, conneg.CSV))
    if chosen is None:
        raise conneg_error()
    return chosen.name


def conneg_error() -> ApiError:
    from .errors import not_acceptable

    return not_acceptable(["application/json", "text/csv"])


def query_items(raw: bytes) -> list[tuple[str, str]]:
    """The query-string pairs, percent-decoded as strict UTF-8 (a 400 otherwise).

    >>> query_items(b"texte=v%C3%A9lo&format=csv")
    [('texte', 'vélo'), ('format', 'csv')]
    >>> query_items(b"texte=%E9")
    Traceback (most recent call last):
    ...
    maillage.api.errors.ApiError: 400 bad-encoding: query parameters are not valid UTF-8 ...
    """
    # latin-1 maps each byte to one character and back, so raw and percent-encoded bytes
    # both reach the strict UTF-8 decoding below unchanged
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    try:
        return [(k.encode("latin-1").decode("utf-8"), v.encode("latin-1").decode("utf-8"))
                for k, v in pairs]
    except UnicodeDecodeError:
        raise ApiError(400, "bad-encoding", "query parameters are not valid UTF-8 once "
                       "percent-decoded", hint="percent-encode the UTF-8 bytes of each value"
                       ) from None


def bind_checked(query: NamedQuery, params: Mapping[str, str], settings: Any) -> dict[str, Term]:
    """:func:`bind_params` with every refusal as a 400 ``bad-parameter``.

    The catalogue's checks let through a few strings that pyoxigraph still refuses as IRIs
    (``http://x/%zz``, ``a:b#c#d``, control characters): those are a ValueError from
    pyoxigraph, answered as a 400 naming the parameter too.
    """
    try:
        return bind_params(query, params, settings)
    except QueryError as exc:
        raise ApiError(400, "bad-parameter", str(exc).split("\n")[0], hint=exc.hint) from None
    except ValueError as exc:
        name = next((p.name for p in query.params if _refused(p, params.get(p.name), settings)),
                    "?")
        value = str(params.get(name, ""))
        shown = value if len(value) <= 60 else value[:57] + "…"
        raise ApiError(400, "bad-parameter", f"parameter {name}: {shown!r} is not a valid "
                       f"RDF term ({exc})", hint="an IRI must be absolute and well-formed "
                       "(RFC 3987), e.g. https://w3id.org/maillage/id/structure/…") from None


def _refused(param: Param, value: str | None, settings: Any) -> bool:
    if value is None or value.strip() == "":
        return False
    try:
        bind_value(param, value, settings)
    except (QueryError, ValueError):
        return True
    return False


async def _run(request: Request, query_id: str) -> Response:
    items = query_items(request.scope.get("query_string", b""))
    names = [k for k, _ in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ApiError(400, "repeated-parameter",
                       f"the parameter {repeated[0]!r} is given more than once")
    params = {k: v for k, v in items if k != "format"}
    fmt = _format(request, dict(items).get("format"))
    reply = await call(request, "named_query", query_id=query_id, params=params, fmt=fmt)
    return to_response(reply, {"Vary": "Accept"})


def param_schema(p: Param) -> dict[str, Any]:
    """The JSON Schema of a parameter's values (what :func:`bind_value` accepts, minus the
    leniencies: surrounding spaces, lower-case codes, ``id/…`` paths for IRIs)."""
    if p.choices:
        return {"type": "string", "enum": list(p.choices)}
    if p.kind == "code":
        assert p.identifies is not None
        # ECMA-262 patterns: \d is ASCII there (Python's also takes other scripts' digits)
        return {"type": "string", "pattern": CODES[p.identifies][0].replace(r"\d", "[0-9]")}
    if p.kind == "iri":
        return {"type": "string", "format": "iri"}
    if p.kind == "integer":
        return {"type": "string", "pattern": r"^[+-]?[0-9]{1,12}$"}
    if p.kind == "year":
        return {"type": "string", "pattern": r"^[0-9]{4}$"}
    if p.kind == "date":
        return {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    # a text: printable, at most MAX_LITERAL characters, not only spaces
    printable = r"[^\x00-\x1f]"
    return {"type": "string", "minLength": 1, "maxLength": MAX_LITERAL,
            "pattern": rf"^{printable}*[^\x00-\x1f{_SPACES}]{printable}*$"}


def operation_extra(q: NamedQuery) -> dict[str, Any]:
    """The OpenAPI parameters and success answer of a query's route."""
    parameters = []
    for p in q.params:
        description = p.description + (f" (choix : {', '.join(p.choices)})" if p.choices else "")
        if p.default is not None:
            description += f" (par défaut : {p.default})"
        schema = param_schema(p)
        if not p.required:  # an empty value is the same as no value
            schema = {"anyOf": [{"type": "string", "maxLength": 0}, schema]}
        parameters.append({"name": p.name, "in": "query", "required": p.required,
                           "description": description, "schema": schema})
    parameters.append({"name": "format", "in": "query", "required": False,
                       "description": "json (par défaut) ou csv",
                       "schema": {"type": "string", "enum": ["json", "csv"]}})
    cell = {"type": ["string", "number", "boolean", "null"]}
    table = {
        "type": "object",
        "required": ["query", "parameters", "columns", "rows", "count", "truncated", "rowLimit"],
        "properties": {
            "query": {"const": q.id},
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object", "additionalProperties": cell}},
            "count": {"type": "integer", "minimum": 0},
            "truncated": {"type": "boolean"},
            "rowLimit": {"type": "integer", "minimum": 1},
        },
    }
    return {"parameters": parameters, "responses": {"200": {
        "description": "Les lignes du résultat (JSON, ou CSV avec format=csv ou Accept: text/csv)",
        "content": {"application/json": {"schema": table},
                    "text/csv": {"schema": {"type": "string"}}}}}}


def _endpoint(q: NamedQuery) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _run(request, q.id)

    endpoint.__name__ = f"query_{q.id}"
    return endpoint


def add_query_routes(target: APIRouter) -> None:
    """One documented GET route per named query (read when the app is built)."""
    for q in all_queries():
        target.add_api_route(
            f"/queries/{q.id}", _endpoint(q), methods=["GET"], summary=q.summary,
            description=q.description, tags=[q.topic], name=f"query_{q.id}",
            responses=ERROR_RESPONSES, response_class=Response, openapi_extra=operation_extra(q))


async def list_queries(request: Request) -> Response:
    """Every named query with its parameters and the URL to run it."""
    public = public_url(request, request.app.state.settings)
    body = {"queries": [query_summary(q, public) for q in all_queries()]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


async def unknown_query(request: Request, query_id: str) -> Response:
    """Queries added after start-up still run; unknown ids are a 404 with suggestions."""
    return await _run(request, query_id)


def build_router() -> APIRouter:
    """The /api router: the list, one route per named query, and a fallback for the rest."""
    router = APIRouter(prefix="/api")
    router.add_api_route("/queries", list_queries, methods=["GET"], tags=["catalogue"],
                         summary="Liste des requêtes nommées", response_class=Response,
                         responses={200: {"description": "Les requêtes nommées et leurs paramètres",
                                          "content": {"application/json": {"schema": LIST_SCHEMA}}}})
    add_query_routes(router)
    router.add_api_route("/queries/{query_id}", unknown_query, methods=["GET"],
                         include_in_schema=False)
    return router
