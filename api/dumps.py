"""Dumps: the whole dataset as gzipped N-Quads and each graph as Turtle, never row-limited.

A dump is written once per store generation into the dump directory (``settings.dump_dir``,
default a folder of the system temp directory), atomically (temporary file, then rename), and
then served as a file: streamed, with ``ETag`` / ``Last-Modified`` and 304 answers to
conditional requests. Graph names are looked up among the store's graphs, never used as paths:
file names are percent-encoded.

>>> dump_file_name("import/ateliers-velo")
'import%2Fateliers-velo.ttl'
>>> etag_matches('W/"abc", "def"', '"def"'), etag_matches("*", '"x"'), etag_matches(None, '"x"')
(True, True, False)
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from maillage.graph.namespaces import PREFIXES
from maillage.graph.settings import Settings
from pyoxigraph import NamedNode, RdfFormat
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from .catalogue import graph_infos
from .errors import not_found
from .web import call, public_url, to_response
from .workers import Reply

router = APIRouter()

FULL_DUMP = "maillage.nq.gz"
DUMP_TIMEOUT_S = 900.0
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def dump_dir(settings: Settings) -> Path:
    """Where dumps are cached: the setting, else a folder per store in the temp directory."""
    if settings.dump_dir:
        return Path(settings.dump_dir).expanduser()
    key = hashlib.sha256(str(settings.store_path.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"maillage-dumps-{key}"


def dump_file_name(graph: str) -> str:
    """The cache file name of a graph's Turtle dump (percent-encoded: no path separators)."""
    return quote(graph, safe="-_.~") + ".ttl"


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (weak comparison)."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(path), threading.Lock())


def write_dump(ctx: Any, graph: str | None) -> Reply:
    """Worker side: make sure the dump exists for the current generation; answer its path."""
    generation = ctx.generation
    directory = dump_dir(ctx.settings) / generation
    if graph is None:
        path = directory / FULL_DUMP
    else:
        infos = {i.name: i for i in graph_infos(ctx).values() if i.name}
        if graph not in infos:
            raise not_found(f"no graph named {graph!r} in this dataset",
                            hint="the list of graphs and their dumps is at /dumps")
        path = directory / "graphs" / dump_file_name(graph)
    with _lock(path):
        if not path.exists():
            _write(ctx, path, None if graph is None else infos[graph].iri)
            _sweep(directory.parent, keep=generation)
    return Reply(200, "text/plain", str(path).encode("utf-8"), {"X-Generation": generation})


def _write(ctx: Any, path: Path, graph_iri: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    store = ctx.oxigraph()
    try:
        if graph_iri is None:
            with gzip.open(tmp, "wb", compresslevel=6) as fh:
                store.dump(fh, format=RdfFormat.N_QUADS)
        else:
            with open(tmp, "wb") as fh:
                store.dump(fh, format=RdfFormat.TURTLE, from_graph=NamedNode(graph_iri),
                           prefixes=PREFIXES)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sweep(root: Path, keep: str) -> None:
    """Remove the dumps of older generations."""
    for child in root.iterdir():
        if child.is_dir() and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


def dump_list(ctx: Any, public: str, accept: str | None) -> Reply:
    """The list of dumps (HTML for browsers, JSON otherwise)."""
    from . import conneg

    infos = [i for i in graph_infos(ctx).values() if i.name]
    if conneg.prefers_html(accept):
        from .render import render

        return Reply(200, "text/html; charset=utf-8", render(ctx, "dumps.html", {
            "infos": infos, "public": public, "full": public + "dumps/" + FULL_DUMP}))
    import json

    body = {"dataset": public + "dumps/" + FULL_DUMP, "graphs": [
        {"graph": i.iri, "name": i.name, "title": i.title(), "triples": i.triples,
         "licences": i.licences, "synthetic": i.synthetic,
         "turtle": f"{public}dumps/graphs/{i.name}.ttl"} for i in infos]}
    return Reply(200, "application/json", json.dumps(body, ensure_ascii=False).encode())


async def _serve(request: Request, graph: str | None, media_type: str, filename: str) -> Response:
    reply = await call(request, "dump", timeout=DUMP_TIMEOUT_S, graph=graph)
    path = Path(reply.body.decode("utf-8"))
    stat = path.stat()
    etag = f'"{reply.headers["X-Generation"]}-{stat.st_size:x}-{int(stat.st_mtime):x}"'
    last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "public, max-age=60",
               "Content-Disposition": f'attachment; filename="{filename}"'}
    if _not_modified(request, etag, stat.st_mtime):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)


def _not_modified(request: Request, etag: str, mtime: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    since = request.headers.get("if-modified-since")
    if since:
        try:
            parsed = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return parsed is not None and int(mtime) <= parsed.timestamp()
    return False


@router.api_route("/dumps/" + FULL_DUMP, methods=["GET", "HEAD"], include_in_schema=False)
async def full_dump(request: Request) -> Response:
    """Every graph as gzipped N-Quads."""
    return await _serve(request, None, "application/n-quads", FULL_DUMP)


@router.api_route("/dumps/graphs/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def graph_dump(request: Request, name: str) -> Response:
    """One graph as Turtle (``/dumps/graphs/import/ateliers-velo.ttl``)."""
    if not name.endswith(".ttl") or len(name) > 300:
        raise not_found("graph dumps are at /dumps/graphs/<name>.ttl")
    graph = name[: -len(".ttl")]
    return await _serve(request, graph, "text/turtle; charset=utf-8",
                        graph.replace("/", "_") + ".ttl")


@router.get("/dumps", include_in_schema=False)
@router.get("/dumps/", include_in_schema=False)
async def dumps_index(request: Request) -> Response:
    """The list of dumps."""
    reply = await call(request, "dump_list", public=public_url(request, request.app.state.settings),
                       accept=request.headers.get("accept"))
    return to_response(reply, {"Vary": "Accept"})
