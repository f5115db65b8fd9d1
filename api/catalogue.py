"""What the store says about its named graphs (each describes itself, see DESIGN.md).

:func:`graph_infos` reads every graph's self-description and size once per store generation;
the home page, the resource pages (provenance of each statement), VoID/DCAT and the dumps use
it.

>>> graph_name("https://w3id.org/maillage/graph/import/ateliers-velo", "https://w3id.org/maillage/")
'import/ateliers-velo'
>>> graph_name("http://other/g", "https://w3id.org/maillage/") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maillage.graph.namespaces import sparql_prefixes

COUNTS = """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"""

DESCRIPTIONS = sparql_prefixes("dcterms", "prov", "mai", "rdfs") + """
SELECT ?g ?p ?o WHERE {
  GRAPH ?g { ?g ?p ?o }
  VALUES ?p { dcterms:title dcterms:description dcterms:license dcterms:source
              prov:generatedAtTime mai:synthetic mai:retrievedAt rdfs:comment dcterms:creator }
}
"""


@dataclass
class GraphInfo:
    """A named graph, as it describes itself."""

    iri: str
    name: str | None
    triples: int = 0
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    licences: list[str] = field(default_factory=list)
    sources: list[tuple[str, bool]] = field(default_factory=list)  # (value, is_iri)
    generated: str | None = None
    retrieved: str | None = None
    synthetic: bool = False

    def title(self, lang: str = "fr") -> str:
        """The title in ``lang`` (French first), else the graph's name or IRI."""
        return (self.titles.get(lang) or self.titles.get("fr") or self.titles.get("")
                or next(iter(self.titles.values()), None) or self.name or self.iri)


def graph_name(iri: str, base_iri: str) -> str | None:
    """The name of a graph minted under ``{base}graph/`` (what the dump URLs use)."""
    prefix = base_iri + "graph/"
    return iri[len(prefix):] if iri.startswith(prefix) and len(iri) > len(prefix) else None


def read_graph_infos(store: Any, base_iri: str) -> dict[str, GraphInfo]:
    """Every named graph of ``store`` with its size and self-description."""
    infos: dict[str, GraphInfo] = {}
    for row in store.query(COUNTS):
        iri = row["g"].value
        infos[iri] = GraphInfo(iri, graph_name(iri, base_iri), int(row["n"].value))
    for row in store.query(DESCRIPTIONS):
        info = infos.get(row["g"].value)
        if info is not None:
            _add(info, row["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1], row["o"])
    return dict(sorted(infos.items()))


def _add(info: GraphInfo, key: str, term: Any) -> None:
    lang = getattr(term, "language", None) or ""
    value = term.value
    if key == "title":
        info.titles[lang] = value
    elif key == "description":
        info.descriptions[lang] = value
    elif key == "comment":
        info.comments[lang] = value
    elif key == "license":
        info.licences.append(value)
    elif key == "source":
        info.sources.append((value, type(term).__name__ == "NamedNode"))
    elif key == "generatedAtTime":
        info.generated = max(info.generated or value, value)
    elif key == "retrievedAt":
        info.retrieved = value
    elif key == "synthetic":
        info.synthetic = value == "true"


def graph_infos(ctx: Any) -> dict[str, GraphInfo]:
    """:func:`read_graph_infos` cached for the current store generation."""
    return ctx.cached("graph_infos", lambda: read_graph_infos(ctx.oxigraph(),  # type: ignore[no-any-return]
                                                              ctx.settings.base_iri))
