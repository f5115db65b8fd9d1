"""Dataset description (VoID + DCAT, DCAT-AP style) at ``/.well-known/void``, and the SPARQL
Service Description of the endpoint.

Both are computed from the store (the graphs describe themselves) with the server's real public
URL for the endpoint and the dumps.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from maillage.graph import __version__
from maillage.graph.namespaces import (
    DCAT,
    DCTERMS,
    FOAF,
    PREFIXES,
    RDF,
    RDFS,
    VOID,
    XSD,
)
from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from starlette.requests import Request
from starlette.responses import Response

from . import conneg
from .catalogue import GraphInfo, graph_infos
from .errors import not_acceptable
from .results import serialize_triples
from .web import call, public_url, to_response
from .workers import Reply

router = APIRouter()

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
IANA = "https://www.iana.org/assignments/media-types/"
VOCABULARIES = ("mai", "skos", "dcterms", "org", "rov", "igeo", "schema", "geo", "prov", "dcat",
                "essglobal")
PUBLISHER_NAME = "Projet Maillage (contributeurs)"
VOID_PREFIXES = PREFIXES | {"sd": SD, "formats": FORMATS}


def dataset_iri(base_iri: str) -> NamedNode:
    """The IRI of the whole dataset (in the VoID document under the base IRI)."""
    return NamedNode(base_iri + ".well-known/void#maillage")


def _lit(value: str, lang: str | None = None, datatype: NamedNode | None = None) -> Literal:
    if lang:
        return Literal(value, language=lang)
    return Literal(value, datatype=datatype) if datatype else Literal(value)


def dump_urls(public: str, info: GraphInfo) -> str | None:
    """The URL of a graph's Turtle dump (None for graphs not minted under the base)."""
    return f"{public}dumps/graphs/{info.name}.ttl" if info.name else None


def void_triples(ctx: Any, public: str) -> list[Triple]:
    """VoID and DCAT description of the dataset, its subsets (graphs) and distributions."""
    infos = list(graph_infos(ctx).values())
    ds = dataset_iri(ctx.settings.base_iri)
    out: list[Triple] = []

    def add(s: Any, p: NamedNode, o: Any) -> None:
        out.append(Triple(s, p, o))

    for t in (VOID.Dataset, DCAT.Dataset):
        add(ds, RDF.type, t)
    add(ds, DCTERMS.title, _lit("Maillage — économie sociale et solidaire et transition "
                                "écologique en Île-de-France", "fr"))
    add(ds, DCTERMS.title, _lit("Maillage — social and solidarity economy and ecological "
                                "transition in Île-de-France", "en"))
    add(ds, DCTERMS.description, _lit(
        "Graphe de connaissances des acteurs de l'ESS franciliens de la transition écologique et "
        "énergétique (économie circulaire, bâtiment et énergie, mobilité douce, alimentation "
        "durable), des mesures publiques (FREC, Plan Bâtiment Durable / PREB), des territoires "
        "et des analyses de réseau. Chaque graphe nommé décrit sa source et sa licence.", "fr"))
    add(ds, DCTERMS.description, _lit(
        "Knowledge graph of Île-de-France social and solidarity economy actors of the "
        "ecological transition, public measures, territories and network analyses. Each named "
        "graph states its source and licence.", "en"))
    publisher = BlankNode()
    add(ds, DCTERMS.publisher, publisher)
    add(publisher, RDF.type, FOAF.Agent)
    add(publisher, FOAF.name, _lit(PUBLISHER_NAME))
    add(publisher, FOAF.homepage, NamedNode(public))
    add(ds, DCAT.landingPage, NamedNode(public))
    add(ds, FOAF.homepage, NamedNode(public))
    add(ds, DCTERMS.spatial, NamedNode("https://www.geonames.org/3012874"))  # Île-de-France
    add(ds, DCAT.keyword, _lit("économie sociale et solidaire", "fr"))
    add(ds, DCAT.keyword, _lit("transition écologique", "fr"))
    add(ds, DCAT.keyword, _lit("Île-de-France", "fr"))
    add(ds, DCTERMS.hasVersion, _lit(__version__))
    _temporal(out, ds, infos)
    _service(out, ds, public)
    add(ds, VOID.uriSpace, _lit(ctx.settings.base_iri))
    add(ds, VOID.triples, _lit(str(sum(i.triples for i in infos)), datatype=XSD.integer))
    for prefix in VOCABULARIES:
        add(ds, VOID.vocabulary, NamedNode(PREFIXES[prefix]))
    _full_dump(out, ds, public, infos)
    for info in infos:
        _subset(out, ds, public, info)
    return out


def _temporal(out: list[Triple], ds: NamedNode, infos: list[GraphInfo]) -> None:
    dates = sorted(d[:10] for i in infos for d in (i.retrieved, i.generated) if d)
    if not dates:
        return
    period = BlankNode()
    out += [
        Triple(ds, DCTERMS.temporal, period),
        Triple(period, RDF.type, DCTERMS.PeriodOfTime),
        Triple(period, DCAT.startDate, _lit(dates[0], datatype=XSD.date)),
        Triple(period, DCAT.endDate, _lit(dates[-1], datatype=XSD.date)),
        Triple(period, RDFS.comment, _lit(
            "État des sources : dates de collecte et de génération des graphes (les sources "
            "décrivent l'état des structures à ces dates).", "fr")),
        Triple(ds, DCTERMS.modified, _lit(dates[-1], datatype=XSD.date)),
    ]


def _service(out: list[Triple], ds: NamedNode, public: str) -> None:
    endpoint = NamedNode(public + "sparql")
    service = NamedNode(public + "sparql#service")
    out += [
        Triple(ds, VOID.sparqlEndpoint, endpoint),
        Triple(ds, DCAT.accessService, service),
        Triple(service, RDF.type, DCAT.DataService),
        Triple(service, DCAT.endpointURL, endpoint),
        Triple(service, DCAT.endpointDescription, endpoint),
        Triple(service, DCAT.servesDataset, ds),
        Triple(service, DCTERMS.title, _lit("Point d'accès SPARQL 1.1 de Maillage", "fr")),
        Triple(service, DCTERMS.conformsTo,
               NamedNode("https://www.w3.org/TR/sparql11-protocol/")),
    ]


def _distribution(out: list[Triple], owner: NamedNode, url: str, media: str, title: str,
                  licences: list[str], compressed: bool = False) -> NamedNode:
    dist = NamedNode(url)
    out += [
        Triple(owner, DCAT.distribution, dist),
        Triple(owner, VOID.dataDump, dist),
        Triple(dist, RDF.type, DCAT.Distribution),
        Triple(dist, DCAT.downloadURL, dist),
        Triple(dist, DCAT.accessURL, dist),
        Triple(dist, DCTERMS.title, _lit(title, "fr")),
        Triple(dist, DCAT.mediaType, NamedNode(IANA + media)),
    ]
    if compressed:
        out.append(Triple(dist, DCAT.compressFormat, NamedNode(IANA + "application/gzip")))
    for licence in sorted(set(licences)):
        out.append(Triple(dist, DCTERMS.license, NamedNode(licence)))
    return dist


def _full_dump(out: list[Triple], ds: NamedNode, public: str, infos: list[GraphInfo]) -> None:
    licences = [lic for i in infos for lic in i.licences]
    dist = _distribution(out, ds, public + "dumps/maillage.nq.gz", "application/n-quads",
                         "Tout le jeu de données, N-Quads compressé (graphes nommés conservés)",
                         licences, compressed=True)
    out.append(Triple(dist, DCTERMS.rights, _lit(
        "Chaque graphe nommé garde sa propre licence (dcterms:license dans le graphe) ; "
        "la distribution complète les réunit toutes.", "fr")))
    unlicensed = [i.title() for i in infos if not i.licences]
    if unlicensed:
        out.append(Triple(dist, RDFS.comment, _lit(
            "Graphes sans licence déclarée par leur source : " + ", ".join(unlicensed), "fr")))


def _subset(out: list[Triple], ds: NamedNode, public: str, info: GraphInfo) -> None:
    g = NamedNode(info.iri)
    out += [
        Triple(ds, VOID.subset, g),
        Triple(g, RDF.type, VOID.Dataset),
        Triple(g, RDF.type, DCAT.Dataset),
        Triple(g, VOID.triples, _lit(str(info.triples), datatype=XSD.integer)),
    ]
    for lang, title in info.titles.items():
        out.append(Triple(g, DCTERMS.title, _lit(title, lang or None)))
    for licence in info.licences:
        out.append(Triple(g, DCTERMS.license, NamedNode(licence)))
    for value, is_iri in info.sources:
        out.append(Triple(g, DCTERMS.source, NamedNode(value) if is_iri else _lit(value, "fr")))
    if info.generated:
        out.append(Triple(g, DCTERMS.modified, _lit(info.generated, datatype=XSD.dateTime)))
    if info.synthetic:
        out.append(Triple(g, RDFS.comment, _lit("Données SYNTHÉTIQUES générées.", "fr")))
    url = dump_urls(public, info)
    if url:
        _distribution(out, g, url, "text/turtle", f"{info.title()} (Turtle)", info.licences)


def service_description_quads(ctx: Any, endpoint: str, public: str) -> list[Triple]:
    """SPARQL 1.1 Service Description of ``endpoint`` (its real public URL)."""
    sd = NamedNode(endpoint + "#service")
    ep = NamedNode(endpoint)

    def term(name: str) -> NamedNode:
        return NamedNode(SD + name)

    out = [
        Triple(sd, RDF.type, term("Service")),
        Triple(sd, term("endpoint"), ep),
        Triple(sd, term("supportedLanguage"), term("SPARQL11Query")),
        Triple(sd, term("feature"), term("UnionDefaultGraph")),
        Triple(sd, RDFS.label, _lit("Maillage SPARQL endpoint", "en")),
        Triple(sd, RDFS.label, _lit("Point d'accès SPARQL de Maillage", "fr")),
        Triple(sd, RDFS.comment, _lit(
            f"Read-only. Queries run on the union of the named graphs by default; time limit "
            f"{ctx.settings.query_timeout_s:g} s; SELECT results cut at "
            f"{ctx.settings.row_limit} rows (header Maillage-Truncated).", "en")),
        Triple(sd, RDFS.seeAlso, NamedNode(public + ".well-known/void")),
    ]
    if ctx.settings.updates_enabled:
        out.append(Triple(sd, term("supportedLanguage"), term("SPARQL11Update")))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads",
                "TriG"):
        out.append(Triple(sd, term("resultFormat"), NamedNode(FORMATS + fmt)))
    dataset = BlankNode()
    default = BlankNode()
    out += [Triple(sd, term("defaultDataset"), dataset),
            Triple(dataset, RDF.type, term("Dataset")),
            Triple(dataset, term("defaultGraph"), default),
            Triple(default, RDF.type, term("Graph")),
            Triple(default, RDFS.comment, _lit("union of all named graphs", "en"))]
    for info in graph_infos(ctx).values():
        named, graph = BlankNode(), BlankNode()
        out += [Triple(dataset, term("namedGraph"), named),
                Triple(named, term("name"), NamedNode(info.iri)),
                Triple(named, term("graph"), graph),
                Triple(graph, VOID.triples, _lit(str(info.triples), datatype=XSD.integer))]
    return out


def void_document(ctx: Any, public: str, accept: str | None, fmt: str | None) -> Reply:
    """The VoID/DCAT document in the negotiated RDF format (HTML for browsers)."""
    triples = ctx.cached(("void", public), lambda: void_triples(ctx, public))
    if fmt == "html" or (fmt is None and conneg.prefers_html(accept)):
        from .render import render

        return Reply(200, "text/html; charset=utf-8", render(ctx, "void.html", {
            "triples": triples, "infos": list(graph_infos(ctx).values()), "public": public,
            "dataset": dataset_iri(ctx.settings.base_iri).value}))
    chosen = conneg.by_name(fmt, conneg.RDF) if fmt else conneg.negotiate(accept, conneg.RDF)
    if chosen is None:
        raise not_acceptable(sorted({o.media_type for o in conneg.RDF}))
    out = serialize_triples(iter(triples), chosen.engine, 10**9, VOID_PREFIXES)  # type: ignore[arg-type]
    return Reply(200, chosen.content_type, out.body, {"Vary": "Accept"})


@router.get("/.well-known/void", include_in_schema=False)
async def void_route(request: Request, format: str | None = None) -> Response:
    """VoID + DCAT description of the dataset."""
    reply = await call(request, "void", public=public_url(request, request.app.state.settings),
                       accept=request.headers.get("accept"), fmt=format)
    return to_response(reply)
