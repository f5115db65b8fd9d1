"""The HTML page of a resource: labels instead of IRIs, grouped properties, incoming links,
provenance and licence of each statement's graph, a map where there is a place, and for
territories the profile of :mod:`maillage.api.territory`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from maillage.graph.namespaces import GEO, IGEO, MAI, ORG, RDF
from markupsafe import Markup, escape
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from .catalogue import GraphInfo, graph_infos
from .labels import (
    CLASS_LABELS,
    OTHER_GROUP,
    Labeller,
    group_of,
    group_order,
    order_in_group,
    reference_labels,
    short_iri,
)
from .maps import actor_map, parse_point, territory_map
from .render import french_date, french_number, render
from .web import BaseMapping

INCOMING_SHOWN = 12
INCOMING_COUNTED = 10_000
XSD = "http://www.w3.org/2001/XMLSchema#"
TERRITORY_KINDS = ("region", "departement", "epci", "commune", "arrondissement")
REFERENCE_PREFIXES = ("sirene", "synthetique", "import/", "analyse", "load/")


@dataclass
class ValueView:
    """One value of a property, ready for the template."""

    text: str
    href: str | None = None
    kind: str = "literal"
    external: bool = False
    lang: str = ""
    datatype: str = ""
    graph: int | None = None
    nested: list[tuple[str, str]] = field(default_factory=list)

    @property
    def html(self) -> Markup:
        """The value as HTML: a link for an IRI, the text (language, datatype) for a literal,
        and the number of its graph as a link to the provenance section."""
        if self.kind == "iri":
            extra = ' class="ext" rel="noopener"' if self.external else ""
            out = f'<a href="{escape(self.href or "")}"{extra}>{escape(self.text)}</a>'
        elif self.kind == "bnode":
            out = '<span class="nested">' + " ; ".join(
                f"{escape(k)} : <code>{escape(t)}</code>" for k, t in self.nested) + "</span>"
        else:
            lang = f' lang="{escape(self.lang)}"' if self.lang else ""
            out = f"<span{lang}>{escape(self.text)}</span>"
            if self.datatype and not self.datatype.startswith("xsd:"):
                out += f' <small class="dt">{escape(self.datatype)}</small>'
        if self.graph:
            out += (f'<a class="src" href="#g{self.graph}" title="source : graphe n° {self.graph}"'
                    f' aria-label="source : graphe {self.graph}">{self.graph}</a>')
        return Markup(out)


@dataclass
class PropertyView:
    """A property and its values (or, for incoming links, the subjects pointing here)."""

    iri: str
    label: str
    href: str
    values: list[ValueView] = field(default_factory=list)
    count: int = 0


def cached_reference_labels(ctx: Any) -> dict[str, str]:
    """Labels of the reference graphs (everything but actors and analyses), per generation."""
    reference = [i.iri for i in graph_infos(ctx).values()
                 if i.name and not i.name.startswith(REFERENCE_PREFIXES)]
    return ctx.cached("reference_labels",  # type: ignore[no-any-return]
                      lambda: reference_labels(ctx.oxigraph(), reference))


class PageBuilder:
    """Turns quads into view objects for one page (labels, links, graph footnotes)."""

    def __init__(self, ctx: Any, public: str) -> None:
        self.ctx = ctx
        self.store = ctx.oxigraph()
        self.mapping = BaseMapping(ctx.settings.base_iri, public)
        self.infos = graph_infos(ctx)
        self.label = Labeller(self.store, cached_reference_labels(ctx))
        self.graphs: list[GraphInfo] = []
        self._graph_numbers: dict[str, int] = {}

    def link(self, iri: str) -> tuple[str, bool]:
        """Where an IRI links to, and whether it leaves the site."""
        local = self.mapping.local(iri)
        return local, not (iri.startswith(self.ctx.settings.base_iri)
                           or local.startswith(self.mapping.public_url))

    def graph_index(self, graph: Any) -> int | None:
        """The footnote number of a graph on this page (numbered as they appear)."""
        if not isinstance(graph, NamedNode):
            return None
        number = self._graph_numbers.get(graph.value)
        if number is None:
            self.graphs.append(self.infos.get(graph.value) or GraphInfo(graph.value, None))
            number = self._graph_numbers[graph.value] = len(self.graphs)
        return number

    def value(self, term: Any, graph: Any = None) -> ValueView:
        index = self.graph_index(graph)
        if isinstance(term, NamedNode):
            href, external = self.link(term.value)
            return ValueView(self.label(term.value), href, "iri", external, graph=index)
        if isinstance(term, BlankNode):
            nested = [(self.label.predicate(q.predicate.value),
                       self.label(q.object.value) if isinstance(q.object, NamedNode)
                       else _literal_text(q.object))
                      for q in islice(self.store.quads_for_pattern(term, None, None, None), 20)]
            return ValueView("", None, "bnode", graph=index, nested=nested)
        if isinstance(term, Literal):
            datatype = "" if term.language else short_iri(term.datatype.value)
            return ValueView(_literal_text(term), lang=term.language or "", datatype=datatype,
                             graph=index)
        return ValueView(str(term), graph=index)

    def properties(self, quads: list[Quad], subject: NamedNode) -> list[tuple[str, list[PropertyView]]]:
        """Outgoing statements grouped (Identité, Activité…), each value with its graph."""
        by_predicate: dict[str, PropertyView] = {}
        own = [q for q in quads if q.subject == subject]
        self.label.prefetch(q.object.value for q in own if isinstance(q.object, NamedNode))
        for q in own:
            p = q.predicate.value
            view = by_predicate.get(p)
            if view is None:
                view = by_predicate[p] = PropertyView(p, self.label.predicate(p), self.link(p)[0])
            view.values.append(self.value(q.object, q.graph_name))
        groups: dict[str, list[PropertyView]] = {}
        for p, view in by_predicate.items():
            view.values.sort(key=lambda v: (v.text.lower(), v.graph or 0))
            view.count = len(view.values)
            groups.setdefault(group_of(p), []).append(view)
        ordered = sorted(groups.items(), key=lambda g: group_order(g[0]))
        return [(title, sorted(views, key=lambda v: order_in_group(v.iri)))
                for title, views in ordered]

    def incoming(self, node: NamedNode) -> list[PropertyView]:
        """Resources pointing here, by property: counts and the first few, labelled."""
        by_predicate: dict[str, PropertyView] = {}
        for q in islice(self.store.quads_for_pattern(None, None, node, None), INCOMING_COUNTED):
            p = q.predicate.value
            view = by_predicate.get(p)
            if view is None:
                view = by_predicate[p] = PropertyView(p, self.label.predicate(p), self.link(p)[0])
            view.count += 1
            if len(view.values) < INCOMING_SHOWN and isinstance(q.subject, NamedNode):
                view.values.append(self.value(q.subject, q.graph_name))
        return sorted(by_predicate.values(), key=lambda v: (-v.count, v.label))


def _literal_text(term: Any) -> str:
    """A literal as people read it (booleans, dates, integers in French)."""
    if not isinstance(term, Literal):
        return getattr(term, "value", str(term))
    datatype = term.datatype.value if not term.language else ""
    if datatype == XSD + "boolean":
        return "oui" if term.value in ("true", "1") else "non"
    if datatype in (XSD + "date", XSD + "dateTime"):
        return french_date(term.value)
    if datatype in (XSD + "integer", XSD + "int", XSD + "long", XSD + "nonNegativeInteger"):
        return french_number(term.value)
    return term.value


def _types(quads: list[Quad], node: NamedNode) -> list[str]:
    return sorted({q.object.value for q in quads
                   if q.subject == node and q.predicate == RDF.type
                   and isinstance(q.object, NamedNode)})


def territory_kind(iri: str, base: str) -> tuple[str, str] | None:
    """(kind, code) of a territory IRI ``{base}id/territoire/{kind}/{code}``.

    >>> territory_kind("https://w3id.org/maillage/id/territoire/commune/93066",
    ...                "https://w3id.org/maillage/")
    ('commune', '93066')
    """
    prefix = base + "id/territoire/"
    if not iri.startswith(prefix):
        return None
    kind, _, code = iri[len(prefix):].partition("/")
    return (kind, code) if kind in TERRITORY_KINDS and code and "/" not in code else None


def _commune_code(iri: str, base: str) -> str | None:
    found = territory_kind(iri, base)
    return found[1] if found and found[0] in ("commune", "arrondissement") else None


def _places(store: Any, node: NamedNode, label: str, base: str) -> tuple[list[str], list[Any]]:
    """Communes and points of an actor or establishment (its own, then its sites')."""
    sites = [node] + [q.object for q in store.quads_for_pattern(node, ORG.hasSite, None, None)
                      if isinstance(q.object, NamedNode)][:200]
    codes: list[str] = []
    points: list[tuple[float, float, str]] = []
    for site in sites:
        for q in store.quads_for_pattern(site, MAI.locatedIn, None, None):
            code = _commune_code(q.object.value, base)
            if code:
                codes.append(code)
        for q in store.quads_for_pattern(site, GEO.hasGeometry, None, None):
            for w in store.quads_for_pattern(q.object, GEO.asWKT, None, None):
                point = parse_point(w.object.value)
                if point:
                    points.append((point[0], point[1], label))
    return list(dict.fromkeys(codes)), points


def _map(builder: PageBuilder, node: NamedNode, title: str) -> str | None:
    base = builder.ctx.settings.base_iri
    found = territory_kind(node.value, base)
    if found:
        kind, code = found
        members: tuple[str, ...] = ()
        if kind == "epci":
            members = tuple(sorted(c for q in builder.store.quads_for_pattern(None, MAI.epci, node, None)
                                   if (c := _commune_code(q.subject.value, base))))
        return territory_map(kind, code, members)
    codes, points = _places(builder.store, node, title, base)
    return actor_map(codes, points) if codes or points else None


def resource_page(ctx: Any, node: NamedNode, quads: list[Quad], public: str) -> bytes:
    """The HTML page of ``node`` described by ``quads``."""
    builder = PageBuilder(ctx, public)
    title = builder.label(node.value)
    types = _types(quads, node)
    groups = builder.properties(quads, node)
    incoming = builder.incoming(node)
    own_graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode)}
    synthetic = any(q.predicate == MAI.synthetic and q.object.value == "true" for q in quads) or \
        any(builder.infos[g].synthetic for g in own_graphs if g in builder.infos)
    found = territory_kind(node.value, ctx.settings.base_iri)
    profile = None
    if found and found[0] in ("commune", "arrondissement", "epci", "departement", "region"):
        from .territory import territory_profile_data

        profile = territory_profile_data(ctx, builder, node, found[0], found[1])
    context = {
        "public": public, "iri": node.value, "title": title,
        "types": [(builder.label(t) if t not in _CLASS_IRIS else _CLASS_IRIS[t],
                   builder.link(t)[0]) for t in types],
        "groups": groups, "incoming": incoming, "graphs": builder.graphs,
        "synthetic": synthetic,
        "mentions_synthetic": not synthetic and any(g.synthetic for g in builder.graphs)
        or bool(profile and any(g.synthetic for g in builder.infos.values())),
        "map": _map(builder, node, title), "profile": profile,
        "document": builder.mapping.local(node.value), "other_group": OTHER_GROUP,
        "is_graph": node.value in builder.infos,
        "graph_info": builder.infos.get(node.value),
    }
    return render(ctx, "resource.html", context)


_CLASS_IRIS = {
    IGEO.iri + name.split(":", 1)[1]: label for name, label in CLASS_LABELS.items()
    if name.startswith("igeo:")
}
