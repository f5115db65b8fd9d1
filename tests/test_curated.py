"""The real curated datasets of data/raw imported with the shipped mappings, on the real
reference graph (territories with postcodes, tee vocabulary) built once per session."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from maillage.graph.cli import main
from maillage.graph.ingest.csv_import import import_csv
from maillage.graph.ingest.curated import CURATED, SKIPPED, curated_mappings, import_curated
from maillage.graph.ingest.locate import fold
from maillage.graph.namespaces import CC_BY_SA_4, Iris, sparql_prefixes
from maillage.graph.reference import build_reference
from maillage.graph.resources import data_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from maillage.graph.validate import validate_store
from pyoxigraph import RdfFormat

BASE = "https://w3id.org/maillage/"
IRIS = Iris(BASE)
RAW = data_file("raw")
COOP = RAW / "cooptracker-energie-citoyenne-idf"
TESTDATA = Path(__file__).parent / "data" / "csv"


@pytest.fixture(scope="session")
def reference_nquads() -> bytes:
    store = MaillageStore(None)
    build_reference(store, Settings(base_iri=BASE))
    buf = io.BytesIO()
    store.dump(buf, RdfFormat.N_QUADS)
    return buf.getvalue()


@pytest.fixture
def ref_store(reference_nquads) -> MaillageStore:
    store = MaillageStore(None)
    with store.writing() as w:
        w.load(reference_nquads, RdfFormat.N_QUADS)
    return store


@pytest.fixture
def curated(ref_store):
    reports = import_curated(ref_store, Settings(base_iri=BASE))
    return ref_store, {r.extra["dataset"]: r for r in reports}


def _select(store: MaillageStore, sparql: str) -> list[dict[str, str]]:
    res = store.query(sparql_prefixes() + sparql)
    names = [v.value for v in res.variables]
    return [{n: (r[n].value if r[n] is not None else None) for n in names} for r in res]


def _graph(name: str) -> str:
    return IRIS.graph(f"import/{name}").value


def _csv(path: Path, delimiter: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def test_every_shipped_mapping_is_listed_and_valid():
    shipped = sorted(p.stem for p in data_file("mappings").glob("*.toml"))
    assert sorted(CURATED) == shipped
    for m in curated_mappings():
        assert m.shipped_file() is not None and m.shipped_file().is_file()
    assert all(why for why in SKIPPED.values())


def test_ateliers_velo(curated):
    store, reports = curated
    report = reports["ateliers-velo"]
    assert report.counts() == {"read": 776, "loaded": 63, "filtered": 713, "quarantined": 0}
    rows = _select(store, f"""SELECT ?a ?code WHERE {{ GRAPH <{_graph('ateliers-velo')}> {{
        ?a a mai:Actor ; mai:locatedIn ?c }} ?c igeo:codeINSEE ?code }}""")
    by_dept = Counter(r["code"][:2] for r in rows)
    # SOURCES.md: 75=17, 93=14, 92=10, 91=6, 78=5, 94=5, 95=4, 77=2
    assert by_dept == {"75": 17, "93": 14, "92": 10, "91": 6, "78": 5, "94": 5, "95": 4, "77": 2}
    members = _select(store, f"""SELECT ?a WHERE {{ GRAPH <{_graph('ateliers-velo')}> {{
        ?a org:memberOf <{IRIS.organisation('heureux-cyclage').value}> }} }}""")
    assert len(members) == 32  # SOURCES.md: 32 of the 63 are network members
    filiere = _select(store, f"""SELECT DISTINCT ?f ?d WHERE {{
        GRAPH <{_graph('ateliers-velo')}> {{ ?a mai:filiere ?f ; mai:domain ?d }} }}""")
    assert filiere == [{"f": IRIS.concept("tee", "velo").value,
                        "d": IRIS.concept("tee", "mobilite-douce").value}]


def test_ateliers_velo_every_actor_has_geometry_and_distinct_iri(curated):
    store, _ = curated
    rows = _select(store, f"""SELECT ?a (COUNT(?wkt) AS ?n) WHERE {{
        GRAPH <{_graph('ateliers-velo')}> {{ ?a a mai:Actor ; geo:hasGeometry/geo:asWKT ?wkt }}
        }} GROUP BY ?a""")
    assert len(rows) == 63 and {r["n"] for r in rows} == {"1"}
    viroflay = [r["a"] for r in rows if "la-boite-a-cycler-78220" in r["a"]]
    assert len(viroflay) == 2  # two workshops, same name and postcode: keys add the address


def test_energy_cooperatives_and_served_communes(curated):
    store, reports = curated
    assert reports["energie-citoyenne-cooperatives"].counts()["loaded"] == 5
    coops = _select(store, f"""SELECT ?c ?url WHERE {{ GRAPH <{_graph(
        'energie-citoyenne-cooperatives')}> {{ ?c a mai:Actor ; schema:url ?url ;
        mai:filiere <{IRIS.concept('tee', 'enr-citoyennes').value}> }} }}""")
    assert len(coops) == 5
    # the 22 (cooperative, commune) pairs of cooperatives.csv: each is a mai:serves link, or
    # is quarantined because the territory table does not know its commune code
    pairs = _csv(COOP / "cooperatives.csv", ";")
    known = {r["code"] for r in _select(store, "SELECT ?code WHERE { ?t igeo:codeINSEE ?code }")}
    links = _select(store, f"""SELECT ?name ?code WHERE {{
        GRAPH <{_graph('energie-citoyenne-communes')}> {{ ?c mai:serves ?t }}
        ?c rdfs:label ?name . ?t igeo:codeINSEE ?code }}""")
    expected = {(fold(p["coop"]), p["code_commune"]) for p in pairs if p["code_commune"] in known}
    assert {(fold(r["name"]), r["code"]) for r in links} == expected
    report = reports["energie-citoyenne-communes"]
    assert report.counts()["read"] == 22
    assert report.counts()["loaded"] == len(expected)
    missing = sorted(p["code_commune"] for p in pairs if p["code_commune"] not in known)
    assert sorted(q.reason.rsplit(" ", 1)[1] for q in report.quarantined_rows) == missing


def test_energy_sites(curated):
    store, reports = curated
    report = reports["energie-citoyenne-sites"]
    assert report.counts() == {"read": 27, "loaded": 27, "filtered": 0, "quarantined": 0}
    g = _graph("energie-citoyenne-sites")
    sites = _select(store, f"""SELECT ?s ?kw ?date ?code WHERE {{ GRAPH <{g}> {{
        ?s a mai:Site ; mai:peakPowerKw ?kw ; mai:commissioningDate ?date ;
           mai:locatedIn ?c ; geo:hasGeometry/geo:asWKT ?wkt }} ?c igeo:codeINSEE ?code }}""")
    assert len(sites) == 27
    source = _csv(COOP / "sites_pv_idf_from_config_EP.csv", ",")
    assert sorted(float(s["kw"]) for s in sites) == sorted(float(r["PeakPW"]) for r in source)
    assert all("9999" not in s["s"] for s in sites)  # EPID 9999 is a placeholder
    assert IRIS.site("energie-citoyenne-sites", "mont-valerien-92073").value in {
        s["s"] for s in sites}
    operated = _select(store, f"""SELECT ?s ?name WHERE {{ GRAPH <{g}> {{ ?s org:siteOf ?c .
        ?c org:hasSite ?s }} ?c rdfs:label ?name }}""")
    coop_names = {fold(r["COOP"]) for r in _csv(COOP / "cooperatives_from_config_EP.csv", ",")}
    expected = sum(fold(r["COOP"]) in coop_names for r in source)
    assert len(operated) == expected and expected < 27
    assert report.warnings[
        "org:siteOf: no resource with name 'Energie Partagee' in dataset "
        "energie-citoyenne-cooperatives"] == 27 - expected


def test_energy_graphs_state_licence_and_share_alike(curated):
    store, _ = curated
    for name in ("energie-citoyenne-cooperatives", "energie-citoyenne-communes",
                 "energie-citoyenne-sites"):
        g = _graph(name)
        rights = _select(store, f"""SELECT ?r WHERE {{ GRAPH <{g}> {{
            <{g}> dcterms:license <{CC_BY_SA_4.value}> ; dcterms:rights ?r }} }}""")
        texts = {r["r"] for r in rights}
        assert "© Électrons solaires, https://www.electrons-solaires93.org/" in texts
        assert any(t.startswith("Partage dans les mêmes conditions") for t in texts)


def test_curated_reimport_is_idempotent(curated):
    store, _ = curated
    q = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s a ?c ; ?p ?o FILTER(?c IN (mai:Actor, mai:Site)) } }"
    first = sorted(tuple(r.values()) for r in _select(store, q))
    import_curated(store, Settings(base_iri=BASE))
    assert sorted(tuple(r.values()) for r in _select(store, q)) == first


def test_lvao_actors_are_all_outside_idf(ref_store):
    report = import_csv(ref_store, Settings(base_iri=BASE), TESTDATA / "lvao-acteurs.toml",
                        RAW / "lvao-qfdmo-fixtures" / "acteurs.json")
    assert report.counts() == {"read": 10, "loaded": 0, "filtered": 10, "quarantined": 0}
    assert dict(report.filters) == {"outside Île-de-France": 10}


@pytest.mark.slow
def test_curated_graphs_conform_to_the_shapes(curated):
    store, _ = curated
    graphs = [IRIS.graph(f"import/{name}") for name in CURATED]
    report = validate_store(store, Settings(base_iri=BASE), graphs=graphs)
    assert [(r.focus, r.shape_name, r.message("en")) for r in report.results] == []


def test_cli_import_curated(disk_store, settings, tmp_path, capsys):
    build_reference(disk_store, settings)
    code = main(["import", "curated", "--store", settings.store,
                 "--report-dir", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "liste.csv: read 776 = loaded 63 + filtered 713 + quarantined 0" in out
    assert "not imported: laposte-codes-postaux/laposte_hexasmal_idf.csv" in out
    assert sorted(p.name for p in tmp_path.glob("*-report.json")) == sorted(
        f"{name}-report.json" for name in CURATED)
    graphs = {g.value for g in disk_store.named_graphs()}
    assert {_graph(name) for name in CURATED} <= graphs
