"""Where store work runs: job threads inside each web worker process, with a time limit.

pyoxigraph's ``Store.query`` cannot be interrupted, but it releases the GIL while it evaluates.
So each web worker process (``maillage serve --workers N`` starts N of them behind one socket,
under uvicorn's supervisor, which respawns a process that exits) runs every store job on a small
thread pool:

- a job that finishes within :data:`SYNC_WAIT_S` is collected synchronously (no event-loop
  round trip: point lookups cost little more than an inline call);
- a longer job is awaited asynchronously, so the event loop keeps serving other requests;
- a job still running at the time limit gets a 504 answer, and its process **retires**: it
  stops accepting connections, lets the other in-flight requests finish (at most
  :data:`RETIRE_GRACE_S`), then exits, which stops the runaway query's CPU use; the supervisor
  starts a fresh process meanwhile the siblings keep serving.

Measured alternatives (see BENCHMARKS.md, "Endpoint"): a pool of separate query processes
(pickled jobs over socket pairs) gave ~0.1× native throughput on point lookups, because every
request crosses two Python processes; ``oxigraph serve-read-only --timeout-s`` starts one timer
thread per query and aborted under 16 concurrent clients.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore

from .errors import ApiError

log = logging.getLogger("maillage.api.workers")

SYNC_WAIT_S = 0.02
RETIRE_GRACE_S = 3.0


@dataclass
class Reply:
    """What a job answers: HTTP status, media type, extra headers and the body."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RunnerStats:
    """Counters exposed by /metrics."""

    jobs: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0
    busy_rejections: int = 0
    job_seconds: float = 0.0


class QueryTimeout(ApiError):
    """A job ran longer than the time limit; its process retires to stop it."""

    def __init__(self, limit: float) -> None:
        super().__init__(
            504, "query-timeout",
            f"la requête a dépassé la limite de {limit:g} s et a été arrêtée "
            f"(the query ran longer than {limit:g} s and was stopped)",
            hint="restrict the query (LIMIT, more selective patterns) or use the dumps",
        )


def retire_process() -> None:
    """Ask this web worker process to shut down gracefully (uvicorn handles SIGTERM)."""
    os.kill(os.getpid(), signal.SIGTERM)


class JobRunner:
    """Runs jobs on ``threads`` threads with a time limit; see the module docstring."""

    def __init__(self, settings: Settings, *, threads: int | None = None,
                 store: MaillageStore | None = None,
                 on_runaway: Callable[[], None] | None = None) -> None:
        from .jobs import WorkerContext

        self.settings = settings
        self.threads = threads or settings.worker_threads
        self.context = WorkerContext(settings, store=store)
        self.stats = RunnerStats()
        self.runaway = 0
        self.retiring = False
        self._on_runaway = on_runaway
        self._busy = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self.threads, thread_name_prefix="maillage-job")

    @property
    def busy(self) -> int:
        return self._busy

    def close(self) -> None:
        """Stop the threads (does not wait for a runaway job)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def call(self, job: str, timeout: float | None = None, **kwargs: Any) -> Reply:
        """Run ``job``; raises :class:`ApiError` (504 past the limit, 503 when saturated)."""
        from .jobs import run_job

        limit = self.settings.query_timeout_s if timeout is None else timeout
        if self._busy >= self.threads * 8:
            self.stats.busy_rejections += 1
            raise ApiError(503, "busy", "the server is saturated; try again in a moment",
                           headers={"Retry-After": "2"})
        self.stats.jobs[job] = self.stats.jobs.get(job, 0) + 1
        started = time.monotonic()
        self._busy += 1
        future = self._executor.submit(run_job, self.context, job, kwargs)
        try:
            answer = await self._wait(future, limit)
        finally:
            self._busy -= 1
            self.stats.job_seconds += time.monotonic() - started
        if isinstance(answer, Reply):
            return answer
        raise ApiError.from_tuple(answer)

    async def _wait(self, future: concurrent.futures.Future[Any], limit: float) -> Any:
        try:
            return future.result(timeout=min(SYNC_WAIT_S, limit))
        except concurrent.futures.TimeoutError:
            pass
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limit - SYNC_WAIT_S)
        except asyncio.TimeoutError:
            self.stats.timeouts += 1
            if not future.cancel():  # it was running, not queued: a thread is held
                self._runaway()
            raise QueryTimeout(limit) from None

    def _runaway(self) -> None:
        self.runaway += 1
        log.warning("a job passed the %.1f s limit; process %d retires to stop it",
                    self.settings.query_timeout_s, os.getpid())
        if self._on_runaway is not None and not self.retiring:
            self.retiring = True
            self._on_runaway()
