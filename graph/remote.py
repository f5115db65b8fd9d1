"""The remote store backend: Maillage on an existing SPARQL engine, through the standard protocols.

* reads: SPARQL 1.1 Protocol queries (POST, form-encoded), results as SPARQL JSON or N-Triples,
  parsed by pyoxigraph, so callers get the same ``QuerySolutions`` as from the embedded store;
* writes: SPARQL 1.1 Update and the Graph Store HTTP Protocol (``?graph=`` indirect
  identification), so any engine speaking them works (Oxigraph server, Fuseki, QLever,
  Virtuoso, GraphDB, Neptune…). For an Oxigraph server, ``MAILLAGE_STORE=http://host:7878``
  alone is enough: its ``/query``, ``/update`` and ``/store``.

**Default graph.** Maillage reads the union of its named graphs. Engines disagree on what their
default graph is (Oxigraph: the real default graph unless ``--union-default-graph``; Fuseki:
configurable; Virtuoso: every graph), so every read names its dataset explicitly: the live
named graphs, as ``default-graph-uri`` *and* ``named-graph-uri`` parameters. Graphs whose IRI
starts with ``urn:maillage:`` (staging, lock, version) are internal and never part of it.

**Writes are all or nothing.** A write block (:meth:`RemoteStore.writing`) takes a lock in the
engine (a compare-and-set SPARQL Update on the graph ``urn:maillage:lock``, with a heartbeat, so
a killed writer's lock is recognised as stale), and works on a local scratch store holding the
new content of every graph it touches (a graph is fetched the first time a query or update of
the block reads it). Nothing reaches the engine before the block ends; then each graph is
uploaded to a staging graph with a Graph Store PUT (retried: PUT is idempotent), and one SPARQL
Update request moves every staging graph into place — ``MOVE`` for a replaced graph, ``ADD`` for
additions — and bumps the version marker. The SPARQL 1.1 Update spec asks an engine to run one
request atomically (Oxigraph does: one transaction), so readers see the old graphs or the new
ones, never a mix. If the engine goes away during the commit, Maillage asks it afterwards
whether the staging graphs are still there, to say whether the commit happened.

**Reads retry, writes don't.** Idempotent requests (queries, GETs, PUTs to staging graphs) are
retried with exponential backoff when the connection fails or the engine answers 502/503/504;
updates are never retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

import httpx
from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

from .errors import QueryError, StoreError
from .sparqltext import graph_iris, has_from, has_relative_iri, inline_values, shift_error_lines

log = logging.getLogger("maillage.remote")

INTERNAL = "urn:maillage:"
LOCK = NamedNode(INTERNAL + "lock")
VERSION = NamedNode(INTERNAL + "version")
_EMPTY = INTERNAL + "empty"  # names no graph: an empty dataset
_HELD_BY, _HOST, _PID, _BEAT = (NamedNode(INTERNAL + n) for n in ("heldBy", "host", "pid", "heartbeat"))
STALE_AFTER_S = 120.0
HEARTBEAT_S = 20.0

ACCEPT = ("application/sparql-results+json, application/n-triples;q=0.9, "
          "application/sparql-results+xml;q=0.5")
_RETRY_STATUS = {502, 503, 504}
_CONNECTION_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                      httpx.ReadError, httpx.WriteError, httpx.PoolTimeout)


def is_remote_location(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _g(graph: NamedNode | DefaultGraph) -> str:
    """A graph in SPARQL Update syntax (``GRAPH <iri>`` or ``DEFAULT``)."""
    return "DEFAULT" if isinstance(graph, DefaultGraph) else f"GRAPH <{graph.value}>"


# ----------------------------------------------------------------------------- HTTP
@dataclass(frozen=True)
class Endpoints:
    """Where the engine answers, and how to talk to it."""

    query: str
    update: str
    store: str
    auth: tuple[str, str] | None = None
    token: str = ""
    timeout_s: float = 600.0
    retries: int = 4
    backoff_s: float = 0.25
    graphs_ttl_s: float = 0.0

    @classmethod
    def from_settings(cls, settings: Any) -> Endpoints:
        base = settings.store.rstrip("/")
        parts = urlsplit(base)
        if not parts.hostname:
            raise StoreError(f"{settings.store!r} is not a valid SPARQL server URL",
                             hint="use e.g. MAILLAGE_STORE=http://localhost:7878")
        auth = (settings.store_user, settings.store_password) if settings.store_user else None
        return cls(query=settings.store_query_url or base + "/query",
                   update=settings.store_update_url or base + "/update",
                   store=settings.store_gsp_url or base + "/store",
                   auth=auth, token=settings.store_token, timeout_s=settings.store_timeout_s,
                   retries=max(0, settings.store_retries),
                   graphs_ttl_s=max(0.0, settings.store_graphs_ttl_s))


class _ResponseReader(io.RawIOBase):
    """A streamed HTTP body as a binary file (what pyoxigraph parsers read from)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks = response.iter_bytes()
        self._buffer = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buffer:
            if self._eof:
                return 0
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                self._eof = True
                self.response.close()
                return 0
            except httpx.HTTPError as exc:
                self.close()
                raise StoreError(f"the SPARQL engine broke off its answer: {exc}") from exc
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self.response.close()
        super().close()

    def __del__(self) -> None:  # a result abandoned half-read gives its connection back
        with contextlib.suppress(Exception):
            self.close()


class SparqlClient:
    """HTTP with the engine: retries for idempotent requests, clear errors for the rest."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        headers = {"User-Agent": "maillage"}
        if endpoints.token:
            headers["Authorization"] = f"Bearer {endpoints.token}"
        self.http = httpx.Client(
            auth=endpoints.auth, headers=headers,
            timeout=httpx.Timeout(endpoints.timeout_s, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))

    def send(self, method: str, url: str, *, idempotent: bool, stream: bool = False,
             timeout: float | None = None, body: bytes | Path | None = None,
             **kwargs: Any) -> httpx.Response:
        attempts = 1 + (self.endpoints.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                content: Any = body
                if isinstance(body, Path):
                    content = _file_chunks(body)
                request = self.http.build_request(
                    method, url, content=content,
                    timeout=httpx.Timeout(timeout, connect=10.0) if timeout else httpx.USE_CLIENT_DEFAULT,
                    **kwargs)
                response = self.http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) and not last:
                    self._pause(attempt)
                    continue
                raise StoreError(
                    f"the SPARQL engine at {url} did not answer in time ({type(exc).__name__})",
                    hint="raise MAILLAGE_STORE_TIMEOUT, or the engine's own query time limit",
                ) from exc
            except _CONNECTION_ERRORS as exc:
                if not last:
                    log.warning("%s %s failed (%s), retry %d/%d", method, url, exc, attempt + 1,
                                attempts - 1)
                    self._pause(attempt)
                    continue
                raise StoreError(
                    f"the SPARQL engine at {url} is not reachable: {type(exc).__name__}: {exc}"
                    + (f" (tried {attempts} times)" if attempts > 1 else ""),
                    hint="start the engine, or check MAILLAGE_STORE and the MAILLAGE_STORE_*_URL settings",
                ) from exc
            if response.status_code in _RETRY_STATUS and not last and idempotent:
                response.close()
                self._pause(attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int) -> None:
        time.sleep(self.endpoints.backoff_s * (2 ** attempt))

    @staticmethod
    def check(response: httpx.Response, what: str, *, syntax: bool = False) -> None:
        """Raise the right error for a non-2xx answer (SyntaxError for a rejected query)."""
        if response.is_success:
            return
        if response.is_stream_consumed is False:
            response.read()
        body = response.text.strip()[:1000]
        status = response.status_code
        response.close()
        if status == 400 and syntax:
            raise SyntaxError(body or "the engine rejected the request")
        if status in (401, 403):
            raise StoreError(f"the SPARQL engine refused {what} (HTTP {status})",
                             hint="check MAILLAGE_STORE_USER / MAILLAGE_STORE_PASSWORD / MAILLAGE_STORE_TOKEN")
        raise StoreError(f"the SPARQL engine failed {what}: HTTP {status} {body}")


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield chunk


# ----------------------------------------------------------------------------- results
class RemoteTriples:
    """The triples of a CONSTRUCT or DESCRIBE answered by the engine (like ``QueryTriples``)."""

    def __init__(self, reader: IO[bytes]) -> None:
        self._quads = parse(reader, RdfFormat.N_TRIPLES)

    def __iter__(self) -> Iterator[Triple]:
        for q in self._quads:
            yield Triple(q.subject, q.predicate, q.object)

    def serialize(self, output: Any = None, format: RdfFormat = RdfFormat.N_TRIPLES) -> Any:
        return serialize(iter(self), output, format)


class RemoteOxigraph:
    """The part of pyoxigraph's ``Store`` API Maillage reads with, answered by a remote engine."""

    def __init__(self, client: SparqlClient) -> None:
        self.client = client
        self.graphs_ttl_s = client.endpoints.graphs_ttl_s
        self._graphs: tuple[float, list[NamedNode]] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ dataset
    def live_graphs(self, *, fresh: bool = False) -> list[NamedNode]:
        """The named graphs of the dataset (internal ``urn:maillage:`` graphs left out)."""
        with self._lock:
            cached = self._graphs
        if not fresh and cached and time.monotonic() - cached[0] < self.graphs_ttl_s:
            return cached[1]
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", {})
        graphs = sorted((r["g"] for r in rows if isinstance(r["g"], NamedNode)
                         and not r["g"].value.startswith(INTERNAL)), key=lambda g: g.value)
        with self._lock:
            self._graphs = (time.monotonic(), graphs)
        return graphs

    def invalidate(self) -> None:
        with self._lock:
            self._graphs = None

    def _dataset(self, default: Iterable[Any] | None, named: Iterable[Any] | None
                 ) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for name, graphs in (("default-graph-uri", default), ("named-graph-uri", named)):
            if graphs is None:
                continue
            iris = [g.value for g in graphs if isinstance(g, NamedNode)]
            params += [(name, iri) for iri in iris or [_EMPTY]]
        return params

    # ------------------------------------------------------------------ queries
    def query(self, query: str, *, base_iri: str | None = None,
              prefixes: Mapping[str, str] | None = None,
              use_default_graph_as_union: bool = False,
              default_graph: Any = None, named_graphs: list[Any] | None = None,
              substitutions: Mapping[Any, Any] | None = None,
              timeout: float | None = None) -> QuerySolutions | QueryBoolean | RemoteTriples:
        """Like ``pyoxigraph.Store.query`` (SyntaxError for a query the engine rejects)."""
        if substitutions:
            query = inline_values(query, {(k.value if isinstance(k, Variable) else str(k)): v
                                          for k, v in substitutions.items()})
        prologue = ""
        if base_iri and has_relative_iri(query):
            prologue += f"BASE <{base_iri}>\n"
        if prefixes:
            prologue += "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items())
        query = prologue + query
        if has_from(query) and default_graph is None and named_graphs is None:
            params = []  # the query's own FROM / FROM NAMED rule
        elif default_graph is not None:
            defaults = default_graph if isinstance(default_graph, list) else [default_graph]
            params = self._dataset(defaults, named_graphs if named_graphs is not None
                                   else self.live_graphs())
        elif named_graphs is not None:
            params = self._dataset(self.live_graphs() if use_default_graph_as_union else [],
                                   named_graphs)
        else:  # the union of the named graphs, or (like pyoxigraph) an empty default graph
            live = self.live_graphs()
            params = self._dataset(live if use_default_graph_as_union else [], live)
        try:
            return self._run(query, params, timeout)
        except SyntaxError as exc:  # positions as in the caller's text
            raise SyntaxError(shift_error_lines(str(exc), prologue.count("\n"))) from None

    def _run(self, query: str, params: list[tuple[str, str]], timeout: float | None
             ) -> QuerySolutions | QueryBoolean | RemoteTriples:
        response = self.client.send(
            "POST", self.client.endpoints.query, idempotent=True, stream=True, timeout=timeout,
            body=urlencode([("query", query), *params]).encode("utf-8"),
            headers={"Accept": ACCEPT, "Content-Type": "application/x-www-form-urlencoded"})
        SparqlClient.check(response, "the query", syntax=True)
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        reader = io.BufferedReader(_ResponseReader(response), 1 << 16)
        if kind in ("application/sparql-results+json", "application/json"):
            return parse_query_results(reader, QueryResultsFormat.JSON)
        if kind == "application/sparql-results+xml":
            return parse_query_results(reader, QueryResultsFormat.XML)
        if kind in ("application/n-triples", "text/plain"):
            return RemoteTriples(reader)
        response.close()
        raise StoreError(f"the SPARQL engine answered in an unexpected format {kind!r}")

    def _select(self, query: str, substitutions: Mapping[str, Any],
                params: list[tuple[str, str]] | None = None) -> QuerySolutions:
        text = inline_values(query, substitutions)
        result = self._run(text, params or [], None)
        assert isinstance(result, QuerySolutions)
        return result

    def update(self, update: str, *, base_iri: str | None = None) -> None:
        """One SPARQL Update request (never retried: it may not be idempotent)."""
        if base_iri and has_relative_iri(update):
            update = f"BASE <{base_iri}> " + update
        response = self.client.send("POST", self.client.endpoints.update, idempotent=False,
                                    body=update.encode("utf-8"),
                                    headers={"Content-Type": "application/sparql-update"})
        try:
            SparqlClient.check(response, "the update", syntax=True)
        finally:
            response.close()
            self.invalidate()

    # ------------------------------------------------------------------ Store-like reads
    def named_graphs(self) -> Iterator[NamedNode]:
        return iter(self.live_graphs())

    def contains_named_graph(self, graph: NamedNode) -> bool:
        return graph in self.live_graphs()

    def quads_for_pattern(self, subject: Any = None, predicate: Any = None, object: Any = None,
                          graph_name: Any = None) -> Iterator[Quad]:
        """Quads matching a pattern, streamed (stop reading early and the transfer stops)."""
        terms = {"s": subject, "p": predicate, "o": object}
        where = " ".join(str(t) if t is not None else f"?{n}" for n, t in terms.items())
        if isinstance(graph_name, DefaultGraph):
            rows = self._select(f"SELECT * WHERE {{ {where} }}", {})
        elif graph_name is None:  # every named graph but the internal ones: no list needed
            rows = self._select(f'SELECT * WHERE {{ GRAPH ?g {{ {where} }} '
                                f'FILTER(!STRSTARTS(STR(?g), "{INTERNAL}")) }}', {})
        else:
            rows = self._select(f"SELECT * WHERE {{ GRAPH ?g {{ {where} }} }}", {},
                                self._dataset([], [graph_name]))
        for row in rows:
            yield Quad(row["s"] if subject is None else subject,
                       row["p"] if predicate is None else predicate,
                       row["o"] if object is None else object,
                       DefaultGraph() if isinstance(graph_name, DefaultGraph)
                       else (row["g"] if graph_name is None else graph_name))

    def count(self, graphs: list[NamedNode] | None = None) -> int:
        """Quads in ``graphs`` (default: every live graph)."""
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {},
                            self._dataset([], self.live_graphs() if graphs is None else graphs))
        return int(next(iter(rows))["n"].value)  # type: ignore[index]

    def __len__(self) -> int:
        return self.count()

    def graph_reader(self, graph: NamedNode | DefaultGraph) -> IO[bytes] | None:
        """A graph as a streamed N-Triples body (Graph Store GET), or None if it does not exist."""
        params = {"default": ""} if isinstance(graph, DefaultGraph) else {"graph": graph.value}
        response = self.client.send("GET", self.client.endpoints.store, idempotent=True,
                                    stream=True, params=params,
                                    headers={"Accept": "application/n-triples"})
        if response.status_code == 404:
            response.close()
            return None
        SparqlClient.check(response, f"the download of {graph}")
        return io.BufferedReader(_ResponseReader(response), 1 << 16)

    def graph_quads(self, graph: NamedNode | DefaultGraph) -> Iterator[Quad]:
        reader = self.graph_reader(graph)
        if reader is None:
            return
        for q in parse(reader, RdfFormat.N_TRIPLES):
            yield Quad(q.subject, q.predicate, q.object, graph)

    def dump(self, output: Any, format: RdfFormat, *, from_graph: Any = None,
             prefixes: Mapping[str, str] | None = None, base_iri: str | None = None) -> None:
        """Write one graph (any RDF format) or every live graph (N-Quads, TriG) to ``output``."""
        if from_graph is not None:
            quads: Iterable[Any] = (Triple(q.subject, q.predicate, q.object)
                                    for q in self.graph_quads(from_graph))
        elif not format.supports_datasets:
            raise StoreError(f"{format.name} holds one graph: name it, or dump as N-Quads/TriG")
        else:
            quads = (q for g in self.live_graphs(fresh=True) for q in self.graph_quads(g))
        serialize(quads, output, format, prefixes=prefixes, base_iri=base_iri)

    def backup(self, target: Any) -> None:
        raise StoreError("a remote store is backed up by its engine, not by Maillage",
                         hint="use `maillage dump` for a portable copy, or the engine's own backup")

    # ------------------------------------------------------------------ version
    def version(self) -> str:
        """A token that changes when the data changes (graphs, their dates, the version marker)."""
        live = self.live_graphs(fresh=True)
        rows = self._select(
            "SELECT ?g ?t WHERE { GRAPH ?g { OPTIONAL { ?g "
            "<http://www.w3.org/ns/prov#generatedAtTime> ?t } } }", {},
            self._dataset([], live + [VERSION]))
        marker = self._select(f"SELECT ?v WHERE {{ GRAPH <{VERSION.value}> {{ ?s ?p ?v }} }}", {},
                              self._dataset([], [VERSION]))
        parts = sorted(f"{r['g']} {r['t']}" for r in rows) + sorted(str(r["v"]) for r in marker)
        return "remote-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- writing
class RemoteGraphWriter:
    """What a write block may do on a remote store (same methods as the embedded writer).

    Changes go to a local scratch store; :meth:`commit` sends them in one atomic step.
    ``oxigraph`` is the engine itself, for direct (unstaged) single-request updates.
    """

    def __init__(self, remote: RemoteOxigraph, scratch: Path, *, fresh: bool) -> None:
        self.oxigraph = remote
        self.stage = Store(str(scratch))
        self.fresh = fresh
        self.remote_graphs = set() if fresh else set(remote.live_graphs(fresh=True))
        self.full: set[Any] = set()  # graphs whose whole new content is staged
        self.partial: set[Any] = set()  # graphs of which only additions are staged
        self.written: set[Any] = set()  # graphs this block changed (only these are sent)

    # ------------------------------------------------------------------ bookkeeping
    def _touch(self, graph: Any) -> None:
        self.written.add(graph)
        if graph not in self.full:
            self.partial.add(graph)

    def _tracked(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        seen: Any = None
        for q in quads:
            if q.graph_name != seen:
                seen = q.graph_name
                self._touch(seen)
            yield q

    def _materialize(self, graph: Any) -> None:
        """Stage the whole current content of ``graph`` (fetched once from the engine)."""
        if graph in self.full:
            return
        if graph in self.remote_graphs:
            self.stage.bulk_extend(self.oxigraph.graph_quads(graph))
        self.full.add(graph)
        self.partial.discard(graph)

    def _materialize_for(self, sparql: str, *, writes: bool = False) -> None:
        iris, any_graph = graph_iris(sparql)
        graphs = [NamedNode(iri) for iri in iris]
        if any_graph or not iris:
            graphs += list(self.remote_graphs) + list(self.partial)
        for g in graphs:
            self._materialize(g)
            if writes:  # fetched for reading only, a graph is not sent back at the commit
                self.written.add(g)

    # ------------------------------------------------------------------ writer API
    def add_quads(self, quads: Iterable[Quad]) -> None:
        self.stage.extend(self._tracked(quads))

    def bulk_add_quads(self, quads: Iterable[Quad]) -> None:
        self.stage.bulk_extend(self._tracked(quads))

    def load(self, source: str | bytes | Path | IO[bytes], format: RdfFormat, *,
             graph: NamedNode | None = None, base_iri: str | None = None,
             bulk: bool = True) -> None:
        kwargs: dict[str, Any] = {"format": format, "base_iri": base_iri}
        if isinstance(source, Path):
            kwargs["path"] = str(source)
        else:
            kwargs["input"] = source
        quads: Iterable[Quad] = parse(**kwargs)
        if graph is not None:
            quads = (Quad(q.subject, q.predicate, q.object, graph) for q in quads)
        self.stage.bulk_extend(self._tracked(quads))

    def drop_graph(self, graph: NamedNode) -> None:
        if self.stage.contains_named_graph(graph):
            self.stage.remove_graph(graph)
        self.written.add(graph)
        self.full.add(graph)
        self.partial.discard(graph)

    def replace_graph(self, graph: NamedNode, source: Any, format: RdfFormat | None = None, *,
                      base_iri: str | None = None) -> None:
        self.drop_graph(graph)
        if format is None:
            self.bulk_add_quads(
                q if q.graph_name == graph else Quad(q.subject, q.predicate, q.object, graph)
                for q in source)
        else:
            self.load(source, format, graph=graph, base_iri=base_iri)

    def update(self, sparql: str) -> None:
        """Run an update on the staged graphs (the graphs it names are fetched first)."""
        self._materialize_for(sparql, writes=True)
        self.stage.update(sparql)

    def query(self, sparql: str, **kwargs: Any) -> Any:
        """Query the staged state (the graphs the query names are fetched first)."""
        self._materialize_for(sparql)
        kwargs.setdefault("use_default_graph_as_union", True)
        from .store import materialize

        return materialize(self.stage.query(sparql, **kwargs))

    # ------------------------------------------------------------------ commit
    def commit(self, scratch: Path) -> None:
        """Send every staged graph, then switch them all in one SPARQL Update request."""
        txid = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
        touched = sorted(self.written, key=str)
        ops: list[str] = []
        staged: list[NamedNode] = []
        if self.fresh:
            ops += [f"DROP SILENT {_g(g)}" for g in self.oxigraph.live_graphs(fresh=True)
                    if g not in touched]
        try:
            for i, graph in enumerate(touched):
                target = _g(graph)
                path = scratch / f"graph-{i}.nt"
                with path.open("wb") as fh:
                    self.stage.dump(fh, RdfFormat.N_TRIPLES, from_graph=graph)
                replace = graph in self.full or self.fresh
                if path.stat().st_size == 0:
                    if replace:
                        ops.append(f"DROP SILENT {target}")
                    continue
                tmp = NamedNode(f"{INTERNAL}staging:{txid}:{i}")
                self._put(tmp, path)
                staged.append(tmp)
                if replace:
                    ops.append(f"MOVE SILENT GRAPH <{tmp.value}> TO {target}")
                else:
                    ops += [f"ADD SILENT GRAPH <{tmp.value}> TO {target}",
                            f"DROP SILENT GRAPH <{tmp.value}>"]
            ops.append(_bump_version(txid))
        except BaseException:
            self._cleanup(staged)
            raise
        try:
            self.oxigraph.update(" ;\n".join(ops))
        except StoreError as exc:
            if staged and "not reachable" in str(exc) and self._applied(staged[0]):
                log.warning("the engine dropped the connection after committing %s", txid)
                return
            self._cleanup(staged)
            raise StoreError(f"the write was not applied: {exc}",
                             hint="nothing was changed in the engine; run the command again") from exc
        except BaseException:
            self._cleanup(staged)
            raise

    def _put(self, graph: NamedNode, path: Path) -> None:
        client = self.oxigraph.client
        response = client.send("PUT", client.endpoints.store, idempotent=True,
                               params={"graph": graph.value}, body=path,
                               headers={"Content-Type": "application/n-triples"})
        try:
            SparqlClient.check(response, f"the upload of {path.name}")
        finally:
            response.close()

    def _applied(self, staged: NamedNode) -> bool:
        """After a lost connection: the commit happened iff its staging graph is gone."""
        try:
            result = self.oxigraph._run(f"ASK {{ GRAPH <{staged.value}> {{ ?s ?p ?o }} }}", [], None)
        except StoreError:
            raise StoreError("the engine went away during the commit; one SPARQL Update "
                             "request is applied whole or not at all",
                             hint="when the engine is back, check `maillage stats` and run the "
                                  "command again if needed") from None
        return not bool(result)

    def _cleanup(self, staged: list[NamedNode]) -> None:
        if not staged:
            return
        with contextlib.suppress(Exception):
            self.oxigraph.update(" ;\n".join(f"DROP SILENT GRAPH <{g.value}>" for g in staged))


def _bump_version(txid: str) -> str:
    v = VERSION.value
    return (f"DROP SILENT GRAPH <{v}> ;\nINSERT DATA {{ GRAPH <{v}> {{ <{v}> <{v}> "
            f"{Literal(txid)} }} }}")


_ACTIVE: set[str] = set()  # the write blocks open in this process


class _WriteLock:
    """A lock held in the engine: compare-and-set SPARQL Updates and a heartbeat."""

    def __init__(self, remote: RemoteOxigraph, txid: str) -> None:
        self.remote = remote
        self.txid = txid
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _mine(self) -> str:
        return (f"<{LOCK.value}> <{_HELD_BY.value}> {Literal(self.txid)} ; "
                f"<{_HOST.value}> {Literal(socket.gethostname())} ; "
                f"<{_PID.value}> {Literal(str(os.getpid()))} ; "
                f"<{_BEAT.value}> {Literal(_now())} .")

    def _holder(self) -> dict[str, str]:
        rows = self.remote._select(
            f"SELECT ?p ?o WHERE {{ GRAPH <{LOCK.value}> {{ <{LOCK.value}> ?p ?o }} }}", {},
            self.remote._dataset([], [LOCK]))
        return {r["p"].value.removeprefix(INTERNAL): r["o"].value for r in rows}

    def acquire(self) -> None:
        lock = LOCK.value
        self.remote.update(f"INSERT {{ GRAPH <{lock}> {{ {self._mine()} }} }} WHERE "
                           f"{{ FILTER NOT EXISTS {{ GRAPH <{lock}> {{ ?s ?p ?o }} }} }}")
        holder = self._holder()
        if holder.get("heldBy") != self.txid and self._stale(holder):
            log.warning("taking over the stale write lock of %s", holder)
            self.remote.update(
                f"DELETE {{ GRAPH <{lock}> {{ ?s ?p ?o }} }} INSERT {{ GRAPH <{lock}> "
                f"{{ {self._mine()} }} }} WHERE {{ GRAPH <{lock}> {{ <{lock}> <{_HELD_BY.value}> "
                f"{Literal(holder.get('heldBy', ''))} . ?s ?p ?o }} }}")
            holder = self._holder()
        if holder.get("heldBy") != self.txid:
            raise StoreError(
                f"another process is writing to {self.remote.client.endpoints.update} "
                f"(host {holder.get('host', '?')}, pid {holder.get('pid', '?')}, "
                f"last seen {holder.get('heartbeat', '?')})",
                hint="wait for the other import to finish, then run the command again")
        _ACTIVE.add(self.txid)
        self._thread = threading.Thread(target=self._beat, name="maillage-lock", daemon=True)
        self._thread.start()

    @staticmethod
    def _stale(holder: dict[str, str]) -> bool:
        if not holder:
            return True
        if holder.get("host") == socket.gethostname() and holder.get("pid") == str(os.getpid()):
            return holder.get("heldBy") not in _ACTIVE  # ours, from a block that has ended
        if holder.get("host") == socket.gethostname():
            try:
                os.kill(int(holder.get("pid", "0")), 0)
            except ProcessLookupError:
                return True
            except (PermissionError, ValueError):
                pass
        try:
            beat = datetime.strptime(holder.get("heartbeat", ""), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return True
        age = datetime.now(UTC).replace(tzinfo=None) - beat
        return age.total_seconds() > STALE_AFTER_S

    def _beat(self) -> None:
        lock, beat = LOCK.value, _BEAT.value
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):
                self.remote.update(
                    f"DELETE {{ GRAPH <{lock}> {{ <{lock}> <{beat}> ?t }} }} INSERT {{ GRAPH "
                    f"<{lock}> {{ <{lock}> <{beat}> {Literal(_now())} }} }} WHERE {{ GRAPH "
                    f"<{lock}> {{ <{lock}> <{_HELD_BY.value}> {Literal(self.txid)} ; <{beat}> ?t }} }}")

    def release(self) -> None:
        _ACTIVE.discard(self.txid)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        lock = LOCK.value
        with contextlib.suppress(StoreError):
            self.remote.update(
                f"DELETE {{ GRAPH <{lock}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{lock}> "
                f"{{ <{lock}> <{_HELD_BY.value}> {Literal(self.txid)} . ?s ?p ?o }} }}")

    def sweep_staging(self) -> None:
        """Drop staging graphs a killed writer left behind (we hold the lock: none is live)."""
        rows = self.remote._select(
            f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ }} FILTER(STRSTARTS(STR(?g), '
            f'"{INTERNAL}staging:")) }}', {})
        leftovers = [r["g"].value for r in rows]
        if leftovers:
            log.warning("dropping %d staging graphs left by an interrupted write", len(leftovers))
            self.remote.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in leftovers))


# ----------------------------------------------------------------------------- the store
class RemoteStore:
    """A Maillage store on a SPARQL engine: the same interface as ``MaillageStore``."""

    path = None
    is_remote = True

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.client = SparqlClient(endpoints)
        self.oxigraph = RemoteOxigraph(self.client)
        self._version: tuple[float, str] | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> RemoteStore:
        return cls(Endpoints.from_settings(settings))

    @property
    def location(self) -> str:
        return self.endpoints.query

    def exists(self) -> bool:
        """True once Maillage has written to the engine (or it holds any named graph)."""
        result = self.oxigraph._run("ASK { GRAPH ?g { ?s ?p ?o } }", [], None)
        return bool(result)

    def generation(self, *, max_age_s: float = 1.0) -> str:
        """The data version (cached ``max_age_s``): changes after every Maillage write."""
        cached = self._version
        if cached and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        value = self.oxigraph.version()
        self._version = (time.monotonic(), value)
        return value

    @contextlib.contextmanager
    def writing(self, *, fresh: bool = False) -> Iterator[RemoteGraphWriter]:
        """A write block: all or nothing (see the module documentation)."""
        txid = uuid.uuid4().hex
        lock = _WriteLock(self.oxigraph, txid)
        lock.acquire()
        scratch = Path(tempfile.mkdtemp(prefix="maillage-remote-"))
        writer: RemoteGraphWriter | None = None
        try:
            lock.sweep_staging()
            writer = RemoteGraphWriter(self.oxigraph, scratch / "stage", fresh=fresh)
            yield writer
            writer.commit(scratch)
        except OSError as exc:  # the local stage on a full disk: nothing was sent
            raise StoreError(f"cannot stage the write in {scratch}: {exc}",
                             hint="free disk space (or set TMPDIR elsewhere), then run the "
                                  "command again; the store is unchanged") from exc
        finally:
            if writer is not None:
                writer.stage = None  # type: ignore[assignment]  # close RocksDB before removal
            shutil.rmtree(scratch, ignore_errors=True)
            lock.release()
            self.oxigraph.invalidate()
            self._version = None

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """One SPARQL Update, applied by the engine atomically, with the version bump."""
        self.oxigraph.update(sparql.rstrip().rstrip(";") + " ;\n"
                             + _bump_version(uuid.uuid4().hex), base_iri=base_iri)
        self._version = None

    def query(self, sparql: str, substitutions: Mapping[str, Any] | None = None, *,
              union: bool = True, base_iri: str | None = None,
              default_graph: list[NamedNode] | None = None,
              named_graphs: list[NamedNode] | None = None) -> Any:
        try:
            return self.oxigraph.query(
                sparql, base_iri=base_iri, use_default_graph_as_union=union and not default_graph,
                default_graph=default_graph or None, named_graphs=named_graphs,
                substitutions=substitutions)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc

    def named_graphs(self) -> list[NamedNode]:
        return list(self.oxigraph.live_graphs(fresh=True))

    def count(self, graph: NamedNode | None = None) -> int:
        return self.oxigraph.count([graph] if graph is not None
                                   else self.oxigraph.live_graphs(fresh=True))

    def dump(self, output: IO[bytes] | str | Path, format: RdfFormat, *,
             graph: NamedNode | None = None) -> None:
        target: Any = str(output) if isinstance(output, Path) else output
        self.oxigraph.dump(target, format, from_graph=graph)

    def backup(self, target: str | Path) -> None:
        self.oxigraph.backup(target)
