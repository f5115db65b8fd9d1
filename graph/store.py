"""The Maillage store: an embedded Oxigraph store with atomic, generation-based writes.

On disk, a store location is a directory::

    store/
      current -> gen-000003      (symlink, swapped atomically with os.replace)
      gen-000003/                (a RocksDB directory: the Oxigraph store)
      .write.lock

Every write goes through :meth:`MaillageStore.writing`: the current generation is copied with a
RocksDB checkpoint (hard links, so it is cheap), the writer changes the copy, and only when the
block ends without error does ``current`` move to the copy. An exception, a kill or a full disk
leaves the previous generation readable and untouched. Readers open generations read-only, so
a running server keeps serving while an import runs.

>>> store = MaillageStore(None)           # in memory, for tests and examples
>>> with store.writing() as w:
...     w.add_quads([Quad(NamedNode("http://ex/a"), NamedNode("http://ex/p"), Literal("1"),
...                       NamedNode("http://ex/g"))])
>>> [str(r["s"]) for r in store.query("SELECT ?s WHERE { ?s ?p ?o }")]
['<http://ex/a>']
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Variable,
)

from .errors import QueryError, StoreError

log = logging.getLogger("maillage.store")
from .remote import RemoteTriples

#: the result kinds of a CONSTRUCT / DESCRIBE (embedded or remote)
TRIPLE_RESULTS = (QueryTriples, RemoteTriples)

__all__ = ["DefaultGraph", "GraphWriter", "Literal", "MaillageStore", "NamedNode", "Quad", "open_store"]

_GEN = re.compile(r"^gen-(\d{6})$")
CURRENT = "current"


class Rows(list):  # type: ignore[type-arg]
    """Solutions read into a list, with their ``variables`` (like ``QuerySolutions``)."""

    def __init__(self, variables: list[Variable], rows: Iterable[Any]) -> None:
        super().__init__(rows)
        self.variables = variables


def materialize(result: Any) -> Any:
    """Read a result whole, so it holds no reference to the store it came from.

    A write block's store must be closed when the block ends (RocksDB deletes files while it
    runs); a ``QuerySolutions`` kept alive by the caller would keep it open.
    """
    if isinstance(result, QuerySolutions):
        return Rows(list(result.variables), result)
    if isinstance(result, QueryBoolean):
        return bool(result)
    return list(result)


class GraphWriter:
    """What a write block may do. The same methods will exist for a remote backend."""

    def __init__(self, store: Store) -> None:
        self.oxigraph = store

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads (in one transaction: fine up to a few hundred thousand)."""
        self.oxigraph.extend(quads)

    def bulk_add_quads(self, quads: Iterable[Quad]) -> None:
        """Add many quads fast (no transaction: use inside :meth:`MaillageStore.writing`)."""
        self.oxigraph.bulk_extend(quads)

    def load(
        self,
        source: str | bytes | Path | IO[bytes],
        format: RdfFormat,
        *,
        graph: NamedNode | None = None,
        base_iri: str | None = None,
        bulk: bool = True,
    ) -> None:
        """Load a serialization (path, bytes or binary stream) into ``graph`` (triples) or as is."""
        kwargs: dict[str, Any] = {"format": format, "base_iri": base_iri}
        if graph is not None:
            kwargs["to_graph"] = graph
        if isinstance(source, Path):
            kwargs["path"] = str(source)
        else:
            kwargs["input"] = source
        if bulk:
            self.oxigraph.bulk_load(**kwargs)
        else:
            self.oxigraph.load(**kwargs)

    def drop_graph(self, graph: NamedNode) -> None:
        if self.oxigraph.contains_named_graph(graph):
            self.oxigraph.remove_graph(graph)

    def replace_graph(
        self,
        graph: NamedNode,
        source: str | bytes | Path | IO[bytes] | Iterable[Quad],
        format: RdfFormat | None = None,
        *,
        base_iri: str | None = None,
    ) -> None:
        """Drop ``graph`` then fill it from a serialization (``format`` given) or quads."""
        self.drop_graph(graph)
        if format is None:
            self.bulk_add_quads(
                q if q.graph_name == graph else Quad(q.subject, q.predicate, q.object, graph)
                for q in source  # type: ignore[union-attr]
            )
        else:
            self.load(source, format, graph=graph, base_iri=base_iri)  # type: ignore[arg-type]

    def update(self, sparql: str) -> None:
        self.oxigraph.update(sparql)

    def query(self, sparql: str, **kwargs: Any) -> Any:
        """Query the block's own state; the answer is read at once (see :func:`materialize`)."""
        kwargs.setdefault("use_default_graph_as_union", True)
        return materialize(self.oxigraph.query(sparql, **kwargs))


class MaillageStore:
    """A Maillage store at ``path`` (a directory), or in memory when ``path`` is None."""

    is_remote = False

    def __init__(self, path: str | Path | None) -> None:
        if path is not None and str(path).startswith(("http:/", "https:/")):
            raise StoreError(f"{path} is a server URL, not a directory",
                             hint="open it with maillage.graph.store.open_store(settings)")
        self.path = Path(path).expanduser() if path is not None else None
        self._memory: Store | None = Store() if path is None else None
        self._reader: Store | None = None
        self._reader_gen: str | None = None

    # ----------------------------------------------------------------- generations
    def current_generation(self) -> Path | None:
        """The directory of the current generation, or None if nothing was ever written."""
        if self.path is None:
            return None
        link = self.path / CURRENT
        if not link.is_symlink():
            if self.path.exists() and any(self.path.glob("*.sst")):
                raise StoreError(
                    f"{self.path} is a bare Oxigraph store, not a Maillage store",
                    hint="point --store at an empty directory and run `maillage init`",
                )
            return None
        return self.path / os.readlink(link)

    def exists(self) -> bool:
        return self.path is None or self.current_generation() is not None

    @property
    def location(self) -> str:
        return str(self.path) if self.path is not None else "memory"

    def generation(self) -> str:
        """Name of the generation being read ("memory" in memory): changes after every write."""
        if self.path is None:
            return "memory"
        try:
            return os.readlink(self.path / CURRENT)
        except OSError:
            raise StoreError(f"no Maillage store at {self.path}",
                             hint="run `maillage init` first") from None

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """One SPARQL Update, atomically (a new generation)."""
        with self.writing() as writer:
            writer.oxigraph.update(sparql, base_iri=base_iri)

    @property
    def oxigraph(self) -> Store:
        """The pyoxigraph Store to read from: read-only on disk, following ``current`` after a swap.

        A Store object already handed out keeps reading the generation it was opened on.
        """
        if self._memory is not None:
            return self._memory
        gen = self.current_generation()
        if gen is None:
            raise StoreError(
                f"no Maillage store at {self.path}",
                hint="run `maillage init` first (or set --store / MAILLAGE_STORE)",
            )
        if self._reader is None or self._reader_gen != gen.name:
            try:
                self._reader = Store.read_only(str(gen))
            except OSError as exc:
                raise StoreError(f"cannot open the store at {gen}: {exc}") from exc
            self._reader_gen = gen.name
        return self._reader

    def _next_generation(self) -> Path:
        assert self.path is not None
        numbers = [int(m.group(1)) for p in self.path.iterdir() if (m := _GEN.match(p.name))]
        return self.path / f"gen-{max(numbers, default=0) + 1:06d}"

    def _sweep(self, keep: set[str]) -> None:
        """Remove generations other than ``keep`` (abandoned or superseded)."""
        assert self.path is not None
        for p in self.path.iterdir():
            if _GEN.match(p.name) and p.name not in keep:
                shutil.rmtree(p, onerror=lambda _f, path, exc: log.warning(
                    "cannot remove %s of an old generation: %s", path, exc[1]))

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        assert self.path is not None
        with open(self.path / ".write.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(
                    f"another process is writing to {self.path}",
                    hint="wait for the other import to finish, then run the command again",
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self, *, fresh: bool = False) -> Iterator[GraphWriter]:
        """A write block: all or nothing. ``fresh=True`` starts from an empty store."""
        if self._memory is not None:
            yield GraphWriter(self._memory)
            return
        assert self.path is not None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory {self.path}: {exc}") from exc
        if not os.access(self.path, os.W_OK):
            raise StoreError(
                f"the store directory {self.path} is not writable",
                hint="fix its permissions or choose another --store",
            )
        with self._write_lock():
            old = self.current_generation()
            self._sweep({old.name} if old else set())
            new = self._next_generation()
            writer: GraphWriter | None = None
            try:
                if old is not None and not fresh:
                    Store.read_only(str(old)).backup(str(new))
                else:
                    new.mkdir()
                writer = GraphWriter(Store(str(new)))
                yield writer
                writer.oxigraph.flush()
            except BaseException as exc:
                if writer is not None:
                    writer.oxigraph = None  # type: ignore[assignment]  # close RocksDB first
                shutil.rmtree(new, ignore_errors=True)
                if isinstance(exc, OSError):  # disk full, quota, I/O error
                    raise StoreError(f"cannot write the store at {self.path}: {exc}",
                                     hint="free disk space (or raise the quota), then run the "
                                          "command again; the store is unchanged") from exc
                raise
            finally:
                if writer is not None:
                    writer.oxigraph = None  # type: ignore[assignment]
            try:
                self._swap(new)
            except OSError as exc:
                shutil.rmtree(new, ignore_errors=True)
                raise StoreError(f"cannot switch the store at {self.path} to its new "
                                 f"generation: {exc}", hint="the store is unchanged") from exc
            self._sweep({new.name})
        self._reader = None

    def _swap(self, new: Path) -> None:
        assert self.path is not None
        tmp = self.path / f".{CURRENT}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(new.name, tmp)
        os.replace(tmp, self.path / CURRENT)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ----------------------------------------------------------------- reading
    def query(
        self,
        sparql: str,
        substitutions: Mapping[str, Any] | None = None,
        *,
        union: bool = True,
        base_iri: str | None = None,
        default_graph: list[NamedNode] | None = None,
        named_graphs: list[NamedNode] | None = None,
    ) -> QuerySolutions | QueryBoolean | QueryTriples:
        """Run a SPARQL query. ``substitutions`` maps variable names to RDF terms."""
        kwargs: dict[str, Any] = {"base_iri": base_iri}
        if default_graph:
            kwargs["default_graph"] = default_graph
        else:
            kwargs["use_default_graph_as_union"] = union
        if named_graphs:
            kwargs["named_graphs"] = named_graphs
        if substitutions:
            kwargs["substitutions"] = {Variable(k): v for k, v in substitutions.items()}
        try:
            return self.oxigraph.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc

    def named_graphs(self) -> list[NamedNode]:
        return sorted(
            (g for g in self.oxigraph.named_graphs() if isinstance(g, NamedNode)),
            key=lambda g: g.value,
        )

    def count(self, graph: NamedNode | None = None) -> int:
        if graph is None:
            q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        else:
            q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"
        return int(next(iter(self.oxigraph.query(q)))["n"].value)  # type: ignore[index]

    def dump(
        self, output: IO[bytes] | str | Path, format: RdfFormat, *, graph: NamedNode | None = None
    ) -> None:
        """Write the store (N-Quads/TriG) or one graph (any RDF format) to a path or stream."""
        target: Any = str(output) if isinstance(output, Path) else output
        kwargs: dict[str, Any] = {"format": format}
        if graph is not None:
            kwargs["from_graph"] = graph
        self.oxigraph.dump(target, **kwargs)

    def backup(self, target: str | Path) -> None:
        """An engine-level backup (RocksDB checkpoint) of the current generation."""
        target = Path(target)
        if target.exists() and any(target.iterdir()):
            raise StoreError(f"backup target {target} is not empty", hint="choose a new directory")
        self.oxigraph.backup(str(target))


def open_store(settings: Any) -> Any:
    """The store the settings name: a directory (embedded) or a SPARQL server URL (remote)."""
    from .remote import RemoteStore, is_remote_location

    if is_remote_location(settings.store):
        return RemoteStore.from_settings(settings)
    return MaillageStore(settings.store_path)


def quads_to_nquads(quads: Iterable[Quad]) -> bytes:
    """Serialize quads to N-Quads bytes (small helper for tests and exports)."""
    buf = io.BytesIO()
    from pyoxigraph import serialize

    serialize(quads, buf, RdfFormat.N_QUADS)
    return buf.getvalue()
