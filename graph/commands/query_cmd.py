"""``maillage query``: run a named query, a SPARQL text or a .rq file."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import QueryError
from ..rdfio import format_results
from .common import StoreOption, get_settings, open_store

FORMATS = ("table", "json", "csv", "tsv", "xml", "ttl", "nt")


def query(
    name: str = typer.Argument(None, help="Name of a query of the library (see --list)."),
    sparql: str = typer.Option(None, "--sparql", help="A SPARQL query text."),
    file: Path = typer.Option(None, "--file", help="A .rq file."),
    param: list[str] = typer.Option([], "--param", help="Parameter k=v (repeatable)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv, tsv, xml, ttl, nt."),
    list_: bool = typer.Option(False, "--list", help="List the named queries."),
    store: str = StoreOption,
) -> None:
    """Run a SPARQL query on the union of all graphs."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}", hint="use one of " + ", ".join(FORMATS))
    settings = get_settings(store)
    if list_:
        from ..catalog import list_queries_text

        typer.echo(list_queries_text())
        return
    chosen = [x for x in (name, sparql, file) if x]
    if len(chosen) != 1:
        raise QueryError(
            "give exactly one of NAME, --sparql TEXT or --file F.rq",
            hint="`maillage query --list` shows the named queries",
        )
    ms = open_store(settings)
    if name:
        from ..catalog import run_named_query

        results = run_named_query(ms, name, dict(_parse_param(p) for p in param), settings=settings)
    else:
        text = sparql if sparql else _read(file)
        if param:
            from ..catalog import bind_text_params

            results = ms.query(text, substitutions=bind_text_params(text, dict(_parse_param(p) for p in param)))
        else:
            results = ms.query(text)
    typer.echo(format_results(results, fmt))


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"cannot read {file}: {exc.strerror}") from exc


def _parse_param(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise QueryError(f"parameter {text!r} is not k=v", hint="write --param territoire=93")
    k, v = text.split("=", 1)
    return k.strip().lstrip("?$"), v


def register(app: typer.Typer) -> None:
    app.command()(query)
