"""Results written back into graph/analyse with PROV, queryable by SPARQL; the CLI command."""

from __future__ import annotations

import json

import pytest
from maillage.graph.analysis.rdf import write_outputs
from maillage.graph.analysis.runner import run_analyses
from maillage.graph.catalog import query_dataframe
from maillage.graph.cli import main
from maillage.graph.store import MaillageStore
from pyoxigraph import RdfFormat
from test_analysis_gaps import gap_world
from test_analysis_synergies import planted
from test_analysis_world import BASE, IRIS, context

ANALYSE = IRIS.graph("analyse").value


def _rows(store, sparql: str) -> list[dict[str, str]]:
    prefixes = ("PREFIX mai: <https://w3id.org/maillage/def#>\n"
                "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n")
    results = store.query(prefixes + sparql)
    return [{v.value: (s[v].value if s[v] is not None else None) for v in results.variables}
            for s in results]


@pytest.fixture(scope="module")
def written():
    w, c = planted()
    store = w.store()
    ctx = context(store)
    outputs = run_analyses(ctx, [])
    write_outputs(store, ctx.settings, outputs)
    return store, c, outputs


def test_every_run_is_a_prov_activity_with_parameters_and_queries(written):
    store, _, outputs = written
    runs = _rows(store, f"""SELECT ?run ?name ?start ?end ?agent WHERE {{ GRAPH <{ANALYSE}> {{
        ?run a prov:Activity, mai:AnalysisRun ; mai:analysisName ?name ; prov:startedAtTime ?start ;
             prov:endedAtTime ?end ; prov:wasAssociatedWith ?agent }} }} ORDER BY ?name""")
    assert [r["name"] for r in runs] == sorted(o.name for o in outputs)
    assert all(r["run"].startswith(BASE + "id/analyse/") for r in runs)
    used = _rows(store, f"""SELECT ?q WHERE {{ GRAPH <{ANALYSE}> {{
        ?run mai:analysisName "synergies" ; prov:used ?q }} }} ORDER BY ?q""")
    assert IRIS.id("requete", "acteurs_filieres").value in {r["q"] for r in used}
    params = _rows(store, f"""SELECT ?name ?value WHERE {{ GRAPH <{ANALYSE}> {{
        ?run mai:analysisName "synergies" ; mai:parameter ?p . ?p rdfs:label ?name ;
        rdf:value ?value }} }} ORDER BY ?name""")
    assert {"top_k": "5", "level": "commune", "seed": "1"}.items() <= {
        r["name"]: r["value"] for r in params}.items()


def test_results_are_queryable_with_their_evidence(written):
    store, c, _ = written
    rows = _rows(store, f"""SELECT ?r ?score ?evidence WHERE {{ GRAPH <{ANALYSE}> {{
        ?r a mai:SynergyCandidate, mai:AnalysisResult ; mai:rank 1 ; mai:score ?score ;
           mai:evidence ?evidence ; mai:about <{c["p1"]}>, <{c["p2"]}> ;
           prov:wasGeneratedBy ?run . ?run a prov:Activity }} }} ORDER BY ?r""")
    assert len(rows) == 1 and float(rows[0]["score"]) == pytest.approx(1.0)
    assert json.loads(rows[0]["evidence"])["proximity"] == "commune"
    frame = query_dataframe(store, "synergies_territoire", territoire="200000001")
    assert frame.loc[0, "rang"] == 1 and {frame.loc[0, "acteur1"], frame.loc[0, "acteur2"]} == {
        c["p1"], c["p2"]}
    assert frame.loc[0, "relation"] == "amont-aval"
    assert c["p6"] not in set(frame["acteur1"]) | set(frame["acteur2"])
    stored = _rows(store, "SELECT ?r WHERE { ?r a mai:SynergyCandidate } ORDER BY ?r")
    assert len(query_dataframe(store, "synergies_territoire", territoire="91")) == len(stored)
    assert query_dataframe(store, "synergies_territoire", territoire="92").empty  # P6 has none
    partners = query_dataframe(store, "synergies_acteur", acteur=c["p2"])
    assert partners.loc[0, "partenaire"] == c["p1"]
    about = query_dataframe(store, "analyses_ressource", ressource=c["p2"])
    assert {"synergies", "brokers"} <= set(about["analyse"])


def test_rerun_replaces_only_the_same_analysis(written):
    store, _, outputs = written
    ctx = context(store, options={"synergies": {"top_k": 1, "max_stored": 1}})
    before = store.count(IRIS.graph("analyse"))
    write_outputs(store, ctx.settings, run_analyses(ctx, ["synergies"]))
    runs = query_dataframe(store, "analyses_executees")
    assert sorted(runs["analyse"]) == sorted(o.name for o in outputs)  # one run each
    new = _rows(store, """SELECT ?v WHERE { ?run mai:analysisName "synergies" ; mai:parameter ?p .
        ?p rdfs:label "top_k" ; rdf:value ?v } ORDER BY ?v""")
    assert [r["v"] for r in new] == ["1"]
    assert len(_rows(store, "SELECT ?r WHERE { ?r a mai:SynergyCandidate } ORDER BY ?r")) == 1
    assert store.count(IRIS.graph("analyse")) < before
    gaps = _rows(store, "SELECT ?r WHERE { ?r a mai:TerritorialGap } ORDER BY ?r")
    assert gaps  # the other analyses are kept


def test_the_graph_describes_itself(written):
    store, _, _ = written
    rows = _rows(store, f"""PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?title ?source WHERE {{ GRAPH <{ANALYSE}> {{ <{ANALYSE}> dcterms:title ?title ;
        dcterms:source ?source FILTER(lang(?title) = "fr") }} }} ORDER BY ?source""")
    assert {r["source"] for r in rows} >= {IRIS.graph("sirene").value,
                                           IRIS.graph("territoires").value}
    assert len({r["title"] for r in rows}) == 1


def test_not_computed_metrics_are_recorded_in_the_graph():
    w, _ = gap_world()
    store = w.store()
    ctx = context(store, level="epci", territory="200000003")
    write_outputs(store, ctx.settings, run_analyses(ctx, ["colocation"]))
    rows = _rows(store, """SELECT ?why WHERE { ?r a mai:FiliereCommunity ; mai:notComputed ?why }
        ORDER BY ?why""")
    assert len(rows) == 1 and "territoires" in rows[0]["why"]


def test_cli_analyze_writes_exports_and_summarises(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MAILLAGE_BASE_IRI", BASE)
    w, _ = gap_world()
    trig = tmp_path / "world.trig"
    w.store().dump(trig, RdfFormat.TRIG)
    disk = MaillageStore(tmp_path / "store")
    with disk.writing() as writer:
        writer.load(trig, RdfFormat.TRIG)
    out = tmp_path / "out"
    env = ["--store", str(tmp_path / "store")]
    assert main(["analyze", "--out", str(out), "--only", "gaps", "--only", "synergies",
                 "--level", "epci", *env]) == 0
    printed = capsys.readouterr().out
    assert "gaps" in printed and "synergies" in printed and "wrote" in printed
    assert {p.name for p in out.iterdir()} >= {"gaps.json", "synergies.json", "synergies.csv",
                                               "lacunes_domaines.csv"}
    report = json.loads((out / "gaps.json").read_text(encoding="utf-8"))
    assert report["queries"][0] == "territoires_communes" and report["results"]
    again = MaillageStore(tmp_path / "store")
    assert not query_dataframe(again, "lacunes_epci", epci="200000003").empty  # EPCI Trois
    assert main(["analyze", "--only", "nonsense", *env]) == 1
    assert "unknown analysis" in capsys.readouterr().err


def test_an_empty_graph_records_reasons_instead_of_crashing():
    w, _ = gap_world()
    w.structures.clear()
    store = w.store()
    ctx = context(store)
    outputs = run_analyses(ctx, [])
    write_outputs(store, ctx.settings, outputs)
    by_name = {o.name: o for o in outputs}
    for name in ("colocation", "emergence", "synergies", "brokers"):
        assert [r.key for r in by_name[name].results] == ["non-calcule"], name
        assert by_name[name].results[0].not_computed
    reasons = _rows(store, "SELECT ?r ?why WHERE { ?r mai:notComputed ?why } ORDER BY ?r")
    assert len(reasons) >= 4
