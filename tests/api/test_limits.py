"""Time limit, row limit and request limits, over real HTTP."""

from __future__ import annotations

import json
import os
import threading
import time

import httpx

CARTESIAN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
LIGHT = "ASK { <https://w3id.org/maillage/id/structure/900000019> ?p ?o }"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_pathological_query_stops_at_the_limit_while_light_queries_are_served(server):
    heavy: dict[str, httpx.Response] = {}

    def run_heavy() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            heavy["r"] = http.get("/sparql", params={"query": CARTESIAN})

    thread = threading.Thread(target=run_heavy)
    thread.start()
    time.sleep(0.3)
    light = []
    while thread.is_alive() and len(light) < 200:
        with httpx.Client(base_url=server.url, timeout=30) as http:  # a new connection each time
            light.append(http.get("/sparql", params={"query": LIGHT}))
    thread.join(60)
    assert len(light) >= 3 and all(r.status_code == 200 for r in light)
    assert all(json.loads(r.content)["boolean"] is True for r in light)

    r = heavy["r"]
    assert r.status_code == 504
    body = r.json()
    assert body["error"] == "query-timeout" and "2 s" in body["message"]
    pid = int(r.headers["maillage-process"])
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:  # the process retires: CPU released
        time.sleep(0.2)
    assert not _alive(pid), "the process running the runaway query is still alive"
    serving: set[int] = set()
    deadline = time.monotonic() + 30
    while len(serving) < 2 and time.monotonic() < deadline:  # a replacement was started
        r = httpx.get(server.url + "/healthz", timeout=30)  # a new connection each time
        assert r.status_code == 200
        serving.add(r.json()["pid"])
        time.sleep(0.05)
    assert len(serving) == 2 and pid not in serving
    assert httpx.get(server.url + "/sparql", params={"query": LIGHT}).json()["boolean"] is True


def test_select_is_cut_at_the_row_limit_and_says_so(server):
    with server.http() as http:
        r = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        body = json.loads(r.content)
        assert len(body["results"]["bindings"]) == 20
        assert r.headers["maillage-truncated"] == "true"
        assert r.headers["maillage-row-limit"] == "20"
        assert body["maillage"]["truncated"] is True and body["maillage"]["rowLimit"] == 20
        xml = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "xml"})
        assert b"#row-limit" in xml.content and xml.content.count(b"<result>") == 20
        small = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
        assert "maillage-truncated" not in small.headers
        assert len(json.loads(small.content)["results"]["bindings"]) == 5
        graph = http.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }",
                                            "format": "nt"})
        assert graph.headers["maillage-truncated"] == "true"
        assert len(graph.content.strip().splitlines()) == 20


def test_request_limits_are_clear_4xx(server):
    with server.http() as http:
        big = http.post("/sparql", content=b"#" * 200_000,
                        headers={"Content-Type": "application/sparql-query"})
        assert big.status_code == 413 and big.json()["error"] == "body-too-large"
        long = http.get("/sparql", params={"query": "ASK {} #" + "x" * 9000})
        assert long.status_code == 414 and long.json()["error"] == "uri-too-long"
        iri = http.get("/id/structure/" + "1" * 3000)
        assert iri.status_code == 414


def test_hostile_inputs_never_cause_a_500(server):
    requests = [
        ("GET", "/dumps/graphs/..%2F..%2F..%2Fetc%2Fpasswd.ttl", {}),
        ("GET", "/dumps/graphs/%2e%2e/%2e%2e/etc/passwd.ttl", {}),
        ("GET", "/static/..%2F..%2Fapp.py", {}),
        ("GET", "/id/structure/%FF%FE.ttl", {}),
        ("GET", "/id/structure/a%00b.ttl", {}),
        ("GET", "/id/structure/<script>.html", {}),
        ("GET", "/voc/%C0%AF.html", {}),
        ("GET", "/id/structure/900000019", {"Accept": ";;;,,/,text/html;q=abc,*/*;q=-1"}),
        ("GET", "/sparql?query=ASK%7B%7D", {"Accept": "garbage, , ;q=, text/*;level"}),
        ("GET", "/api/queries/acteurs_filiere_territoire?filiere=%FF&territoire=93", {}),
        ("GET", "/territoire?code=" + "9" * 50, {}),
        ("POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}),
    ]
    with server.http() as http:
        for method, path, headers in requests:
            content = b"query=%FF%FE" if method == "POST" else None
            r = http.request(method, path, headers=headers, content=content)
            assert r.status_code < 500, (path, r.status_code, r.text[:200])
            if r.status_code >= 400:
                assert r.json()["ok"] is False, path
        control = http.get("/sparql?query=ASK%7B%7D", headers={"Accept": "\x01\x02"})
        assert control.status_code == 400  # refused by the HTTP parser itself
        assert http.get("/etc/passwd").status_code == 404
        assert os.path.exists("/etc/passwd")
