"""The generic CSV importer on hand-made fixtures (tests/data/csv): mapping validation, reading
(encodings, delimiters, malformed files), commune resolution, row accounting, atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from maillage.graph.cli import main
from maillage.graph.errors import InputError, StoreError
from maillage.graph.ingest.csv_import import import_csv
from maillage.graph.ingest.locate import CommuneTable, Located, Outside, Unlocated
from maillage.graph.ingest.mapping import load_mapping, parse_mapping
from maillage.graph.namespaces import Iris, sparql_prefixes
from maillage.graph.resources import data_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from pyoxigraph import NamedNode, RdfFormat

DATA = Path(__file__).parent / "data" / "csv"
BASE = "https://w3id.org/maillage/"
IRIS = Iris(BASE)
PREFIXES = sparql_prefixes()


def _load_reference(store: MaillageStore) -> None:
    with store.writing() as w:
        w.load(DATA / "reference-mini.ttl", RdfFormat.TURTLE, graph=IRIS.graph("territoires"),
               base_iri=BASE)


@pytest.fixture
def mem_store() -> MaillageStore:
    store = MaillageStore(None)
    _load_reference(store)
    return store


@pytest.fixture
def ref_store(disk_store) -> MaillageStore:
    _load_reference(disk_store)
    return disk_store


def _minimal(**sections) -> dict:
    raw = {"dataset": {"id": "t", "title_fr": "T", "title_en": "T",
                       "sources": ["https://example.org/"], "licence": "https://example.org/l"},
           "columns": {"name": "nom"}}
    raw.update(sections)
    return raw


def _rows(store: MaillageStore, sparql: str) -> list[dict[str, str]]:
    res = store.query(PREFIXES + sparql)
    names = [v.value for v in res.variables]
    return [{n: (r[n].value if r[n] is not None else None) for n in names} for r in res]


def _triple(row: dict[str, str]) -> tuple[str, str, str]:
    return row["s"], row["p"], row["o"]


# ------------------------------------------------------------------------ mapping validation
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": {}}, "unknown key(s) 'colour' in the mapping"),
        ({"columns": {"name": "nom", "phone": "tel"}}, "unknown key(s) 'phone' in [columns]"),
        ({"resource": {"class": "mai:Thing"}}, "class must be one of"),
        ({"columns": {"postcode": "cp"}}, "[columns] name is required"),
        ({"values": {"filiere": {"value": "teleportation"}}}, "'teleportation' is not a known"),
        ({"properties": {"schema:email": "mail"}}, "unknown key(s) 'schema:email'"),
        ({"links": [{"property": "owl:sameAs", "column": "x", "target": "commune"}]},
         "property 'owl:sameAs' is not allowed"),
        ({"links": [{"property": "org:memberOf", "target": "organisation",
                     "organisation": "nope"}]}, "'nope' is not declared"),
        ({"read": {"header": "none"}}, "header = none needs columns"),
        ({"columns": {"name": "nom", "lat": "y"}}, "lat and lon go together"),
        ({"resource": {"class": "mai:Site"}, "columns": {"name": "n", "siret": "s"}},
         "siren and siret identify actors"),
    ],
)
def test_mapping_errors_name_the_file(change, message):
    with pytest.raises(InputError) as err:
        parse_mapping(_minimal(**change), "bad-mapping.toml")
    assert "bad-mapping.toml" in str(err.value)
    assert message in str(err.value)


def test_mapping_missing_dataset_key_and_bad_toml(tmp_path):
    raw = _minimal()
    del raw["dataset"]["licence"]
    with pytest.raises(InputError, match="missing key 'licence' in \\[dataset\\]"):
        parse_mapping(raw, "m.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[dataset\nid = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="broken.toml: not valid TOML"):
        load_mapping(bad)


def test_shipped_fixture_mappings_are_valid():
    m = load_mapping(DATA / "dirty.toml")
    assert m.dataset.id == "test-dirty"
    assert m.values["filiere"].separator == "|"
    assert "pays" in m.required_columns()


# ------------------------------------------------------------------------ reading
@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [("latin1.csv", "cp1252", ","), ("bom.csv", "utf-8-sig", ";"), ("tab.tsv", "utf-8", "\t")],
)
def test_encoding_and_delimiter_detection(mem_store, name, encoding, delimiter):
    report = import_csv(mem_store, Settings(), DATA / "simple.toml", DATA / name)
    assert (report.extra["encoding"], report.extra["delimiter"]) == (encoding, delimiter)
    assert report.counts()["loaded"] == 2
    labels = {r["l"] for r in _rows(mem_store, "SELECT ?l WHERE { ?s a mai:Actor ; rdfs:label ?l }")}
    assert labels == {"Atelier Vélo Solidaire", "L'Écho des Rayons"}


def test_explicit_encoding_that_does_not_fit_names_the_line(mem_store):
    with pytest.raises(InputError) as err:
        import_csv(mem_store, Settings(), DATA / "simple.toml", DATA / "latin1.csv",
                   encoding="utf-8")
    assert "latin1.csv, line 2" in str(err.value)
    assert "not valid utf-8" in str(err.value)


def test_mixed_encodings_are_refused(mem_store):
    with pytest.raises(InputError, match=r"mixed.csv, line 3: mixed encodings"):
        import_csv(mem_store, Settings(), DATA / "simple.toml", DATA / "mixed.csv")


def test_missing_column_names_the_mapping_and_the_header_line(mem_store, tmp_path):
    f = tmp_path / "other.csv"
    f.write_text("name,cp\nA,93100\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_csv(mem_store, Settings(), DATA / "simple.toml", f)
    text = str(err.value)
    assert "other.csv, line 1" in text and "'code_postal', 'nom'" in text
    assert "simple.toml" in text


def test_malformed_line_raises_and_leaves_the_store_unchanged(ref_store, settings):
    import_csv(ref_store, settings, DATA / "simple.toml", DATA / "bom.csv")
    before = ref_store.generation()
    graph = IRIS.graph("import/test-simple")
    count = ref_store.count(graph)
    with pytest.raises(InputError) as err:
        import_csv(ref_store, settings, DATA / "simple.toml", DATA / "malformed.csv")
    assert "malformed.csv, line 4" in str(err.value)
    assert "expected 2 ';'-separated fields, found 1" in str(err.value)
    assert ref_store.generation() == before
    assert ref_store.count(graph) == count


def test_shifted_header(mem_store, tmp_path):
    f = tmp_path / "shifted.csv"
    f.write_text(";flag;nom;code_postal\nOui;Atelier Décalé;93100;\n", encoding="utf-8")
    raw = _minimal(read={"header": "shifted", "delimiter": ";"},
                   columns={"name": "nom", "postcode": "code_postal"})
    m = parse_mapping(raw, "shifted.toml")
    report = import_csv(mem_store, Settings(), m, f)
    assert report.counts()["loaded"] == 1
    row = _rows(mem_store, "SELECT ?l ?cp WHERE { ?s a mai:Actor ; rdfs:label ?l ; schema:postalCode ?cp }")
    assert row == [{"l": "Atelier Décalé", "cp": "93100"}]


def test_skip_rows_keep_line_numbers(mem_store, tmp_path):
    f = tmp_path / "preamble.csv"
    f.write_text("# export du 1er mars\n\nnom;code_postal\nA;93100\nB\n", encoding="utf-8")
    m = parse_mapping(_minimal(read={"skip_rows": 2},
                               columns={"name": "nom", "postcode": "code_postal"}), "p.toml")
    with pytest.raises(InputError, match=r"preamble.csv, line 5: expected 2 ';'-separated"):
        import_csv(mem_store, Settings(), m, f)


# ------------------------------------------------------------------------ communes
def test_postcode_resolution(mem_store):
    table = CommuneTable.from_store(mem_store)
    assert table.locate(postcode="93100") == Located("93048")
    assert table.locate(postcode="75011") == Located("75111")
    ambiguous = table.locate(postcode="91940")
    assert ambiguous == Unlocated("ambiguous postcode 91940: communes 91275, 91560, 91692")
    assert table.locate(postcode="91940", point=(2.1703, 48.6817)) == Located("91692")
    assert table.locate(postcode="91940", city="LES ULIS") == Located("91692")
    assert table.locate(postcode="9140") == Outside()  # 09140: Ariège
    assert table.locate(postcode="93999") == Unlocated("unknown postcode 93999")
    assert table.locate(postcode="9A1") == Unlocated("malformed postcode '9A1'")
    assert table.locate(insee="93048") == Located("93048")
    assert table.locate(insee="93059") == Unlocated("unknown INSEE commune code 93059")
    assert table.locate(point=(2.443, 48.862)) == Located("93048")
    assert table.locate(point=(2.3795, 48.8575)) == Located("75111")  # arrondissement first
    assert table.locate(point=(4.834, 45.767)) == Outside()


# ------------------------------------------------------------------------ the dirty fixture
def test_dirty_fixture_accounting_and_reasons(mem_store):
    report = import_csv(mem_store, Settings(), DATA / "dirty.toml", DATA / "dirty.csv")
    assert report.counts() == {"read": 16, "loaded": 6, "filtered": 3, "quarantined": 7}
    assert report.balanced()
    assert dict(report.filters) == {"outside Île-de-France": 2, "outside France": 1}
    got = sorted((q.line, q.reason) for q in report.quarantined_rows)
    duplicate = IRIS.actor("test-dirty", "atelier-bagnolet-93170-1-rue-a").value
    assert got == [
        (3, "missing name"),
        (4, "unknown postcode 93999"),
        (5, "bad SIRET 12345678210002: SIRET fails the Luhn check"),
        (7, "ambiguous postcode 91940: communes 91275, 91560, 91692"),
        (13, "bad SIREN 123456789: SIREN fails the Luhn check"),
        (14, "malformed coordinates 'abc', '2.41'"),
        (16, f"duplicate of line 15 (same IRI {duplicate})"),
    ]
    assert report.warnings["4-digit postcode: leading zero restored"] == 1
    assert report.warnings["website without http(s)://: https:// assumed"] == 1


def test_dirty_fixture_resources(mem_store):
    import_csv(mem_store, Settings(), DATA / "dirty.toml", DATA / "dirty.csv")
    rows = _rows(mem_store, """SELECT ?s ?code WHERE {
        ?s a mai:Actor ; mai:locatedIn/igeo:codeINSEE ?code } ORDER BY ?s""")
    located = {r["s"].removeprefix(BASE): r["code"] for r in rows}
    assert located == {
        "id/acteur/test-dirty/atelier-bastille-75011": "75111",
        "id/acteur/test-dirty/atelier-des-ulis-91940": "91692",
        "id/acteur/test-dirty/atelier-nomme-91940": "91692",
        "id/acteur/test-dirty/atelier-bagnolet-93170-1-rue-a": "93006",
        "id/acteur/test-dirty/atelier-bagnolet-93170-3-rue-b": "93006",
        "id/structure/123456782": "93048",
    }
    coop = _rows(mem_store, f"""SELECT ?siren ?siret ?url ?wkt WHERE {{
        <{IRIS.structure('123456782').value}> mai:siren ?siren ; mai:siret ?siret ;
           schema:url ?url ; geo:hasGeometry/geo:asWKT ?wkt }}""")
    assert coop == [{"siren": "123456782", "siret": "12345678210019",
                     "url": "https://example.org/coop", "wkt": "POINT(2.443 48.862)"}]
    coop = f"<{IRIS.structure('123456782').value}>"
    filieres = _rows(mem_store, f"SELECT ?f WHERE {{ {coop} mai:filiere ?f }}")
    domains = _rows(mem_store, f"SELECT ?d WHERE {{ {coop} mai:domain ?d }}")
    assert sorted(r["f"].rsplit("/", 1)[1] for r in filieres) == ["reparation", "velo"]
    assert sorted(r["d"].rsplit("/", 1)[1] for r in domains) == [
        "economie-circulaire", "mobilite-douce"]
    source = _rows(mem_store, "SELECT DISTINCT ?g WHERE { ?s a mai:Actor ; dcterms:source ?g }")
    assert source == [{"g": IRIS.graph("import/test-dirty").value}]


def test_graph_describes_itself(mem_store):
    import_csv(mem_store, Settings(), DATA / "dirty.toml", DATA / "dirty.csv")
    g = IRIS.graph("import/test-dirty").value
    rows = _rows(mem_store, f"""SELECT ?lic ?rights WHERE {{ GRAPH <{g}> {{
        <{g}> a dcat:Dataset ; dcterms:license ?lic ; dcterms:rights ?rights ;
              dcterms:source <https://example.org/source> }} }}""")
    assert rows == [{"lic": "https://creativecommons.org/licenses/by/4.0/", "rights": "© Test"}]


def test_reimport_is_idempotent(ref_store, settings):
    q = """SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s a mai:Actor ; ?p ?o } }"""
    import_csv(ref_store, settings, DATA / "dirty.toml", DATA / "dirty.csv")
    first, n1 = _rows(ref_store, q), ref_store.count(IRIS.graph("import/test-dirty"))
    import_csv(ref_store, settings, DATA / "dirty.toml", DATA / "dirty.csv")
    second, n2 = _rows(ref_store, q), ref_store.count(IRIS.graph("import/test-dirty"))
    assert sorted(map(_triple, first)) == sorted(map(_triple, second))
    assert n1 == n2
    assert IRIS.graph("territoires") in ref_store.named_graphs()


def test_iris_follow_the_base_setting():
    base = "https://example.org/m/"
    store = MaillageStore(None)
    with store.writing() as w:
        w.load(DATA / "reference-mini.ttl", RdfFormat.TURTLE, graph=Iris(base).graph("t"),
               base_iri=base)
    report = import_csv(store, Settings(base_iri=base), DATA / "simple.toml", DATA / "bom.csv")
    assert report.counts()["loaded"] == 2
    rows = _rows(store, "SELECT ?s ?f ?c WHERE { ?s a mai:Actor ; mai:filiere ?f ; mai:locatedIn ?c }")
    assert len(rows) == 2
    assert all(v.startswith(base) for r in rows for v in r.values())


def test_links_need_their_target_dataset(mem_store):
    m = load_mapping(data_file("mappings", "energie-citoyenne-communes.toml"))
    with pytest.raises(StoreError, match="'energie-citoyenne-cooperatives' is not in the store"):
        import_csv(mem_store, Settings(), m)


# ------------------------------------------------------------------------ JSON fixtures (LVAO)
def test_lvao_fixture_siret_handling(mem_store):
    report = import_csv(mem_store, Settings(), DATA / "lvao-acteurs.toml", DATA / "lvao-idf.json")
    assert report.counts() == {"read": 4, "loaded": 2, "filtered": 1, "quarantined": 1}
    assert [(q.line, q.reason) for q in report.quarantined_rows] == [
        (3, "bad SIRET 98765432400010: SIRET does not start with the SIREN")]
    rows = _rows(mem_store, """SELECT ?s ?siren ?type WHERE {
        ?s a mai:Actor ; mai:siren ?siren ; mai:lvaoActorType ?type } ORDER BY ?s""")
    assert [(r["s"].removeprefix(BASE), r["siren"], r["type"].rsplit("/", 1)[1]) for r in rows] == [
        ("id/structure/111222337", "111222337", "ess"),
        ("id/structure/123456782", "123456782", "artisan"),
    ]


# ------------------------------------------------------------------------ CLI
def test_cli_import_csv_writes_reports(ref_store, settings, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(["import", "csv", str(DATA / "dirty.csv"), "--mapping", str(DATA / "dirty.toml"),
                 "--store", settings.store, "--report-dir", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "read 16 = loaded 6 + filtered 3 + quarantined 7" in printed
    report = json.loads((out / "test-dirty-report.json").read_text(encoding="utf-8"))
    assert report[0]["quarantined"] == 7 and report[0]["dataset"] == "test-dirty"
    quarantine = (out / "test-dirty-quarantine.csv").read_text(encoding="utf-8").splitlines()
    assert len(quarantine) == 1 + 7
    assert ref_store.count(NamedNode(report[0]["graph"])) > 0


def test_cli_bad_mapping_exits_1(ref_store, settings, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[dataset]\nid = "x"\nwhat = 1\n', encoding="utf-8")
    code = main(["import", "csv", str(DATA / "dirty.csv"), "--mapping", str(bad),
                 "--store", settings.store])
    assert code == 1
    assert "bad.toml: unknown key(s) 'what' in [dataset]" in capsys.readouterr().err
