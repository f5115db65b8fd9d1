"""``maillage init`` end to end: the real CLI builds the reference graph on disk, atomically."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from maillage.graph import institutions
from maillage.graph.cli import main
from maillage.graph.namespaces import Iris, sparql_prefixes
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from pyoxigraph import Literal, NamedNode, Quad

PREFIXES = sparql_prefixes()
IRIS = Iris(Settings().base_iri)
REFERENCE_GRAPHS = ("ontologie", "vocabulaires", "naf-filieres", "territoires", "institutions")
IMPORT_GRAPH = IRIS.graph("import/essai")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A store built once per module by ``maillage init`` (default base IRI)."""
    path = tmp_path_factory.mktemp("init") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAILLAGE_BASE_IRI", raising=False)
        assert main(["init", "--store", str(path)]) == 0
    return path


@pytest.fixture
def copy_of_built(built, tmp_path, monkeypatch):
    monkeypatch.delenv("MAILLAGE_BASE_IRI", raising=False)
    target = tmp_path / "store"
    shutil.copytree(built, target, symlinks=True)
    return target


def _scalar(store: MaillageStore, query: str) -> str:
    return next(iter(store.query(PREFIXES + query)))[0].value  # type: ignore[index]


def _graph_counts(store: MaillageStore) -> dict[str, int]:
    return {g.value: store.count(g) for g in store.named_graphs()}


def test_init_builds_every_reference_graph_describing_itself(built):
    store = MaillageStore(built)
    graphs = {g.value for g in store.named_graphs()}
    assert {IRIS.graph(n).value for n in REFERENCE_GRAPHS} <= graphs
    for g in graphs:
        assert bool(store.query(f"""PREFIX dcat: <http://www.w3.org/ns/dcat#>
            ASK {{ GRAPH <{g}> {{ <{g}> a dcat:Dataset }} }}""")), g


@pytest.mark.parametrize(
    ("cls", "expected"),
    [("igeo:Region", 1), ("igeo:Departement", 8), ("igeo:Intercommunalite", 52),
     ("igeo:Commune", 1266), ("igeo:ArrondissementMunicipal", 20), ("mai:Partnership", 3)],
)
def test_init_counts(built, cls, expected):
    store = MaillageStore(built)
    assert int(_scalar(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a {cls} }}")) == expected


def test_institutions_link_to_programmes_and_filieres_of_the_vocabularies(built):
    store = MaillageStore(built)
    programmes = int(_scalar(store, """SELECT (COUNT(DISTINCT ?prog) AS ?n) WHERE {
        ?p a mai:Partnership ; mai:targets ?prog . ?prog a mai:PublicProgramme }"""))
    assert programmes == 2
    dangling = int(_scalar(store, """SELECT (COUNT(*) AS ?n) WHERE {
        ?theme a mai:CallTheme ; mai:filiere|mai:domain ?f
        FILTER NOT EXISTS { ?f a skos:Concept } }"""))
    assert dangling == 0
    linked = int(_scalar(store, """SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {
        ?theme a mai:CallTheme ; mai:filiere ?f . ?f a skos:Concept }"""))
    assert linked >= 3


def _add_import_graph(path) -> None:
    with MaillageStore(path).writing() as w:
        w.add_quads([Quad(NamedNode("http://example.org/s"), NamedNode("http://example.org/p"),
                          Literal("kept"), IMPORT_GRAPH)])


@pytest.mark.parametrize(("error", "exit_code"), [(RuntimeError, None), (KeyboardInterrupt, 130)])
def test_interrupted_init_leaves_the_previous_store_intact(copy_of_built, monkeypatch, capsys,
                                                           error, exit_code):
    _add_import_graph(copy_of_built)
    before = _graph_counts(MaillageStore(copy_of_built))
    current = (copy_of_built / "current").readlink()
    real = institutions.load_institutions

    def crash_after_writing(writer, settings):
        real(writer, settings)
        writer.drop_graph(IRIS.graph("territoires"))
        raise error("simulated crash in the middle of init")

    monkeypatch.setattr(institutions, "load_institutions", crash_after_writing)
    if exit_code is None:
        with pytest.raises(error, match="simulated crash"):
            main(["init", "--store", str(copy_of_built)])
    else:
        assert main(["init", "--store", str(copy_of_built)]) == exit_code
        assert "Interrupted: the store is unchanged." in capsys.readouterr().err
    store = MaillageStore(copy_of_built)
    assert _graph_counts(store) == before
    assert int(_scalar(store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a igeo:Commune }")) == 1266
    assert (copy_of_built / "current").readlink() == current


def test_init_keeps_imported_graphs_unless_fresh(copy_of_built):
    _add_import_graph(copy_of_built)
    assert main(["init", "--store", str(copy_of_built)]) == 0
    assert IMPORT_GRAPH in MaillageStore(copy_of_built).named_graphs()
    assert main(["init", "--fresh", "--store", str(copy_of_built)]) == 0
    graphs = MaillageStore(copy_of_built).named_graphs()
    assert IMPORT_GRAPH not in graphs and IRIS.graph("territoires") in graphs


def test_init_on_a_file_is_a_clear_error_without_traceback(tmp_path):
    target = tmp_path / "store"
    target.write_text("not a directory", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "maillage.graph.cli", "init", "--store", str(target)],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Error:" in proc.stderr and str(target) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert target.read_text(encoding="utf-8") == "not a directory"


def test_reference_graph_conforms_to_the_shapes(built):
    from maillage.graph.validate import validate_store

    report = validate_store(MaillageStore(built), Settings())
    assert report.conforms, [str(v) for v in report.violations][:5]


def test_every_term_used_in_the_reference_graph_is_declared(built):
    """Every mai: class and property used in produced data is declared in the ontology."""
    store = MaillageStore(built)
    used = {r["t"].value for r in store.query(PREFIXES + """
        SELECT DISTINCT ?t WHERE {
          { ?s ?t ?o } UNION { ?s a ?t }
          FILTER(STRSTARTS(STR(?t), "https://w3id.org/maillage/def#"))
        } ORDER BY ?t""")}
    declared = {r["t"].value for r in store.query(PREFIXES + """
        SELECT DISTINCT ?t WHERE { GRAPH ?g { ?t a ?k }
          VALUES ?k { owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty
                      rdf:Property } } ORDER BY ?t""")}
    assert used - declared == set()
