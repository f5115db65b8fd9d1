"""``maillage init``: build the reference graph."""

from __future__ import annotations

import typer

from ..reference import build_reference
from ..stats import graph_stats
from .common import StoreOption, get_settings, open_store


def init(
    store: str = StoreOption,
    fresh: bool = typer.Option(
        False, "--fresh", help="Start from an empty store (drop imports and analyses too)."
    ),
) -> None:
    """Build (or rebuild) the reference graph: ontology, vocabularies, territories, institutions."""
    settings = get_settings(store)
    ms = open_store(settings)
    build_reference(ms, settings, fresh=fresh, progress=lambda n: typer.echo(f"· {n}"))
    typer.echo(f"reference graph built in {open_store(settings).location}")
    typer.echo(graph_stats(ms))


def register(app: typer.Typer) -> None:
    app.command()(init)
