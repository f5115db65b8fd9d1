"""The SIRENE stock importer on hand-made fixtures in the real INSEE column formats.

``tests/data/sirene/`` holds: a clean stock (35/54 columns), the same units in the old 33/48
format (``old/``), a newer stock where one unit closed (``newer/``) and a dirty stock
(``dirty/``). Zip and Parquet versions are generated here from the CSVs.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from maillage.graph.cli import main
from maillage.graph.errors import InputError
from maillage.graph.ingest.sirene import SireneOptions, import_sirene, write_sirene_reports
from maillage.graph.namespaces import Iris
from maillage.graph.reference import build_reference
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store
from pyoxigraph import NamedNode, RdfFormat

DATA = Path(__file__).parent / "data" / "sirene"
IRIS = Iris()
SIRENE = IRIS.graph("sirene")
MAI = "https://w3id.org/maillage/def#"
CANAL, SCOP, ESUS, FOND, MUT, NOFLAG, CLOSED = (
    "900000019", "900000027", "900000035", "900000043", "900000076", "900000084", "900000092")
PREFIXES = f"""PREFIX mai: <{MAI}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rov: <http://www.w3.org/ns/regorg#>
PREFIX schema: <https://schema.org/>
"""


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session", name="reference_nquads")
def reference_nquads_fixture() -> bytes:
    """The real reference graph (ontology, vocabularies, territories), built once."""
    store = MaillageStore(None)
    build_reference(store, Settings.from_env({}))
    buf = io.BytesIO()
    store.dump(buf, RdfFormat.N_QUADS)
    return buf.getvalue()


@pytest.fixture(name="store")
def store_fixture(disk_store: MaillageStore, reference_nquads: bytes) -> MaillageStore:
    """An on-disk store holding the reference graph."""
    with disk_store.writing() as w:
        w.load(reference_nquads, RdfFormat.N_QUADS)
    return disk_store


def run(store: MaillageStore, settings: Settings, folder: Path = DATA, *, ul: Path | None = None,
        et: Path | None = None, **options):
    return import_sirene(
        store, settings, ul or folder / "StockUniteLegale_utf8.csv",
        et or folder / "StockEtablissement_utf8.csv", SireneOptions(**options),
    )


def report_dict(result) -> tuple[dict, dict]:
    return tuple(r.to_dict() for r in result.reports)  # type: ignore[return-value]


def values(store: MaillageStore, subject: str, prop: str) -> list[str]:
    q = PREFIXES + f"SELECT ?o WHERE {{ <{subject}> {prop} ?o }} ORDER BY ?o"
    return [r["o"].value for r in store.query(q)]


def structure(siren: str) -> str:
    return IRIS.structure(siren).value


def etab(siret: str) -> str:
    return IRIS.etablissement(siret).value


def resources_triples(store: MaillageStore, graph: NamedNode) -> set[str]:
    """The triples about structures and establishments of ``graph`` (not its description)."""
    q = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"
    return {f"{r['s']} {r['p']} {r['o']}" for r in store.query(q) if "/id/" in r["s"].value}


def generations(store: MaillageStore) -> list[str]:
    """The generation directories (embedded), or the engine's graphs (remote)."""
    if store.path is None:
        return sorted(g.value for g in store.named_graphs())
    return sorted(p.name for p in store.path.iterdir() if p.name.startswith("gen-"))


# ----------------------------------------------------------------------------- clean stock
def test_clean_stock_accounting(store, settings):
    ul, et = report_dict(run(store, settings))
    assert (ul["read"], ul["loaded"], ul["filtered"], ul["quarantined"]) == (10, 5, 5, 0)
    assert ul["filters"] == {"not ESS": 2, "closed": 1, "natural person": 1,
                             "no establishment in Île-de-France": 1}
    assert (et["read"], et["loaded"], et["filtered"], et["quarantined"]) == (13, 6, 7, 0)
    assert et["filters"] == {"unit not selected": 4, "outside Île-de-France": 3}
    assert ul["header"] == "35 columns (2026)" and et["header"] == "54 columns (2026)"


def test_clean_stock_mapping(store, settings):
    run(store, settings)
    s = structure(CANAL)
    assert values(store, s, "rov:legalName") == ["RECYCLERIE DU CANAL (FIXTURE)"]
    assert values(store, s, "mai:acronym") == ["RDC"]
    assert values(store, s, "mai:rna") == ["W751000001"]
    assert values(store, s, "mai:essFamily") == [IRIS.concept("familles-ess", "associations").value]
    assert values(store, s, "mai:legalCategory") == [
        IRIS.concept("categories-juridiques", "9220").value]
    assert values(store, s, "mai:activity") == [IRIS.concept("naf", "38.32Z").value]
    assert values(store, s, "mai:filiere") == [IRIS.concept("tee", "recyclage").value]
    assert values(store, s, "mai:domain") == [IRIS.concept("tee", "economie-circulaire").value]
    assert values(store, s, "mai:staffBand") == [IRIS.concept("tranches-effectifs", "11").value]
    assert values(store, s, "mai:staffBandYear") == ["2022"]
    assert values(store, s, "mai:creationDate") == ["2010-05-03"]
    assert values(store, s, "mai:essField") == ["true"]
    assert values(store, s, "mai:administrativeStatus") == [
        IRIS.concept("etats-administratifs", "A").value]
    assert values(store, s, "org:hasRegisteredSite") == [etab(CANAL + "00019")]
    assert values(store, s, "org:hasSite") == [etab(CANAL + "00019"), etab(CANAL + "00027")]
    assert values(store, s, "rdfs:seeAlso") == [
        f"https://annuaire-entreprises.data.gouv.fr/entreprise/{CANAL}"]
    shop = etab(CANAL + "00027")
    assert values(store, shop, "rdfs:label") == ["BOUTIQUE SOLIDAIRE DU CANAL"]
    assert values(store, shop, "schema:streetAddress") == ["5 B RUE DE PARIS"]
    assert values(store, shop, "schema:postalCode") == ["93100"]
    assert values(store, shop, "mai:locatedIn") == [IRIS.commune("93048").value]
    assert values(store, shop, "mai:headquarters") == ["false"]
    assert values(store, shop, "mai:filiere") == [
        IRIS.concept("tee", "reemploi").value, IRIS.concept("tee", "ressourcerie-recyclerie").value]
    assert values(store, etab(CANAL + "00019"), "mai:locatedIn") == [
        IRIS.territory("arrondissement", "75110").value]


def test_special_values(store, settings):
    run(store, settings)
    assert values(store, structure(SCOP), "mai:creationDate") == []  # 1900-01-01 = unknown
    assert values(store, structure(ESUS), "mai:activity") == [IRIS.concept("naf", "95.29Z").value]
    assert values(store, structure(ESUS), "mai:essFamily") == [
        IRIS.concept("familles-ess", "societes-commerciales-ess").value]
    assert values(store, structure(ESUS), "rdfs:label") == ['ATELIER VELO "ROUE LIBRE" (FIXTURE)']
    # kept through its Versailles establishment although its siège is in Lyon
    assert values(store, structure(FOND), "org:hasSite") == [etab(FOND + "00027")]
    assert values(store, structure(FOND), "org:hasRegisteredSite") == []


def test_partial_diffusion_publishes_no_protected_field(store, settings):
    run(store, settings)
    s, e = structure(MUT), etab(MUT + "00019")
    leaked = PREFIXES + """SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o) &&
        (CONTAINS(?o, "SECRETE") || CONTAINS(?o, "CACHEE") || CONTAINS(?o, "[ND]"))) }"""
    assert list(store.query(leaked)) == []
    assert values(store, s, "rdfs:label") == [
        "Partially diffusible structure (SIREN 900000076)",
        "Structure à diffusion partielle (SIREN 900000076)"]
    assert values(store, s, "mai:partialDiffusion") == ["true"]
    for prop in ("rov:legalName", "mai:acronym", "rdfs:seeAlso", "mai:rna"):
        assert values(store, s, prop) == []
    for prop in ("schema:streetAddress", "schema:postalCode", "mai:tradeName"):
        assert values(store, e, prop) == []
    assert values(store, e, "mai:partialDiffusion") == ["true"]
    assert values(store, e, "mai:locatedIn") == [IRIS.commune("91228").value]
    assert values(store, s, "mai:legalCategory") == [
        IRIS.concept("categories-juridiques", "8210").value]


def test_graph_describes_itself(store, settings):
    run(store, settings)
    q = PREFIXES + f"""PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?src WHERE {{ GRAPH <{SIRENE.value}> {{ <{SIRENE.value}> dcterms:source ?src ;
      dcterms:license ?l }} }} ORDER BY ?src"""
    sources = [r["src"].value for r in store.query(q)]
    assert any("data.gouv.fr" in s for s in sources)
    assert any(s.startswith("INSEE, Base Sirene") for s in sources)


def test_old_header_format(store, settings):
    ul, et = report_dict(run(store, settings, DATA / "old"))
    assert ul["header"] == "33 columns (before 2023)"
    assert et["header"] == "48 columns (before Sirene 4)"
    assert (ul["loaded"], et["loaded"]) == (4, 5)


def _zip(src: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, src.name)
    return target


def _parquet(src: Path, target: Path, integers: tuple[str, ...] = ()) -> Path:
    con = duckdb.connect()
    casts = ", ".join(f"CAST({c} AS BIGINT) AS {c}" for c in integers)
    star = f"* REPLACE ({casts})" if casts else "*"
    con.execute(f"COPY (SELECT {star} FROM read_csv('{src}', all_varchar=true)) TO '{target}' "
                "(FORMAT parquet)")
    con.close()
    return target


def test_zip_and_parquet_give_the_same_graph(tmp_path, store, settings):
    run(store, settings)
    expected = resources_triples(store, SIRENE)
    ul_csv, et_csv = DATA / "StockUniteLegale_utf8.csv", DATA / "StockEtablissement_utf8.csv"
    variants = [
        (_zip(ul_csv, tmp_path / "StockUniteLegale_utf8.zip"),
         _zip(et_csv, tmp_path / "StockEtablissement_utf8.zip")),
        (_parquet(ul_csv, tmp_path / "StockUniteLegale_utf8.parquet", ("siren",)),
         _parquet(et_csv, tmp_path / "StockEtablissement_utf8.parquet", ("siren", "nic"))),
    ]
    for ul, et in variants:
        result = run(store, settings, ul=ul, et=et)
        assert resources_triples(store, SIRENE) == expected, ul.suffix
        assert result.reports[0].counts()["loaded"] == 5


# ----------------------------------------------------------------------------- dirty stock
def test_dirty_stock_accounting_and_reasons(tmp_path, store, settings):
    result = run(store, settings, DATA / "dirty")
    ul, et = report_dict(result)
    assert ul["read"] == ul["loaded"] + ul["filtered"] + ul["quarantined"] == 8
    assert ul["loaded"] == 3
    assert ul["filters"] == {"not ESS": 1, "closed": 1, "natural person": 1}
    assert ul["quarantine"] == {"SIREN fails the Luhn check": 1,
                                "unparsable date (dateCreationUniteLegale)": 1}
    assert et["read"] == et["loaded"] + et["filtered"] + et["quarantined"] == 12
    assert et["loaded"] == 3
    assert et["filters"] == {"unit not selected": 3, "unit quarantined": 2,
                             "outside Île-de-France": 1}
    assert et["quarantine"] == {"SIRET does not start with the SIREN": 1,
                                "unknown commune (merged?)": 1,
                                "unparsable date (dateCreationEtablissement)": 1}
    js, qc = write_sirene_reports(result, tmp_path / "reports")
    assert [r["read"] for r in json.loads(js.read_text())] == [8, 12]
    with qc.open(encoding="utf-8") as fh:
        rows = [(r["file"], r["line"], r["reason"], r["value"]) for r in csv.DictReader(fh)]
    assert rows == [
        ("StockUniteLegale_utf8.csv", "3", "SIREN fails the Luhn check", "910000026"),
        ("StockUniteLegale_utf8.csv", "4", "unparsable date (dateCreationUniteLegale)",
         "910000033"),
        ("StockEtablissement_utf8.csv", "3", "SIRET does not start with the SIREN",
         "91000099100018"),
        ("StockEtablissement_utf8.csv", "4", "unknown commune (merged?)", "91000001700038"),
        ("StockEtablissement_utf8.csv", "13", "unparsable date (dateCreationEtablissement)",
         "91000001700053"),
    ]


def test_dirty_stock_names(store, settings):
    run(store, settings, DATA / "dirty")
    assert values(store, structure("910000041"), "rdfs:label") == [
        "Structure sans dénomination (SIREN 910000041)", "Unnamed structure (SIREN 910000041)"]
    p = structure("910000082")
    assert "W912000002" not in values(store, p, "mai:rna")
    q = PREFIXES + 'ASK { ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(?o, "PROTEGE")) }'
    assert not bool(store.query(q))


def test_sql_identifier_checks_agree_with_common():
    """The SQL Luhn macros give the same answer as ``common.luhn_ok`` (exhaustive on a range)."""
    from maillage.graph.ingest.common import luhn_ok
    from maillage.graph.ingest.sirene_sql import luhn_macro

    con = duckdb.connect()
    con.execute(luhn_macro("luhn9", 9) + luhn_macro("luhn14", 14))
    sirens = [f"{n:09d}" for n in range(732829300, 732831300)]
    sirets = [f"7328293200{n:04d}" for n in range(2000)]
    check = "SELECT list({}(x) ORDER BY i) FROM unnest(?) WITH ORDINALITY t(x, i)"
    got9 = con.execute(check.format("luhn9"), [sirens]).fetchone()[0]
    got14 = con.execute(check.format("luhn14"), [sirets]).fetchone()[0]
    assert got9 == [luhn_ok(x) for x in sirens] and sum(got9) == 200
    assert got14 == [luhn_ok(x) for x in sirets] and sum(got14) == 200
    con.close()


# ----------------------------------------------------------------------------- bad files
def _rewrite(src: Path, target: Path, edit) -> Path:
    lines = src.read_bytes().split(b"\n")
    target.write_bytes(b"\n".join(edit(lines)))
    return target


def _drop_column(lines: list[bytes], name: bytes) -> list[bytes]:
    i = lines[0].split(b",").index(name)
    return [b",".join(x for k, x in enumerate(ln.split(b",")) if k != i) if ln else ln
            for ln in lines]


def _bad_files(tmp: Path) -> dict[str, tuple[Path, Path, str, int | None]]:
    ul, et = DATA / "StockUniteLegale_utf8.csv", DATA / "StockEtablissement_utf8.csv"
    accent = "ATELIER VÉLO".encode("latin-1")
    latin = _rewrite(ul, tmp / "latin1.csv",
                     lambda ls: ls[:3] + [ls[3].replace(b"ATELIER VELO", accent)] + ls[4:])
    fields = _rewrite(et, tmp / "fields.csv", lambda ls: ls[:4] + [ls[4] + b",extra"] + ls[5:])
    quote = _rewrite(ul, tmp / "quote.csv", lambda ls: ls[:5] + [ls[5].replace(b",O,", b',"O,', 1)]
                     + ls[6:])
    missing = _rewrite(ul, tmp / "missing.csv",
                       lambda ls: _drop_column(ls, b"economieSocialeSolidaireUniteLegale"))
    zipped = _zip(et, tmp / "StockEtablissement_utf8.zip")
    truncated = tmp / "truncated.zip"
    truncated.write_bytes(zipped.read_bytes()[: zipped.stat().st_size // 2])
    return {  # name: (unites legales, etablissements, expected message part, expected line)
        "latin-1 bytes": (latin, et, "UTF-8", 4),
        "wrong field count": (ul, fields, "Expected Number of Columns: 54 Found: 55", 5),
        "unterminated quote": (quote, et, "quote", 6),
        "missing column": (missing, et, "economieSocialeSolidaireUniteLegale", 1),
        "swapped files": (et, ul, "looks like a StockEtablissement file", 1),
        "truncated zip": (ul, truncated, "truncated or corrupt zip", None),
    }


@pytest.mark.parametrize("case", ["latin-1 bytes", "wrong field count", "unterminated quote",
                                  "missing column", "swapped files", "truncated zip"])
def test_bad_file_is_an_input_error_and_store_is_unchanged(case, tmp_path, store, settings):
    run(store, settings)
    before, gens = store.count(), generations(store)
    ul, et, message, line = _bad_files(tmp_path)[case]
    with pytest.raises(InputError) as err:
        run(store, settings, ul=ul, et=et)
    assert message in str(err.value)
    assert err.value.line == line
    bad = ul if case in ("latin-1 bytes", "unterminated quote", "missing column",
                         "swapped files") else et
    assert err.value.path == str(bad)
    assert open_store(settings).count() == before
    assert generations(store) == gens


# ----------------------------------------------------------------------------- re-import
def test_reimport_is_idempotent(store, settings):
    run(store, settings)
    first, count = resources_triples(store, SIRENE), store.count(SIRENE)
    run(store, settings)
    assert resources_triples(store, SIRENE) == first
    assert store.count(SIRENE) == count


def test_newer_stock_marks_closed_units_and_duplicates_nothing(store, settings):
    run(store, settings)
    result = run(store, settings, DATA / "newer")
    ul, et = report_dict(result)
    assert (ul["loaded"], et["loaded"]) == (5, 6)  # the closed unit and its two IdF sites stay
    s = structure(CANAL)
    assert values(store, s, "mai:administrativeStatus") == [
        IRIS.concept("etats-administratifs", "C").value]
    assert values(store, s, "mai:closingDate") == ["2025-03-31"]
    assert values(store, s, "mai:staffBand") == [IRIS.concept("tranches-effectifs", "12").value]
    for siret in (CANAL + "00019", CANAL + "00027"):
        assert values(store, etab(siret), "mai:administrativeStatus") == [
            IRIS.concept("etats-administratifs", "F").value]
    q = PREFIXES + ("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s mai:siren ?x } "
                    "GROUP BY ?s HAVING (?n > 1)")
    assert list(store.query(q)) == []
    assert len(values(store, s, "rov:legalName")) == 1


def test_include_closed(store, settings):
    ul, _ = report_dict(run(store, settings, include_closed=True))
    assert ul["loaded"] == 6 and "closed" not in ul["filters"]
    assert values(store, structure(CLOSED), "mai:closingDate") == ["2021-06-30"]
    assert values(store, etab(CLOSED + "00016"), "mai:administrativeStatus") == [
        IRIS.concept("etats-administratifs", "F").value]


@pytest.mark.parametrize("option", [{"families": ("associations",)},
                                    {"legal_categories": ("9220",)}])
def test_added_families_and_categories(option, store, settings):
    ul, _ = report_dict(run(store, settings, **option))
    assert ul["loaded"] == 6 and ul["filters"]["not ESS"] == 1
    assert values(store, structure(NOFLAG), "rov:legalName") == ["AMAP DES LILAS (FIXTURE)"]
    assert values(store, structure(NOFLAG), "mai:essField") == []  # the flag was empty


def test_bad_options(store, settings):
    with pytest.raises(InputError, match="unknown family"):
        run(store, settings, families=("clubs",))
    with pytest.raises(InputError, match="4-digit"):
        run(store, settings, legal_categories=("92",))


# ----------------------------------------------------------------------------- synthetic marks
def test_forced_synthetic_import_is_marked(store, settings):
    result = run(store, settings, synthetic=True)
    graph = IRIS.graph("synthetique-sirene")
    assert result.graph == graph and SIRENE not in store.named_graphs()
    q = PREFIXES + f"""SELECT ?s WHERE {{ GRAPH <{graph.value}> {{
      {{ ?s a mai:Structure }} UNION {{ ?s a mai:Establishment }}
      FILTER NOT EXISTS {{ ?s mai:synthetic true }} }} }}"""
    assert list(store.query(q)) == []
    labels = PREFIXES + f"""SELECT ?l WHERE {{ GRAPH <{graph.value}> {{ ?s a mai:Structure ;
      rdfs:label ?l }} }}"""
    assert all(r["l"].value.startswith("[SYNTHÉTIQUE]") for r in store.query(labels))
    assert bool(store.query(f"ASK {{ GRAPH ?g {{ ?g <{MAI}synthetic> true }} }}"))


def test_marked_rows_never_reach_the_real_graph(tmp_path, store, settings):
    src = DATA / "StockUniteLegale_utf8.csv"
    marked = "[SYNTHÉTIQUE] COOP".encode()
    mixed = _rewrite(src, tmp_path / "StockUniteLegale_utf8.csv",
                     lambda ls: ls[:2] + [ls[2].replace(b"COOP RENOV", marked)] + ls[3:])
    with pytest.raises(InputError, match="never loaded into graph/sirene"):
        run(store, settings, ul=mixed)
    assert SIRENE not in store.named_graphs()


# ----------------------------------------------------------------------------- CLI
def test_cli_import(tmp_path, store, settings):
    reports = tmp_path / "reports"
    code = main(["import", "sirene", "--unites-legales", str(DATA / "StockUniteLegale_utf8.csv"),
                 "--etablissements", str(DATA / "StockEtablissement_utf8.csv"),
                 "--store", settings.store, "--report-dir", str(reports)])
    assert code == 0
    assert (reports / "sirene-report.json").is_file()
    assert (reports / "sirene-quarantine.csv").is_file()
    assert open_store(settings).count(SIRENE) > 100


def test_cli_bad_file_exits_1(tmp_path, store, settings, capsys):
    bad = tmp_path / "x.txt"
    bad.write_text("a,b\n1,2\n")
    code = main(["import", "sirene", "--unites-legales", str(bad), "--etablissements",
                 str(DATA / "StockEtablissement_utf8.csv"), "--store", settings.store,
                 "--report-dir", str(tmp_path)])
    assert code == 1
    assert "missing" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "x", ignore_errors=True)
