"""Pages for people: home, query editor (YASGUI, served from the package), API documentation,
and a small territory finder. The store work runs as jobs like everything else.

>>> territory_path("93"), territory_path("200054781"), territory_path("75105")
('departement/93', 'epci/200054781', 'arrondissement/75105')
>>> territory_path("x") is None
True
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter
from maillage.graph.catalog import all_queries
from maillage.graph.namespaces import is_arrondissement, sparql_prefixes
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .catalogue import graph_infos
from .errors import bad_request
from .queries import query_summary
from .render import render
from .web import call, public_url, to_response
from .workers import Reply

router = APIRouter()

TERRITORIES = sparql_prefixes("igeo") + """
SELECT ?t ?kind ?code ?nom WHERE {
  VALUES (?class ?kind) { (igeo:Departement "departement") (igeo:Intercommunalite "epci") }
  ?t a ?class ; igeo:codeINSEE ?code .
  OPTIONAL { ?t igeo:nom ?nom }
} ORDER BY ?kind ?code"""
DOMAINS = sparql_prefixes("mai", "skos") + """
SELECT ?d ?label (COUNT(DISTINCT ?a) AS ?n) WHERE {
  VALUES ?type { mai:Structure mai:Actor }
  ?a a ?type ; mai:domain ?d .
  OPTIONAL { ?d skos:prefLabel ?label FILTER(LANG(?label) = "fr") }
} GROUP BY ?d ?label ORDER BY ?d"""
SCHEMES = sparql_prefixes("skos", "dcterms", "rdfs") + """
SELECT ?s (SAMPLE(?l) AS ?title) (COUNT(DISTINCT ?c) AS ?concepts) WHERE {
  ?s a skos:ConceptScheme .
  OPTIONAL { ?s skos:prefLabel|dcterms:title|rdfs:label ?l FILTER(LANG(?l) IN ("fr", "")) }
  OPTIONAL { ?c skos:inScheme ?s }
} GROUP BY ?s ORDER BY ?s"""


def territory_path(code: str) -> str | None:
    """The path of a territory IRI under ``id/territoire/`` for a code typed by someone."""
    code = code.strip().upper()
    if re.fullmatch(r"\d{2}", code):
        return f"departement/{code}"
    if re.fullmatch(r"\d{9}", code):
        return f"epci/{code}"
    if re.fullmatch(r"\d[0-9AB]\d{3}", code):
        return f"{'arrondissement' if is_arrondissement(code) else 'commune'}/{code}"
    return None


def _rows(ctx: Any, query: str) -> list[dict[str, Any]]:
    result = ctx.oxigraph().query(query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [{n: (r[n].value if r[n] is not None else None) for n in names} for r in result]


def home_page(ctx: Any, public: str) -> Reply:
    """Job: the home page."""
    from .web import BaseMapping

    mapping = BaseMapping(ctx.settings.base_iri, public)
    territories = ctx.cached("home_territories", lambda: _rows(ctx, TERRITORIES))
    domains = ctx.cached("home_domains", lambda: _rows(ctx, DOMAINS))
    schemes = ctx.cached("home_schemes", lambda: _rows(ctx, SCHEMES))
    infos = list(graph_infos(ctx).values())
    body = render(ctx, "home.html", {
        "public": public,
        "departements": [dict(t, href=mapping.local(t["t"])) for t in territories
                         if t["kind"] == "departement"],
        "epcis": sorted((dict(t, href=mapping.local(t["t"])) for t in territories
                         if t["kind"] == "epci"), key=lambda t: t["nom"] or t["code"]),
        "domains": [dict(d, href=mapping.local(d["d"])) for d in domains],
        "schemes": [dict(s, href=mapping.local(s["s"]) + ".html") for s in schemes],
        "infos": infos, "triples": sum(i.triples for i in infos),
        "synthetic": any(i.synthetic for i in infos),
    })
    return Reply(200, "text/html; charset=utf-8", body)


FIRST_EXAMPLE = "panorama_domaines"


def editor_text(summary: str, source: str, text: str) -> str:
    """A named query for the editor: its ``#+`` metadata replaced by one comment line.

    >>> editor_text("Un exemple", "queries/t/x.rq", "#+ summary: Un exemple\\nSELECT * {}")
    '# Un exemple (queries/t/x.rq)\\nSELECT * {}'
    """
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    return f"# {summary} ({source})\n{body.lstrip()}"


def query_page(ctx: Any, public: str) -> Reply:
    """Job: the YASGUI page, with the named queries of the library as examples."""
    queries = sorted(all_queries(), key=lambda q: (q.id != FIRST_EXAMPLE, q.topic, q.id))
    examples = [{"id": q.id, "summary": q.summary, "description": q.description,
                 "topic": q.topic, "query": editor_text(q.summary, q.source, q.text)}
                for q in queries]
    body = render(ctx, "query.html", {
        "public": public, "endpoint": public + "sparql",
        "examples_json": json.dumps(examples, ensure_ascii=False).replace("</", "<\\/"),
        "examples": examples,
    })
    return Reply(200, "text/html; charset=utf-8", body)


def _page(name: str) -> Any:
    async def page(request: Request) -> Response:
        reply = await call(request, name, public=public_url(request, request.app.state.settings))
        return to_response(reply)

    return page


router.add_api_route("/", _page("home"), methods=["GET"], include_in_schema=False, name="home")
router.add_api_route("/query", _page("query_ui"), methods=["GET"], include_in_schema=False,
                     name="query_ui")


@router.get("/api", include_in_schema=False)
async def api_page(request: Request) -> Response:
    """Documentation of the named-query REST API (HTML)."""
    public = public_url(request, request.app.state.settings)
    queries = [query_summary(q, public) for q in all_queries()]
    body = render(None, "api.html", {"public": public, "queries": queries})
    return Response(body, media_type="text/html; charset=utf-8")


@router.get("/territoire", include_in_schema=False)
async def find_territory(request: Request, code: str = "") -> Response:
    """``/territoire?code=93066`` → 303 to the territory's page."""
    path = territory_path(code) if len(code) < 20 else None
    if path is None:
        raise bad_request(f"{code[:20]!r} is not a code INSEE (commune, département) or an EPCI "
                          "SIREN", "bad-code", hint="e.g. 93066, 93 or 200054781")
    target = public_url(request, request.app.state.settings) + f"id/territoire/{path}.html"
    return RedirectResponse(target, status_code=303)
