"""``maillage serve``: the SPARQL endpoint and Linked Data site (see ``maillage.api``)."""

from __future__ import annotations

import importlib.util
import os
import socket

import typer

from ..errors import ConfigError, StoreError
from ..settings import Settings
from ..store import open_store
from .common import StoreOption

GRACEFUL_SHUTDOWN_S = 3


def serve(
    store: str = StoreOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(None, "--workers",
                                help="Web worker processes (default: $MAILLAGE_WORKERS, 2)."),
    public_url: str = typer.Option(
        None, "--public-url",
        help="Public URL when behind a proxy (default: $MAILLAGE_PUBLIC_URL, else as requested)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
) -> None:
    """Serve the store: SPARQL endpoint, Linked Data pages, dumps, named-query API."""
    settings = Settings.from_env(
        store=str(store) if store is not None else None, workers=workers, public_url=public_url)
    check_store(settings)
    from maillage.api.app import check_settings

    check_settings(settings)
    run_server(settings, host, port, log_level)


def check_store(settings: Settings) -> None:
    """Refuse to start without a store, with what to do about it."""
    ms = open_store(settings)
    if not ms.exists():
        raise StoreError(
            f"no Maillage store at {ms.location}",
            hint="build one first (`maillage init`, or `make demo`), or point --store / "
                 "MAILLAGE_STORE at an existing store",
        )


def _environment(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, for the worker processes."""
    from ..settings import settings_table

    env = {}
    for row in settings_table():
        value = getattr(settings, row["name"])
        env[row["env"]] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


def run_server(settings: Settings, host: str, port: int, log_level: str = "info") -> None:
    """Start ``settings.workers`` web worker processes under uvicorn's supervisor."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ.update(_environment(settings))
    fast = importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")
    config = uvicorn.Config(
        "maillage.api.app:app_from_env", factory=True, host=host, port=port,
        workers=settings.workers, log_level=log_level, access_log=False,
        # asyncio's loop, not uvloop: under a burst of connections uvloop (libuv >= 1.45)
        # accepts one connection per loop iteration, and new clients waited tens of seconds
        # (bench/bench_load.py); httptools keeps the fast HTTP parser
        loop="asyncio", http="httptools" if fast else "auto",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, server_header=False,
    )
    try:
        sock = config.bind_socket()
        # asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP; without it Nagle and
        # delayed ACKs hold every keep-alive answer ~40 ms (bench/bench_remote.py)
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        raise ConfigError(f"cannot listen on {host}:{port}",
                          hint="is another server running there? choose --port") from exc
    typer.echo(f"Maillage serving {open_store(settings).location} on http://{host}:{port}/ "
               f"({settings.workers} worker processes, query limit "
               f"{settings.query_timeout_s:g} s, {settings.row_limit} rows)")
    Multiprocess(config, sockets=[sock]).run()


def register(app: typer.Typer) -> None:
    app.command()(serve)
