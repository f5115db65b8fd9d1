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
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore

from .errors import ApiError

log = logging.getLogger("maillage.api.workers")

SYNC_WAIT_S = 0.02
#: jobs a process accepts per job thread before answering 503 "busy" (with Retry-After)
QUEUE_PER_THREAD = 64
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
    inline: int = 0
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
            headers={"Maillage-Process": str(os.getpid())},
        )


QUEUED, RUNNING, DONE, CANCELLED = range(4)


class _Job:
    """One job handed to a thread: a lock released when done, and an optional event-loop
    future to resolve when the caller stopped waiting synchronously."""

    __slots__ = ("args", "done", "function", "loop", "result", "running_since", "state", "waiter")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function, self.args = function, args
        self.done = threading.Lock()
        self.done.acquire()
        self.state = QUEUED
        self.running_since = 0.0
        self.result: Any = None
        self.waiter: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None


class JobThreads:
    """A minimal thread pool (daemon threads, a SimpleQueue, a lock per job): cheaper to hand
    a job to than ``concurrent.futures``, and a runaway thread never delays the process exit."""

    def __init__(self, size: int) -> None:
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.guard = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"maillage-job-{i}",
                                          daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> _Job:
        job = _Job(function, args)
        self._queue.put(job)
        return job

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            with self.guard:
                if job.state == CANCELLED:
                    continue
                job.state = RUNNING
                job.running_since = time.monotonic()
            job.result = job.function(*job.args)
            with self.guard:
                job.state = DONE
                waiter, loop = job.waiter, job.loop
            job.done.release()
            if waiter is not None and loop is not None:
                loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


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
        self._pool: JobThreads | None = None

    @property
    def busy(self) -> int:
        return self._busy

    def close(self) -> None:
        """Stop the threads (does not wait for a runaway job); a later job starts new ones."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def call(self, job: str, timeout: float | None = None, *, bounded: bool = False,
                   **kwargs: Any) -> Reply:
        """Run ``job``; raises :class:`ApiError` (504 past the limit, 503 when saturated).

        ``bounded`` marks a job whose cost is bounded by construction (a lookup of one
        resource's statements): it runs at once on the event loop, without the thread hand-off,
        which under load costs more than the lookup itself. Everything else runs on a thread.
        """
        from .jobs import run_job

        if bounded:
            self.stats.jobs[job] = self.stats.jobs.get(job, 0) + 1
            self.stats.inline += 1
            answer = run_job(self.context, job, kwargs)
            if isinstance(answer, Reply):
                return answer
            raise ApiError.from_tuple(answer)
        limit = self.settings.query_timeout_s if timeout is None else timeout
        if self._busy >= self.threads * QUEUE_PER_THREAD:
            self.stats.busy_rejections += 1
            raise ApiError(503, "busy", "the server is saturated; try again in a moment",
                           headers={"Retry-After": "2"})
        self.stats.jobs[job] = self.stats.jobs.get(job, 0) + 1
        started = time.monotonic()
        self._busy += 1
        if self._pool is None:
            self._pool = JobThreads(self.threads)
        task = self._pool.submit(run_job, self.context, job, kwargs)
        try:
            answer = await self._wait(self._pool, task, limit)
        finally:
            self._busy -= 1
            self.stats.job_seconds += time.monotonic() - started
        if isinstance(answer, Reply):
            return answer
        raise ApiError.from_tuple(answer)

    async def _wait(self, pool: JobThreads, task: _Job, limit: float) -> Any:
        """The job's answer: waited for synchronously at first, then on the event loop."""
        if task.done.acquire(timeout=min(SYNC_WAIT_S, limit)):
            return task.result
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        with pool.guard:
            if task.state == DONE:
                return task.result
            task.waiter, task.loop = waiter, loop
        remaining = max(limit - SYNC_WAIT_S, 0.001)
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(waiter), remaining)
                return task.result
            except TimeoutError:
                with pool.guard:
                    state, since = task.state, task.running_since
                    if state == QUEUED:
                        task.state = CANCELLED
                if state == DONE:
                    return task.result
                ran = time.monotonic() - since if state == RUNNING else 0.0
                if state == RUNNING and ran < limit:
                    # it waited in the queue: the limit counts its own running time only
                    remaining = max(limit - ran, 0.001)
                    continue
                self.stats.timeouts += 1
                if state == RUNNING:  # a thread is held by the runaway job
                    self._runaway()
                raise QueryTimeout(limit) from None

    def _runaway(self) -> None:
        self.runaway += 1
        log.warning("a job passed the %.1f s limit; process %d retires to stop it",
                    self.settings.query_timeout_s, os.getpid())
        if self._on_runaway is not None and not self.retiring:
            self.retiring = True
            self._on_runaway()
