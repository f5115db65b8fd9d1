"""The jobs of the web workers (store work run on job threads) and their shared context.

A job is a plain function ``job(ctx, **kwargs) -> Reply``; :data:`JOBS` names them. Errors
become the JSON error shape: an :class:`ApiError` as it is, a SPARQL ``SyntaxError`` as a 400
with the parser's message and position, a :class:`MaillageError` as a 400 (503 for the store),
and anything else as a logged 500 — never a catch-all 400.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from maillage.graph.errors import MaillageError, StoreError
from maillage.graph.namespaces import Iris
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store
from pyoxigraph import Store

from .errors import ApiError
from .sparqltext import error_position
from .workers import Reply

log = logging.getLogger("maillage.api.jobs")


class WorkerContext:
    """What jobs share in one process: settings, the store, caches per store generation.

    Jobs run on several threads: the store handle and the caches are guarded by a lock.
    """

    def __init__(self, settings: Settings, store: MaillageStore | None = None) -> None:
        self.settings = settings
        self.iris = Iris(settings.base_iri)
        self.store = store if store is not None else open_store(settings)
        self._lock = threading.Lock()
        self._reader: Store | None = None
        self._reader_generation: str | None = None
        self._cache: dict[Any, Any] = {}
        self._cache_generation: str | None = None
        self._templates: Any = None

    @property
    def generation(self) -> str:
        """Name of the store generation being read (changes when a writer swaps it)."""
        return self.store.generation()  # type: ignore[no-any-return]

    def oxigraph(self) -> Store:
        """The pyoxigraph store to read, re-opened read-only after a generation swap."""
        if self.store.path is None:  # in memory, or a remote engine
            return self.store.oxigraph  # type: ignore[no-any-return]
        generation = self.generation
        with self._lock:
            if self._reader is None or generation != self._reader_generation:
                try:
                    self._reader = Store.read_only(str(self.store.path / generation))
                except OSError as exc:
                    raise StoreError(f"cannot open the store generation {generation}: "
                                     f"{exc}") from exc
                self._reader_generation = generation
            return self._reader

    def is_warm(self) -> bool:
        """True when the page caches of the current generation are filled (see warm_up)."""
        try:
            generation = self.generation
        except MaillageError:
            return False
        with self._lock:
            return (self._cache_generation == generation and "graph_infos" in self._cache
                    and "reference_labels" in self._cache)

    def clear_caches(self) -> None:
        """Forget every cached value (the next jobs recompute them)."""
        with self._lock:
            self._cache.clear()
            self._reader = None

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value computed once per store generation (labels, ontology, VoID…)."""
        generation = self.generation
        with self._lock:
            if generation != self._cache_generation:
                self._cache.clear()
                self._cache_generation = generation
            if key in self._cache:
                return self._cache[key]
        value = build()
        with self._lock:
            self._cache[key] = value
        return value

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
    "query_ui": "pages:query_page",
    "ontology": "vocab_docs:ontology_document",
    "scheme": "vocab_docs:scheme_document",
    "void": "void:void_document",
    "dump": "dumps:write_dump",
    "dump_list": "dumps:dump_list",
    "named_query": "queries:run_named",
    "health": "jobs:health",
    "warm_up": "jobs:warm_up",
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


def warm_up(ctx: WorkerContext) -> Reply:
    """Fill the per-generation caches (graph sizes, reference labels) before the first page."""
    from .resource_view import cached_reference_labels

    cached_reference_labels(ctx)
    return Reply(200, "text/plain", b"warm")


def health(ctx: WorkerContext) -> Reply:
    """A trivial store read: the generation and whether a quad can be read."""
    store = ctx.oxigraph()
    any_quad = next(iter(store.quads_for_pattern(None, None, None)), None) is not None
    body = (f'{{"generation":"{ctx.generation}","nonEmpty":{str(any_quad).lower()},'
            f'"pid":{os.getpid()}}}')
    return Reply(200, "application/json", body.encode())
