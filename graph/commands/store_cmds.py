"""Store commands: load, stats, dump, backup, settings."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import typer
from pyoxigraph import NamedNode, RdfFormat

from ..errors import InputError, StoreError
from ..namespaces import Iris
from ..provenance import describe_graph
from ..rdfio import format_for_path
from ..settings import settings_table
from ..stats import class_stats, graph_stats
from .common import StoreOption, get_settings, open_store


def load(
    files: list[Path] = typer.Argument(..., help="RDF files (.ttl .nt .nq .trig .rdf .jsonld)."),
    graph: str = typer.Option(None, "--graph", help="Target graph IRI for triple files."),
    store: str = StoreOption,
) -> None:
    """Load RDF files into the store, atomically (all files or none)."""
    settings = get_settings(store)
    iris = Iris(settings.base_iri)
    for f in files:
        if not f.is_file():
            raise InputError("file not found", path=str(f), hint="check the path")
    ms = open_store(settings)
    with ms.writing() as w:
        for f in files:
            fmt = format_for_path(f)
            target = NamedNode(graph) if graph else iris.graph(f"load/{f.stem.split('.')[0]}")
            is_quads = fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG)
            try:
                w.load(f, fmt, graph=None if is_quads else target, bulk=False)
            except SyntaxError as exc:
                raise InputError(f"not valid {fmt.name}: {exc}", path=str(f)) from exc
            if not is_quads:
                w.add_quads(
                    describe_graph(
                        iris, target, title_fr=f"Chargement de {f.name}",
                        title_en=f"Load of {f.name}", sources=[f.name], licence=None,
                    )
                )
            typer.echo(f"loaded {f} into {target.value if not is_quads else 'its own graphs'}")


def stats(store: str = StoreOption, fmt: str = typer.Option("table", "--format")) -> None:
    """Triples per named graph and instances per class."""
    settings = get_settings(store)
    ms = open_store(settings)
    typer.echo(graph_stats(ms, fmt))
    typer.echo("")
    typer.echo(class_stats(ms, fmt))


def dump(
    output: Path = typer.Argument(None, help="Output file (.nq, .nq.gz, .trig); stdout if absent."),
    fmt: str = typer.Option(None, "--format", help="nquads or trig (default: from the file name)."),
    graph: str = typer.Option(None, "--graph", help="Dump one graph only (Turtle by default)."),
    store: str = StoreOption,
) -> None:
    """Dump the store as N-Quads or TriG (or one graph)."""
    ms = open_store(get_settings(store))
    g = NamedNode(graph) if graph else None
    name = str(output) if output else ""
    if fmt:
        rdf_format = {"nquads": RdfFormat.N_QUADS, "trig": RdfFormat.TRIG, "turtle": RdfFormat.TURTLE,
                      "ntriples": RdfFormat.N_TRIPLES}[fmt]
    elif name:
        rdf_format = format_for_path(name)
    else:
        rdf_format = RdfFormat.TURTLE if g else RdfFormat.N_QUADS
    if output is None:
        ms.dump(sys.stdout.buffer, rdf_format, graph=g)
        return
    if name.endswith(".gz"):
        with gzip.open(output, "wb") as fh:
            ms.dump(fh, rdf_format, graph=g)
    else:
        with open(output, "wb") as fh:
            ms.dump(fh, rdf_format, graph=g)
    typer.echo(f"wrote {output}")


def backup(target: Path = typer.Argument(..., help="New directory for the backup."),
           store: str = StoreOption) -> None:
    """Engine-level backup (RocksDB checkpoint) of the current store."""
    ms = open_store(get_settings(store))
    if ms.path is None:
        raise StoreError("cannot back up an in-memory store")
    ms.backup(target)
    typer.echo(f"backup written to {target} (open it with pyoxigraph or `oxigraph serve --location`)")


def settings() -> None:
    """Show every setting, its environment variable, default and current value."""
    current = get_settings()
    secret = {"admin_token", "store_password", "store_token"}
    for row in settings_table():
        value = getattr(current, row["name"])
        shown = "********" if row["name"] in secret and value else str(value)
        typer.echo(f"{row['name']:<18} {row['env']:<26} = {shown:<40} # {row['help']}")


def register(app: typer.Typer) -> None:
    app.command()(load)
    app.command()(stats)
    app.command()(dump)
    app.command()(backup)
    app.command()(settings)
