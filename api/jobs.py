"""The jobs a query worker can run, and the context they share inside the worker.

A job is a plain function ``job(ctx, **kwargs) -> Reply``; :data:`JOBS` names them. Errors
become the JSON error shape: an :class:`ApiError` as it is, a SPARQL ``SyntaxError`` as a 400
with the parser's message and position, a :class:`MaillageError` as a 400 (503 for the store),
and anything else as a logged 500 — never a catch-all 400.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from maillage.graph.errors import MaillageError, StoreError
from maillage.graph.namespaces import Iris
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore

from .errors import ApiError
from .sparqltext import error_position
from .workers import Reply

log = logging.getLogger("maillage.api.jobs")


class WorkerContext:
    """What jobs share in one worker: settings, the store, caches per store generation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.iris = Iris(settings.base_iri)
        self.store = MaillageStore(settings.store_path)
        self._cache: dict[Any, Any] = {}
        self._cache_generation: str | None = None
        self._templates: Any = None

    def warm_up(self) -> None:
        """Open the store now rather than on the first request (errors surface per job)."""
        try:
            self.store.oxigraph  # noqa: B018 - opening is the point
        except MaillageError as exc:
            log.warning("store not available yet: %s", exc)

    @property
    def generation(self) -> str:
        """Name of the store generation being read (changes when a writer swaps it)."""
        gen = self.store.current_generation()
        return gen.name if gen is not None else "memory"

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value computed once per store generation (labels, ontology, VoID…)."""
        generation = self.generation
        if generation != self._cache_generation:
            self._cache.clear()
            self._cache_generation = generation
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def templates(self) -> Any:
        if self._templates is None:
            from .render import template_environment

            self._templates = template_environment()
        return self._templates


# job name -> "module:function" (imported on first use, so a worker loads what it runs)
JOBS: dict[str, str] = {
    "sparql_query": "sparql:run_query",
    "sparql_update": "sparql:run_update",
    "service_description": "sparql:service_description",
    "resource": "linked_data:resource_document",
    "home": "pages:home_page",
    "graphs": "pages:graphs_page",
    "query_ui": "pages:query_page",
    "territory": "territory:territory_profile",
    "ontology": "vocab_docs:ontology_document",
    "scheme": "vocab_docs:scheme_document",
    "void": "void:void_document",
    "dump": "dumps:write_dump",
    "dump_list": "dumps:dump_list",
    "named_query": "queries:run_named",
    "health": "jobs:health",
}
_resolved: dict[str, Callable[..., Reply]] = {}


def resolve(job: str) -> Callable[..., Reply]:
    """The function of a job name (KeyError for an unknown job)."""
    if job not in _resolved:
        module, _, name = JOBS[job].partition(":")
        _resolved[job] = getattr(importlib.import_module(f"maillage.api.{module}"), name)
    return _resolved[job]


def run_job(ctx: WorkerContext, job: str, kwargs: dict[str, Any]) -> Reply | tuple[Any, ...]:
    """Run one job; errors come back as :meth:`ApiError.to_tuple`."""
    try:
        return resolve(job)(ctx, **kwargs)
    except ApiError as exc:
        return exc.to_tuple()
    except SyntaxError as exc:
        message = str(exc)
        line, column = error_position(message)
        return ApiError(400, "sparql-syntax", message, line=line, column=column,
                        hint="fix the query at the position given").to_tuple()
    except StoreError as exc:
        log.warning("store unavailable: %s", exc)
        return ApiError(503, "store-unavailable", str(exc).split("\n")[0],
                        hint=exc.hint).to_tuple()
    except MaillageError as exc:
        return ApiError(400, "bad-request", str(exc).split("\n")[0], hint=exc.hint).to_tuple()
    except Exception:  # a fault of ours: log it, answer 500 (never a 400)
        log.exception("job %s failed", job)
        return ApiError(500, "internal", "unexpected server error (it was logged)").to_tuple()


def health(ctx: WorkerContext) -> Reply:
    """A trivial store read: the generation and whether a quad can be read."""
    store = ctx.store.oxigraph
    any_quad = next(iter(store.quads_for_pattern(None, None, None)), None) is not None
    body = f'{{"generation":"{ctx.generation}","nonEmpty":{str(any_quad).lower()}}}'
    return Reply(200, "application/json", body.encode())
