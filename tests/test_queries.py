"""The named queries answer the seven questions on the hand-made fixture ``tests/data/mini``.

Every expected value below is computed by hand from the fixture's tables (see
``tests/data/mini/README.md``), not by running the query. Snapshot tests compare each query's
full result table with ``tests/snapshots/queries/<id>.csv``; regenerate them with
``MAILLAGE_UPDATE_SNAPSHOTS=1 pytest tests/test_queries.py``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from maillage.graph.catalog import all_queries, get_query, query_dataframe, run_named_query
from maillage.graph.rdfio import term_text
from maillage.graph.settings import Settings
from engines import BACKENDS
from maillage.graph.store import MaillageStore, open_store
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat

BASE = "https://w3id.org/maillage/"
MINI = Path(__file__).parent / "data" / "mini" / "mini.trig"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "queries"
SETTINGS = Settings(base_iri=BASE)
#: Columns holding a GROUP_CONCAT list: their tokens are compared as sets.
LIST_COLUMNS = {"filieres", "domaines", "communes", "types", "sources", "themes"}
MAI = "https://w3id.org/maillage/def#"


def structure(siren: str) -> str:
    return f"{BASE}id/structure/{siren}"


S1, S2, S3, S4, S5 = (structure(s) for s in ("900000019", "900000027", "900000035", "900000043",
                                            "900000050"))
S7, S9, S10, S11 = (structure(s) for s in ("900000076", "900000092", "900000100", "900000118"))
C1 = f"{BASE}id/acteur/ateliers-velo/atelier-du-20e"
C2 = f"{BASE}id/acteur/ateliers-velo/cyclo-melun"


def load_mini(location: str | None = None) -> MaillageStore:
    """The fixture in memory, or on the SPARQL engine at ``location`` (remote backend)."""
    store = MaillageStore(None) if location is None else open_store(Settings(store=location))
    with store.writing() as w:
        w.load(MINI, RdfFormat.TRIG, bulk=False)
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def mini(request, engine_factory) -> MaillageStore:
    """Every named query runs on both backends and must give the same answers."""
    return load_mini(engine_factory().url if request.param == "remote" else None)


def rows(store: MaillageStore, query_id: str, **params: str) -> list[dict[str, str]]:
    """The results as dicts of plain strings ('' for unbound)."""
    results = run_named_query(store, query_id, params, settings=SETTINGS)
    names = [v.value for v in results.variables]
    return [{n: term_text(sol[n]) for n in names} for sol in results]


def column(table: list[dict[str, str]], name: str) -> list[str]:
    return [r[name] for r in table]


def by(table: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    out = {r[key]: r for r in table}
    assert len(out) == len(table), f"{key} is not unique in {table}"
    return out


def ints(row: dict[str, str], *names: str) -> tuple[int, ...]:
    return tuple(int(row[n]) for n in names)


# ---------------------------------------------------------------------------- 1. panorama
def test_panorama_domaines_region(mini):
    table = by(rows(mini, "panorama_domaines"), "domaine")
    cols = ("acteurs", "structures_sirene", "etablissements", "effectif_min", "effectif_max",
            "sans_tranche")
    assert {d: ints(r, *cols) for d, r in table.items()} == {
        "alimentation-durable": (2, 2, 2, 51, 101, 0),
        "batiment-energie": (2, 2, 3, 20, 49, 0),
        "economie-circulaire": (4, 4, 5, 64, 125, 0),
        "mobilite-douce": (4, 2, 2, 2, 4, 2),
    }
    assert set(column(list(table.values()), "territoire")) == {"11"}
    assert table["economie-circulaire"]["libelle"] == "Économie circulaire"


def test_panorama_domaines_departement(mini):
    table = by(rows(mini, "panorama_domaines", territoire="93"), "domaine")
    cols = ("acteurs", "structures_sirene", "etablissements", "effectif_min", "effectif_max")
    assert {d: ints(r, *cols) for d, r in table.items()} == {
        "alimentation-durable": (1, 1, 1, 50, 99),
        "batiment-energie": (1, 1, 1, 0, 0),  # S7's solar site is a place, not an establishment
        "economie-circulaire": (3, 3, 3, 14, 26),
        "mobilite-douce": (2, 2, 2, 2, 4),
    }


def test_panorama_by_territory_level(mini):
    epci = rows(mini, "panorama_domaines_territoires", niveau="epci")
    got = {(r["territoire"], r["domaine"]): ints(r, "acteurs", "etablissements") for r in epci}
    assert got == {
        ("200037133", "alimentation-durable"): (1, 1),
        ("200054781", "alimentation-durable"): (1, 1),
        ("200054781", "batiment-energie"): (1, 1),
        ("200054781", "economie-circulaire"): (4, 5),
        ("200054781", "mobilite-douce"): (3, 2),
        ("247700057", "batiment-energie"): (1, 2),
        ("247700057", "mobilite-douce"): (1, 0),
    }
    communes = rows(mini, "panorama_domaines_territoires", niveau="commune")
    got = {(r["territoire"], r["domaine"]): ints(r, "acteurs", "etablissements") for r in communes}
    assert len(got) == 12
    assert got[("93066", "batiment-energie")] == (1, 0)
    assert got[("75056", "economie-circulaire")] == (2, 2)
    assert ("93008", "economie-circulaire") not in got  # S2's establishment there is closed
    assert {r["niveau"] for r in communes} == {"commune"}


def test_panorama_filieres_and_staff_bands(mini):
    table = by(rows(mini, "panorama_filieres"), "filiere")
    assert ints(table["reparation"], "acteurs", "etablissements", "effectif_min",
                "effectif_max") == (2, 2, 4, 7)
    assert ints(table["velo"], "acteurs", "structures_sirene", "sans_tranche") == (3, 2, 1)
    assert ints(table["ressourcerie-recyclerie"], "acteurs") == (1,)  # S6 is closed
    assert table["cyclologistique"]["domaine"] == "mobilite-douce"
    bands = rows(mini, "panorama_tranches", domaine="economie-circulaire")
    assert {r["tranche"]: int(r["acteurs"]) for r in bands} == {"01": 1, "02": 1, "11": 1, "21": 1}


def test_panorama_familles(mini):
    table = rows(mini, "panorama_familles")
    got = {(r["domaine"], r["famille"]): ints(r, "acteurs", "etablissements") for r in table}
    assert got == {
        ("alimentation-durable", "cooperatives"): (1, 1),
        ("alimentation-durable", "societes-commerciales-ess"): (1, 1),
        ("batiment-energie", "cooperatives"): (1, 2),
        ("batiment-energie", "mutuelles"): (1, 1),
        ("economie-circulaire", "associations"): (3, 4),
        ("economie-circulaire", "cooperatives"): (1, 1),
        ("mobilite-douce", ""): (2, 0),
        ("mobilite-douce", "associations"): (2, 2),
    }
    unknown = next(r for r in table if r["famille"] == "")
    assert unknown["libelle_famille"] == "non renseignée"


# ---------------------------------------------------------------------------- 2. actors
@pytest.mark.parametrize(("filiere", "territoire", "expected"), [
    ("reparation", "93", {S2: (1, "93048"), S10: (1, "93066")}),
    ("economie-circulaire", "75", {S1: (1, "75111"), S5: (1, "75120")}),
    ("velo", "200054781", {C1: (0, "75120"), S10: (1, "93066"), S3: (1, "93066")}),
    ("mobilite-douce", "77", {C2: (0, "77288")}),
    ("batiment-energie", "93066", {S7: (0, "93066")}),
    ("reparation", "93008", {}),
])
def test_actors_of_a_filiere_in_a_territory(mini, filiere, territoire, expected):
    table = rows(mini, "acteurs_filiere_territoire", filiere=filiere, territoire=territoire)
    assert {r["acteur"]: (int(r["etablissements"]), r["communes"]) for r in table} == expected
    assert all(r["filiere"] == filiere and r["territoire"] == territoire for r in table)
    assert column(table, "nom") == sorted(column(table, "nom"))


# ---------------------------------------------------------------------------- 3. measures
def test_measures_with_and_without_local_actors(mini):
    table = rows(mini, "mesures_territoire", territoire="93")
    got = {(r["programme"], r["mesure"]): (int(r["acteurs_locaux"]), r["couverte"],
                                           set(r["filieres"].split()))
           for r in table}
    assert got == {
        ("frec", "1"): (0, "false", {"recyclage"}),
        ("frec", "5"): (0, "false", set()),
        ("frec", "8"): (3, "true", {"reemploi", "reparation"}),
        ("preb", "PREB-A2"): (0, "false", {"renovation-energetique"}),
        ("preb", "PREB-A3"): (1, "true", {"renovation-energetique", "enr-citoyennes"}),
    }
    preb = rows(mini, "mesures_territoire", territoire="77", programme="preb")
    assert {r["mesure"]: int(r["acteurs_locaux"]) for r in preb} == {"PREB-A2": 1, "PREB-A3": 1}


# ---------------------------------------------------------------------------- 4. white zones
def test_white_zones_communes_and_median(mini):
    table = rows(mini, "zones_blanches_communes", filiere="economie-circulaire")
    assert column(table, "commune") == ["93008", "77288", "77152", "77379",
                                        "75120", "75111", "93066", "93048"]
    white = [r["commune"] for r in table if r["zone_blanche"] == "true"]
    assert white == ["93008", "77288", "77152", "77379"]
    density = {r["commune"]: float(r["densite"]) for r in table}
    assert density["93048"] == pytest.approx(2 * 10_000 / 109_897)
    assert density["75120"] == pytest.approx(10_000 / 195_814)
    median = (0 + 10_000 / 195_814) / 2
    assert [float(r["mediane_idf"]) for r in table] == pytest.approx([median] * 8)
    assert float(by(table, "commune")["93066"]["ecart_mediane"]) == pytest.approx(
        10_000 / 141_441 - median)


def test_white_zones_keep_the_regional_median_when_filtered(mini):
    table = rows(mini, "zones_blanches_communes", filiere="mobilite-douce", departement="77")
    assert {r["commune"]: r["zone_blanche"] for r in table} == {
        "77152": "true", "77379": "true", "77288": "false"}
    assert {float(r["mediane_idf"]) for r in table} == {0.0}


def test_white_zones_epci(mini):
    table = rows(mini, "zones_blanches_epci", filiere="mobilite-douce")
    assert column(table, "epci") == ["200037133", "200054781", "247700057"]
    got = {r["epci"]: (int(r["acteurs"]), float(r["densite"])) for r in table}
    assert got["200054781"] == (3, pytest.approx(3 * 10_000 / 2_492_504))
    assert got["247700057"] == (1, pytest.approx(10_000 / 61_867))
    assert [float(r["mediane_idf"]) for r in table] == pytest.approx([3 * 10_000 / 2_492_504] * 3)
    ec = rows(mini, "zones_blanches_epci", filiere="economie-circulaire")
    assert [r["epci"] for r in ec if r["zone_blanche"] == "true"] == ["247700057", "200037133"]
    assert {float(r["mediane_idf"]) for r in ec} == {0.0}


# ---------------------------------------------------------------------------- 5. trends
def test_creations_per_filiere_and_year(mini):
    table = rows(mini, "creations_par_filiere")
    got = {(r["filiere"], int(r["annee"])): ints(r, "creations", "encore_actifs") for r in table}
    assert got == {
        ("amap", 2023): (1, 1), ("circuits-courts", 2001): (1, 1),
        ("enr-citoyennes", 2019): (1, 1), ("renovation-energetique", 2010): (1, 1),
        ("gestion-dechets", 2005): (1, 1), ("reemploi", 2015): (1, 1),
        ("reparation", 2021): (2, 2), ("ressourcerie-recyclerie", 2012): (1, 0),
        ("ressourcerie-recyclerie", 2015): (1, 1), ("cyclologistique", 2018): (1, 1),
        ("cyclologistique", 2020): (1, 0), ("velo", 2021): (1, 1), ("velo", 2022): (1, 1),
    }


def test_closures_per_filiere_and_year(mini):
    table = rows(mini, "fermetures_par_filiere")
    got = {(r["filiere"], int(r["annee"])): (int(r["fermetures"]), float(r["duree_moyenne"]))
           for r in table}
    # S2's establishment closed in 2020 is not a closure of an actor.
    assert got == {("ressourcerie-recyclerie", 2023): (1, 11.0), ("cyclologistique", 2024): (1, 4.0)}


# ---------------------------------------------------------------------------- 6. DLA and calls
def test_dla_targets(mini):
    table = rows(mini, "dla_cibles", territoire="93", date_reference="2024-06-30")
    got = {r["acteur"]: (r["petit_employeur"], r["jeune"]) for r in table}
    assert got == {S1: ("true", "false"), S2: ("true", "true"), S3: ("true", "true"),
                   S10: ("true", "true"), S7: ("false", "true")}
    assert {r["annees"] for r in table} == {"5"}
    one_year = rows(mini, "dla_cibles", territoire="93", date_reference="2024-06-30", annees="1")
    assert {r["acteur"] for r in one_year} == {S1, S2, S3, S10}
    assert {r["jeune"] for r in one_year} == {"false"}
    seine_et_marne = rows(mini, "dla_cibles", territoire="77", date_reference="2024-06-30")
    assert {r["acteur"]: r["jeune"] for r in seine_et_marne} == {S4: "false", S9: "true"}


def test_dla_targets_default_to_today(mini):
    """Without a reference date the age is computed at today's date: small employers are
    listed whatever the day, and S11 (50–99 employees, created 2001) never is."""
    table = rows(mini, "dla_cibles", territoire="93")
    assert {S1, S2, S3, S10} <= {r["acteur"] for r in table}
    assert S11 not in {r["acteur"] for r in table}
    assert {r["date_reference"] for r in table} == {""}


def test_structures_fitting_a_call(mini):
    table = rows(mini, "eligibles_appel", appel="reemploi-2024", territoire="93")
    assert {r["acteur"]: r["candidat"] for r in table} == {S1: "true", S2: "true", S10: "false"}
    paris = rows(mini, "eligibles_appel", appel="reemploi-2024", territoire="75")
    assert {r["acteur"]: r["themes"] for r in paris} == {
        S1: "Réemploi et réparation", S5: "Collecte solidaire"}
    mobility = rows(mini, "eligibles_appel", appel="mobilite-2025", territoire="11")
    assert {r["acteur"] for r in mobility} == {C1, C2, S3, S10}


def test_applications_and_laureates_by_theme(mini):
    table = rows(mini, "candidatures_par_theme")
    got = {(r["appel"], r["libelle_theme"]): (r["candidatures_annoncees"], r["candidatures"],
                                              r["laureats"]) for r in table}
    assert got == {
        ("mobilite-2025", "Services de mobilité douce"): ("", "0", "0"),
        ("reemploi-2024", "Collecte solidaire"): ("1", "1", "1"),
        ("reemploi-2024", "Réemploi et réparation"): ("2", "2", "1"),
    }


# ---------------------------------------------------------------------------- 7. partners
def test_partners_of_a_structure(mini):
    table = rows(mini, "partenaires_structure", structure=S2)
    assert [(r["partenaire"], r["relation"], r["proximite"], r["rang"]) for r in table] == [
        (S1, "complementaire", "commune", "1"),
        (S10, "meme-filiere", "epci", "2"),
        (C1, "complementaire", "epci", "2"),
        (S3, "complementaire", "epci", "2"),
    ]


def test_partners_same_commune_and_none_far_away(mini):
    table = rows(mini, "partenaires_structure", structure="id/structure/900000035")
    assert {r["partenaire"]: (r["relation"], r["rang"]) for r in table} == {
        S10: ("meme-filiere", "1"), C1: ("meme-filiere", "2"), S2: ("complementaire", "2")}
    assert rows(mini, "partenaires_structure", structure=S4) == []


# ---------------------------------------------------------------------------- extras
def test_graphs_describe_themselves(mini):
    table = by(rows(mini, "graphes"), "graphe")
    assert len(table) == 7
    synthetic = {g.removeprefix(BASE) for g, r in table.items() if r["synthetique"] == "true"}
    assert synthetic == {"graph/synthetique-sirene", "graph/import/ateliers-velo",
                         "graph/import/energie-citoyenne"}
    assert table[f"{BASE}graph/territoires"]["licence"].startswith("https://www.etalab.gouv.fr/")


def test_label_search(mini):
    table = rows(mini, "recherche", texte="Répar")
    found = {r["ressource"].removeprefix(BASE) for r in table}
    assert found == {"id/structure/900000027", "id/structure/900000100", "voc/tee/reparation",
                     "voc/frec/8", "id/appel/reemploi-2024/theme/reemploi-reparation"}


def test_fact_sheet(mini):
    table = rows(mini, "fiche_structure", structure=S2)
    assert [(r["commune"], r["siege"], r["implantation_fermee"]) for r in table] == [
        ("93048", "true", "false"), ("93008", "false", "true")]
    assert {r["filieres"] for r in table} == {"reparation"}
    assert rows(mini, "fiche_structure", structure=f"{BASE}id/structure/000000000") == []


QUALITY = sorted(q.id for q in all_queries() if q.topic == "qualite")


@pytest.mark.parametrize("query_id", QUALITY)
def test_quality_checks_are_empty_on_clean_data(mini, query_id):
    assert rows(mini, query_id) == []


def _q(s: str, p: str, o: NamedNode | Literal, g: str = "graph/synthetique-sirene") -> Quad:
    return Quad(NamedNode(BASE + s), NamedNode(p), o, NamedNode(BASE + g))


DEFECTS: dict[str, list[Quad]] = {
    "qualite_etablissement_sans_commune": [
        _q("id/etablissement/99", f"{MAI}locatedIn", NamedNode(BASE + "id/territoire/region/11")),
        _q("id/etablissement/99", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           NamedNode(MAI + "Establishment"))],
    "qualite_acteur_sans_libelle": [
        _q("id/acteur/x/sans-nom", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           NamedNode(MAI + "Actor"))],
    "qualite_fermeture_incoherente": [
        _q("id/structure/900000019", f"{MAI}administrativeStatus",
           NamedNode(BASE + "voc/etats-administratifs/C"))],
    "qualite_domaine_non_materialise": [
        _q("id/structure/900000043", f"{MAI}filiere", NamedNode(BASE + "voc/tee/velo"))],
    "qualite_siret_hors_siren": [
        _q("id/etablissement/90000002700103", "http://www.w3.org/ns/org#siteOf",
           NamedNode(BASE + "id/structure/900000035"))],
    "qualite_structure_sans_implantation": [
        _q("id/structure/900000011", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
           NamedNode(MAI + "Structure"))],
    "qualite_graphe_sans_description": [
        _q("id/x", "http://www.w3.org/2000/01/rdf-schema#label", Literal("x"), "graph/vide")],
}


def test_every_quality_check_has_a_planted_defect():
    assert sorted(DEFECTS) == QUALITY


@pytest.mark.parametrize("query_id", QUALITY)
def test_quality_checks_find_a_planted_defect(query_id):
    store = load_mini()
    with store.writing() as w:
        w.add_quads(DEFECTS[query_id])
    assert rows(store, query_id), f"{query_id} missed its planted defect"


# ---------------------------------------------------------------------------- generic
OWN = [q for q in all_queries() if q.topic != "analysis"]


def test_optional_parameters_narrow_the_unbound_result(mini):
    """An optional filter parameter without default narrows what the query returns without it.

    (Optional dates and integers are settings of a computation, not filters.)
    """
    checked = 0
    for q in OWN:
        for p in q.params:
            if (p.required or p.default is not None or p.name not in q.example
                    or p.kind not in ("code", "literal", "iri")):
                continue
            params = dict(q.example)
            narrowed = normalised(rows(mini, q.id, **params))
            del params[p.name]
            wide = normalised(rows(mini, q.id, **params))
            expected = [r for r in wide if r[p.name] == q.example[p.name]]
            assert narrowed == expected and narrowed, (q.id, p.name)
            checked += 1
    assert checked >= 4


def test_query_dataframe_types_columns(mini):
    frame = query_dataframe(mini, "zones_blanches_communes", filiere="economie-circulaire")
    assert str(frame["acteurs"].dtype) == "Int64"
    assert str(frame["densite"].dtype) == "Float64"
    assert str(frame["zone_blanche"].dtype) == "boolean"
    assert frame["zone_blanche"].sum() == 4
    actors = query_dataframe(mini, "acteurs_filiere_territoire", filiere="velo", territoire="93")
    assert str(actors["creation"].dtype).startswith("datetime64")
    assert actors["siren"].tolist() == ["900000100", "900000035"]


# ---------------------------------------------------------------------------- snapshots
def normalise(name: str, cell: str) -> str:
    """A list cell (GROUP_CONCAT, whose order SPARQL leaves open) with its items sorted."""
    if name not in LIST_COLUMNS:
        return cell
    sep = " ; " if " ; " in cell else " "
    return sep.join(sorted(cell.split(sep)))


def normalised(table: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: normalise(k, v) for k, v in r.items()} for r in table]


#: Parameters for the snapshots where a query's example names real data absent from the fixture.
SNAPSHOT_PARAMS: dict[str, dict[str, str]] = {
    "eligibles_appel": {"appel": "reemploi-2024", "territoire": "93"},
    "partenaires_structure": {"structure": "id/structure/900000027"},
    "fiche_structure": {"structure": "id/structure/900000027"},
}


def snapshot_text(store: MaillageStore, query_id: str) -> str:
    """The CSV of a query's results on the fixture (list cells sorted)."""
    params = SNAPSHOT_PARAMS.get(query_id, get_query(query_id).example)
    results = run_named_query(store, query_id, params, settings=SETTINGS)
    names = [v.value for v in results.variables]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for sol in results:
        writer.writerow([normalise(n, term_text(sol[n])) for n in names])
    return buf.getvalue()


@pytest.mark.parametrize("query_id", sorted(q.id for q in OWN))
def test_snapshot(mini, query_id):
    path = SNAPSHOTS / f"{query_id}.csv"
    text = snapshot_text(mini, query_id)
    if os.environ.get("MAILLAGE_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with MAILLAGE_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")
