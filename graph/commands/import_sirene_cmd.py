"""``maillage import sirene``: the ESS structures of Île-de-France from the SIRENE stock files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import StoreOption, get_settings, import_group, open_store


def _codes(text: str | None) -> tuple[str, ...]:
    """Comma-separated codes.

    >>> _codes("9220, 9300,")
    ('9220', '9300')
    """
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def sirene(
    unites_legales: Annotated[Path, typer.Option(
        "--unites-legales", help="StockUniteLegale_utf8 (.csv, .zip or .parquet).")],
    etablissements: Annotated[Path, typer.Option(
        "--etablissements", help="StockEtablissement_utf8 (.csv, .zip or .parquet).")],
    store: str = StoreOption,
    include_closed: Annotated[bool, typer.Option(
        "--include-closed", help="Also load closed units and establishments.")] = False,
    add_legal_categories: Annotated[str | None, typer.Option(
        "--add-legal-categories",
        help="Also select these legal categories without the ESS flag (e.g. 9220,9300).")] = None,
    add_families: Annotated[str | None, typer.Option(
        "--add-families",
        help="Also select the legal categories of these ESS families (e.g. associations).")] = None,
    report_dir: Annotated[Path, typer.Option(
        "--report-dir", help="Where to write sirene-report.json and sirene-quarantine.csv.")
    ] = Path("."),
    synthetic: Annotated[bool, typer.Option(
        "--synthetic", help="Load into graph/synthetique-sirene, marked synthetic "
        "(automatic for files made by `maillage synth`).")] = False,
    work_dir: Annotated[Path | None, typer.Option(
        "--work-dir", help="Scratch space for zip extraction and N-Quads (default: tmp).")] = None,
) -> None:
    """Import ESS legal units and their Île-de-France establishments (one atomic write)."""
    from ..ingest.sirene import SireneOptions, import_sirene, write_sirene_reports

    settings = get_settings(store)
    options = SireneOptions(
        include_closed=include_closed, legal_categories=_codes(add_legal_categories),
        families=_codes(add_families), synthetic=synthetic, work_dir=work_dir,
    )
    result = import_sirene(
        open_store(settings), settings, unites_legales, etablissements, options,
        progress=lambda msg: typer.echo(f"· {msg}"),
    )
    for report in result.reports:
        typer.echo(report.summary())
    js, qc = write_sirene_reports(result, report_dir)
    kind = "SYNTHETIC " if result.synthetic else ""
    typer.echo(f"{kind}graph {result.graph.value}: {result.quads} quads loaded in "
               f"{result.timings['total']:.1f} s; reports: {js}, {qc}")


def register(app: typer.Typer) -> None:
    import_group(app).command("sirene")(sirene)
