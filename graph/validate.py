"""SHACL validation of a store with ``ontology/shapes.ttl`` (pyshacl); the report is data.

The data graph is the union of the store's graphs, exported as N-Triples into rdflib. The
ontology ``maillage.ttl`` is mixed in as ``ont_graph`` so that ``sh:targetClass`` and
``sh:class`` follow ``rdfs:subClassOf`` (a ``mai:Structure`` is checked as a ``mai:Actor``, an
``igeo:Commune`` as a ``mai:Territory``).

Inference is ``"none"``: shapes check what importers *assert*. RDFS inference would type any
subject of ``mai:siren`` as a ``mai:Actor`` (``rdfs:domain``) and so hide a missing ``rdf:type``,
and it multiplies the triples pyshacl must scan.

Restricting with ``graphs``: the selected graphs plus the reference graphs (ontology,
vocabularies, territories, institutions: the targets of ``sh:class`` look-ups) are loaded and
validated, and only the results whose focus node is a subject of the selected graphs are kept.
(pyshacl's own ``focus_nodes`` option is not used: it also skips the nested ``sh:node`` checks of
nodes outside the list, so an establishment in a missing commune would pass.) The report says
what was validated (:attr:`ValidationReport.scope`). Nothing is ever sampled.

>>> local_name("https://w3id.org/maillage/def/shapes#Actor-siren")
'Actor-siren'
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field

import rdflib
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat
from rdflib.namespace import RDF, SH

from .errors import StoreError
from .namespaces import Iris
from .resources import ontology_file
from .settings import Settings
from .store import MaillageStore

#: Graphs always loaded as context when validation is restricted to some graphs.
REFERENCE_GRAPHS = ("ontologie", "vocabulaires", "naf-filieres", "territoires", "institutions")
SEVERITIES = ("Violation", "Warning", "Info")


def local_name(iri: str) -> str:
    """The part of an IRI after its last ``#`` or ``/``."""
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result: which node failed which shape, and why."""

    severity: str
    focus: str
    shape: str
    component: str
    path: str | None = None
    value: str | None = None
    messages: dict[str, str] = field(default_factory=dict)
    #: readable shape name: ``Actor-siren``, ``EstablishmentShape.siretPrefix`` (SPARQL) or
    #: ``LegalCategoryShape.familyOf`` (an unnamed property shape: its node shape and path)
    shape_name: str = ""

    def message(self, lang: str = "fr") -> str:
        """The message in ``lang`` (else any message, else the constraint component)."""
        return self.messages.get(lang) or next(iter(self.messages.values()), self.component)

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "focus": self.focus,
            "shape": self.shape,
            "shape_name": self.shape_name,
            "component": self.component,
            "path": self.path,
            "value": self.value,
            "messages": self.messages,
        }


@dataclass
class ValidationReport:
    """The outcome of a validation: results by severity and shape, and the SHACL report graph."""

    results: list[ValidationResult]
    scope: str
    triples: int
    report_graph: rdflib.Graph

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        """True when there is no violation (warnings and infos do not count)."""
        return not self.violations

    def counts_by_severity(self) -> dict[str, int]:
        counts = Counter(r.severity for r in self.results)
        return {s: counts.get(s, 0) for s in SEVERITIES}

    def counts_by_shape(self) -> dict[str, int]:
        counts = Counter((r.severity, r.shape_name) for r in self.results)
        return {f"{shape} ({sev})": n for (sev, shape), n in sorted(counts.items())}

    def to_turtle(self) -> str:
        """The SHACL validation report as Turtle (sh:ValidationReport)."""
        return self.report_graph.serialize(format="turtle")

    def to_dict(self) -> dict[str, object]:
        return {
            "conforms": self.conforms,
            "scope": self.scope,
            "triples": self.triples,
            "counts_by_severity": self.counts_by_severity(),
            "counts_by_shape": self.counts_by_shape(),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary_text(self, lang: str = "fr", limit: int = 50) -> str:
        """A human summary: scope, counts, then the first ``limit`` results (violations first)."""
        sev = self.counts_by_severity()
        lines = [
            f"scope: {self.scope}",
            f"triples validated: {self.triples}",
            "conforms: " + ("yes" if self.conforms else "no"),
            "results: " + ", ".join(f"{n} {s.lower()}(s)" for s, n in sev.items()),
        ]
        if self.results:
            lines += ["", "by shape:"] + [f"  {k}: {n}" for k, n in self.counts_by_shape().items()]
            ordered = sorted(
                self.results, key=lambda r: (SEVERITIES.index(r.severity), r.shape, r.focus)
            )
            lines += ["", f"results (first {min(limit, len(ordered))} of {len(ordered)}):"]
            lines += [
                f"  [{r.severity}] {r.focus} — {r.shape_name}: {r.message(lang)}"
                + (f" (value: {r.value})" if r.value else "")
                for r in ordered[:limit]
            ]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- data graph
def _dump_graphs(store: MaillageStore, graphs: list[NamedNode | DefaultGraph]) -> rdflib.Graph:
    buf = io.BytesIO()
    for g in graphs:
        store.oxigraph.dump(buf, RdfFormat.N_TRIPLES, from_graph=g)
    data = rdflib.Graph()
    data.parse(data=buf.getvalue(), format="nt")
    return data


def _subjects(store: MaillageStore, graphs: list[NamedNode]) -> set[str]:
    """The IRIs of the subjects of ``graphs``."""
    return {
        q.subject.value
        for g in graphs
        for q in store.oxigraph.quads_for_pattern(None, None, None, g)
        if isinstance(q.subject, NamedNode)
    }


def _data_graph(
    store: MaillageStore, settings: Settings, graphs: list[NamedNode] | None
) -> tuple[rdflib.Graph, set[str] | None, str]:
    """The rdflib data graph, the focus nodes to report (None = all) and what it is."""
    present = set(store.oxigraph.named_graphs())
    if graphs is None:
        data = _dump_graphs(store, sorted(present, key=str) + [DefaultGraph()])
        return data, None, f"all {len(present)} named graphs and the default graph"
    missing = [g.value for g in graphs if g not in present]
    if missing:
        raise StoreError(
            f"no such graph in the store: {', '.join(missing)}",
            hint="`maillage stats` lists the graphs of the store",
        )
    iris = Iris(settings.base_iri)
    context = [
        iris.graph(n)
        for n in REFERENCE_GRAPHS
        if iris.graph(n) in present and iris.graph(n) not in graphs
    ]
    data = _dump_graphs(store, list(graphs) + context)
    scope = (
        "restricted to the subjects of "
        + ", ".join(g.value for g in graphs)
        + (
            "; reference graphs loaded for look-ups only: " + ", ".join(c.value for c in context)
            if context
            else ""
        )
    )
    return data, _subjects(store, graphs), scope


# ----------------------------------------------------------------------------- validation
def _shape_name(
    shapes: rdflib.Graph, shape: rdflib.term.Node | None, constraint: rdflib.term.Node | None
) -> str:
    """A readable name for the shape (and SPARQL constraint) that produced a result."""
    if isinstance(constraint, rdflib.URIRef):
        parent = local_name(str(shape)).removesuffix("Shape")
        return f"{parent}Shape.{local_name(str(constraint)).removeprefix(parent + '-')}"
    if isinstance(shape, rdflib.URIRef):
        return local_name(str(shape))
    parent = shapes.value(predicate=SH.property, object=shape)
    path = shapes.value(shape, SH.path)
    if parent is None:
        return "(anonymous shape)"
    return f"{local_name(str(parent))}.{local_name(str(path))}"


def _template_regex(template: str) -> re.Pattern[str]:
    """A regex matching a SHACL message template once filled in.

    >>> bool(_template_regex("SIRET {?value} (SIREN {$this})").match("SIRET 1 (SIREN 2)"))
    True
    """
    parts = re.split(r"\{[?$]\w+\}", template)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$", re.DOTALL)


def _messages(
    result: rdflib.term.Node,
    report: rdflib.Graph,
    shapes: rdflib.Graph,
    constraint: rdflib.term.Node | None,
) -> dict[str, str]:
    """The messages of a result by language.

    pyshacl drops the language tag of SPARQL-constraint messages when it fills in ``{?var}``;
    the tag is found again by matching each message with the constraint's templates.
    """
    templates = (
        [(_template_regex(str(t)), t.language) for t in shapes.objects(constraint, SH.message)]
        if constraint
        else []
    )
    out: dict[str, str] = {}
    for m in report.objects(result, SH.resultMessage):
        lang = getattr(m, "language", None) or next(
            (lg for rx, lg in templates if lg and rx.match(str(m))), ""
        )
        out.setdefault(lang, str(m))
    return out


def _results(report: rdflib.Graph, shapes: rdflib.Graph) -> list[ValidationResult]:
    """The top-level results of a report (nested ``sh:detail`` results are left in the graph)."""

    def one(node: rdflib.term.Node, p: rdflib.URIRef) -> str | None:
        v = report.value(node, p)
        return None if v is None else str(v)

    out = []
    for node in (
        r
        for rep in report.subjects(RDF.type, SH.ValidationReport)
        for r in report.objects(rep, SH.result)
    ):
        shape, constraint = (
            report.value(node, SH.sourceShape),
            report.value(node, SH.sourceConstraint),
        )
        out.append(
            ValidationResult(
                severity=local_name(one(node, SH.resultSeverity) or "Violation"),
                focus=one(node, SH.focusNode) or "",
                shape=one(node, SH.sourceShape) or "",
                component=local_name(one(node, SH.sourceConstraintComponent) or ""),
                path=one(node, SH.resultPath),
                value=one(node, SH.value),
                messages=_messages(node, report, shapes, constraint),
                shape_name=_shape_name(shapes, shape, constraint),
            )
        )
    return sorted(
        out, key=lambda r: (SEVERITIES.index(r.severity), r.shape_name, r.focus, r.value or "")
    )


def load_shapes() -> rdflib.Graph:
    """The SHACL shapes of ``ontology/shapes.ttl``."""
    return rdflib.Graph().parse(ontology_file("shapes.ttl"), format="turtle")


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph | None = None) -> rdflib.Graph:
    """Run pyshacl on ``data`` (changed in place: the ontology is mixed in); the report graph."""
    import pyshacl

    shapes = load_shapes() if shapes is None else shapes
    ontology = rdflib.Graph().parse(ontology_file("maillage.ttl"), format="turtle")
    _, report, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        inplace=True,
        allow_warnings=True,
        allow_infos=True,
    )
    return report


def _keep_focus(report: rdflib.Graph, focus: set[str]) -> None:
    """Remove from ``report`` the results whose focus node is not in ``focus``."""
    for rep in list(report.subjects(RDF.type, SH.ValidationReport)):
        for result in list(report.objects(rep, SH.result)):
            if str(report.value(result, SH.focusNode)) not in focus:
                report.remove((rep, SH.result, result))
        conforms = not any(
            report.value(r, SH.resultSeverity) == SH.Violation
            for r in report.objects(rep, SH.result)
        )
        report.set((rep, SH.conforms, rdflib.Literal(conforms)))


def validate_store(
    store: MaillageStore, settings: Settings, graphs: list[NamedNode] | None = None
) -> ValidationReport:
    """Validate the union of the store's graphs (or the subjects of ``graphs``) with SHACL."""
    data, focus, scope = _data_graph(store, settings, graphs)
    triples = len(data)
    shapes = load_shapes()
    report = validate_graph(data, shapes)
    if focus is not None:
        _keep_focus(report, focus)
    return ValidationReport(_results(report, shapes), scope, triples, report)
