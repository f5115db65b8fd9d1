"""The institutional graph: only attested facts, each with its source, checked against the
sourced record ``data/reference/convention_ademe_cress.md`` read independently here."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import pytest
from maillage.graph.errors import InputError
from maillage.graph.institutions import load_institutions
from maillage.graph.namespaces import DCTERMS, MAI, RDF, Iris, sparql_prefixes
from maillage.graph.resources import data_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore

PREFIXES = sparql_prefixes()
IRIS = Iris(Settings().base_iri)
RECORD = data_file("reference", "convention_ademe_cress.md").read_text(encoding="utf-8")
TABLE = data_file("reference", "institutions.toml")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def store() -> MaillageStore:
    s = MaillageStore(None)
    with s.writing() as w:
        load_institutions(w, Settings())
    return s


def _values(store: MaillageStore, query: str) -> list[dict[str, str | None]]:
    res = store.query(PREFIXES + query)
    names = [v.value for v in res.variables]  # type: ignore[union-attr]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in res]


def _objects(store: MaillageStore, subject: str, prop: str) -> set[str]:
    rows = _values(store, f"SELECT ?o WHERE {{ <{subject}> {prop} ?o }}")
    return {r["o"] for r in rows}  # type: ignore[misc]


def test_the_attested_organisations_have_fr_and_en_labels(store):
    rows = _values(store, """SELECT ?o (GROUP_CONCAT(lang(?l)) AS ?langs) WHERE {
        ?o a org:Organization ; rdfs:label ?l } GROUP BY ?o""")
    langs = {r["o"].rsplit("/", 1)[1]: set(r["langs"].split()) for r in rows}
    for slug in ("ademe", "ademe-idf", "cress-idf", "cncress", "emmaus-france", "c2ra-idf"):
        assert langs[slug] == {"fr", "en"}, slug
    assert _objects(store, IRIS.organisation("ademe-idf").value, "org:unitOf") == {
        IRIS.organisation("ademe").value}
    assert "ESS France" in _objects(store, IRIS.organisation("cncress").value, "skos:altLabel")


def test_every_resource_has_sources_and_they_come_from_the_record(store):
    rows = _values(store, """SELECT ?s ?src WHERE {
        ?s ?p ?o FILTER(isIRI(?s) && CONTAINS(STR(?s), "/id/"))
        OPTIONAL { ?s dcterms:source ?src } }""")
    sources: dict[str, set[str | None]] = defaultdict(set)
    for r in rows:
        sources[r["s"]].add(r["src"])  # type: ignore[index]
    assert len(sources) >= 15
    for subject, srcs in sources.items():
        if "/id/logiciel/" in subject:
            continue
        assert None not in srcs, f"{subject} has no dcterms:source"
        for src in srcs:
            assert src in RECORD, f"{subject}: source {src} is not in the sourced record"


def test_notes_end_with_a_source_of_the_record(store):
    rows = _values(store, "SELECT ?note WHERE { ?s skos:note ?note }")
    assert len(rows) >= 10
    for r in rows:
        m = re.search(r"\(source : ([^()]+)\)$", r["note"])  # type: ignore[arg-type]
        assert m, r["note"]
        for src in m.group(1).split(" ; "):
            assert src in RECORD


def test_quotations_are_verbatim(store):
    rows = _values(store, "SELECT ?text WHERE { ?s ?p ?text FILTER(lang(?text) = 'fr') }")
    quotes = [q for r in rows for q in re.findall(r"«\s*(.+?)\s*»", r["text"])]  # type: ignore[arg-type]
    assert len(quotes) >= 20
    record = _norm(RECORD)
    for quote in quotes:
        assert _norm(quote) in record, quote


def test_the_four_objectives_are_the_quoted_ones(store):
    section = RECORD.split("**Objectifs**")[1].split("- **Moyens")[0]
    expected = {_norm(q) for q in re.findall(r"^\s*\d\. «\s*(.+?)\s*»", section, flags=re.MULTILINE)}
    assert len(expected) == 4
    got = _objects(store, IRIS.partnership("ademe-idf-cress-idf-2018").value, "mai:objective")
    assert {_norm(o) for o in got} == expected


def test_partnerships_dates_parties_funder_and_programmes(store):
    national = IRIS.partnership("ademe-cncress-2017").value
    regional = IRIS.partnership("ademe-idf-cress-idf-2018").value
    rows = _values(store, f"""SELECT ?p ?d (STR(datatype(?d)) AS ?dt) WHERE {{
        VALUES ?p {{ <{national}> <{regional}> }} ?p a mai:Partnership ; mai:signatureDate ?d }}""")
    got = {r["p"]: (r["d"], r["dt"].rsplit("#", 1)[1]) for r in rows}  # type: ignore[union-attr]
    assert got == {national: ("2017-10", "gYearMonth"), regional: ("2018-06-27", "date")}
    assert _objects(store, national, "mai:party") == {
        IRIS.organisation("ademe").value, IRIS.organisation("cncress").value}
    assert _objects(store, regional, "mai:funder") == {IRIS.organisation("ademe-idf").value}
    assert _objects(store, regional, "mai:beneficiary") == {IRIS.organisation("cress-idf").value}
    assert _objects(store, regional, "mai:targets") == {
        IRIS.programme("frec").value, IRIS.programme("plan-batiment-durable").value}
    assert "chargé de mission" in " ".join(_objects(store, regional, "skos:note"))


def test_what_was_not_found_is_said_not_invented(store):
    national = IRIS.partnership("ademe-cncress-2017").value
    notes = " ".join(_objects(store, national, "skos:editorialNote"))
    assert "5 domaines" in notes and "non retrouvée" in notes
    emmaus = IRIS.partnership("ademe-emmaus-france-2017").value
    assert _objects(store, emmaus, "mai:signatureDate") == set()
    assert _objects(store, emmaus, "skos:editorialNote")
    assert _objects(store, national, "mai:funder") == set()


def test_dla_scheme(store):
    dla = IRIS.id("dispositif", "dla").value
    assert _objects(store, dla, "rdf:type") == {MAI.SupportScheme.value}
    rows = _values(store, f"SELECT (STR(datatype(?d)) AS ?dt) ?d WHERE {{ <{dla}> dcterms:created ?d }}")
    assert rows == [{"dt": "http://www.w3.org/2001/XMLSchema#gYear", "d": "2002"}]
    assert _objects(store, dla, "dcterms:creator") == {
        IRIS.organisation("etat").value, IRIS.organisation("caisse-des-depots").value}
    assert _objects(store, dla, "mai:operator") == {IRIS.organisation("c2ra-idf").value}
    description = " ".join(_objects(store, dla, "dcterms:description"))
    assert _norm(description.strip("« »")) in _norm(RECORD)


def test_call_themes_counts_and_filieres(store):
    call = IRIS.id("appel", "ami-ess-accelerateur-transitions-2020").value
    assert _objects(store, call, "dcterms:issued") == {"2020-01-30"}
    assert _objects(store, call, "mai:organiser") == {
        IRIS.organisation(s).value for s in ("ademe", "etat", "cress-idf")}
    rows = _values(store, f"""SELECT ?theme ?n (GROUP_CONCAT(STR(?f)) AS ?filieres) WHERE {{
        <{call}> mai:theme ?theme . ?theme a mai:CallTheme ; mai:applicationCount ?n ;
        dcterms:isPartOf <{call}> ; mai:filiere ?f }} GROUP BY ?theme ?n""")
    counts = sorted(int(r["n"]) for r in rows)  # type: ignore[arg-type]
    total = re.search(r"\*\*(\d+) structures\*\* candidates", RECORD)
    themes = [int(n) for n in re.findall(r"\(\*\*(\d+)(?: dossiers)?\*\*\)", RECORD)]
    assert counts == sorted(themes) and len(counts) == 3
    assert {int(next(iter(_objects(store, call, "mai:applicationCount"))))} == {
        sum(counts), int(total.group(1))}
    with open(data_file("reference", "filieres.csv"), encoding="utf-8") as fh:
        slugs = {row["slug"] for row in csv.DictReader(fh)}
    filieres = {f for r in rows for f in r["filieres"].split()}  # type: ignore[union-attr]
    assert {f.rsplit("/", 1)[1] for f in filieres} <= slugs
    assert IRIS.concept("tee", "cyclologistique").value in filieres
    assert all(f.startswith(IRIS.concept("tee", "").value) for f in filieres)


def test_graph_describes_itself(store):
    g = IRIS.graph("institutions").value
    rows = _values(store, f"SELECT ?p ?o WHERE {{ GRAPH <{g}> {{ <{g}> ?p ?o }} }}")
    props = defaultdict(set)
    for r in rows:
        props[r["p"]].add(r["o"])
    assert "http://www.w3.org/ns/dcat#Dataset" in props[RDF.type.value]
    assert len(props[DCTERMS.source.value]) >= 10
    assert props[DCTERMS.license.value]


# ---------------------------------------------------------------------------- bad input
def _load(path) -> None:
    with MaillageStore(None).writing() as w:
        load_institutions(w, Settings(), path=path)


def _spoiled(tmp_path, old: str, new: str, count: int = 1):
    text = TABLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "institutions.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path, text


def test_unknown_reference_names_file_and_entry_line(tmp_path):
    path, text = _spoiled(tmp_path, '"organisation:cncress"]', '"organisation:nobody"]')
    line = text.splitlines().index('slug = "ademe-cncress-2017"') + 1
    with pytest.raises(InputError) as info:
        _load(path)
    assert info.value.path == str(path) and info.value.line == line
    assert "organisation:nobody" in str(info.value)


def test_unknown_key_and_unknown_source_are_errors(tmp_path):
    path, _ = _spoiled(tmp_path, 'acronym = "DLA"', 'acronym = "DLA"\nfounded = "2002"')
    with pytest.raises(InputError, match="unknown key 'founded'"):
        _load(path)
    path, _ = _spoiled(tmp_path, 'sources = ["cress_pdl"]', 'sources = ["nowhere"]')
    with pytest.raises(InputError, match="unknown source 'nowhere'"):
        _load(path)


def test_theme_counts_must_add_up(tmp_path):
    path, _ = _spoiled(tmp_path, "application_count = 33", "application_count = 34")
    with pytest.raises(InputError, match="the themes count 58 applications, the call 57"):
        _load(path)


def test_unknown_filiere_is_an_error(tmp_path):
    path, _ = _spoiled(tmp_path, '"tee:cyclologistique"', '"tee:teleportation"')
    with pytest.raises(InputError, match="tee:teleportation"):
        _load(path)


def test_invalid_toml_is_an_input_error(tmp_path):
    path = tmp_path / "institutions.toml"
    path.write_text('[[organisation]]\nslug = "x\n', encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        _load(path)
