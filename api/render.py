"""HTML rendering: the Jinja environment (package templates, autoescape) and value formatting.

>>> french_number(1234567)
'1\\u202f234\\u202f567'
>>> french_date("2007-02-16")
'16 février 2007'
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Any

import jinja2
from maillage.graph import __version__
from maillage.graph.resources import _path

from .errors import ApiError

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def french_number(value: Any) -> str:
    """An integer with narrow no-break spaces between thousands."""
    try:
        return f"{int(value):,}".replace(",", "\u202f")
    except (TypeError, ValueError):
        return str(value)


def french_date(value: str) -> str:
    """An ISO date (or date-time) as a French date; unchanged if it is not one."""
    try:
        day = _dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """The templates of ``maillage.api`` (one environment per process, thread-safe)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_path("maillage.api", "templates"))),
        autoescape=jinja2.select_autoescape(("html",)),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.filters["number"] = french_number
    env.filters["date"] = french_date
    env.globals["version"] = __version__
    return env


def render(ctx: Any, name: str, context: dict[str, Any]) -> bytes:
    """Render a template with the site-wide values (public URL, base IRI, settings)."""
    public = context.get("public", "/")
    values = {"site": {"public": public, "base": ctx.settings.base_iri if ctx else "",
                       "updates": bool(ctx and ctx.settings.updates_enabled)}}
    values.update(context)
    return template_environment().get_template(name).render(**values).encode("utf-8")


def error_html(request: Any, error: ApiError) -> bytes:
    """The HTML page of an error (same information as the JSON shape)."""
    public = str(request.base_url)
    return render(None, "error.html", {"error": error, "public": public})
