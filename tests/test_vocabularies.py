"""SKOS vocabularies: generated from data/reference/, committed up to date, loaded under the base
IRI into graph/vocabulaires and graph/naf-filieres. Expected counts are read from the tables here,
independently of the generator."""

from __future__ import annotations

import csv
import json

import pyoxigraph
import pytest
from maillage.graph.namespaces import PREFIXES, Iris, sparql_prefixes
from maillage.graph.resources import data_file, ontology_file
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from maillage.graph.vocabularies import (
    LVAO_SCHEMES,
    PLACEHOLDER_BASE,
    VOCABULARY_FILES,
    build_vocabularies,
    load_vocabularies,
    source_terms,
)
from pyoxigraph import NamedNode

P = sparql_prefixes()
BASE = "https://w3id.org/maillage/"
IRIS = Iris(BASE)
VOC, EDITORIAL = IRIS.graph("vocabulaires"), IRIS.graph("naf-filieres")
#: Namespaces a vocabulary term may come from besides mai: (checked against the ontology).
KNOWN_EXTERNAL = tuple(v for k, v in PREFIXES.items() if k not in {"mai", "sh"}) + (
    "http://purl.org/vocab/vann/",
)


def _table(name: str) -> list[dict[str, str]]:
    with open(data_file("reference", name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def store() -> MaillageStore:
    s = MaillageStore(None)
    with s.writing() as w:
        graphs = load_vocabularies(w, Settings(base_iri=BASE))
    assert graphs == [VOC, EDITORIAL]
    return s


def _values(store: MaillageStore, query: str, var: str = "x") -> list[str]:
    return [row[var].value for row in store.query(P + query)]


def _count(store: MaillageStore, where: str) -> int:
    return int(_values(store, f"SELECT (COUNT(*) AS ?x) WHERE {{ {where} }}")[0])


# ----------------------------------------------------------------------------- generated files
def test_committed_files_are_up_to_date(tmp_path):
    """Regenerate into a tmp dir; each committed file must hold the same triples."""
    written = build_vocabularies(tmp_path)
    assert sorted(p.name for p in written) == sorted(VOCABULARY_FILES)
    stale = []
    for path in written:
        committed = ontology_file("vocabularies", path.name)
        triples = [
            {
                str(q)
                for q in pyoxigraph.parse(
                    path=str(f), format=pyoxigraph.RdfFormat.TURTLE, base_iri=BASE
                )
            }
            for f in (path, committed)
        ]
        if triples[0] != triples[1]:
            stale.append(path.name)
    assert stale == [], "run `python -m maillage.graph.vocabularies` and commit the files"


def test_files_use_relative_iris_and_no_base_directive():
    for name in VOCABULARY_FILES:
        text = ontology_file("vocabularies", name).read_text(encoding="utf-8")
        assert "@base" not in text and BASE + "voc/" not in text and PLACEHOLDER_BASE not in text
        assert "<voc/" in text or "<id/" in text


def test_another_base_iri_moves_every_concept():
    s = MaillageStore(None)
    other = "https://example.org/x/"
    with s.writing() as w:
        load_vocabularies(w, Settings(base_iri=other))
    assert (
        _count(s, "?c skos:notation '38.32Z' FILTER(?c = <https://example.org/x/voc/naf/38.32Z>)")
        == 1
    )
    assert (
        _count(
            s,
            "GRAPH <https://example.org/x/graph/naf-filieres> { ?n mai:proposedFiliere"
            " <https://example.org/x/voc/tee/reparation> }",
        )
        > 0
    )
    leftovers = _count(
        s,
        f"GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), '{BASE}')"
        f" || STRSTARTS(STR(?o), '{BASE}voc') || STRSTARTS(STR(?g), '{BASE}'))",
    )
    assert leftovers == 0


# ----------------------------------------------------------------------------- schemes
def test_naf_has_every_subclass_with_dotted_notation(store):
    rows = _table("naf_rev2.csv")
    assert len(rows) == 732
    naf, code = IRIS.scheme("naf").value, IRIS.concept("naf", "38.32Z").value
    assert _count(store, f"?c a mai:NafActivity, skos:Concept ; skos:inScheme <{naf}>") == 732
    row = next(r for r in rows if r["naf_code"] == "38.32Z")
    got = store.query(
        P + f"SELECT ?n ?h ?l WHERE {{ <{code}> skos:notation ?n ;"
        " skos:hiddenLabel ?h ; skos:prefLabel ?l }"
    )
    [sol] = list(got)
    assert (sol["n"].value, sol["h"].value, sol["l"].value) == (
        "38.32Z",
        "3832Z",
        row["naf_libelle"],
    )
    assert sol["l"].language == "fr"
    assert _count(store, "?c a mai:NafActivity . FILTER NOT EXISTS { ?c dcterms:source ?s }") == 0


def test_four_domains_are_the_top_concepts_of_tee(store):
    tee = IRIS.scheme("tee").value
    domains = _values(
        store,
        f"SELECT ?x WHERE {{ <{tee}> skos:hasTopConcept ?x . ?x a mai:Domain ;"
        f" skos:topConceptOf <{tee}> }} ORDER BY ?x",
    )
    expected = sorted(
        IRIS.concept("tee", r["slug"]).value for r in _table("filieres.csv") if not r["domaine"]
    )
    assert domains == expected and len(domains) == 4


def test_every_filiere_has_its_domain_as_broader(store):
    rows = [r for r in _table("filieres.csv") if r["domaine"]]
    got = {
        (row["f"].value, row["d"].value)
        for row in store.query(
            P + "SELECT ?f ?d WHERE { ?f a mai:Filiere ; skos:broader ?d ; mai:domain ?d }"
        )
    }
    assert got == {
        (IRIS.concept("tee", r["slug"]).value, IRIS.concept("tee", r["domaine"]).value)
        for r in rows
    }


def test_filieres_without_sourced_definition_say_so(store):
    undefined = {r["slug"] for r in _table("filieres.csv") if not r["definition_de"]}
    assert undefined
    for slug in undefined:
        iri = IRIS.concept("tee", slug).value
        assert _count(store, f"<{iri}> skos:definition ?d") == 0
        assert (
            _count(store, f"<{iri}> skos:editorialNote ?n FILTER(CONTAINS(?n, 'définition'))") == 1
        )
    reemploi = IRIS.concept("tee", "reemploi").value
    assert _count(store, f"<{reemploi}> skos:definition ?d ; dcterms:source ?s") >= 1


def test_frec_measures_are_exactly_the_sourced_rows(store):
    rows = _table("frec_mesures.csv")
    frec = IRIS.programme("frec").value
    got = _values(store, f"SELECT ?x WHERE {{ ?x skos:inScheme <{frec}> }} ORDER BY ?x")
    assert sorted(got) == sorted(IRIS.concept("frec", r["numero"]).value for r in rows)
    assert (
        _count(store, f"?m skos:inScheme <{frec}> FILTER NOT EXISTS {{ ?m dcterms:source ?s }}")
        == 0
    )
    assert _count(store, f"?m a mai:Measure ; mai:programme <{frec}> ; mai:titleExact ?t") == len(
        rows
    )
    not_exact = {r["numero"] for r in rows if r["titre_exact"] == "non"}
    got_not_exact = _values(
        store,
        f"SELECT ?x WHERE {{ ?m mai:programme <{frec}> ;"
        " mai:titleExact false ; skos:notation ?x }",
    )
    assert set(got_not_exact) == not_exact


def test_frec_scheme_is_marked_partial_with_a_note(store):
    frec = IRIS.programme("frec").value
    assert (
        _count(store, f"<{frec}> a mai:PublicProgramme, skos:ConceptScheme ; mai:partial true") == 1
    )
    langs = _values(
        store, f"SELECT ?x WHERE {{ <{frec}> skos:editorialNote ?n BIND(LANG(?n) AS ?x) }}"
    )
    assert sorted(langs) == ["en", "fr"]
    note = _values(
        store, f"SELECT ?x WHERE {{ <{frec}> skos:editorialNote ?x FILTER(LANG(?x) = 'fr') }}"
    )[0]
    assert f"seules {len(_table('frec_mesures.csv'))} des 50" in note


def test_plan_batiment_axes_hold_their_actions(store):
    rows = _table("plan_batiment_durable.csv")
    prefix = IRIS.concept("plan-batiment", "").value
    assert _count(store, f"?m a mai:Measure FILTER(STRSTARTS(STR(?m), '{prefix}'))") == len(rows)
    axis = IRIS.concept("plan-batiment", "PREB-A2").value
    actions = _values(
        store, f"SELECT ?x WHERE {{ <{axis}> skos:narrower ?a . ?a skos:notation ?x }}"
    )
    assert sorted(actions) == sorted(
        r["id"] for r in rows if r["axe"].startswith("Axe 2") and not r["titre"].startswith("(axe)")
    )
    six = IRIS.concept("plan-batiment", "PREB-6").value
    title = next(r["titre"] for r in rows if r["id"] == "PREB-6")
    assert _values(store, f"SELECT ?x WHERE {{ <{six}> skos:prefLabel ?x }}") == [title]


def test_legal_categories_each_have_one_family(store):
    rows = _table("categories_juridiques_ess.csv")
    assert len(rows) == 65
    got = {
        (row["c"].value, row["f"].value)
        for row in store.query(
            P
            + "SELECT ?c ?f WHERE { ?c a mai:LegalCategory ; mai:familyOf ?f . ?f a mai:EssFamily }"
        )
    }
    slug = {
        "associations": "associations",
        "coopératives": "cooperatives",
        "mutuelles": "mutuelles",
        "fondations": "fondations",
        "à vérifier": "a-verifier",
    }
    assert got == {
        (
            IRIS.concept("categories-juridiques", r["code"]).value,
            IRIS.concept("familles-ess", slug[r["famille_ess"]]).value,
        )
        for r in rows
    }
    families = _values(store, "SELECT ?x WHERE { ?f a mai:EssFamily ; skos:notation ?x }")
    assert sorted(families) == sorted(
        [
            "associations",
            "cooperatives",
            "mutuelles",
            "fondations",
            "societes-commerciales-ess",
            "a-verifier",
        ]
    )


def test_staff_bands_and_administrative_statuses(store):
    bands = {r["code"]: r for r in _table("tranches_effectifs.csv")}
    assert list(bands) == [
        "NN",
        "00",
        "01",
        "02",
        "03",
        "11",
        "12",
        "21",
        "22",
        "31",
        "32",
        "41",
        "42",
        "51",
        "52",
        "53",
    ]
    got = {
        row["n"].value: (row["min"].value, row["max"].value if row["max"] else "")
        for row in store.query(
            P + "SELECT ?n ?min ?max WHERE { ?b a mai:StaffBand ;"
            " skos:notation ?n ; mai:minStaff ?min OPTIONAL { ?b mai:maxStaff ?max } }"
        )
    }
    assert got == {c: (r["effectif_min"], r["effectif_max"]) for c, r in bands.items()}
    eleven = IRIS.concept("tranches-effectifs", "11").value
    assert _values(
        store, f"SELECT ?x WHERE {{ <{eleven}> skos:prefLabel ?x FILTER(LANG(?x) = 'fr') }}"
    ) == [bands["11"]["libelle"]]
    statuses = _values(
        store, "SELECT ?x WHERE { ?s a mai:AdministrativeStatus ; skos:notation ?x } ORDER BY ?x"
    )
    assert statuses == ["A", "C", "F"]


def test_lvao_taxonomies_match_the_fixtures(store):
    for scheme, (file, model, _, _) in LVAO_SCHEMES.items():
        records = [
            r["fields"]
            for r in json.loads(
                data_file("raw", "lvao-qfdmo-fixtures", file).read_text(encoding="utf-8")
            )
            if r["model"] == model
        ]
        iri = IRIS.scheme(scheme).value
        got = _values(store, f"SELECT ?x WHERE {{ ?c skos:inScheme <{iri}> ; skos:notation ?x }}")
        assert sorted(got) == sorted(r["code"] for r in records), scheme
    service = IRIS.concept("lvao-services", "service_de_reparation").value
    assert _values(store, f"SELECT ?x WHERE {{ <{service}> skos:related ?x }}") == [
        IRIS.concept("lvao-actions", "reparer").value
    ]


# ----------------------------------------------------------------------------- editorial graph
def test_naf_to_filiere_links_are_in_the_editorial_graph_only(store):
    rows = _table("naf_filieres.csv")
    got = {
        (row["n"].value, row["f"].value)
        for row in store.query(
            P
            + f"SELECT ?n ?f WHERE {{ GRAPH <{EDITORIAL.value}> {{ ?n mai:proposedFiliere ?f }} }}"
        )
    }
    assert got == {
        (IRIS.concept("naf", r["naf_code"]).value, IRIS.concept("tee", r["filiere"]).value)
        for r in rows
    }
    assert _count(store, f"GRAPH <{VOC.value}> {{ ?n mai:proposedFiliere ?f }}") == 0
    scopes = {
        row["n"].value: row["s"].value
        for row in store.query(P + "SELECT ?n ?s WHERE { ?n mai:teeScope ?s }")
    }
    assert scopes == {IRIS.concept("naf", r["naf_code"]).value: r["portee"] for r in rows}


def test_complementarities_follow_their_direction(store):
    rows = _table("filieres_complementaires.csv")
    pairs = {
        (row["a"].value, row["b"].value)
        for row in store.query(P + "SELECT ?a ?b WHERE { ?a mai:complementaryTo ?b }")
    }

    def t(slug: str) -> str:
        return IRIS.concept("tee", slug).value

    expected = {(t(r["de"]), t(r["vers"])) for r in rows}
    expected |= {(t(r["vers"]), t(r["de"])) for r in rows if r["relation"] == "reciproque"}
    assert pairs == expected
    assert _count(
        store,
        "?c a mai:Complementarity ; mai:fromFiliere ?a ; mai:toFiliere ?b ;"
        " mai:relationKind ?k ; rdfs:comment ?j ; dcterms:source ?s",
    ) == len(rows)


def test_measure_filiere_links(store):
    rows = _table("mesures_filieres.csv")
    got = {
        (row["m"].value, row["f"].value)
        for row in store.query(
            P + f"SELECT ?m ?f WHERE {{ GRAPH <{EDITORIAL.value}> {{ ?m mai:concernsFiliere ?f }}"
            " ?m a mai:Measure }"
        )
    }
    assert got == {
        (IRIS.base + "voc/" + r["mesure_id"], IRIS.concept("tee", r["filiere"]).value) for r in rows
    }
    assert (IRIS.concept("frec", "8").value, IRIS.concept("tee", "reemploi").value) in got


def test_graphs_describe_themselves(store):
    for graph in (VOC, EDITORIAL):
        g = graph.value
        assert (
            _count(
                store, f"GRAPH <{g}> {{ <{g}> a dcat:Dataset, prov:Entity ; dcterms:license ?l }}"
            )
            == 1
        )
        assert _count(store, f"GRAPH <{g}> {{ <{g}> dcterms:title ?t }}") == 2
        assert _count(store, f"GRAPH <{g}> {{ <{g}> dcterms:source ?s }}") > 3
    assert (
        _count(
            store,
            f"GRAPH <{VOC.value}> {{ <{VOC.value}> dcterms:source"
            " <https://github.com/incubateur-ademe/quefairedemesobjets/blob/"
            "85ea72916b1187dd15756e09b0e31e34d8295cf0/webapp/qfdmo/fixtures/actions.json> }",
        )
        == 1
    )


def test_every_term_used_is_declared_or_external(store):
    onto = MaillageStore(None)
    with onto.writing() as w:
        w.load(ontology_file("maillage.ttl"), pyoxigraph.RdfFormat.TURTLE)
    declared = {
        q.subject.value
        for q in onto.oxigraph.quads_for_pattern(None, None, None)
        if isinstance(q.subject, NamedNode)
    }
    used = set(_values(store, "SELECT DISTINCT ?x WHERE { { ?s ?x ?o } UNION { ?s a ?x } }"))
    unknown = sorted(
        t
        for t in used
        if not (t.startswith(PREFIXES["mai"]) and t in declared)
        and not (t.startswith(KNOWN_EXTERNAL) and not t.startswith(PREFIXES["mai"]))
    )
    assert unknown == []


# ----------------------------------------------------------------------------- helpers
def test_source_terms_split_urls_and_citations():
    terms = source_terms("https://a.org/x ; github:o/r/p.csv@abcdef1 (copie ; note) ; Code civil")
    assert [(type(t).__name__, t.value) for t in terms] == [
        ("NamedNode", "https://a.org/x"),
        ("NamedNode", "https://github.com/o/r/blob/abcdef1/p.csv"),
        ("Literal", "github:o/r/p.csv@abcdef1 (copie ; note)"),
        ("Literal", "Code civil"),
    ]
