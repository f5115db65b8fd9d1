"""Store statistics: triples per graph, instances per class."""

from __future__ import annotations

from .rdfio import format_results
from .store import MaillageStore

GRAPHS = """
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?graph ?title ?triples WHERE {
  { SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph }
  OPTIONAL { GRAPH ?graph { ?graph dcterms:title ?title FILTER(lang(?title) = "fr") } }
} ORDER BY ?graph
"""

CLASSES = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?instances) ?class
"""


def graph_stats(store: MaillageStore, fmt: str = "table") -> str:
    return format_results(store.query(GRAPHS, union=False), fmt)


def class_stats(store: MaillageStore, fmt: str = "table") -> str:
    return format_results(store.query(CLASSES), fmt)
