"""``maillage analyze``: run the network analyses, write them into ``graph/analyse``, export them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..analysis import ANALYSES
from ..analysis.base import AnalysisContext
from ..analysis.rdf import write_outputs
from ..analysis.runner import export_outputs, run_analyses, select_analyses, summary_rows
from .common import StoreOption, get_settings, open_store


def analyze(
    territory: str = typer.Option(
        None, "--territory", help="Restrict to a territory: commune or département INSEE code, "
        "EPCI SIREN, or IRI."),
    level: str = typer.Option("commune", "--level",
                              help="Territorial unit of co-location: commune or epci."),
    out: Path = typer.Option(None, "--out", help="Also export CSV and JSON files into DIR."),
    only: list[str] = typer.Option(
        [], "--only", help="Run only these analyses (repeatable): " + ", ".join(ANALYSES) + "."),
    seed: int = typer.Option(1, "--seed", help="Random seed (communities, sampled betweenness)."),
    top_k: int = typer.Option(5, "--top-k", help="Synergies kept per structure."),
    window: int = typer.Option(3, "--window", help="Years per window for emerging activities."),
    year: int = typer.Option(None, "--year", help="Reference year of emergence (default: the "
                             "last complete year of creations)."),
    method: str = typer.Option("louvain", "--method", help="Communities: louvain or leiden."),
    backend: str = typer.Option("networkx", "--backend",
                                help="Betweenness of brokers: networkx or igraph."),
    write: bool = typer.Option(True, "--write/--no-write",
                               help="Write the results into graph/analyse (default) or not."),
    store: Path = StoreOption,
) -> None:
    """Run the network analyses (synergies, emerging filières, communities, brokers, gaps)."""
    settings = get_settings(store)
    names = select_analyses(only)
    ctx = AnalysisContext(
        open_store(settings), settings, level=level, territory=territory, seed=seed,
        options={"synergies": {"top_k": top_k}, "emergence": {"window": window, "year": year},
                 "colocation": {"method": method}, "brokers": {"backend": backend}},
    )
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), console=console,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task("analyses", total=len(names))

        def step(name: str) -> None:
            bar.update(task, description=f"analyse: {name}", completed=names.index(name))

        outputs = run_analyses(ctx, names, progress=step)
        bar.update(task, completed=len(names), description="analyses done")
    if write:
        quads = write_outputs(ctx.store, settings, outputs)
        typer.echo(f"wrote {quads} quads into {ctx.iris.graph('analyse').value}")
    if out is not None:
        files = export_outputs(outputs, out)
        typer.echo(f"exported {len(files)} files into {out}")
    _print_summary(outputs)


def _print_summary(outputs: list) -> None:
    table = Table(title="Maillage analyses")
    for column in ("analysis", "seconds", "results", "note"):
        table.add_column(column)
    for row in summary_rows(outputs):
        table.add_row(*row)
    Console(width=140).print(table)


def register(app: typer.Typer) -> None:
    app.command()(analyze)
