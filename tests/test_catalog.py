"""The named-query catalogue: headers, lint, safe parameter binding, RDF catalogue, CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from maillage.graph import cli
from maillage.graph.catalog import (
    CODES,
    NamedQuery,
    Param,
    all_queries,
    bind_params,
    bind_text_params,
    bind_value,
    catalogue_quads,
    get_query,
    lint_query,
    list_queries_text,
    load_catalogue,
    load_query,
    parse_header,
    projection,
    query_iri,
    run_named_query,
)
from maillage.graph.errors import InputError, QueryError
from maillage.graph.namespaces import XSD, Iris
from maillage.graph.reference import reference_loaders
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from pyoxigraph import Literal, NamedNode, QuerySolutions, RdfFormat

BASE = "https://w3id.org/maillage/"
MINI = Path(__file__).parent / "data" / "mini" / "mini.trig"
QUERIES = all_queries()
IDS = [q.id for q in QUERIES]
SH_PREFIX = "PREFIX sh: <http://www.w3.org/ns/shacl#>\n"


def mini_store() -> MaillageStore:
    store = MaillageStore(None)
    with store.writing() as w:
        w.load(MINI, RdfFormat.TRIG, bulk=False)
    return store


# ---------------------------------------------------------------------------- the library
def test_the_library_answers_the_seven_questions():
    ids = set(IDS)
    for required in ("panorama_domaines", "panorama_filieres", "panorama_domaines_territoires",
                     "acteurs_filiere_territoire", "mesures_territoire",
                     "zones_blanches_communes", "zones_blanches_epci", "creations_par_filiere",
                     "fermetures_par_filiere", "dla_cibles", "eligibles_appel",
                     "candidatures_par_theme", "partenaires_structure", "graphes", "recherche",
                     "fiche_structure"):
        assert required in ids
    assert len(ids) == len(IDS)


@pytest.mark.parametrize("query_id", IDS)
def test_every_query_parses_and_lints(query_id):
    query = get_query(query_id)
    assert lint_query(query) == []


@pytest.mark.parametrize("query_id", IDS)
def test_every_query_is_documented(query_id):
    q = get_query(query_id)
    assert q.summary and len(q.description) >= 60 and q.tags
    assert all(p.description for p in q.params)
    if q.query_type == "select":
        assert q.returns and all(q.returns.values())
    assert q.path.parent.name == q.topic and q.path.stem == q.id


@pytest.mark.parametrize("query_id", IDS)
def test_every_parameter_is_projected_and_every_select_is_ordered(query_id):
    q = get_query(query_id)
    columns = projection(q.text)
    assert all(p.name in columns for p in q.params)
    if q.query_type == "select":
        assert "ORDER BY" in q.text.upper()


def test_example_parameters_bind(monkeypatch):
    for q in QUERIES:
        bound = bind_params(q, q.example, Settings(base_iri=BASE))
        assert {p.name for p in q.params if p.required} <= set(bound), q.id


# ---------------------------------------------------------------------------- headers
HEADER = """#+ summary: Un exemple
#+ description: Une requête d'exemple pour les tests, assez longue pour être documentée.
#+ tags: [test]
#+ params:
#+   - name: territoire
#+     kind: code
#+     identifies: territoire
#+     required: true
#+     description: un territoire
#+ returns:
#+   territoire: le territoire
#+   n: un nombre
"""


def write(tmp_path: Path, name: str, text: str, topic: str = "essai") -> Path:
    path = tmp_path / topic / f"{name}.rq"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_header_reads_params_and_returns():
    meta = parse_header(HEADER + "SELECT ?territoire ?n {} ORDER BY ?n")
    assert meta["summary"] == "Un exemple"
    assert meta["params"] == [Param("territoire", "code", True, None, "un territoire",
                                    "territoire")]
    assert list(meta["returns"]) == ["territoire", "n"]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("#+ summary: [oops\n", 1, "bad YAML header"),
    (HEADER.replace("#+ tags: [test]", "#+ tags: [test]\n#+ author: moi"), 4, "unknown header key"),
    (HEADER.replace("kind: code", "kind: texte"), 5, "kind 'texte'"),
    (HEADER.replace("#+     identifies: territoire\n", ""), 5, "'identifies' is required"),
    (HEADER.replace("#+ summary: Un exemple\n", ""), 1, "missing or empty header key 'summary'"),
    (HEADER.replace("required: true", "required: true\n#+     default: 93"), 5, "without a default"),
])
def test_header_errors_name_the_file_and_line(text, line, message):
    with pytest.raises(InputError) as err:
        parse_header(text + "SELECT ?territoire ?n {} ORDER BY ?n", "q.rq")
    assert err.value.path == "q.rq" and err.value.line == line
    assert message in str(err.value)


def test_lint_finds_the_problems(tmp_path):
    bad = HEADER + "PREFIX mai: <https://example.org/def#>\n" \
        "SELECT ?n WHERE { <https://w3id.org/maillage/id/structure/1> ?p ?n }"
    problems = lint_query(load_query(write(tmp_path, "mauvaise", bad)))
    text = "\n".join(problems)
    assert "ORDER BY" in text
    assert "parameter territoire is not a variable" in text
    assert "must be a projected variable" in text
    assert "returns ['territoire', 'n'] but the query projects ['n']" in text
    assert "mai: must be" in text
    assert "hard-coded instance IRI" in text
    broken = lint_query(load_query(write(tmp_path, "cassee", HEADER + "SELECT ?n WHERE {")))
    assert "does not parse" in broken[0]


def test_ids_are_unique_across_topics(tmp_path):
    good = HEADER + "SELECT ?territoire ?n {} ORDER BY ?n"
    write(tmp_path, "double", good, "un")
    write(tmp_path, "double", good, "deux")
    with pytest.raises(InputError, match="unique"):
        all_queries(tmp_path)


def test_unknown_query_suggests_close_names():
    with pytest.raises(QueryError) as err:
        get_query("panorama_domaine")
    assert "panorama_domaines" in str(err.value)
    assert "maillage query --list" in str(err.value)


# ---------------------------------------------------------------------------- binding
TERRITOIRE = Param("territoire", "code", description="d", identifies="territoire")


@pytest.mark.parametrize("value", [
    '93" } ; DROP ALL', "93 } UNION { ?s ?p ?o", "9", "ABC", "<93>", "93\nLIMIT 1", "",
])
def test_codes_reject_injection_and_garbage(value):
    with pytest.raises(QueryError, match="parameter territoire"):
        bind_value(TERRITOIRE, value)


def test_codes_are_normalised():
    assert bind_value(TERRITOIRE, " 2a004 ") == Literal("2A004")
    naf = Param("naf", "code", description="d", identifies="naf")
    assert bind_value(naf, "3832z") == Literal("38.32Z")
    assert all(kind in CODES for kind in ("territoire", "filiere", "epci", "siren", "appel"))


@pytest.mark.parametrize("value", [
    "https://w3id.org/maillage/id/structure/1 2", "not an iri", "structure/900000027",
    'https://x.org/a>" ; DROP ALL', "https://x.org/{a}", "https://x.org/a|b", "javascript",
])
def test_iris_must_be_absolute_and_clean(value):
    with pytest.raises(QueryError, match="absolute IRI"):
        bind_value(Param("s", "iri", description="d"), value, Settings(base_iri=BASE))


def test_iris_under_the_base_may_be_given_as_paths():
    param = Param("s", "iri", description="d")
    assert bind_value(param, "id/structure/900000027", Settings(base_iri="https://ex.org/m/")) \
        == NamedNode("https://ex.org/m/id/structure/900000027")
    assert bind_value(param, "urn:x:1") == NamedNode("urn:x:1")


def test_numbers_dates_years_and_choices():
    assert bind_value(Param("n", "integer", description="d"), "05") == Literal(
        "5", datatype=XSD.integer)
    assert bind_value(Param("d", "date", description="d"), "2024-06-30") == Literal(
        "2024-06-30", datatype=XSD.date)
    assert bind_value(Param("y", "year", description="d"), "2021") == Literal(
        "2021", datatype=XSD.integer)
    for param, value in [(Param("n", "integer", description="d"), "5; DROP ALL"),
                         (Param("d", "date", description="d"), "2024-02-30"),
                         (Param("d", "date", description="d"), "30/06/2024"),
                         (Param("y", "year", description="d"), "21"),
                         (Param("c", "literal", description="d", choices=("epci",)), "pays")]:
        with pytest.raises(QueryError):
            bind_value(param, value)


def test_choices_are_checked_and_trimmed():
    niveau = get_query("panorama_domaines_territoires").param("niveau")
    assert niveau is not None and bind_value(niveau, " epci ") == Literal("epci")
    with pytest.raises(QueryError, match="one of region, departement, epci"):
        bind_value(niveau, "pays")


def test_literals_are_bound_inertly_and_the_store_is_unchanged():
    store = mini_store()
    before = store.count()
    attack = '"} ; DROP ALL ; INSERT DATA { <x:a> <x:b> <x:c> } ; SELECT * {'
    results = run_named_query(store, "recherche", {"texte": attack})
    assert list(results) == []
    assert store.count() == before
    assert bind_value(Param("t", "literal", description="d"), attack) == Literal(attack)


def test_bind_params_rejects_unknown_and_missing_and_applies_defaults():
    q = get_query("dla_cibles")
    with pytest.raises(QueryError, match="has no parameter 'commune'") as err:
        bind_params(q, {"commune": "93048"})
    assert "territoire" in str(err.value)
    with pytest.raises(QueryError, match="needs the parameter 'territoire'"):
        bind_params(q, {})
    bound = bind_params(q, {"territoire": "93", "?date_reference": ""})
    assert bound == {"territoire": Literal("93"), "annees": Literal("5", datatype=XSD.integer)}


def test_bind_text_params_for_ad_hoc_queries():
    text = "SELECT ?code ?t WHERE { ?t <http://rdf.insee.fr/def/geo#codeINSEE> ?code } ORDER BY ?t"
    assert bind_text_params(text, {"code": "93"}) == {"code": Literal("93")}
    with pytest.raises(QueryError, match="no variable"):
        bind_text_params(text, {"nom": "x"})
    with pytest.raises(QueryError, match="projection"):
        bind_text_params("SELECT ?t WHERE { ?t ?p ?code } ORDER BY ?t", {"code": "93"})
    with pytest.raises(QueryError, match="absolute IRI"):
        bind_text_params(text, {"t": "<not an iri>"})


# ---------------------------------------------------------------------------- RDF catalogue
@pytest.fixture(scope="module")
def catalogue() -> MaillageStore:
    store = MaillageStore(None)
    with store.writing() as w:
        graph = load_catalogue(w, Settings(base_iri=BASE))
    assert graph == NamedNode(BASE + "graph/catalogue")
    return store


def test_catalogue_has_one_executable_per_file(catalogue):
    results = catalogue.query(SH_PREFIX + """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?q ?id ?source ?text WHERE {
          ?q a sh:SPARQLExecutable ; dcterms:identifier ?id ; dcterms:source ?source ;
             sh:select|sh:construct|sh:ask ?text .
        } ORDER BY ?id""")
    table = {r["id"].value: r for r in results}
    assert sorted(table) == sorted(IDS)
    for q in QUERIES:
        row = table[q.id]
        assert row["q"] == query_iri(Iris(BASE), q.id)
        assert row["q"].value == f"{BASE}id/requete/{q.id}"
        assert row["text"].value == q.path.read_text(encoding="utf-8")
        assert row["source"].value == f"queries/{q.topic}/{q.id}.rq"


def test_catalogue_parameters_and_columns_are_queryable(catalogue):
    results = catalogue.query(SH_PREFIX + """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?name ?optional ?pattern ?datatype ?order WHERE {
          ?q dcterms:identifier "acteurs_filiere_territoire" ; sh:parameter ?p .
          ?p sh:path ?p ; sh:name ?name ; sh:optional ?optional ; sh:order ?order .
          OPTIONAL { ?p sh:pattern ?pattern } OPTIONAL { ?p sh:datatype ?datatype }
        } ORDER BY ?order""")
    params = [(r["name"].value, r["optional"].value, r["pattern"].value) for r in results]
    assert params == [("filiere", "false", CODES["filiere"][0]),
                      ("territoire", "false", CODES["territoire"][0])]
    columns = catalogue.query("""
        PREFIX schema: <https://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?name WHERE { ?q dcterms:identifier "dla_cibles" ; schema:variableMeasured ?c .
                             ?c schema:name ?name ; sh:order ?o } ORDER BY ?o""")
    assert [r["name"].value for r in columns] == list(get_query("dla_cibles").returns)
    default = catalogue.query(SH_PREFIX + """
        SELECT ?v WHERE { ?p sh:name "annees" ; sh:defaultValue ?v }""")
    assert [r["v"] for r in default] == [Literal("5", datatype=XSD.integer)]


def test_catalogue_describes_itself_and_is_labelled(catalogue):
    results = catalogue.query("""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?title ?licence WHERE { GRAPH ?g { ?g dcterms:title ?title ; dcterms:license ?licence
        FILTER(LANG(?title) = "fr") } }""")
    assert [r["title"].value for r in results] == ["Catalogue des requêtes nommées"]
    labels = catalogue.query("""
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT (COUNT(?l) AS ?n) WHERE { ?q a sh:SPARQLExecutable ; rdfs:label ?l ; rdfs:comment ?c
        FILTER(LANG(?l) = "fr") }""")
    assert int(next(iter(labels))["n"].value) == len(IDS)


def test_catalogue_follows_the_base_iri():
    quads = catalogue_quads(Settings(base_iri="https://ex.org/m/"))
    subjects = {q.subject.value for q in quads if isinstance(q.subject, NamedNode)}
    assert "https://ex.org/m/id/requete/panorama_domaines" in subjects
    assert {q.graph_name.value for q in quads} == {"https://ex.org/m/graph/catalogue"}


def test_catalogue_is_a_reference_graph():
    assert ("catalogue", load_catalogue) in reference_loaders()


def test_list_text_shows_every_query_with_its_parameters():
    text = list_queries_text()
    for q in QUERIES:
        assert q.id in text
    assert "dla_cibles" in text and "territoire, annees?, date_reference?" in text


# ---------------------------------------------------------------------------- CLI
def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded_store(tmp_path, capsys) -> Path:
    store = tmp_path / "store"
    code, out, _ = run_cli(capsys, "load", str(MINI), "--store", str(store))
    assert code == 0, out
    return store


def test_cli_runs_a_named_query_as_csv(loaded_store, capsys):
    code, out, err = run_cli(capsys, "query", "acteurs_filiere_territoire", "--param",
                             "filiere=reparation", "--param", "territoire=93", "--format", "csv",
                             "--store", str(loaded_store))
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["siren"] for r in table] == ["900000027", "900000100"]
    assert table[0]["nom"] == "Répar'Montreuil"


def test_cli_lists_the_queries(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "query", "--list", "--store", str(tmp_path / "none"))
    assert code == 0
    assert all(q in out for q in IDS)


def test_cli_rejects_bad_names_and_injections_without_touching_the_store(loaded_store, capsys):
    code, _, err = run_cli(capsys, "query", "zones_blanche", "--store", str(loaded_store))
    assert code == 1 and "zones_blanches_communes" in err
    before = MaillageStore(loaded_store).count()
    code, _, err = run_cli(capsys, "query", "panorama_domaines", "--param",
                           'territoire=93" } ; DROP ALL ; #', "--store", str(loaded_store))
    assert code == 1 and "parameter territoire" in err
    code, out, _ = run_cli(capsys, "query", "recherche", "--param", 'texte="} ; DROP ALL #',
                           "--format", "csv", "--store", str(loaded_store))
    assert code == 0 and out.strip() == "texte,ressource,libelle,types"
    assert MaillageStore(loaded_store).count() == before


def test_cli_binds_parameters_of_an_ad_hoc_query(loaded_store, capsys):
    text = ("PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT ?code ?nom WHERE "
            "{ ?t igeo:codeINSEE ?code ; igeo:nom ?nom } ORDER BY ?nom")
    code, out, err = run_cli(capsys, "query", "--sparql", text, "--param", "code=93048",
                             "--format", "csv", "--store", str(loaded_store))
    assert code == 0, err
    assert out.split() == ["code,nom", "93048,Montreuil"]


def test_named_query_dataclass_source_path():
    q = get_query("graphes")
    assert isinstance(q, NamedQuery) and q.source == "queries/meta/graphes.rq"
    assert isinstance(run_named_query(mini_store(), "graphes"), QuerySolutions)
