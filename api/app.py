"""The application factory: ``create_app(settings)`` builds the FastAPI app.

One router per concern (SPARQL protocol, Linked Data, pages, named-query API, VoID, dumps,
metrics); every piece of work that reads the store runs in the worker pool started by the
lifespan. Errors all leave in the JSON error shape of :mod:`maillage.api.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from maillage.graph import __version__
from maillage.graph.errors import ConfigError
from maillage.graph.resources import _path
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from .errors import ApiError
from .limits import LimitsMiddleware
from .metrics import Metrics, MetricsMiddleware
from .sparql import SparqlFastPath
from .web import error_response
from .workers import JobRunner, retire_process

log = logging.getLogger("maillage.api")

RETIRED_EXIT_CODE = 75  # not uvicorn's 3 (startup failure), so its supervisor starts a new one
EXPOSED_HEADERS = ["Maillage-Truncated", "Maillage-Row-Limit", "Warning", "ETag",
                   "Last-Modified", "Location", "Content-Location"]


def check_settings(settings: Settings) -> None:
    """Refuse settings the server cannot run with safely."""
    if settings.updates_enabled and not settings.admin_token:
        raise ConfigError("updates are enabled but no admin token is set",
                          hint="set MAILLAGE_ADMIN_TOKEN (a long random string)")
    if settings.query_timeout_s <= 0 or settings.row_limit <= 0 or settings.workers <= 0:
        raise ConfigError("query_timeout_s, row_limit and workers must be positive")


def create_app(settings: Settings, *, store: MaillageStore | None = None,
               supervised: bool = False) -> FastAPI:
    """The web application for ``settings``.

    ``store`` replaces the store of the settings (tests pass an in-memory store);
    ``supervised`` is set by ``maillage serve``: a process whose job passes the time limit
    then retires (the supervisor replaces it), which is what stops the runaway query.
    """
    check_settings(settings)
    runner = JobRunner(settings, store=store, on_runaway=retire_process if supervised else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warming = asyncio.get_running_loop().create_task(_warm_up(runner))
        try:
            yield
        finally:
            warming.cancel()
            runner.close()
            if runner.runaway and supervised:
                log.warning("process %d exits now to stop %d runaway job(s)", os.getpid(),
                            runner.runaway)
                os._exit(RETIRED_EXIT_CODE)

    app = FastAPI(
        title="Maillage", version=__version__, lifespan=lifespan,
        description="Named queries of the Maillage knowledge graph (ESS and ecological "
                    "transition in Île-de-France) as a REST API. The SPARQL endpoint is /sparql.",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.runner = runner
    app.state.supervised = supervised
    app.state.metrics = Metrics()
    _add_error_handlers(app)
    for router in _routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_path("maillage.api", "static"))),
              name="static")
    app.add_middleware(SparqlFastPath)
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
        allow_headers=["Accept", "Content-Type", "Authorization", "If-None-Match",
                       "If-Modified-Since"],
        expose_headers=EXPOSED_HEADERS, max_age=86400,
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(LimitsMiddleware, settings=settings)
    return app


async def _warm_up(runner: JobRunner) -> None:
    """Compute the caches of the store generation in the background (errors only logged)."""
    try:
        await runner.call("warm_up", timeout=max(runner.settings.query_timeout_s, 300.0))
    except ApiError as exc:
        log.warning("warm-up skipped: %s", exc)


def _routers() -> list[Any]:
    from . import admin, dumps, linked_data, metrics, pages, queries, sparql, void

    return [sparql.router, admin.router, queries.build_router(), void.router, dumps.router, metrics.router,
            pages.router, linked_data.router]


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return await _error_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404:
            message = "nothing here: no route or resource at this address"
        return await _error_page(request, ApiError(exc.status_code, code, message,
                                                   headers=headers))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return error_response(ApiError(400, "bad-parameter",
                                       f"{where}: {first.get('msg', 'invalid value')}"))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "internal", "unexpected server error (it was logged)"))


async def _error_page(request: Request, error: ApiError) -> Response:
    """JSON error shape; an HTML page for browsers on the human-facing routes."""
    from .conneg import asks_for_html

    path = request.url.path
    if asks_for_html(request.headers.get("accept")) and not path.startswith(("/sparql", "/api")):
        from .render import error_html

        return Response(error_html(request, error), status_code=error.status,
                        media_type="text/html; charset=utf-8", headers=error.headers)
    return error_response(error)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory maillage.api.app:app_from_env`` (settings from env)."""
    return create_app(Settings.from_env(), supervised=True)
