"""RDF formats: file extensions, media types, and result formatting for the CLI.

>>> format_for_path("x.ttl") is RdfFormat.TURTLE
True
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
)

from .errors import InputError

EXTENSIONS: dict[str, RdfFormat] = {
    ".ttl": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".rdf": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
    ".xml": RdfFormat.RDF_XML,
    ".skos": RdfFormat.RDF_XML,
    ".jsonld": RdfFormat.JSON_LD,
    ".n3": RdfFormat.N3,
}


def format_for_path(path: str | Path) -> RdfFormat:
    suffixes = Path(path).suffixes
    ext = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else (
        suffixes[-1] if suffixes else ""
    )
    try:
        return EXTENSIONS[ext.lower()]
    except KeyError:
        raise InputError(
            f"unknown RDF file extension {ext!r}",
            path=str(path),
            hint="use one of " + ", ".join(sorted(EXTENSIONS)),
        ) from None


def term_text(term: object) -> str:
    """A plain string for a result cell: IRI, literal value, or blank node id."""
    if term is None:
        return ""
    value = getattr(term, "value", None)
    return str(value) if value is not None else str(term)


def solutions_rows(results: QuerySolutions) -> tuple[list[str], list[list[str]]]:
    names = [v.value for v in results.variables]
    rows = [[term_text(sol[n]) for n in names] for sol in results]
    return names, rows


def format_results(results: QuerySolutions | QueryBoolean | QueryTriples, fmt: str) -> str:
    """Render query results as table, json, csv, tsv (SELECT/ASK) or ttl/nt (CONSTRUCT)."""
    if not isinstance(results, (QuerySolutions, QueryBoolean)):  # CONSTRUCT / DESCRIBE
        rdf = {"ttl": RdfFormat.TURTLE, "nt": RdfFormat.N_TRIPLES, "table": RdfFormat.TURTLE}
        out = results.serialize(format=rdf.get(fmt, RdfFormat.TURTLE))
        return out.decode() if isinstance(out, bytes) else str(out)
    if isinstance(results, QueryBoolean):
        return json.dumps({"boolean": bool(results)}) if fmt == "json" else str(bool(results)).lower()
    if fmt in {"json", "xml"} or fmt == "srj":
        fmt_map = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML}
        return results.serialize(format=fmt_map[fmt]).decode()
    names, rows = solutions_rows(results)
    if fmt in {"csv", "tsv"}:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
        return buf.getvalue()
    return _table(names, rows)


def _table(names: list[str], rows: list[list[str]]) -> str:
    widths = [len(n) for n in names]
    for row in rows:
        widths = [max(w, min(len(c), 60)) for w, c in zip(widths, row)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c if len(c) <= 60 else c[:59] + "…").ljust(w) for c, w in zip(cells, widths)
        ).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
