"""The labelled synthetic SIRENE generator: format, determinism, distributions, import."""

from __future__ import annotations

import csv
import hashlib
import json

import duckdb
import pytest
from maillage.graph.cli import main
from maillage.graph.ingest.common import luhn_ok
from maillage.graph.ingest.sirene import SireneOptions, import_sirene
from maillage.graph.ingest.sirene_input import ET_COLUMNS, UL_COLUMNS
from maillage.graph.ingest.synth import EMERGING_FROM, EMERGING_NAF, generate_stock
from maillage.graph.namespaces import Iris
from maillage.graph.store import MaillageStore, open_store
from test_sirene import reference_nquads_fixture, store_fixture  # noqa: F401 - shared fixtures

IRIS = Iris()
SYNTH = IRIS.graph("synthetique-sirene")
MAI = "https://w3id.org/maillage/def#"


def _digest(folder) -> str:
    h = hashlib.sha256()
    for name in ("StockUniteLegale_utf8.csv", "StockEtablissement_utf8.csv"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    return out, generate_stock(out, 600, seed=7)


def _import(store, settings, folder, **options):
    return import_sirene(store, settings, folder / "StockUniteLegale_utf8.csv",
                         folder / "StockEtablissement_utf8.csv", SireneOptions(**options))


# ----------------------------------------------------------------------------- files
def test_deterministic_for_a_seed(tmp_path, stock):
    folder, _ = stock
    again = generate_stock(tmp_path / "again", 600, seed=7)
    assert _digest(tmp_path / "again") == _digest(folder)
    assert json.loads((folder / "synth-summary.json").read_text())["expected"] == again.expected
    generate_stock(tmp_path / "other", 600, seed=8)
    assert _digest(tmp_path / "other") != _digest(folder)


def test_exact_insee_columns_and_valid_identifiers(stock):
    folder, summary = stock
    with (folder / "StockUniteLegale_utf8.csv").open(encoding="utf-8") as fh:
        units = list(csv.DictReader(fh))
    with (folder / "StockEtablissement_utf8.csv").open(encoding="utf-8") as fh:
        sites = list(csv.DictReader(fh))
    assert list(units[0]) == UL_COLUMNS and list(sites[0]) == ET_COLUMNS
    assert len(units) == sum(summary.units.values()) and len(sites) == summary.establishments
    assert all(len(u["siren"]) == 9 and luhn_ok(u["siren"]) for u in units)
    assert len({u["siren"] for u in units}) == len(units)
    assert all(luhn_ok(s["siret"]) and s["siret"].startswith(s["siren"]) for s in sites)
    assert len({s["siret"] for s in sites}) == len(sites)
    named = [u for u in units if u["denominationUniteLegale"] or u["nomUniteLegale"]]
    assert len(named) == len(units)
    assert all((u["denominationUniteLegale"] or u["nomUniteLegale"]).startswith("[SYNTHÉTIQUE]")
               for u in units)
    sieges = {(s["siren"], s["nic"]) for s in sites if s["etablissementSiege"] == "true"}
    assert {(u["siren"], u["nicSiegeUniteLegale"]) for u in units} == sieges


def test_distributions(tmp_path):
    generate_stock(tmp_path, 3000, seed=1)
    con = duckdb.connect()
    ul = f"read_csv('{tmp_path / 'StockUniteLegale_utf8.csv'}', all_varchar=true)"
    assoc, total = con.execute(f"""SELECT count(*) FILTER (WHERE categorieJuridiqueUniteLegale
        LIKE '92%'), count(*) FROM {ul} WHERE economieSocialeSolidaireUniteLegale = 'O'
        AND etatAdministratifUniteLegale = 'A'""").fetchone()
    assert 0.70 < assoc / total < 0.85
    codes = ", ".join(f"'{c}'" for c in EMERGING_NAF)
    recent, before = con.execute(f"""
      SELECT avg(CASE WHEN activitePrincipaleUniteLegale IN ({codes}) THEN 1 ELSE 0 END)
        FILTER (WHERE dateCreationUniteLegale >= '{EMERGING_FROM}'),
      avg(CASE WHEN activitePrincipaleUniteLegale IN ({codes}) THEN 1 ELSE 0 END)
        FILTER (WHERE dateCreationUniteLegale < '{EMERGING_FROM}'
                AND dateCreationUniteLegale > '1900-01-01')
      FROM {ul} WHERE economieSocialeSolidaireUniteLegale = 'O'""").fetchone()
    assert recent > 5 * before
    et = f"read_csv('{tmp_path / 'StockEtablissement_utf8.csv'}', all_varchar=true)"
    paris = con.execute(f"""SELECT avg(CASE WHEN codeCommuneEtablissement LIKE '751%'
        THEN 1 ELSE 0 END) FROM {et} WHERE codeCommuneEtablissement LIKE '75%'
        OR codeCommuneEtablissement LIKE '9%' OR codeCommuneEtablissement LIKE '7%'""").fetchone()
    assert 0.12 < paris[0] < 0.25  # Paris ≈ 18 % of the Île-de-France population
    con.close()


# ----------------------------------------------------------------------------- import
def test_import_finds_the_expected_counts_and_marks_everything(stock, store, settings):
    folder, summary = stock
    result = _import(store, settings, folder)
    assert result.synthetic and result.graph == SYNTH
    assert IRIS.graph("sirene") not in store.named_graphs()
    for report, key in zip(result.reports, ("unites_legales", "etablissements")):
        got = report.to_dict()
        want = summary.expected[key]
        assert (got["read"], got["loaded"], got["filters"]) == (
            want["read"], want["loaded"], want["filtered"])
        assert got["quarantined"] == 0
    unmarked = f"""PREFIX mai: <{MAI}> SELECT ?s WHERE {{ GRAPH <{SYNTH.value}> {{
      {{ ?s a mai:Structure }} UNION {{ ?s a mai:Establishment }}
      FILTER NOT EXISTS {{ ?s mai:synthetic true }} }} }}"""
    assert list(store.query(unmarked)) == []
    labels = f"""SELECT ?l WHERE {{ GRAPH <{SYNTH.value}> {{ ?s <{MAI}siren> ?x ;
      <http://www.w3.org/2000/01/rdf-schema#label> ?l }} }}"""
    assert all("[SYNTHÉTIQUE]" in r["l"].value for r in store.query(labels))
    assert bool(store.query(f"ASK {{ GRAPH <{SYNTH.value}> {{ <{SYNTH.value}> <{MAI}synthetic> "
                            f"true }} }}"))


def test_flagless_associations_come_with_the_family_option(stock, store, settings):
    folder, summary = stock
    result = _import(store, settings, folder, families=("associations",))
    assert result.reports[0].n_loaded == summary.units["active"] + summary.units["noflag"]


def test_large_graph_replacement_keeps_the_other_graphs(tmp_path, store, settings):
    generate_stock(tmp_path, 1000, seed=2)  # ~40,000 quads: replaced by a fresh generation
    _import(store, settings, tmp_path)
    others = {g.value: store.count(g) for g in store.named_graphs() if g != SYNTH}
    count = store.count(SYNTH)
    assert count > 20_000
    _import(store, settings, tmp_path)
    reopened = open_store(settings)
    assert {g.value: reopened.count(g) for g in reopened.named_graphs() if g != SYNTH} == others
    assert reopened.count(SYNTH) == count


def test_cli(tmp_path, capsys):
    assert main(["synth", "--structures", "50", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert (tmp_path / "StockUniteLegale_utf8.csv").is_file()


def test_every_drawn_code_exists():
    from maillage.graph.ingest.synth import FAMILIES, NON_ESS_CATEGORIES, OTHER_NAF
    from maillage.graph.resources import data_file

    with data_file("reference", "naf_rev2.csv").open(encoding="utf-8") as fh:
        naf = {r["naf_code"] for r in csv.DictReader(fh)}
    assert {c for codes in OTHER_NAF.values() for c, _ in codes} | set(EMERGING_NAF) <= naf
    with data_file("reference", "categories_juridiques_ess.csv").open(encoding="utf-8") as fh:
        ess = {r["code"] for r in csv.DictReader(fh)}
    drawn = {c for fam, (_, cats, _, _) in FAMILIES.items() for c, _ in cats
             if fam != "societes-commerciales-ess"}
    assert drawn <= ess
    assert not {c for c, _ in NON_ESS_CATEGORIES} & ess
