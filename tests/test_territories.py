"""The territory graph: counts, populations, hierarchy, postcodes and centroids, checked against
the packaged CSV/GeoJSON files read independently here."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict

import pytest
from maillage.graph.errors import InputError
from maillage.graph.namespaces import PREFIXES as PREFIX_IRIS
from maillage.graph.namespaces import Iris, sparql_prefixes
from maillage.graph.resources import data_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from maillage.graph.territories import (
    communes_geojson_path,
    load_territories,
    territory_table,
)
from pyoxigraph import NamedNode

PREFIXES = sparql_prefixes()
DATA = data_file("territoires")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


COMMUNES = _rows("communes_idf.csv")
COMMUNE_HEADER = list(COMMUNES[0])


@pytest.fixture(scope="module")
def store() -> MaillageStore:
    s = MaillageStore(None)
    with s.writing() as w:
        load_territories(w, Settings())
    return s


def _values(store: MaillageStore, query: str) -> list[dict[str, str | None]]:
    res = store.query(PREFIXES + query)
    names = [v.value for v in res.variables]  # type: ignore[union-attr]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in res]


def _iri(prefix: str, local: str) -> str:
    return PREFIX_IRIS[prefix] + local


def _count(store: MaillageStore, cls: str) -> int:
    rows = _values(store, f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ ?t a {cls} }}")
    return int(rows[0]["n"])


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("igeo:Region", 1),
        ("igeo:Departement", len(_rows("departements_idf.csv"))),
        ("igeo:Intercommunalite", len(_rows("epci_idf.csv"))),
        ("igeo:Commune", sum(r["type"] == "COM" for r in COMMUNES)),
        ("igeo:ArrondissementMunicipal", sum(r["type"] == "ARM" for r in COMMUNES)),
    ],
)
def test_counts_match_the_tables(store, cls, expected):
    assert _count(store, cls) == expected


def test_counts_are_the_documented_ones(store):
    counts = [_count(store, c) for c in ("igeo:Departement", "igeo:Intercommunalite",
                                         "igeo:Commune", "igeo:ArrondissementMunicipal")]
    assert counts == [8, 52, 1266, 20]
    assert _count(store, "mai:Territory") == 1 + 8 + 52 + 1266 + 20


def test_region_population_is_the_sum_of_the_communes(store):
    expected = sum(int(r["population_municipale"]) for r in COMMUNES if r["type"] == "COM")
    rows = _values(store, """SELECT ?p ?year WHERE {
        ?r a igeo:Region ; igeo:codeINSEE "11" ; mai:population ?p ; mai:populationYear ?year }""")
    assert rows == [{"p": str(expected), "year": "2017"}]


def test_departement_and_epci_populations_are_sums_without_arrondissements(store):
    by_dep: dict[str, int] = defaultdict(int)
    by_epci: dict[str, int] = defaultdict(int)
    for r in COMMUNES:
        if r["type"] == "COM":
            by_dep[r["departement"]] += int(r["population_municipale"])
            by_epci[r["epci_siren"]] += int(r["population_municipale"])
    rows = _values(store, """SELECT ?code ?p WHERE {
        { ?t a igeo:Departement } UNION { ?t a igeo:Intercommunalite }
        ?t igeo:codeINSEE ?code ; mai:population ?p ; skos:scopeNote ?note
        FILTER(lang(?note) = "fr" && CONTAINS(?note, "somme")) }""")
    got = {r["code"]: int(r["p"]) for r in rows}
    assert got == {**by_dep, **by_epci}


def test_population_is_an_integer_with_its_vintage(store):
    rows = _values(store, """SELECT ?dt (COUNT(*) AS ?n) WHERE {
        ?t mai:population ?p BIND(STR(datatype(?p)) AS ?dt) } GROUP BY ?dt""")
    assert rows == [{"dt": "http://www.w3.org/2001/XMLSchema#integer", "n": str(1 + 8 + 52 + 1286)}]


def test_every_arrondissement_is_a_subdivision_of_paris(store):
    rows = _values(store, """SELECT ?code ?parent WHERE {
        ?a a igeo:ArrondissementMunicipal ; igeo:codeINSEE ?code ;
           igeo:subdivisionDirecteDe/igeo:codeINSEE ?parent } ORDER BY ?code""")
    expected = sorted(r["code_insee"] for r in COMMUNES if r["type"] == "ARM")
    assert [r["code"] for r in rows] == expected
    assert {r["parent"] for r in rows} == {"75056"}


def test_table_matches_csv_labels_departements_and_epci(store):
    table = territory_table(store)
    assert set(table) == {r["code_insee"] for r in COMMUNES}
    paris = table["75056"]
    for r in COMMUNES:
        row = table[r["code_insee"]]
        assert row.name == r["nom_complet"]
        assert row.population == int(r["population_municipale"])
        assert row.departement == r["departement"]
        assert row.epci == (r["epci_siren"] or paris.epci)
        assert row.commune == (r["commune_parente"] or r["code_insee"])


def test_labels_keep_the_article(store):
    with_article = [r for r in COMMUNES if r["nom"] != r["nom_complet"]]
    assert with_article, "the table has names with an article (Les Lilas…)"
    rows = _values(store, """SELECT ?code ?label ?alt WHERE {
        ?c a igeo:Commune ; igeo:codeINSEE ?code ; rdfs:label ?label ; skos:altLabel ?alt }""")
    got = {r["code"]: (r["label"], r["alt"]) for r in rows}
    assert got == {r["code_insee"]: (r["nom_complet"], r["nom"]) for r in with_article}


def test_postcodes_map_to_every_commune_they_serve(store):
    expected: dict[str, set[str]] = defaultdict(set)
    for r in _rows("codes_postaux_idf.csv"):
        expected[r["code_postal"]].add(r["code_insee"])
    shared = {cp for cp, codes in expected.items() if len(codes) > 1}
    assert shared, "some postcodes serve several communes"
    rows = _values(store, "SELECT ?cp ?code WHERE { ?t schema:postalCode ?cp ; igeo:codeINSEE ?code }")
    got: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        got[r["cp"]].add(r["code"])
    assert got == expected


def test_every_commune_has_one_centroid_inside_its_boundary_box(store):
    boxes = {}
    features = json.loads(communes_geojson_path().read_text(encoding="utf-8"))["features"]
    for f in features:
        polys = f["geometry"]["coordinates"]
        polys = [polys] if f["geometry"]["type"] == "Polygon" else polys
        pts = [p for poly in polys for ring in poly for p in ring]
        boxes[f["properties"]["code_insee"]] = (
            min(p[0] for p in pts), min(p[1] for p in pts),
            max(p[0] for p in pts), max(p[1] for p in pts))
    idf = (min(b[0] for b in boxes.values()), min(b[1] for b in boxes.values()),
           max(b[2] for b in boxes.values()), max(b[3] for b in boxes.values()))
    assert 1.4 < idf[0] < idf[2] < 3.6 and 48.1 < idf[1] < idf[3] < 49.3  # Île-de-France
    rows = _values(store, """SELECT ?code ?wkt WHERE {
        { ?t a igeo:Commune } UNION { ?t a igeo:ArrondissementMunicipal }
        ?t igeo:codeINSEE ?code ; geo:hasCentroid ?g . ?g a geo:Geometry ; geo:asWKT ?wkt }""")
    assert sorted(r["code"] for r in rows) == sorted(r["code_insee"] for r in COMMUNES)
    for r in rows:
        lon, lat = map(float, r["wkt"].removeprefix("POINT(").removesuffix(")").split())
        x0, y0, x1, y1 = boxes[r["code"]]
        assert x0 <= lon <= x1 and y0 <= lat <= y1, r
        assert idf[0] <= lon <= idf[2] and idf[1] <= lat <= idf[3]


def test_links_to_the_api_geo(store):
    rows = _values(store, """SELECT ?t ?see WHERE { ?t a mai:Territory ; rdfs:seeAlso ?see }""")
    assert len(rows) == 1 + 8 + 52 + 1286
    by_kind = {r["t"].split("/territoire/")[1].split("/")[0]: r["see"] for r in rows}
    assert by_kind["region"] == "https://geo.api.gouv.fr/regions/11"
    assert by_kind["departement"].startswith("https://geo.api.gouv.fr/departements/")
    assert by_kind["epci"].startswith("https://geo.api.gouv.fr/epcis/")
    assert by_kind["commune"].startswith("https://geo.api.gouv.fr/communes/")
    assert all(r["see"].rsplit("/", 1)[1] == r["t"].rsplit("/", 1)[1] for r in rows)


def test_epci_type_has_a_readable_label(store):
    rows = _values(store, """SELECT ?siren ?notation ?label WHERE {
        ?e a igeo:Intercommunalite ; mai:siren ?siren ; mai:epciType ?type .
        ?type skos:notation ?notation ; skos:prefLabel ?label FILTER(lang(?label) = "fr") }""")
    expected = {r["siren"]: r["type"] for r in _rows("epci_idf.csv")}
    assert {r["siren"]: r["notation"] for r in rows} == expected
    assert {r["label"] for r in rows if r["notation"] == "CA"} == {"Communauté d'agglomération"}


def test_graph_describes_itself_with_sources_licence_and_vintage(store):
    g = Iris(Settings().base_iri).graph("territoires")
    rows = _values(store, f"""SELECT ?p ?o WHERE {{ GRAPH <{g.value}> {{ <{g.value}> ?p ?o }} }}""")
    props = defaultdict(set)
    for r in rows:
        props[r["p"]].add(r["o"])
    assert "http://www.w3.org/ns/dcat#Dataset" in props[_iri("rdf", "type")]
    assert "https://www.insee.fr/fr/information/2560452" in props[_iri("dcterms", "source")]
    assert props[_iri("dcterms", "license")] == {
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
    description = " ".join(props[_iri("dcterms", "description")])
    assert "2017" in description and "1er janvier 2020" in description and "somme" in description


def test_reloading_replaces_the_graph(store):
    s = MaillageStore(None)
    with s.writing() as w:
        graph = load_territories(w, Settings())
        first = s.count(graph)
        load_territories(w, Settings())
    assert s.count(graph) == first  # minus nothing, plus nothing: replaced


def test_base_iri_moves_every_territory():
    s = MaillageStore(None)
    with s.writing() as w:
        graph = load_territories(w, Settings(base_iri="https://example.org/m/"))
    assert graph == NamedNode("https://example.org/m/graph/territoires")
    rows = _values(s, "SELECT ?r WHERE { ?r a igeo:Region }")
    assert rows == [{"r": "https://example.org/m/id/territoire/region/11"}]


# ---------------------------------------------------------------------------- bad input
@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "territoires"
    shutil.copytree(DATA, target)
    return target


def _rewrite(path, transform) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(transform(lines)), encoding="utf-8")


def test_bad_header_names_file_line_and_expected_columns(data_copy):
    path = data_copy / "communes_idf.csv"
    _rewrite(path, lambda ls: [ls[0].replace("population_municipale", "pop")] + ls[1:])
    with pytest.raises(InputError) as info, MaillageStore(None).writing() as w:
        load_territories(w, Settings(), directory=data_copy)
    assert info.value.path == str(path) and info.value.line == 1
    assert "communes_idf.csv, line 1" in str(info.value)
    assert "population_municipale" in str(info.value)


def test_bad_value_names_its_line(data_copy):
    path = data_copy / "communes_idf.csv"
    def spoil(lines: list[str]) -> list[str]:
        cells = lines[6].split(",")
        cells[COMMUNE_HEADER.index("population_municipale")] = "12a"
        return lines[:6] + [",".join(cells)] + lines[7:]

    _rewrite(path, spoil)
    with (pytest.raises(InputError, match=r"communes_idf.csv, line 7: population_municipale '12a'"),
          MaillageStore(None).writing() as w):
        load_territories(w, Settings(), directory=data_copy)


def test_postcode_of_an_unknown_commune_is_an_error(data_copy):
    path = data_copy / "codes_postaux_idf.csv"
    _rewrite(path, lambda ls: ls + ["77000,99999\n"])
    with (pytest.raises(InputError, match=r"codes_postaux_idf.csv, line \d+: code_insee '99999'"),
          MaillageStore(None).writing() as w):
        load_territories(w, Settings(), directory=data_copy)


def test_bad_input_leaves_the_graph_untouched(store, data_copy):
    _rewrite(data_copy / "epci_idf.csv", lambda ls: [ls[0], "123,X,CA\n"] + ls[1:])
    s = MaillageStore(None)
    with s.writing() as w:
        graph = load_territories(w, Settings())
    before = s.count(graph)
    with pytest.raises(InputError, match="epci_idf.csv, line 2: SIREN '123'"), s.writing() as w:
        load_territories(w, Settings(), directory=data_copy)
    assert s.count(graph) == before
