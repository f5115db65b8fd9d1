"""The named queries as a REST API: JSON and CSV, checked parameters, OpenAPI, errors."""

from __future__ import annotations

from maillage.graph.catalog import all_queries


def test_list_of_queries(client):
    body = client.get("/api/queries").json()
    ids = {q["id"] for q in body["queries"]}
    assert ids == {q.id for q in all_queries()}
    one = next(q for q in body["queries"] if q["id"] == "acteurs_filiere_territoire")
    assert {p["name"] for p in one["parameters"]} == {"filiere", "territoire"}
    assert one["url"] == "http://testserver/api/queries/acteurs_filiere_territoire"


def test_run_a_named_query_as_json_and_csv(client):
    params = {"filiere": "velo", "territoire": "93"}
    r = client.get("/api/queries/acteurs_filiere_territoire", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    names = [row["nom"] for row in body["rows"]]
    assert "Vélo Solidaire 93" in names
    assert body["parameters"] == params and body["truncated"] is False
    csv = client.get("/api/queries/acteurs_filiere_territoire", params={**params, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().split("\r\n")
    assert lines[0].split(",") == body["columns"] and len(lines) == len(body["rows"]) + 1
    by_accept = client.get("/api/queries/acteurs_filiere_territoire", params=params,
                           headers={"Accept": "text/csv"})
    assert by_accept.text == csv.text


def test_parameter_errors_use_the_error_shape(client):
    cases = [
        ({"filiere": "velo", "territoire": '93" } #'}, 400, "bad-parameter"),
        ({"filiere": "velo"}, 400, "bad-parameter"),
        ({"filiere": "velo", "territoire": "93", "nope": "1"}, 400, "bad-parameter"),
        ({"filiere": "velo", "territoire": "93", "format": "xlsx"}, 400, "bad-parameter"),
    ]
    for params, status, code in cases:
        r = client.get("/api/queries/acteurs_filiere_territoire", params=params)
        assert r.status_code == status and r.json()["error"] == code, (params, r.text)
    r = client.get("/api/queries/acteurs_filiere_territoir")
    assert r.status_code == 404 and "acteurs_filiere_territoire" in r.json()["hint"]
    r = client.get("/api/queries/acteurs_filiere_territoire?filiere=velo&filiere=amap&territoire=93")
    assert r.status_code == 400 and r.json()["error"] == "repeated-parameter"


def test_openapi_documents_every_query_and_its_parameters(client):
    spec = client.get("/api/openapi.json").json()
    for q in all_queries():
        operation = spec["paths"][f"/api/queries/{q.id}"]["get"]
        assert operation["summary"] == q.summary
        documented = {p["name"] for p in operation.get("parameters", [])}
        assert documented == {p.name for p in q.params} | {"format"}
    assert client.get("/api").status_code == 200
