"""``maillage analyze``: run the network analyses, write them into ``graph/analyse``, export them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..analysis import ANALYSES
from .common import get_settings, open_store

if TYPE_CHECKING:  # the analyses (pandas, networkx…) load only when `maillage analyze` runs
    from ..analysis.base import AnalysisContext, AnalysisOutput

_ONLY_HELP = "Run only this analysis (repeatable): " + ", ".join(ANALYSES) + "."


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}",
                                 param_hint=option)
    return value


def analyze(
    territory: Annotated[str | None, typer.Option(
        "--territory", help="Restrict to a territory: commune or département INSEE code, EPCI "
        "SIREN, or IRI.")] = None,
    level: Annotated[str, typer.Option(
        "--level", help="Territorial unit of co-location: commune or epci.")] = "commune",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also export CSV and JSON files into this directory.")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help=_ONLY_HELP)] = None,
    scope: Annotated[str, typer.Option(
        "--scope", help="specifique (default): leave out filière links that come only from a "
        "generic NAF code of large scope (94.99Z → AMAP…); large: keep them.")] = "specifique",
    seed: Annotated[int, typer.Option(
        "--seed", help="Random seed (communities, sampled betweenness).")] = 1,
    top_k: Annotated[int, typer.Option("--top-k", help="Synergies kept per structure.")] = 5,
    window: Annotated[int, typer.Option(
        "--window", help="Years per window for emerging activities.")] = 5,
    year: Annotated[int | None, typer.Option(
        "--year", help="Reference year of emergence (default: the last complete year).")] = None,
    method: Annotated[str, typer.Option(
        "--method", help="Communities: louvain or leiden.")] = "louvain",
    backend: Annotated[str, typer.Option(
        "--backend", help="Betweenness of brokers: igraph (fast) or networkx.")] = "igraph",
    write: Annotated[bool, typer.Option(
        "--write/--no-write", help="Write the results into graph/analyse (default) or not.")] = True,
    store: Annotated[str | None, typer.Option(
        "--store", help="Store directory or SPARQL server URL (default: $MAILLAGE_STORE, else "
        "~/.local/share/maillage/store).", show_default=False)] = None,
) -> None:
    """Run the network analyses (synergies, emerging filières, communities, brokers, gaps)."""
    from ..analysis.base import AnalysisContext
    from ..analysis.rdf import write_outputs
    from ..analysis.runner import export_outputs, select_analyses

    settings = get_settings(store)
    names = select_analyses(only or [])
    ctx = AnalysisContext(
        open_store(settings), settings, level=_choice(level, ("commune", "epci"), "--level"),
        territory=territory, seed=seed,
        scope=_choice(scope, ("specifique", "large"), "--scope"),
        options={"synergies": {"top_k": top_k}, "emergence": {"window": window, "year": year},
                 "colocation": {"method": _choice(method, ("louvain", "leiden"), "--method")},
                 "brokers": {"backend": _choice(backend, ("networkx", "igraph"), "--backend")}},
    )
    outputs = _run_with_progress(ctx, names)
    if write:
        quads = write_outputs(ctx.store, settings, outputs)
        typer.echo(f"wrote {quads} quads into {ctx.iris.graph('analyse').value}")
    if out is not None:
        files = export_outputs(outputs, out)
        typer.echo(f"exported {len(files)} files into {out}")
    _print_summary(outputs)


def _run_with_progress(ctx: AnalysisContext, names: list[str]) -> list[AnalysisOutput]:
    from ..analysis.runner import run_analyses

    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<22}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("analyses", total=len(names))

        def step(name: str) -> None:
            bar.update(task, description=f"analyse: {name}", completed=names.index(name))

        outputs = run_analyses(ctx, names, progress=step)
        bar.update(task, completed=len(names), description="analyses done")
    return outputs


def _print_summary(outputs: list[AnalysisOutput]) -> None:
    from ..analysis.runner import summary_rows

    table = Table(title="Maillage analyses")
    for column in ("analysis", "seconds", "results", "note"):
        table.add_column(column)
    for row in summary_rows(outputs):
        table.add_row(*row)
    Console(width=140).print(table)


def register(app: typer.Typer) -> None:
    app.command()(analyze)
