"""Health and Prometheus metrics."""

from __future__ import annotations


def test_healthz_reads_the_store(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["nonEmpty"] is True and body["generation"].startswith("gen-")


def test_metrics_count_requests_by_route(client):
    client.get("/sparql", params={"query": "ASK {}"})
    text = client.get("/metrics").text
    assert 'maillage_http_requests_total{route="/sparql",method="GET",status="200"}' in text
    assert "maillage_http_request_duration_seconds_bucket" in text
    assert 'maillage_jobs_total{job="sparql_query"' in text
    assert "maillage_query_timeouts_total" in text
