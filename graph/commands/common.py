"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path

import typer

from ..settings import Settings
from ..store import MaillageStore

StoreOption = typer.Option(
    None,
    "--store",
    help="Store directory (default: $MAILLAGE_STORE, else ~/.local/share/maillage/store).",
    show_default=False,
)


def get_settings(store: Path | str | None = None) -> Settings:
    return Settings.from_env(store=str(store) if store is not None else None)


def open_store(settings: Settings) -> MaillageStore:
    return MaillageStore(settings.store_path)


_IMPORT_GROUPS: dict[int, typer.Typer] = {}


def import_group(app: typer.Typer) -> typer.Typer:
    """The ``maillage import …`` group (created once per app); importers add commands to it."""
    group = _IMPORT_GROUPS.get(id(app))
    if group is None:
        group = typer.Typer(help="Import ESS structures (SIRENE stock files, curated CSV lists).",
                            no_args_is_help=True)
        app.add_typer(group, name="import")
        _IMPORT_GROUPS[id(app)] = group
    return group
