"""Named queries as pandas DataFrames, for the analyses and the notebooks.

``query_dataframe(store, id, **params)`` is the one call. It uses the catalogue
(``maillage.graph.catalog``) when it is installed, and otherwise a minimal reader of the
``#+`` YAML headers of ``queries/<topic>/<id>.rq``.

>>> to_python(Literal("3", datatype=XSD.integer)), to_python(NamedNode("http://ex/a"))
(3, 'http://ex/a')
>>> to_python(Literal("true", datatype=XSD.boolean)), to_python(None)
(True, None)
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pyoxigraph import Literal, NamedNode, QuerySolutions

from ..errors import QueryError
from ..namespaces import XSD
from ..resources import queries_dir
from ..store import MaillageStore

_INTEGERS = {XSD[t].value for t in ("integer", "int", "long", "short", "nonNegativeInteger",
                                    "positiveInteger", "gYear")}
_FLOATS = {XSD[t].value for t in ("decimal", "double", "float")}


def to_python(term: Any) -> Any:
    """A plain Python value for an RDF term (IRI → str, typed literal → int/float/bool/str)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        dt = term.datatype.value
        try:
            if dt in _INTEGERS:
                return int(term.value)
            if dt in _FLOATS:
                return float(term.value)
        except ValueError:
            return term.value
        if dt == XSD.boolean.value:
            return term.value in ("true", "1")
        return term.value
    return getattr(term, "value", str(term))


def solutions_frame(results: QuerySolutions) -> pd.DataFrame:
    """A DataFrame of SELECT results: one column per projected variable."""
    names = [v.value for v in results.variables]
    rows = [[to_python(sol[n]) for n in names] for sol in results]
    return pd.DataFrame(rows, columns=names)


def query_file(query_id: str) -> Path:
    """The ``.rq`` file of a named query (``queries/<topic>/<id>.rq``)."""
    matches = sorted(queries_dir().glob(f"*/{query_id}.rq"))
    if not matches:
        raise QueryError(f"unknown named query {query_id!r}",
                         hint="`maillage query --list` shows the named queries")
    return matches[0]


def query_header(text: str) -> dict[str, Any]:
    """The YAML metadata of a ``.rq`` text (its ``#+`` lines).

    >>> query_header("#+ summary: Un exemple\\n#+ tags: [a]\\nSELECT * {}")["tags"]
    ['a']
    """
    lines = [ln[2:].removeprefix(" ") for ln in text.splitlines() if ln.startswith("#+")]
    meta = yaml.safe_load("\n".join(lines)) if lines else {}
    return meta if isinstance(meta, dict) else {}


def _bind(kind: str, value: str) -> NamedNode | Literal:
    if kind == "iri":
        return NamedNode(value)
    if kind == "integer":
        return Literal(str(int(value)), datatype=XSD.integer)
    if kind == "year":
        return Literal(str(int(value)), datatype=XSD.gYear)
    if kind == "date":
        return Literal(_dt.date.fromisoformat(value).isoformat(), datatype=XSD.date)
    return Literal(value)


def _local_query_dataframe(store: MaillageStore, query_id: str, **params: str) -> pd.DataFrame:
    text = query_file(query_id).read_text(encoding="utf-8")
    declared = {p["name"]: p.get("kind", "literal") for p in query_header(text).get("params") or []}
    unknown = set(params) - set(declared)
    if unknown:
        raise QueryError(f"query {query_id!r} has no parameter {sorted(unknown)[0]!r}",
                         hint="parameters: " + (", ".join(declared) or "none"))
    subs = {k: _bind(declared[k], v) for k, v in params.items() if v not in (None, "")}
    results = store.query(text, substitutions=subs or None)
    if not isinstance(results, QuerySolutions):
        raise QueryError(f"query {query_id!r} is not a SELECT query")
    return solutions_frame(results)


def query_dataframe(store: MaillageStore, query_id: str, **params: str) -> pd.DataFrame:
    """Run the named query ``query_id`` with ``params`` and return its rows as a DataFrame."""
    try:
        from ..catalog import query_dataframe as catalog_query_dataframe
    except ImportError:
        return _local_query_dataframe(store, query_id, **params)
    return catalog_query_dataframe(store, query_id, **params)
