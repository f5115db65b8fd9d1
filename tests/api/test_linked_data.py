"""Linked Data: 303 dereferencing, documents by suffix, HTML pages for people, the ontology
and vocabulary documentation."""

from __future__ import annotations

import re

import httpx
import pytest
from pyoxigraph import NamedNode, RdfFormat, parse

BASE = "https://w3id.org/maillage/"
S1 = "id/structure/900000019"  # Ressourcerie du Onze: Paris 11e + Montreuil (mini fixture)
E3 = "id/etablissement/90000003500106"  # Vélo Solidaire 93, Saint-Denis, with a point
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("accept, suffix", [
    ("text/html,application/xhtml+xml,*/*;q=0.8", "html"),
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("application/n-quads", "nq"),
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("*/*", "html"),
    (None, "html"),
])
def test_things_redirect_303_to_the_document_the_client_accepts(client, accept, suffix):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/" + S1, headers=headers, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"http://testserver/{S1}.{suffix}"
    assert "Accept" in r.headers["vary"]


def test_unacceptable_document_type_is_406(client):
    r = client.get("/" + S1, headers={"Accept": "image/png"}, follow_redirects=False)
    assert r.status_code == 406 and r.json()["error"] == "not-acceptable"


@pytest.mark.parametrize("suffix, media, fmt", [
    ("ttl", "text/turtle", RdfFormat.TURTLE),
    ("nt", "application/n-triples", RdfFormat.N_TRIPLES),
    ("jsonld", "application/ld+json", RdfFormat.JSON_LD),
    ("rdf", "application/rdf+xml", RdfFormat.RDF_XML),
    ("nq", "application/n-quads", RdfFormat.N_QUADS),
    ("trig", "application/trig", RdfFormat.TRIG),
])
def test_documents_by_suffix_describe_the_thing(client, suffix, media, fmt):
    r = client.get(f"/{S1}.{suffix}", headers={"Accept": "text/html"})  # the suffix wins
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.headers["link"] == f'<{BASE}{S1}>; rel="describes"'
    statements = list(parse(r.content, fmt))
    subject = NamedNode(BASE + S1)
    assert any(t.subject == subject and t.predicate.value.endswith("#siren")
               and t.object.value == "900000019" for t in statements)
    if suffix in ("nq", "trig"):  # provenance kept: the statements' graph
        assert {q.graph_name.value for q in statements} == {BASE + "graph/synthetique-sirene"}


def test_blank_node_geometries_are_part_of_the_description(client):
    statements = list(parse(client.get(f"/{E3}.ttl").content, RdfFormat.TURTLE))
    assert any(t.object.value == "POINT(2.3574 48.9362)" for t in statements)


def test_unknown_iri_is_404(client):
    r = client.get("/id/structure/000000000.ttl")
    assert r.status_code == 404 and r.json()["error"] == "not-found"
    page = client.get("/id/structure/000000000.html", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Erreur 404" in page.text


def test_structure_page_is_for_people(client):
    html = client.get(f"/{S1}.html").text
    assert "<h1>Ressourcerie du Onze</h1>" in html
    assert "famille de l&#39;ESS" in html or "famille de l'ESS" in html  # French label
    assert ">Associations<" in html  # concept label instead of its IRI
    assert 'href="http://testserver/voc/familles-ess/associations"' in html  # rewritten link
    assert "Données synthétiques" in html
    assert "Provenance et licences" in html
    assert "creativecommons.org/publicdomain/zero/1.0/" in html
    assert re.search(r'<svg[^>]+class="map"', html)
    assert html.count('class="hl"') == 2  # its two communes highlighted (75111, 93048)
    assert "Liens entrants" in html and "établissement de" in html


def test_establishment_page_has_a_point_on_its_map(client):
    html = client.get(f"/{E3}.html").text
    assert '<circle class="pt"' in html


def test_territory_page_is_a_profile(client):
    html = client.get("/id/territoire/commune/93048.html").text  # Montreuil
    assert "<h1>Montreuil</h1>" in html
    assert "Profil du territoire" in html
    assert re.search(r'<svg[^>]+class="chart"', html)
    # S1 (réemploi, ressourcerie) and S2 (réparation) have an active establishment in Montreuil
    row = re.search(r">Réemploi</a></td><td>[^<]*</td><td class=\"num\">(\d+)<", html)
    assert row and row.group(1) == "1"
    assert "Mesures publiques" in html and "Lacunes" in html and "Synergies suggérées" in html
    assert "api/queries/mesures_territoire?territoire=93048" in html


def test_territory_measures_covered_and_not(client):
    html = client.get("/id/territoire/commune/93048.html").text
    covered, uncovered = html.split("Sans relais local")
    assert "/voc/frec/8" in covered.split("Couvertes")[1]  # réemploi + réparation are local
    assert "/voc/frec/1" in uncovered  # recyclage: no local actor


def test_graph_pages_and_epci_and_department(client):
    graph = client.get("/graph/synthetique-sirene.html").text
    assert "dumps/graphs/synthetique-sirene.ttl" in graph
    for path in ("/id/territoire/epci/200054781.html", "/id/territoire/departement/93.html",
                 "/id/territoire/region/11.html", "/id/territoire/arrondissement/75111.html"):
        r = client.get(path)
        assert r.status_code == 200 and "Profil du territoire" in r.text, path


def test_ontology_served_at_its_namespace(client):
    r = client.get("/def", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-location"] == "/def.ttl"
    triples = list(parse(r.content, RdfFormat.TURTLE))
    assert any(t.subject.value == "https://w3id.org/maillage/def#Structure" for t in triples)
    html = client.get("/def", headers=HTML).text
    assert 'id="Structure"' in html and 'id="siren"' in html
    assert "Structure de l&#39;ESS" in html or "Structure de l'ESS" in html


def test_concept_scheme_documentation(client):
    r = client.get("/voc/tee", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/voc/tee.html")
    html = client.get("/voc/tee.html").text
    assert "Schéma de concepts SKOS" in html
    assert "<code>reemploi</code>" in html and "Économie circulaire" in html
    concept = client.get("/voc/tee/reemploi.html").text
    assert "<h1>Réemploi</h1>" in concept


def test_home_and_query_pages(client):
    home = client.get("/").text
    assert "Seine-Saint-Denis" in home and ".well-known/void" in home
    query = client.get("/query").text
    assert "static/yasgui/yasgui.min.js" in query and 'id="examples-data"' in query
    assert "acteurs_filiere_territoire" in query
    assert "cdn" not in query.lower()


def test_documents_revalidate_with_the_store_generation(server):
    with server.http() as http:
        try:
            first = http.get(f"/{S1}.html")
        except httpx.RemoteProtocolError:  # a process retiring after test_limits' runaway
            first = http.get(f"/{S1}.html")  # query may drop its connections (RELIABILITY.md)
        etag = first.headers["etag"]
        assert etag.startswith(('W/"gen-', 'W/"remote-'))  # embedded generation / remote version
        again = http.get(f"/{S1}.html", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert http.get(f"/{S1}.ttl", headers={"If-None-Match": etag}).status_code == 200


def test_deployed_behind_the_base_iri_answers_for_it(store_path, tmp_path):
    """With public_url = base IRI, links stay canonical and the base path prefix is accepted."""
    from fastapi.testclient import TestClient
    from maillage.api.app import create_app
    from maillage.graph.settings import Settings

    settings = Settings(store=str(store_path), public_url=BASE, dump_dir=str(tmp_path))
    with TestClient(create_app(settings)) as c:
        for path in (f"/maillage/{S1}", f"/{S1}"):
            r = c.get(path, headers=HTML, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == f"{BASE}{S1}.html"
        html = c.get(f"/maillage/{S1}.html").text
        assert f'href="{BASE}voc/familles-ess/associations"' in html
        sd = c.get("/maillage/sparql", headers={"Accept": "text/turtle"}).text
        assert f"<{BASE}sparql>" in sd
