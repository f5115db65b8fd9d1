"""``maillage init``: build the reference graph."""

from __future__ import annotations

from pathlib import Path

import typer

from ..reference import build_reference
from ..stats import graph_stats
from .common import StoreOption, get_settings, open_store


def init(
    store: Path = StoreOption,
    fresh: bool = typer.Option(
        False, "--fresh", help="Start from an empty store (drop imports and analyses too)."
    ),
) -> None:
    """Build (or rebuild) the reference graph: ontology, vocabularies, territories, institutions."""
    settings = get_settings(store)
    ms = open_store(settings)
    build_reference(ms, settings, fresh=fresh, progress=lambda n: typer.echo(f"· {n}"))
    typer.echo(f"reference graph built in {settings.store_path}")
    typer.echo(graph_stats(ms))


def register(app: typer.Typer) -> None:
    app.command()(init)
