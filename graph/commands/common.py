"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..settings import Settings
from ..store import MaillageStore
from ..store import open_store as _open_store

StoreOption = typer.Option(
    None,
    "--store",
    help="Store directory, or SPARQL server URL (default: $MAILLAGE_STORE, else "
    "~/.local/share/maillage/store).",
    show_default=False,
)


def get_settings(store: Path | str | None = None) -> Settings:
    return Settings.from_env(store=str(store) if store is not None else None)


def open_store(settings: Settings) -> MaillageStore:
    """The embedded store of a directory, or the remote store of a SPARQL server URL."""
    return _open_store(settings)  # type: ignore[no-any-return]


def default_report_dir(settings: Settings) -> Path:
    """``<store>/reports`` for an embedded store; a local data directory for a remote one."""
    if settings.is_remote:
        from urllib.parse import urlsplit

        root = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return root / "maillage" / "reports" / (urlsplit(settings.store).netloc.replace(":", "_"))
    return settings.store_path / "reports"


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
