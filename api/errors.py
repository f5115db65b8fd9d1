"""The one JSON error shape of the web application.

Every error answer (SPARQL endpoint, REST API, Linked Data routes) has this body::

    {"ok": false, "status": 400, "error": "sparql-syntax",
     "message": "…the parser's message…", "hint": "…" | null,
     "location": {"line": 1, "column": 25} | null}

``error`` is a stable machine-readable code, ``message`` is for people. HTML clients get the
same information in a page. tests/api/test_errors.py checks the shape on every route.

>>> e = ApiError(404, "not-found", "no resource")
>>> sorted(e.body())
['error', 'hint', 'location', 'message', 'ok', 'status']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ERROR_KEYS = frozenset({"ok", "status", "error", "message", "hint", "location"})


@dataclass(eq=False)
class ApiError(Exception):
    """An error answer: HTTP status, code, message, optional hint and position."""

    status: int
    code: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        """The JSON body (see the module docstring)."""
        location = None
        if self.line is not None:
            location = {"line": self.line, "column": self.column}
        return {
            "ok": False,
            "status": self.status,
            "error": self.code,
            "message": self.message,
            "hint": self.hint,
            "location": location,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False).encode("utf-8")

    def to_tuple(self) -> tuple[Any, ...]:
        """A picklable form to cross the worker pipe (see :meth:`from_tuple`)."""
        return (self.status, self.code, self.message, self.hint, self.line, self.column,
                dict(self.headers))

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> ApiError:
        return cls(*data)


def bad_request(message: str, code: str = "bad-request", hint: str | None = None) -> ApiError:
    """A 400 error."""
    return ApiError(400, code, message, hint)


def not_found(message: str, hint: str | None = None) -> ApiError:
    """A 404 error."""
    return ApiError(404, "not-found", message, hint)


def not_acceptable(offered: list[str]) -> ApiError:
    """A 406 error listing what the resource can be served as.

    >>> not_acceptable(["text/turtle"]).message
    'none of the formats in the Accept header can be produced here'
    """
    return ApiError(
        406, "not-acceptable",
        "none of the formats in the Accept header can be produced here",
        hint="accept one of: " + ", ".join(offered) + " (or use the format parameter)",
    )
