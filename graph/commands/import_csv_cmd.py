"""``maillage import csv`` (a curated list with a TOML mapping) and ``maillage import curated``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..ingest.report import ImportReport, write_reports
from ..settings import Settings
from .common import StoreOption, default_report_dir, get_settings, import_group, open_store

ReportDir = Annotated[
    Path | None,
    typer.Option("--report-dir", help="Where to write the reports (default: <store>/reports)."),
]


def import_csv(
    file: Annotated[Path, typer.Argument(help="The CSV file (or JSON fixture) to import.")],
    mapping: Annotated[Path, typer.Option("--mapping", help="The TOML mapping of the file.")],
    store: str = StoreOption,
    report_dir: ReportDir = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="File encoding (default: detect).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="Field delimiter (default: detect).")
    ] = None,
) -> None:
    """Import a curated list into its own graph (graph/import/<id>), replacing it atomically."""
    from ..ingest.csv_import import import_csv as run

    settings = get_settings(store)
    report = run(open_store(settings), settings, mapping, file, encoding=encoding,
                 delimiter=delimiter)
    _print([report], settings, report_dir)


def import_curated(store: str = StoreOption, report_dir: ReportDir = None) -> None:
    """Import the curated datasets shipped with Maillage (ateliers vélo, énergie citoyenne)."""
    from ..ingest.curated import SKIPPED
    from ..ingest.curated import import_curated as run

    settings = get_settings(store)
    reports = run(open_store(settings), settings)
    _print(reports, settings, report_dir)
    for name, why in SKIPPED.items():
        typer.echo(f"not imported: {name} — {why}")


def _print(reports: list[ImportReport], settings: Settings, report_dir: Path | None) -> None:
    out = report_dir or default_report_dir(settings)
    for report in reports:
        typer.echo(report.summary())
        js, qc = write_reports([report], out, report.extra["dataset"])
        typer.echo(f"  → graph {report.extra['graph']}; reports {js}, {qc}")


def register(app: typer.Typer) -> None:
    group = import_group(app)
    group.command("csv")(import_csv)
    group.command("curated")(import_curated)
