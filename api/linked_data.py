"""Linked Data: every IRI minted under the base IRI dereferences.

Cool URIs, **303 style**: an IRI names a thing (a structure, a commune, a concept), not a
document, so ``GET /id/structure/123`` answers ``303 See Other`` to a document chosen by the
``Accept`` header — ``/id/structure/123.html`` for browsers, ``.ttl``, ``.jsonld``, ``.nt``,
``.rdf``, ``.nq``, ``.trig`` for RDF clients — and the documents answer 200 whatever the
``Accept`` header says. The ontology is a hash namespace (``…/def#Structure``): ``/def`` is the
document itself and is served directly with content negotiation (``Vary: Accept``).

Run locally, a request path ``/id/…`` stands for ``{base_iri}id/…``; HTML links to minted IRIs
point back at the local server (see :class:`maillage.api.web.BaseMapping`).

>>> split_suffix("/id/structure/123.ttl")
('/id/structure/123', 'ttl')
>>> split_suffix("/voc/naf/38.32Z")
('/voc/naf/38.32Z', None)
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from fastapi import APIRouter
from maillage.graph.namespaces import PREFIXES
from pyoxigraph import BlankNode, NamedNode, Quad
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import conneg
from .errors import ApiError, not_acceptable, not_found
from .results import serialize_quads
from .web import (
    call,
    generation_etag,
    mapping,
    not_modified,
    public_url,
    runner,
    to_response,
)
from .workers import Reply

router = APIRouter()

SUFFIXES = ("html", "ttl", "jsonld", "nt", "rdf", "nq", "trig")
MAX_IRI = 2048
MAX_DESCRIPTION = 20_000


def split_suffix(path: str) -> tuple[str, str | None]:
    """A request path and its document suffix (None when it names the thing itself)."""
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix in SUFFIXES and "/" not in suffix and stem and not stem.endswith("/"):
        return stem, suffix
    return path, None


def document_suffix(accept: str | None) -> str | None:
    """The document suffix for an ``Accept`` header (html for browsers), None → 406.

    >>> document_suffix("text/turtle"), document_suffix("text/html,*/*;q=0.8")
    ('ttl', 'html')
    >>> document_suffix("application/pdf") is None
    True
    """
    chosen = conneg.negotiate(accept, conneg.DOCUMENT)
    return None if chosen is None else chosen.name


def check_path(path: str) -> None:
    """Refuse what no minted IRI looks like: too long (414), or with an empty, ``.`` or ``..``
    segment (404: such a path would make a redirect to a document outside the route).

    >>> check_path("/id/structure/123")
    >>> check_path("/id/../../etc/passwd")
    Traceback (most recent call last):
    ...
    maillage.api.errors.ApiError: 404 not-found: no resource here: ...
    """
    if len(path) > MAX_IRI:
        raise ApiError(414, "uri-too-long", f"IRIs longer than {MAX_IRI} characters are not "
                       "served here")
    if any(segment in ("", ".", "..") for segment in path.split("/")[2:]):
        raise not_found("no resource here: IRIs minted by Maillage have no empty, '.' or '..' "
                        "path segment", hint="start at / or search with the SPARQL endpoint "
                        "(/sparql)")


async def _dereference(request: Request, path: str) -> Response:
    check_path(path)
    stem, suffix = split_suffix(path)
    m = mapping(request)
    if suffix is None:
        chosen = document_suffix(request.headers.get("accept"))
        if chosen is None:
            raise not_acceptable(sorted({o.media_type for o in conneg.DOCUMENT}))
        target = m.public_url + stem.lstrip("/") + "." + chosen
        return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})
    iri = m.iri_for_path(stem)
    etag = generation_etag(request, iri, suffix)
    cached = not_modified(request, etag)
    if cached is not None:
        return cached
    reply = await call(request, "resource", bounded=_bounded(request, iri, suffix), iri=iri,
                       fmt=suffix, public=m.public_url)
    headers = {"Link": f'<{iri}>; rel="describes"'}
    if etag and reply.status == 200:
        headers["ETag"] = etag
    return to_response(reply, headers)


def _bounded(request: Request, iri: str, suffix: str) -> bool:
    """Whether a document can be built at once (see ``JobRunner.call``): an RDF description is
    bounded by :data:`MAX_DESCRIPTION`; an HTML page too once the per-generation caches are
    warm, except territory pages (their profiles aggregate over all local actors)."""
    if suffix != "html":
        return True
    settings = request.app.state.settings
    if iri.startswith(settings.base_iri + "id/territoire/"):
        return False
    return bool(runner(request).context.is_warm())


@router.get("/id/{path:path}", include_in_schema=False)
async def minted_resource(request: Request, path: str) -> Response:
    """Structures, establishments, territories, programmes… (``{base}id/…``)."""
    return await _dereference(request, "/id/" + path)


@router.get("/graph/{path:path}", include_in_schema=False)
async def named_graph(request: Request, path: str) -> Response:
    """Named graphs (each describes itself)."""
    return await _dereference(request, "/graph/" + path)


@router.get("/voc/{path:path}", include_in_schema=False)
async def vocabulary(request: Request, path: str) -> Response:
    """SKOS concept schemes (documented) and concepts."""
    check_path("/voc/" + path)
    stem, suffix = split_suffix("/voc/" + path)
    if stem.count("/") == 2 and suffix == "html":  # /voc/{scheme}.html: the scheme's documentation
        m = mapping(request)
        reply = await call(request, "scheme", iri=m.iri_for_path(stem), public=m.public_url)
        return to_response(reply)
    return await _dereference(request, "/voc/" + path)


@router.get("/def", include_in_schema=False)
@router.get("/def.{suffix}", include_in_schema=False)
async def ontology(request: Request, suffix: str | None = None) -> Response:
    """The ontology document (hash namespace: content negotiation, no redirect)."""
    if suffix is not None and suffix not in SUFFIXES:
        raise not_found(f"the ontology is not available as .{suffix}",
                        hint="use .html, .ttl, .jsonld, .nt or .rdf")
    fmt = suffix or document_suffix(request.headers.get("accept"))
    if fmt is None:
        raise not_acceptable(sorted({o.media_type for o in conneg.DOCUMENT}))
    reply = await call(request, "ontology", fmt=fmt,
                       public=public_url(request, request.app.state.settings))
    headers = {"Vary": "Accept"}
    if suffix is None:
        headers["Content-Location"] = f"/def.{fmt}"
    return to_response(reply, headers)


# ---------------------------------------------------------------------------- worker side
def description_quads(store: Any, node: NamedNode) -> list[Quad]:
    """The concise bounded description of ``node``: its statements in every graph, and the
    statements of the blank nodes and of the hash IRIs (``<node>#geometrie``) they reach."""
    quads = list(islice(store.quads_for_pattern(node, None, None, None), MAX_DESCRIPTION))
    seen: set[str] = set()
    own = node.value + "#"
    frontier = [q.object for q in quads if isinstance(q.object, BlankNode)
                or (isinstance(q.object, NamedNode) and q.object.value.startswith(own))]
    while frontier and len(quads) < MAX_DESCRIPTION:
        blank = frontier.pop()
        if blank.value in seen:
            continue
        seen.add(blank.value)
        more = list(store.quads_for_pattern(blank, None, None, None))
        quads += more
        frontier += [q.object for q in more if isinstance(q.object, BlankNode)]
    return quads


def has_incoming(store: Any, node: NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None


def rdf_document(quads: list[Quad], fmt: str) -> Reply:
    """A description in an RDF format (graph names kept in N-Quads and TriG)."""
    chosen = conneg.by_name(fmt, conneg.RDF)
    assert chosen is not None and chosen.engine is not None
    if chosen.name not in ("nq", "trig"):
        seen: dict[Any, Quad] = {}
        for q in quads:
            seen.setdefault((q.subject, q.predicate, q.object), q)
        quads = list(seen.values())
    body = serialize_quads(quads, chosen.engine, PREFIXES)  # type: ignore[arg-type]
    return Reply(200, chosen.content_type, body)


def resource_document(ctx: Any, iri: str, fmt: str, public: str) -> Reply:
    """Worker side of a Linked Data document: HTML page or RDF description of ``iri``."""
    try:
        node = NamedNode(iri)
    except ValueError:
        raise not_found("this address is not a valid IRI") from None
    store = ctx.oxigraph()
    quads = description_quads(store, node)
    if not quads and not has_incoming(store, node):
        raise not_found(f"the graph says nothing about <{iri}>",
                        hint="search with the SPARQL endpoint (/sparql) or start at /")
    if fmt != "html":
        return rdf_document(quads, fmt)
    from .resource_view import resource_page

    return Reply(200, "text/html; charset=utf-8", resource_page(ctx, node, quads, public))
