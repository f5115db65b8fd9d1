"""The named queries of the library as a REST API: ``/api/queries/{id}?param=…`` → JSON or CSV.

One route per named query is generated when the app is built, with the query's declared
parameters as documented query parameters, so ``/api/openapi.json`` describes every query.
Values are checked and bound by :func:`maillage.graph.catalog.bind_params` (never spliced into
the text); errors use the one JSON error shape; results are cut at the row limit, which the
answer says.

>>> python_value(None) is None
True
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from itertools import islice
from typing import Any

from fastapi import APIRouter, Query
from maillage.graph.catalog import NamedQuery, all_queries, bind_params, get_query
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
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid parameter (JSON error shape: ok, status, error, message, hint, "
                         "location)"},
    404: {"description": "Unknown query (JSON error shape)"},
    504: {"description": "The query ran longer than the time limit (JSON error shape)"},
}


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
    try:
        bindings = bind_params(query, params, ctx.settings)
    except QueryError as exc:
        raise ApiError(400, "bad-parameter", str(exc).split("\n")[0], hint=exc.hint) from None
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
            raise ApiError(400, "bad-format", f"format {fmt!r} is not json or csv")
        return fmt
    from . import conneg

    chosen = conneg.negotiate(request.headers.get("accept"), (conneg.JSON, conneg.CSV))
    if chosen is None:
        raise conneg_error()
    return chosen.name


def conneg_error() -> ApiError:
    from .errors import not_acceptable

    return not_acceptable(["application/json", "text/csv"])


async def _run(request: Request, query_id: str) -> Response:
    items = request.query_params.multi_items()
    names = [k for k, _ in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ApiError(400, "repeated-parameter",
                       f"the parameter {repeated[0]!r} is given more than once")
    params = {k: v for k, v in items if k != "format"}
    fmt = _format(request, request.query_params.get("format"))
    reply = await call(request, "named_query", query_id=query_id, params=params, fmt=fmt)
    return to_response(reply, {"Vary": "Accept"})


def _endpoint(q: NamedQuery) -> Any:
    async def endpoint(request: Request, **_: Any) -> Response:
        return await _run(request, q.id)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=Request)]
    for p in q.params:
        description = p.description + (f" (choix : {', '.join(p.choices)})" if p.choices else "")
        parameters.append(inspect.Parameter(
            p.name, inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
            default=Query(p.default, description=description, pattern=p.pattern)))
    parameters.append(inspect.Parameter(
        "format", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
        default=Query(None, description="json (par défaut) ou csv", pattern="^(json|csv)$")))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = f"query_{q.id}"
    return endpoint


def add_query_routes(target: APIRouter) -> None:
    """One documented GET route per named query (read when the app is built)."""
    for q in all_queries():
        target.add_api_route(
            f"/queries/{q.id}", _endpoint(q), methods=["GET"], summary=q.summary,
            description=q.description, tags=[q.topic], name=f"query_{q.id}",
            responses=ERROR_RESPONSES, response_class=Response)


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
                         summary="Liste des requêtes nommées", response_class=Response)
    add_query_routes(router)
    router.add_api_route("/queries/{query_id}", unknown_query, methods=["GET"],
                         include_in_schema=False)
    return router
