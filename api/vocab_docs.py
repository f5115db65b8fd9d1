"""Generated documentation of the ontology (``/def``) and of the SKOS concept schemes
(``/voc/{scheme}.html``): classes and properties with labels, definitions, domains, ranges and
examples; concepts as a tree with notations and definitions.

Both read the store (the ontology graph and the vocabulary graphs), so they document what is
actually published.

>>> local_name("https://w3id.org/maillage/def#Structure")
'Structure'
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from maillage.graph.namespaces import MAI, OWL, RDF, RDFS, SKOS, sparql_prefixes
from pyoxigraph import NamedNode

from .catalogue import graph_infos
from .errors import not_found
from .labels import Labeller, best_label, reference_labels, short_iri
from .linked_data import rdf_document
from .render import render
from .web import BaseMapping
from .workers import Reply

ONTOLOGY_IRI = "https://w3id.org/maillage/def"
ONTOLOGY_GRAPH = "ontologie"
DCTERMS_NS = "http://purl.org/dc/terms/"


def local_name(iri: str) -> str:
    """The fragment or last segment of an IRI."""
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Term:
    """A class or property of the ontology, for the documentation page."""

    iri: str
    anchor: str
    kinds: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)
    used_as_domain: list[str] = field(default_factory=list)
    used_as_range: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.labels.get("fr") or self.labels.get("") or self.labels.get("en") or self.anchor


def _collect(store: Any, graph: NamedNode) -> dict[str, dict[str, list[Any]]]:
    by_subject: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for q in store.quads_for_pattern(None, None, None, graph):
        if isinstance(q.subject, NamedNode):
            by_subject[q.subject.value][q.predicate.value].append(q.object)
    return by_subject


def _lang_map(values: list[Any]) -> dict[str, str]:
    return {(getattr(v, "language", None) or ""): v.value for v in values}


def ontology_terms(store: Any, graph: NamedNode) -> tuple[dict[str, Any], list[Term], list[Term]]:
    """The ontology header (its own statements), its classes and its properties."""
    data = _collect(store, graph)
    header = data.get(ONTOLOGY_IRI, {})
    classes, properties = [], []
    for iri, props in sorted(data.items()):
        if not iri.startswith(MAI.iri):
            continue
        types = {t.value for t in props.get(RDF.type.value, [])}
        term = Term(iri, local_name(iri), sorted(short_iri(t) for t in types),
                    _lang_map(props.get(RDFS.label.value, [])),
                    _lang_map(props.get(RDFS.comment.value, []) + props.get(SKOS.definition.value, [])),
                    [p.value for p in props.get(RDFS.subClassOf.value, [])
                     + props.get(RDFS.subPropertyOf.value, []) if isinstance(p, NamedNode)],
                    [d.value for d in props.get(RDFS.domain.value, []) if isinstance(d, NamedNode)],
                    [r.value for r in props.get(RDFS.range.value, []) if isinstance(r, NamedNode)],
                    [e.value for e in props.get(SKOS.example.value, [])])
        if types & {OWL.Class.value, RDFS.Class.value}:
            classes.append(term)
        elif any("Property" in t for t in types):
            properties.append(term)
    by_iri = {t.iri: t for t in classes}
    for p in properties:
        for d in p.domains:
            if d in by_iri:
                by_iri[d].used_as_domain.append(p.iri)
        for r in p.ranges:
            if r in by_iri:
                by_iri[r].used_as_range.append(p.iri)
    return header, classes, properties


def ontology_document(ctx: Any, fmt: str, public: str) -> Reply:
    """Job: the ontology as HTML documentation or in an RDF format."""
    graph = ctx.iris.graph(ONTOLOGY_GRAPH)
    store = ctx.oxigraph()
    if fmt != "html":
        quads = list(store.quads_for_pattern(None, None, None, graph))
        if not quads:
            raise not_found("the ontology graph is not in this store", hint="run maillage init")
        return rdf_document(quads, fmt)

    def build() -> bytes:
        header, classes, properties = ontology_terms(store, graph)
        if not classes and not properties:
            raise not_found("the ontology graph is not in this store", hint="run maillage init")
        labels = Labeller(store, ctx.cached("reference_labels_all", lambda: reference_labels(
            store, [i.iri for i in graph_infos(ctx).values()
                    if i.name in ("ontologie", "vocabulaires")])))
        mapping = BaseMapping(ctx.settings.base_iri, public)
        return render(ctx, "ontology.html", {
            "public": public, "classes": classes, "properties": properties,
            "title": best_label([(v.value, getattr(v, "language", "") or "")
                                 for v in header.get(DCTERMS_NS + "title", [])]) or "Ontologie",
            "description": _lang_map(header.get(DCTERMS_NS + "description", [])),
            "version": next((v.value for v in header.get(OWL.versionInfo.value, [])), ""),
            "licence": next((v.value for v in header.get(DCTERMS_NS + "license", [])), ""),
            "namespace": MAI.iri, "label": labels, "short": short_iri,
            "href": lambda iri: _term_href(iri, public, mapping),
            "anchor": local_name,
        })

    body = ctx.cached(("ontology_html", public), build)
    return Reply(200, "text/html; charset=utf-8", body)


def _term_href(iri: str, public: str, mapping: BaseMapping) -> str:
    if iri.startswith(MAI.iri):
        return f"{public}def.html#{local_name(iri)}"
    return mapping.local(iri)


SCHEME = sparql_prefixes("skos") + """
SELECT ?c ?p ?o WHERE {
  ?c skos:inScheme %(s)s ; ?p ?o .
  VALUES ?p { skos:prefLabel skos:notation skos:broader skos:definition skos:topConceptOf
              skos:altLabel skos:scopeNote }
}"""


def scheme_document(ctx: Any, iri: str, public: str) -> Reply:
    """Job: the documentation page of a SKOS concept scheme."""
    try:
        node = NamedNode(iri)
    except ValueError:
        raise not_found("not a valid IRI") from None
    store = ctx.oxigraph()

    def build() -> bytes:
        own = list(store.quads_for_pattern(node, None, None, None))
        if not own:
            raise not_found(f"no concept scheme <{iri}> in this store")
        concepts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for row in store.query(SCHEME % {"s": str(node)}, use_default_graph_as_union=True):
            concepts[row["c"].value][short_iri(row["p"].value)].append(row["o"])
        mapping = BaseMapping(ctx.settings.base_iri, public)
        tree = _tree(concepts, iri, mapping)
        props = defaultdict(list)
        for q in own:
            props[short_iri(q.predicate.value)].append(q.object)
        return render(ctx, "scheme.html", {
            "public": public, "iri": iri, "tree": tree, "count": len(concepts),
            "title": best_label([(v.value, getattr(v, "language", "") or "")
                                 for v in props.get("skos:prefLabel", []) + props.get(
                                     "dcterms:title", []) + props.get("rdfs:label", [])]) or iri,
            "description": best_label([(v.value, getattr(v, "language", "") or "")
                                       for v in props.get("dcterms:description", [])
                                       + props.get("skos:definition", [])
                                       + props.get("rdfs:comment", [])]) or "",
            "graphs": sorted({graph_infos(ctx)[q.graph_name.value].title()
                              for q in own if q.graph_name.value in graph_infos(ctx)}),
            "document": mapping.local(iri),
        })

    return Reply(200, "text/html; charset=utf-8", ctx.cached(("scheme", iri, public), build))


def _tree(concepts: dict[str, dict[str, list[Any]]], scheme: str,
          mapping: BaseMapping) -> list[dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for iri, props in concepts.items():
        nodes[iri] = {
            "iri": iri, "href": mapping.local(iri), "children": [],
            "label": best_label([(v.value, getattr(v, "language", "") or "")
                                 for v in props.get("skos:prefLabel", [])]) or local_name(iri),
            "notation": next((v.value for v in props.get("skos:notation", [])), ""),
            "definition": best_label([(v.value, getattr(v, "language", "") or "")
                                      for v in props.get("skos:definition", [])]) or "",
            "broader": [b.value for b in props.get("skos:broader", []) if b.value in concepts],
        }
    roots = []
    for node in nodes.values():
        parents = node["broader"]
        if parents:
            for parent in parents:
                nodes[parent]["children"].append(node)
        else:
            roots.append(node)
    for node in nodes.values():
        node["children"].sort(key=lambda n: (n["notation"], n["label"]))
    return sorted(roots, key=lambda n: (n["notation"], n["label"]))
