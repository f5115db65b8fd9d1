"""Serializers for query results, with the endpoint's row limit.

SELECT results are written here (JSON, XML, CSV, TSV as the W3C result formats define them) so
that the row limit can stop the iteration: the engine evaluates lazily, so a query whose answer
is cut at the limit also stops working there. ASK answers are tiny; CONSTRUCT/DESCRIBE triples go
through pyoxigraph's RDF serializers, cut at the same limit.

>>> from pyoxigraph import Store
>>> s = Store()
>>> out = serialize_select(s.query("SELECT ?x WHERE { VALUES ?x { 1 2 3 } }"), "csv", 2)
>>> out.body, out.truncated
(b'x\\r\\n1\\r\\n2\\r\\n', True)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    Triple,
    serialize,
)

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
TRUNCATION_NOTE = "#row-limit"


@dataclass(frozen=True)
class Serialized:
    """Serialized results: the bytes, whether the row limit cut them, and the row count."""

    body: bytes
    truncated: bool = False
    rows: int = 0


def term_json(term: Any) -> dict[str, Any]:
    """A term in the SPARQL 1.1 JSON results format (RDF-star triples included).

    >>> term_json(Literal("chat", language="fr"))
    {'type': 'literal', 'value': 'chat', 'xml:lang': 'fr'}
    >>> term_json(NamedNode("http://ex/a"))
    {'type': 'uri', 'value': 'http://ex/a'}
    """
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Triple):
        return {"type": "triple", "value": {
            "subject": term_json(term.subject), "predicate": term_json(term.predicate),
            "object": term_json(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def term_xml(term: Any) -> str:
    """A term in the SPARQL XML results format.

    >>> term_xml(Literal("a<b"))
    '<literal>a&lt;b</literal>'
    """
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{escape(term.value)}</literal>")
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Triple):
        return (f"<triple><subject>{term_xml(term.subject)}</subject><predicate>"
                f"{term_xml(term.predicate)}</predicate><object>{term_xml(term.object)}</object>"
                "</triple>")
    raise TypeError(f"not an RDF term: {term!r}")


def term_csv(term: Any) -> str:
    """A term in the SPARQL CSV format (plain values, blank nodes as ``_:id``).

    >>> term_csv(NamedNode("http://ex/a")), term_csv(Literal("3", datatype=NamedNode(
    ...     "http://www.w3.org/2001/XMLSchema#integer")))
    ('http://ex/a', '3')
    """
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Triple):
        return f"<< {term} >>"
    return str(term.value)


def term_tsv(term: Any) -> str:
    """A term in the SPARQL TSV format (Turtle/N-Triples syntax, escapes included).

    >>> term_tsv(Literal("a\\tb", language="fr"))
    '"a\\\\tb"@fr'
    """
    return "" if term is None else str(term)


def _limited(solutions: Iterable[Any], limit: int) -> Iterator[tuple[int, Any]]:
    return enumerate(islice(solutions, limit + 1))


def serialize_select(
    solutions: QuerySolutions, fmt: str, limit: int, note_url: str = ""
) -> Serialized:
    """SELECT solutions as ``json``, ``xml``, ``csv`` or ``tsv``, at most ``limit`` rows."""
    names = [v.value for v in solutions.variables]
    rows: list[Any] = []
    truncated = False
    for i, solution in _limited(solutions, limit):
        if i == limit:
            truncated = True
            break
        rows.append([solution[n] for n in names])
    writer = {"json": _select_json, "xml": _select_xml, "csv": _select_csv, "tsv": _select_tsv}
    body = writer[fmt](names, rows, truncated, limit, note_url)
    return Serialized(body, truncated, len(rows))


def _select_json(names: list[str], rows: list[Any], truncated: bool, limit: int,
                 note_url: str) -> bytes:
    bindings = [
        {n: term_json(t) for n, t in zip(names, row) if t is not None} for row in rows
    ]
    doc: dict[str, Any] = {"head": {"vars": names}, "results": {"bindings": bindings}}
    if truncated:
        doc["head"]["link"] = [note_url + TRUNCATION_NOTE]
        doc["maillage"] = {
            "truncated": True, "rowLimit": limit,
            "message": f"résultat tronqué à {limit} lignes (limite du service) ; "
                       "ajoutez LIMIT/OFFSET ou utilisez les dumps",
        }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _select_xml(names: list[str], rows: list[Any], truncated: bool, limit: int,
                note_url: str) -> bytes:
    out = [('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>')]
    out += [f"<variable name={quoteattr(n)}/>" for n in names]
    if truncated:
        out.append(f"<link href={quoteattr(note_url + TRUNCATION_NOTE)}/>")
        out.append(f"<!-- truncated at the row limit of {limit} rows -->")
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(n)}>{term_xml(t)}</binding>"
                for n, t in zip(names, row) if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode("utf-8")


def _select_csv(names: list[str], rows: list[Any], truncated: bool, limit: int,
                note_url: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    writer.writerows([term_csv(t) for t in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def _select_tsv(names: list[str], rows: list[Any], truncated: bool, limit: int,
                note_url: str) -> bytes:
    lines = ["\t".join("?" + n for n in names)]
    lines += ["\t".join(term_tsv(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def serialize_boolean(value: bool, fmt: str) -> Serialized:
    """An ASK answer as ``json`` or ``xml``.

    >>> serialize_boolean(True, "json").body
    b'{"head":{},"boolean":true}'
    """
    if fmt == "json":
        return Serialized(b'{"head":{},"boolean":' + (b"true" if value else b"false") + b"}")
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql '
            'xmlns="http://www.w3.org/2005/sparql-results#"><head/><boolean>'
            f"{'true' if value else 'false'}</boolean></sparql>\n")
    return Serialized(text.encode("utf-8"))


QUAD_FORMATS = (RdfFormat.N_QUADS, RdfFormat.TRIG)


def serialize_triples(
    triples: Iterable[Triple], fmt: RdfFormat, limit: int, prefixes: dict[str, str] | None = None
) -> Serialized:
    """CONSTRUCT/DESCRIBE triples in an RDF format, at most ``limit`` triples.

    >>> t = Triple(NamedNode("http://ex/a"), NamedNode("http://ex/p"), Literal("1"))
    >>> serialize_triples([t, t], RdfFormat.N_TRIPLES, 1).truncated
    True
    """
    kept = list(islice(triples, limit + 1))
    truncated = len(kept) > limit
    kept = kept[:limit]
    items: list[Any] = kept
    if fmt in QUAD_FORMATS:
        items = [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in kept]
    body = serialize(items, format=fmt, prefixes=prefixes if _has_prefixes(fmt) else None)
    return Serialized(body or b"", truncated, len(kept))


def serialize_quads(quads: Iterable[Quad], fmt: RdfFormat,
                    prefixes: dict[str, str] | None = None) -> bytes:
    """Quads in an RDF format: graph names kept for N-Quads/TriG, dropped otherwise."""
    items: list[Any] = list(quads)
    if fmt not in QUAD_FORMATS:
        items = [q.triple for q in items]
    return serialize(items, format=fmt, prefixes=prefixes if _has_prefixes(fmt) else None) or b""


def _has_prefixes(fmt: RdfFormat) -> bool:
    return fmt in (RdfFormat.TURTLE, RdfFormat.TRIG, RdfFormat.RDF_XML)
