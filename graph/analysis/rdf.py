"""Analysis results as RDF with PROV, in the named graph ``graph/analyse``.

Each run is a ``prov:Activity`` (also ``mai:AnalysisRun``) at ``{base}id/analyse/{run-id}``
with ``mai:analysisName``, start and end times, the software, its parameters (``mai:parameter``
→ ``[rdfs:label name; rdf:value value]``, minted under the run IRI so they can be replaced), the
named queries it used (``prov:used`` → ``{base}id/requete/{id}``) and its notes
(``rdfs:comment``). Each result is a ``mai:AnalysisResult`` (and ``mai:{kind}``) at
``{run}/{key}`` with ``prov:wasGeneratedBy`` the run, ``mai:score``, ``mai:rank``,
``mai:about`` (what it concerns), ``mai:territory``, ``mai:evidence`` (an ``rdf:JSON``
literal) and kind-specific ``mai:`` values.

Writing a run replaces the previous runs of the same analysis and keeps the others; the graph
describes itself (``describe_graph``) after every write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from .. import __version__
from ..catalog import query_iri
from ..namespaces import MAI, PROV, RDF, RDFS, XSD, Iris, sparql_prefixes
from ..provenance import describe_graph
from ..settings import Settings
from ..store import GraphWriter, MaillageStore
from .base import AnalysisOutput, Iri, Result

GRAPH_NAME = "analyse"
RDF_JSON = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON")
CC_BY_4 = NamedNode("https://creativecommons.org/licenses/by/4.0/")


def literal(value: Any) -> Literal | NamedNode:
    """An RDF term for a Python value (int → xsd:integer, float → xsd:double, Iri → IRI).

    >>> literal(3).datatype.value.endswith("integer"), literal(0.5).datatype.value.endswith("double")
    (True, True)
    >>> literal(Iri("http://ex/a")).value
    'http://ex/a'
    """
    if isinstance(value, Iri):
        return NamedNode(value.value)
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(repr(value) if math.isfinite(value) else "NaN", datatype=XSD.double)
    return Literal(str(value))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set):
        return sorted(value)
    return str(value)


def evidence_literal(evidence: dict[str, Any]) -> Literal:
    """The evidence as a compact, key-sorted JSON literal (``rdf:JSON``; NaN becomes null).

    >>> evidence_literal({"b": float("nan"), "a": 1}).value
    '{"a": 1, "b": null}'
    """
    text = json.dumps(json_ready(evidence), ensure_ascii=False, sort_keys=True,
                      default=_json_default)
    return Literal(text, datatype=RDF_JSON)


def json_ready(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (numpy scalars unwrapped, NaN → None, sets sorted)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        return json_ready(value.item())
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_ready(v) for v in (sorted(value) if isinstance(value, set) else value)]
    return value


def result_triples(run: NamedNode, result: Result) -> Iterable[tuple]:
    """The triples of one result resource."""
    node = NamedNode(f"{run.value}/{result.key}")
    yield node, RDF.type, MAI.AnalysisResult
    yield node, RDF.type, MAI[result.kind]
    yield node, PROV.wasGeneratedBy, run
    yield node, RDFS.label, Literal(result.label_fr, language="fr")
    yield node, RDFS.label, Literal(result.label_en, language="en")
    if result.score is not None and math.isfinite(result.score):
        yield node, MAI.score, literal(float(result.score))
    if result.rank is not None:
        yield node, MAI.rank, literal(int(result.rank))
    for iri in dict.fromkeys(result.about):
        yield node, MAI.about, NamedNode(iri)
    if result.territory:
        yield node, MAI.territory, NamedNode(result.territory)
    for name, value in result.values.items():
        for v in value if isinstance(value, list) else [value]:
            if v is not None and not (isinstance(v, float) and not math.isfinite(v)):
                yield node, MAI[name], literal(v)
    if result.evidence:
        yield node, MAI.evidence, evidence_literal(result.evidence)
    if result.not_computed:
        yield node, MAI.notComputed, Literal(result.not_computed, language="fr")


def run_triples(iris: Iris, output: AnalysisOutput) -> Iterable[tuple]:
    """The triples of the run activity (PROV) of ``output``."""
    run = iris.id("analyse", output.run_id)
    software = iris.software(__version__)
    yield run, RDF.type, PROV.Activity
    yield run, RDF.type, MAI.AnalysisRun
    yield run, MAI.analysisName, Literal(output.name)
    yield run, RDFS.label, Literal(f"Analyse « {output.name} » du {output.started}", language="fr")
    yield run, RDFS.label, Literal(f"Analysis “{output.name}” of {output.started}", language="en")
    yield run, PROV.startedAtTime, Literal(output.started, datatype=XSD.dateTime)
    yield run, PROV.endedAtTime, Literal(output.ended, datatype=XSD.dateTime)
    yield run, PROV.wasAssociatedWith, software
    yield software, RDF.type, PROV.SoftwareAgent
    yield software, RDFS.label, Literal(f"Maillage {__version__}")
    yield run, MAI.resultCount, literal(len(output.results))
    for query_id in output.queries:
        yield run, PROV.used, query_iri(iris, query_id)
    for name, value in sorted(output.parameters.items()):
        param = NamedNode(f"{run.value}/parametre/{name}")
        yield run, MAI.parameter, param
        yield param, RDFS.label, Literal(name)
        yield param, RDF.value, Literal(str(value))
    for note in output.notes:
        yield run, RDFS.comment, Literal(note.fr, language="fr")
        yield run, RDFS.comment, Literal(note.en, language="en")
    for result in output.results:
        yield from result_triples(run, result)


def output_quads(iris: Iris, output: AnalysisOutput) -> list[Quad]:
    """All quads of one analysis run, in ``graph/analyse``."""
    graph = iris.graph(GRAPH_NAME)
    return [Quad(s, p, o, graph) for s, p, o in run_triples(iris, output)]


def _drop_runs(writer: GraphWriter, iris: Iris, name: str) -> None:
    """Remove the previous runs of analysis ``name``: their results, parameters and selves."""
    graph = iris.graph(GRAPH_NAME).value
    runs = [r["run"] for r in writer.query(sparql_prefixes("mai") + f"""
        SELECT DISTINCT ?run WHERE {{ GRAPH <{graph}> {{ ?run mai:analysisName {literal(name)} }} }}
        ORDER BY ?run""")]
    for run in runs:
        writer.update(sparql_prefixes("mai", "prov") + f"""
        DELETE {{ GRAPH <{graph}> {{ ?r ?p ?o }} }}
        WHERE {{ GRAPH <{graph}> {{ ?r prov:wasGeneratedBy <{run.value}> ; ?p ?o }} }} ;
        DELETE {{ GRAPH <{graph}> {{ ?x ?p ?o }} }}
        WHERE {{ GRAPH <{graph}> {{ <{run.value}> mai:parameter ?x . ?x ?p ?o }} }} ;
        DELETE WHERE {{ GRAPH <{graph}> {{ <{run.value}> ?p ?o }} }} ;
        DELETE WHERE {{ GRAPH <{graph}> {{ <{graph}> ?p <{run.value}> }} }}""")


def _describe(writer: GraphWriter, iris: Iris, used_graphs: list[NamedNode]) -> None:
    graph = iris.graph(GRAPH_NAME)
    activity = NamedNode(graph.value + "#generation")
    writer.update(f"""
    DELETE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}
    WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o FILTER(?s IN (<{graph.value}>, <{activity.value}>)) }} }}""")
    writer.add_quads(describe_graph(
        iris, graph, title_fr="Résultats des analyses de réseau",
        title_en="Network analysis results", sources=used_graphs, licence=CC_BY_4,
        description_fr="Synergies, filières émergentes, communautés, passerelles et lacunes "
                       "territoriales calculées par Maillage ; chaque résultat renvoie à son "
                       "exécution (prov:Activity), à ses paramètres et aux requêtes nommées lues.",
        description_en="Synergies, emerging filières, communities, brokers and territorial gaps "
                       "computed by Maillage; each result links to its run (prov:Activity), its "
                       "parameters and the named queries it read.",
    ))
    runs = writer.query(sparql_prefixes("mai") + f"""
    SELECT DISTINCT ?run WHERE {{ GRAPH <{graph.value}> {{ ?run mai:analysisName ?n }} }}""")
    writer.add_quads([Quad(graph, PROV.wasInfluencedBy, r["run"], graph) for r in runs])


def write_outputs(store: MaillageStore, settings: Settings,
                  outputs: list[AnalysisOutput]) -> int:
    """Write the runs into ``graph/analyse`` atomically; returns the number of quads written."""
    iris = Iris(settings.base_iri)
    analysed = [g for g in store.named_graphs()
                if g.value not in (iris.graph(GRAPH_NAME).value, iris.graph("catalogue").value)]
    written = 0
    with store.writing() as writer:
        for output in outputs:
            _drop_runs(writer, iris, output.name)
            quads = output_quads(iris, output)
            writer.bulk_add_quads(quads)
            written += len(quads)
        _describe(writer, iris, analysed)
    return written
