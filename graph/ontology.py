"""Load the OWL ontology (``ontology/maillage.ttl``) into its named graph."""

from __future__ import annotations

from pyoxigraph import NamedNode, RdfFormat

from .namespaces import Iris
from .provenance import describe_graph
from .resources import ontology_file
from .settings import Settings
from .store import GraphWriter

ONTOLOGY_IRI = "https://w3id.org/maillage/def"
CC_BY_4 = NamedNode("https://creativecommons.org/licenses/by/4.0/")


def load_ontology(writer: GraphWriter, settings: Settings) -> NamedNode:
    """Replace the ontology graph with ``maillage.ttl``. Returns the graph IRI."""
    iris = Iris(settings.base_iri)
    graph = iris.graph("ontologie")
    path = ontology_file("maillage.ttl")
    writer.replace_graph(graph, path.read_bytes(), RdfFormat.TURTLE, base_iri=settings.base_iri)
    writer.add_quads(
        describe_graph(
            iris, graph, title_fr="Ontologie Maillage", title_en="Maillage ontology",
            sources=[ONTOLOGY_IRI], licence=CC_BY_4,
            description_fr="Classes et propriétés OWL du graphe Maillage.",
            description_en="OWL classes and properties of the Maillage graph.",
        )
    )
    return graph
