"""SHACL validation: the generated vocabularies conform; planted errors in a hand-made fixture are
caught by the right shapes; ``maillage validate`` exits 1 only on violations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from maillage.graph.cli import main
from maillage.graph.namespaces import Iris
from maillage.graph.resources import ontology_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store
from maillage.graph.validate import ValidationReport, validate_store
from maillage.graph.vocabularies import load_vocabularies
from pyoxigraph import RdfFormat

BASE = "https://w3id.org/maillage/"
IRIS = Iris(BASE)
SETTINGS = Settings(base_iri=BASE)
FIXTURES = Path(__file__).parent / "data" / "shacl"
TEST_GRAPH = IRIS.graph("import/essai-shacl")

#: (focus node, shape) of every error planted in planted_errors.ttl, and nothing else.
PLANTED = {
    (BASE + "id/structure/12345678", "Actor-siren"),
    (BASE + "id/structure/732829320", "Actor-label"),
    (BASE + "id/etablissement/73282932000074", "EstablishmentShape.siretPrefix"),
    (BASE + "id/etablissement/12345678200028", "Establishment-locatedIn"),
}


def _fill(store: MaillageStore, fixture: str | None = None) -> MaillageStore:
    with store.writing() as w:
        load_vocabularies(w, SETTINGS)
        if fixture:
            w.load(FIXTURES / fixture, RdfFormat.TURTLE, graph=TEST_GRAPH, base_iri=BASE)
    return store


@pytest.fixture(scope="module")
def planted() -> ValidationReport:
    return validate_store(_fill(MaillageStore(None), "planted_errors.ttl"), SETTINGS)


def test_shapes_parse():
    shapes = rdflib.Graph().parse(ontology_file("shapes.ttl"), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    targets = {str(o).rsplit("#", 1)[-1] for o in shapes.objects(None, sh.targetClass)}
    assert {
        "Structure",
        "Actor",
        "Establishment",
        "Site",
        "Territory",
        "Filiere",
        "Measure",
        "NafActivity",
        "Partnership",
    } <= targets


def test_vocabularies_conform():
    report = validate_store(_fill(MaillageStore(None)), SETTINGS)
    assert report.results == [], report.summary_text()
    assert report.conforms and report.triples > 9000


def test_planted_errors_are_caught_by_the_right_shapes(planted):
    assert not planted.conforms
    got = {(r.focus, r.shape_name) for r in planted.results}
    assert got == PLANTED, planted.summary_text()
    assert all(r.severity == "Violation" for r in planted.results)
    assert planted.counts_by_severity() == {"Violation": 4, "Warning": 0, "Info": 0}


def test_results_carry_values_and_messages_in_both_languages(planted):
    by_shape = {r.shape_name: r for r in planted.results}
    siren = by_shape["Actor-siren"]
    assert siren.value == "12345678" and siren.path.endswith("#siren")
    prefix = by_shape["EstablishmentShape.siretPrefix"]
    assert "73282932000074" in prefix.message("fr") and "123456782" in prefix.message("fr")
    assert prefix.message("en").startswith("The SIRET")
    for r in planted.results:
        assert set(r.messages) == {"fr", "en"}, r


def test_report_is_rdf_and_json(planted):
    g = rdflib.Graph().parse(data=planted.to_turtle(), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    [report] = list(g.subjects(rdflib.RDF.type, sh.ValidationReport))
    assert g.value(report, sh.conforms) == rdflib.Literal(False)
    assert len(list(g.objects(report, sh.result))) == 4
    data = json.loads(planted.to_json())
    assert data["conforms"] is False and len(data["results"]) == 4
    assert data["counts_by_shape"]["Actor-siren (Violation)"] == 1


def test_restricting_to_a_graph_reports_only_its_subjects():
    store = _fill(MaillageStore(None), "planted_errors.ttl")
    only_test = validate_store(store, SETTINGS, [TEST_GRAPH])
    assert {(r.focus, r.shape_name) for r in only_test.results} == PLANTED
    assert "restricted" in only_test.scope and IRIS.graph("vocabulaires").value in only_test.scope
    only_voc = validate_store(store, SETTINGS, [IRIS.graph("vocabulaires")])
    assert only_voc.results == [] and only_voc.conforms


def _disk_store(settings: Settings, fixture: str | None) -> str:
    """The fixture in the store of ``settings`` (a directory, or a remote engine)."""
    _fill(open_store(settings), fixture)
    return settings.store


def test_cli_exits_1_on_violations_and_writes_the_report(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.delenv("MAILLAGE_BASE_IRI", raising=False)
    path = _disk_store(settings, "planted_errors.ttl")
    report = tmp_path / "report.ttl"
    assert main(["validate", "--store", str(path), "--report", str(report)]) == 1
    out = capsys.readouterr()
    assert "4 violation(s)" in out.out and "Actor-siren" in out.out
    assert "4 SHACL violation(s)" in out.err
    g = rdflib.Graph().parse(report, format="turtle")
    assert len(g) > 20


def test_cli_warnings_do_not_fail(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.delenv("MAILLAGE_BASE_IRI", raising=False)
    path = _disk_store(settings, "warnings_only.ttl")
    assert main(["validate", "--store", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["conforms"] is True
    assert data["counts_by_severity"] == {"Violation": 0, "Warning": 2, "Info": 0}


def test_cli_graph_by_name_and_unknown_graph(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.delenv("MAILLAGE_BASE_IRI", raising=False)
    path = _disk_store(settings, "planted_errors.ttl")
    assert main(["validate", "--store", str(path), "--graph", "vocabulaires"]) == 0
    assert (
        "restricted to the subjects of " + IRIS.graph("vocabulaires").value
        in capsys.readouterr().out
    )
    assert main(["validate", "--store", str(path), "--graph", "absent"]) == 1
    assert "no such graph" in capsys.readouterr().err
