"""Helpers shared by the routers: public URL, base-IRI mapping, turning replies into responses.

>>> m = BaseMapping("https://w3id.org/maillage/", "http://127.0.0.1:8000/")
>>> m.iri_for_path("/id/structure/123")
'https://w3id.org/maillage/id/structure/123'
>>> m.local("https://w3id.org/maillage/voc/naf/38.32Z")
'http://127.0.0.1:8000/voc/naf/38.32Z'
>>> m.local("https://example.org/x")
'https://example.org/x'
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from maillage.graph.errors import MaillageError
from maillage.graph.settings import Settings
from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError
from .workers import JobRunner, Reply


@dataclass(frozen=True)
class BaseMapping:
    """The base IRI of the data and the public URL the server answers at.

    When the server is deployed behind the base IRI both are equal and nothing is rewritten;
    run locally, links to minted IRIs are rewritten to the local server.
    """

    base_iri: str
    public_url: str

    def iri_for_path(self, path: str) -> str:
        """The minted IRI a request path stands for (path relative to the public URL)."""
        return self.base_iri + path.lstrip("/")

    def local(self, iri: str) -> str:
        """Where a browser can fetch ``iri`` on this server (unchanged if not minted here)."""
        if iri.startswith(self.base_iri) and self.base_iri != self.public_url:
            return self.public_url + iri[len(self.base_iri):]
        return iri


def public_url(request: Request, settings: Settings) -> str:
    """The server's public URL (ends with '/'): the setting, else what the client used."""
    if settings.public_url:
        url = settings.public_url
        return url if url.endswith("/") else url + "/"
    scope = request.scope
    host = next((v for k, v in scope["headers"] if k == b"host"), None)
    if host is None:
        url = str(request.base_url)
        return url if url.endswith("/") else url + "/"
    root = scope.get("root_path", "")
    return f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}{root}/"


def mapping(request: Request) -> BaseMapping:
    settings: Settings = request.app.state.settings
    return BaseMapping(settings.base_iri, public_url(request, settings))


def runner(request: Request) -> JobRunner:
    return request.app.state.runner  # type: ignore[no-any-return]


async def call(request: Request, job: str, timeout: float | None = None, *,
               bounded: bool = False, **kwargs: Any) -> Reply:
    """Run a store job (see :mod:`maillage.api.workers`)."""
    return await runner(request).call(job, timeout=timeout, bounded=bounded, **kwargs)


def generation_etag(request: Request, *parts: str) -> str | None:
    """A weak ETag for a document computed from the store: store generation + public URL.

    Documents change only when a writer swaps the generation, so a client revalidating gets a
    304 without any store work. None for an in-memory store.
    """
    try:
        generation = runner(request).context.generation
    except MaillageError:
        return None
    if generation == "memory":
        return None
    key = zlib.crc32("|".join((public_url(request, request.app.state.settings), *parts))
                     .encode("utf-8"))
    return f'W/"{generation}-{key:08x}"'


def not_modified(request: Request, etag: str | None) -> Response | None:
    """A 304 answer when ``If-None-Match`` names ``etag``."""
    from .dumps import etag_matches

    if etag and etag_matches(request.headers.get("if-none-match"), etag.removeprefix("W/")):
        return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept"})
    return None


def to_response(reply: Reply, extra: dict[str, str] | None = None) -> Response:
    """A Starlette response from a worker :class:`Reply`."""
    headers = dict(reply.headers)
    if extra:
        headers.update(extra)
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type,
                    headers=headers)


def error_response(error: ApiError) -> Response:
    """The JSON error shape as a response."""
    return Response(error.to_bytes(), status_code=error.status,
                    media_type="application/json", headers=error.headers)


def single(values: list[str], name: str) -> str | None:
    """The one value of a parameter; a 400 when it is repeated.

    >>> single(["a"], "query"), single([], "query")
    ('a', None)
    """
    if len(values) > 1:
        raise ApiError(400, "repeated-parameter", f"the parameter '{name}' is given "
                       f"{len(values)} times; give it once")
    return values[0] if values else None
