"""``maillage validate``: SHACL validation of the store (exit 1 only on violations)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from pyoxigraph import NamedNode

from ..errors import QueryError, ValidationFailed
from ..namespaces import Iris
from ..validate import validate_store
from .common import StoreOption, get_settings, open_store


def graph_iri(text: str, iris: Iris) -> NamedNode:
    """A graph given as a full IRI or as a name under ``{base}graph/`` (``sirene``)."""
    if text.startswith(("http://", "https://", "urn:")):
        return NamedNode(text)
    return iris.graph(text)


GraphOption = typer.Option(
    [],
    "--graph",
    help="Validate only the subjects of this graph (IRI or name such as 'sirene'); repeatable."
    " Reference graphs are still loaded for look-ups.",
)
ReportOption = typer.Option(
    None, "--report", help="Write the SHACL report as Turtle to this file ('-' = stdout)."
)
FormatOption = typer.Option("table", "--format", help="Summary format: table or json.")
LangOption = typer.Option("fr", "--lang", help="Language of the messages: fr or en.")


def validate(
    graph: list[str] = GraphOption,
    report: Path = ReportOption,
    fmt: str = FormatOption,
    lang: str = LangOption,
    store: str = StoreOption,
) -> None:
    """Validate the store with the SHACL shapes; warnings do not fail, violations do."""
    if fmt not in ("table", "json"):
        raise QueryError(f"unknown format {fmt!r}", hint="use --format table or --format json")
    settings = get_settings(store)
    iris = Iris(settings.base_iri)
    graphs = [graph_iri(g, iris) for g in graph] or None
    result = validate_store(open_store(settings), settings, graphs)
    typer.echo(result.to_json() if fmt == "json" else result.summary_text(lang))
    if report is not None:
        if str(report) == "-":
            sys.stdout.write(result.to_turtle())
        else:
            report.write_text(result.to_turtle(), encoding="utf-8")
            typer.echo(f"report written to {report}", err=fmt == "json")
    if not result.conforms:
        raise ValidationFailed(
            f"{len(result.violations)} SHACL violation(s)",
            hint="fix the data (or the importer that produced it) and run `maillage validate` again;"
            " --report FILE.ttl writes every result",
        )


def register(app: typer.Typer) -> None:
    app.command()(validate)
