"""The ``maillage`` command line. Command groups live in ``maillage.graph.commands.*``.

Each module there exposes ``register(app)``. Domain errors print one message saying what to do
next and exit 1; no traceback for a user mistake.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from . import __version__, commands
from .errors import MaillageError

app = typer.Typer(
    name="maillage",
    help="Maillage: knowledge graph of the Île-de-France ESS in the ecological transition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"maillage {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Maillage command line."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        code = app(args=argv, prog_name="maillage", standalone_mode=False)
    except MaillageError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        return 1
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("Interrupted: the store is unchanged.", err=True)
        return 130
    except OSError as exc:  # an output file on a full disk, a missing directory…
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        raise
    if code == 130:  # typer turns Ctrl-C into Exit(130), returned when not standalone
        typer.echo("Interrupted: the store is unchanged.", err=True)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
