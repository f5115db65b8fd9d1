"""A pool of killable worker processes that do every piece of work touching the store.

pyoxigraph's ``Store.query`` cannot be interrupted, so the web server never runs a query itself:
it sends a *job* (a name from :data:`maillage.api.jobs.JOBS` and keyword arguments) to one of
``settings.workers`` child processes over a socket pair, and waits at most the time limit. A job
that runs longer gets its worker killed (SIGKILL: the CPU is released at once) and replaced, and
the request gets a 504 answer; the other workers keep serving. Each worker opens the store
read-only and follows generation swaps (``MaillageStore.oxigraph`` re-opens on change).

Frames are a 4-byte big-endian length followed by a pickle, in both directions. Workers only
receive frames from their parent (the socket pair is private), never from clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import pickle
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from maillage.graph.settings import Settings

from .errors import ApiError

log = logging.getLogger("maillage.api.workers")

_HEADER = struct.Struct(">I")
SETTINGS_ENV = "MAILLAGE_WORKER_SETTINGS"
SPAWN_TIMEOUT_S = 60.0


@dataclass
class Reply:
    """What a job answers: HTTP status, media type, extra headers and the body."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PoolStats:
    """Counters exposed by /metrics."""

    jobs: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0
    crashes: int = 0
    restarts: int = 0
    busy_rejections: int = 0
    job_seconds: float = 0.0


class QueryTimeout(ApiError):
    """A job ran longer than the time limit; its worker was killed."""

    def __init__(self, limit: float) -> None:
        super().__init__(
            504, "query-timeout",
            f"la requête a dépassé la limite de {limit:g} s et a été arrêtée "
            f"(the query ran longer than {limit:g} s and was stopped)",
            hint="restrict the query (LIMIT, more selective patterns) or use the dumps",
        )


class _Worker:
    """One child process and its end of the socket pair."""

    def __init__(self, proc: asyncio.subprocess.Process, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proc, self.reader, self.writer = proc, reader, writer
        self.jobs = 0

    async def send(self, payload: bytes) -> None:
        self.writer.write(_HEADER.pack(len(payload)) + payload)
        await self.writer.drain()

    async def receive(self) -> Any:
        size = _HEADER.unpack(await self.reader.readexactly(_HEADER.size))[0]
        return pickle.loads(await self.reader.readexactly(size))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.writer.close()


class WorkerPool:
    """``size`` worker processes; :meth:`call` runs a job on a free one within a time limit."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = max(1, size if size is not None else settings.workers)
        self.stats = PoolStats()
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._spawning: set[asyncio.Task[None]] = set()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Spawn every worker and wait until each has opened the store."""
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for w in workers:
            self._idle.put_nowait(w)

    async def stop(self) -> None:
        """Kill every worker (the pool cannot be used afterwards)."""
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        for w in list(self._all):
            w.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.proc.wait(), 5)
        self._all.clear()

    @property
    def busy(self) -> int:
        return len(self._all) - self._idle.qsize()

    @property
    def alive(self) -> int:
        return len(self._all)

    def pids(self) -> list[int]:
        return sorted(w.proc.pid for w in self._all)

    async def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env[SETTINGS_ENV] = json.dumps(dataclasses.asdict(self.settings))
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "maillage.api.worker_main", str(child.fileno()),
                pass_fds=(child.fileno(),), env=env, stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=2**20)
        worker = _Worker(proc, reader, writer)
        try:
            hello = await asyncio.wait_for(worker.receive(), SPAWN_TIMEOUT_S)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError) as exc:
            worker.kill()
            raise RuntimeError(f"query worker failed to start: {exc!r}") from exc
        if hello != ("ready", proc.pid):
            worker.kill()
            raise RuntimeError(f"query worker sent {hello!r} instead of its ready message")
        self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start a replacement in the background."""
        worker.kill()
        self._all.discard(worker)
        self.stats.restarts += 1
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._respawn(worker))
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

    async def _respawn(self, old: _Worker) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(old.proc.wait(), 5)
        for attempt in range(5):
            try:
                new = await self._spawn()
            except RuntimeError:
                log.exception("respawning a query worker failed (attempt %d)", attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            if self._closed:
                new.kill()
                return
            self._idle.put_nowait(new)
            return

    # ------------------------------------------------------------------ jobs
    async def call(self, job: str, timeout: float | None = None, **kwargs: Any) -> Reply:
        """Run ``job`` on a worker; raises :class:`ApiError` (504 on timeout, 503 when busy)."""
        limit = self.settings.query_timeout_s if timeout is None else timeout
        started = time.monotonic()
        worker = await self._acquire(limit)
        payload = pickle.dumps((job, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        self.stats.jobs[job] = self.stats.jobs.get(job, 0) + 1
        try:
            await worker.send(payload)
            answer = await asyncio.wait_for(worker.receive(), limit)
        except asyncio.TimeoutError:
            self.stats.timeouts += 1
            log.warning("job %s stopped after %.1f s: worker %d killed", job, limit,
                        worker.proc.pid)
            self._replace(worker)
            raise QueryTimeout(limit) from None
        except asyncio.CancelledError:
            self._replace(worker)  # the answer would arrive out of turn: start afresh
            raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            self.stats.crashes += 1
            log.error("query worker %d died during job %s: %r", worker.proc.pid, job, exc)
            self._replace(worker)
            raise ApiError(500, "worker-crashed", "the query worker stopped unexpectedly",
                           hint="the error was logged; try again") from None
        finally:
            self.stats.job_seconds += time.monotonic() - started
        worker.jobs += 1
        self._idle.put_nowait(worker)
        if isinstance(answer, Reply):
            return answer
        raise ApiError.from_tuple(answer)

    async def _acquire(self, limit: float) -> _Worker:
        try:
            return self._idle.get_nowait()
        except asyncio.QueueEmpty:
            pass
        try:
            return await asyncio.wait_for(self._idle.get(), limit)
        except asyncio.TimeoutError:
            self.stats.busy_rejections += 1
            raise ApiError(
                503, "busy", "every query worker is busy; try again in a moment",
                hint="long queries hold the workers: restrict them or raise MAILLAGE_WORKERS",
                headers={"Retry-After": "5"},
            ) from None


def send_frame(sock: socket.socket, obj: Any) -> None:
    """Write one frame (used by the worker side)."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def read_frame(stream: Any) -> Any | None:
    """Read one frame from a binary file object; None at end of stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    size = _HEADER.unpack(head)[0]
    return pickle.loads(stream.read(size))


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def settings_from_env() -> Settings:
    """The settings the parent passed to this worker."""
    return Settings(**json.loads(os.environ[SETTINGS_ENV]))
