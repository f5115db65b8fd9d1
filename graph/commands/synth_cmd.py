"""``maillage synth``: labelled synthetic SIRENE stock files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def synth(
    structures: Annotated[int, typer.Option(
        "--structures", min=1, help="Active ESS legal units in Île-de-France.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 0,
    extra_units: Annotated[int, typer.Option(
        "--extra-units", min=0,
        help="Extra non-ESS / non-IdF units (to filter like a national file).")] = 0,
) -> None:
    """Write SYNTHETIC StockUniteLegale/StockEtablissement files (35/54 INSEE columns)."""
    from ..ingest.synth import generate_stock

    summary = generate_stock(out, structures, seed, extra_units=extra_units)
    typer.echo(f"wrote {', '.join(summary.files)} and synth-summary.json in {out}: "
               f"{sum(summary.units.values())} legal units, {summary.establishments} "
               "establishments — SYNTHETIC data, every name starts with [SYNTHÉTIQUE]")


def register(app: typer.Typer) -> None:
    app.command()(synth)
