"""Health and Prometheus-style metrics (text exposition format 0.0.4), no extra dependency.

>>> m = Metrics()
>>> m.observe("/sparql", "GET", 200, 0.004)
>>> 'maillage_http_requests_total{route="/sparql",method="GET",status="200"} 1' in m.render([])
True
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError
from .web import call

router = APIRouter()

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """Request counters and a latency histogram per route."""

    def __init__(self) -> None:
        self.started = time.time()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.requests[(route, method, status)] += 1
        counts = self.buckets.setdefault(route, [0] * len(BUCKETS))
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[i] += 1
        self.sums[route] += seconds
        self.counts[route] += 1

    def render(self, extra: list[str]) -> str:
        """The exposition text, with ``extra`` lines (pool gauges) appended."""
        out = ["# HELP maillage_http_requests_total HTTP requests answered.",
               "# TYPE maillage_http_requests_total counter"]
        for (route, method, status), n in sorted(self.requests.items()):
            out.append(f'maillage_http_requests_total{{route="{route}",method="{method}",'
                       f'status="{status}"}} {n}')
        out += ["# HELP maillage_http_request_duration_seconds Time to answer.",
                "# TYPE maillage_http_request_duration_seconds histogram"]
        for route, counts in sorted(self.buckets.items()):
            for bound, n in zip(BUCKETS, counts):
                out.append(f'maillage_http_request_duration_seconds_bucket{{route="{route}",'
                           f'le="{bound}"}} {n}')
            out.append(f'maillage_http_request_duration_seconds_bucket{{route="{route}",'
                       f'le="+Inf"}} {self.counts[route]}')
            out.append(f'maillage_http_request_duration_seconds_sum{{route="{route}"}} '
                       f"{self.sums[route]:.6f}")
            out.append(f'maillage_http_request_duration_seconds_count{{route="{route}"}} '
                       f"{self.counts[route]}")
        out.append(f"# TYPE maillage_uptime_seconds gauge\nmaillage_uptime_seconds "
                   f"{time.time() - self.started:.1f}")
        return "\n".join(out + extra) + "\n"


def runner_lines(runner: Any) -> list[str]:
    """Gauges and counters of this process's job runner (one web worker process)."""
    s = runner.stats
    pid = f'{{pid="{os.getpid()}"}}'
    lines = [
        "# TYPE maillage_job_threads gauge", f"maillage_job_threads{pid} {runner.threads}",
        "# TYPE maillage_jobs_running gauge", f"maillage_jobs_running{pid} {runner.busy}",
        "# TYPE maillage_query_timeouts_total counter",
        f"maillage_query_timeouts_total{pid} {s.timeouts}",
        "# TYPE maillage_runaway_jobs gauge", f"maillage_runaway_jobs{pid} {runner.runaway}",
        "# TYPE maillage_jobs_inline_total counter",
        f"maillage_jobs_inline_total{pid} {s.inline}",
        "# TYPE maillage_job_seconds_total counter",
        f"maillage_job_seconds_total{pid} {s.job_seconds:.3f}",
        "# TYPE maillage_busy_rejections_total counter",
        f"maillage_busy_rejections_total{pid} {s.busy_rejections}",
        "# TYPE maillage_jobs_total counter",
    ]
    lines += [f'maillage_jobs_total{{job="{job}",pid="{os.getpid()}"}} {n}'
              for job, n in sorted(s.jobs.items())]
    return lines


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request by route template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or _route_name(scope.get("path", ""))
            self.metrics.observe(name, scope["method"], status, time.perf_counter() - started)


def _route_name(path: str) -> str:
    """A label for requests routed without a FastAPI route (the SPARQL endpoint, static files).

    >>> _route_name("/sparql/"), _route_name("/static/style.css"), _route_name("/x")
    ('/sparql', '/static', '(unmatched)')
    """
    for prefix in ("/sparql", "/static"):
        if path.startswith(prefix):
            return prefix
    return "(unmatched)"


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of the process that answers (each worker process counts its own)."""
    text = request.app.state.metrics.render(runner_lines(request.app.state.runner))
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> Response:
    """200 when a worker can read the store, 503 otherwise (JSON error shape)."""
    try:
        reply = await call(request, "health", timeout=10.0)
    except ApiError as exc:
        if exc.status >= 500:
            raise ApiError(503, "unhealthy", exc.message, hint=exc.hint) from None
        raise
    return Response(reply.body, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
