"""The domain exceptions of Maillage.

Every error a user can cause is a :class:`MaillageError`: the CLI prints its message (which says
what to do next) and exits 1, the HTTP API turns it into its JSON error shape.
"""

from __future__ import annotations


class MaillageError(Exception):
    """Base class of the errors a user can cause and fix."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n→ {self.hint}" if self.hint else text


class ConfigError(MaillageError):
    """A setting has an invalid value."""


class StoreError(MaillageError):
    """The store cannot be opened, written or swapped."""


class InputError(MaillageError):
    """An input file is malformed. Names the file, the line (1-based) and what was expected.

    >>> str(InputError("bad SIRET", path="x.csv", line=3))
    'x.csv, line 3: bad SIRET'
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path, self.line, self.column = path, line, column
        where = path or "<input>"
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}", hint=hint)


class QueryError(MaillageError):
    """A SPARQL query or a named query cannot be run (syntax, unknown name, bad parameter)."""


class ValidationFailed(MaillageError):
    """SHACL validation found violations."""
