"""Health and Prometheus metrics."""

from __future__ import annotations


def test_healthz_reads_the_store(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["nonEmpty"] is True and body["generation"].startswith(("gen-", "remote-"))


def test_metrics_count_requests_by_route(client):
    client.get("/sparql", params={"query": "ASK {}"})
    text = client.get("/metrics").text
    assert 'maillage_http_requests_total{route="/sparql",method="GET",status="200"}' in text
    assert "maillage_http_request_duration_seconds_bucket" in text
    assert 'maillage_jobs_total{job="sparql_query"' in text
    assert "maillage_query_timeouts_total" in text


def test_bounded_lookups_run_inline_and_the_rest_on_job_threads(client):
    def inline() -> int:
        line = next(x for x in client.get("/metrics").text.splitlines()
                    if x.startswith("maillage_jobs_inline_total"))
        return int(line.rsplit(" ", 1)[1])

    before = inline()
    lookup = "SELECT ?p ?o WHERE { <https://w3id.org/maillage/id/structure/900000019> ?p ?o }"
    assert client.get("/sparql", params={"query": lookup}).status_code == 200
    assert inline() == before + 1
    assert client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"}).status_code == 200
    assert inline() == before + 1
