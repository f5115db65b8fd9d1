"""Self-description of named graphs with PROV and DCAT (see DESIGN.md, "Named graphs").

>>> from maillage.graph.namespaces import Iris
>>> iris = Iris("https://example.org/m/")
>>> quads = describe_graph(iris, iris.graph("territoires"), title_fr="Territoires",
...     title_en="Territories", sources=["https://www.insee.fr/"], licence=None,
...     generated_at="2026-01-01T00:00:00+00:00")
>>> any(q.predicate == DCTERMS.title for q in quads)
True
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from . import __version__
from .namespaces import DCAT, DCTERMS, MAI, PROV, RDF, RDFS, XSD, Iris


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def _source_term(source: str | NamedNode) -> NamedNode | Literal:
    if isinstance(source, NamedNode):
        return source
    if source.startswith(("http://", "https://")) and " " not in source:
        return NamedNode(source)
    return Literal(source, language="fr")


def describe_graph(
    iris: Iris,
    graph: NamedNode,
    *,
    title_fr: str,
    title_en: str,
    sources: Sequence[str | NamedNode],
    licence: NamedNode | None,
    description_fr: str | None = None,
    description_en: str | None = None,
    synthetic: bool = False,
    retrieved: str | None = None,
    generated_at: str | None = None,
    parameters: dict[str, str] | None = None,
    creators: Sequence[NamedNode] = (),
) -> list[Quad]:
    """The quads by which ``graph`` describes itself (to be written *into* ``graph``)."""
    when = generated_at or now_iso()
    activity = NamedNode(graph.value + "#generation")
    software = iris.software(__version__)
    triples: list[tuple] = [
        (graph, RDF.type, DCAT.Dataset),
        (graph, RDF.type, PROV.Entity),
        (graph, DCTERMS.title, Literal(title_fr, language="fr")),
        (graph, DCTERMS.title, Literal(title_en, language="en")),
        (graph, RDFS.label, Literal(title_fr, language="fr")),
        (graph, RDFS.label, Literal(title_en, language="en")),
        (graph, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime)),
        (graph, PROV.wasGeneratedBy, activity),
        (activity, RDF.type, PROV.Activity),
        (activity, PROV.endedAtTime, Literal(when, datatype=XSD.dateTime)),
        (activity, PROV.wasAssociatedWith, software),
        (software, RDF.type, PROV.SoftwareAgent),
        (software, RDFS.label, Literal(f"Maillage {__version__}")),
    ]
    if licence is not None:
        triples.append((graph, DCTERMS.license, licence))
    for source in sources:
        term = _source_term(source)
        triples += [(graph, DCTERMS.source, term), (activity, PROV.used, term)]
    if description_fr:
        triples.append((graph, DCTERMS.description, Literal(description_fr, language="fr")))
    if description_en:
        triples.append((graph, DCTERMS.description, Literal(description_en, language="en")))
    if retrieved:
        triples.append((graph, MAI.retrievedAt, Literal(retrieved, datatype=XSD.date)))
    for creator in creators:
        triples.append((graph, DCTERMS.creator, creator))
    if synthetic:
        triples += [
            (graph, MAI.synthetic, Literal(True)),
            (
                graph,
                RDFS.comment,
                Literal("Données SYNTHÉTIQUES générées, pas des données réelles.", language="fr"),
            ),
            (graph, RDFS.comment, Literal("SYNTHETIC generated data, not real data.", language="en")),
        ]
    for key, value in sorted((parameters or {}).items()):
        node = BlankNode()
        triples += [
            (activity, MAI.parameter, node),
            (node, RDFS.label, Literal(key)),
            (node, RDF.value, Literal(str(value))),
        ]
    return [Quad(s, p, o, graph) for s, p, o in triples]
