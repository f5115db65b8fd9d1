"""What the endpoint needs to know about a SPARQL text before the engine sees it.

A small regex lexer finds the keywords at brace depth 0 (outside strings, IRIs and comments):
whether a query names its own dataset (``FROM`` / ``FROM NAMED``), and where the protocol's
``using-graph-uri`` / ``using-named-graph-uri`` go in an update (before the ``WHERE`` of every
DELETE/INSERT operation, as the SPARQL 1.1 Protocol says they are equivalent to ``USING``).
The engine still parses everything; this only looks at the outline.

>>> has_dataset_clause("SELECT * FROM <http://g> WHERE { ?s ?p ?o }")
True
>>> has_dataset_clause('SELECT * WHERE { ?s ?p "FROM <x>" }')
False
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_TOKEN = re.compile(
    r'''(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\''''
    r'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')'''
    r"""|(?P<comment>\#[^\n]*)"""
    r"""|(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<open>\{)|(?P<close>\})|(?P<semi>;)|(?P<var>[?$]\w+)"""
    r"""|(?P<word>[A-Za-z_][\w\-]*(?::[\w\-.]*)?)""",
    re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    """A token at brace depth 0: its kind, text (keywords upper-cased) and offset."""

    kind: str
    text: str
    start: int


def top_level_tokens(text: str) -> Iterator[Token]:
    """Tokens outside every ``{ … }`` block; braces themselves come out as open/close.

    >>> [t.text for t in top_level_tokens("ask { ?s <p> '}' } # FROM")]
    ['ASK', '{', '}']
    """
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""
        if kind in ("string", "comment", "var"):
            continue
        if kind == "open":
            depth += 1
            if depth == 1:
                yield Token("open", "{", m.start())
            continue
        if kind == "close":
            depth = max(depth - 1, 0)
            if depth == 0:
                yield Token("close", "}", m.start())
            continue
        if depth == 0:
            value = m.group()
            yield Token(kind, value.upper() if kind == "word" else value, m.start())


def has_dataset_clause(query: str) -> bool:
    """True if a query has ``FROM`` or ``FROM NAMED`` (then the union default graph is off).

    >>> has_dataset_clause("CONSTRUCT { ?s ?p ?o } FROM NAMED <g> WHERE { GRAPH ?g { ?s ?p ?o } }")
    True
    >>> has_dataset_clause("PREFIX from: <http://x/> SELECT ?from WHERE { ?s from:p ?from }")
    False
    """
    if "from" not in query.lower():
        return False
    return any(t.kind == "word" and t.text == "FROM" for t in top_level_tokens(query))


def uses_service(query: str) -> bool:
    """True if a query calls a remote endpoint (``SERVICE``), at any depth.

    >>> uses_service("SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }")
    True
    >>> uses_service('SELECT ?service { ?s <http://x/service> "SERVICE" } # SERVICE')
    False
    """
    if "service" not in query.lower():
        return False
    return any(m.lastgroup == "word" and m.group().upper() == "SERVICE"
               for m in _TOKEN.finditer(query))


class DatasetConflict(ValueError):
    """An update has USING/WITH and the request also gives using-graph-uri parameters."""


def add_using(update: str, default_graphs: list[str], named_graphs: list[str]) -> str:
    """Insert ``USING <g>`` / ``USING NAMED <g>`` before the WHERE of every DELETE/INSERT.

    Raises :class:`DatasetConflict` when an operation already has USING or WITH (the protocol
    says that request is malformed).

    >>> add_using("INSERT { ?s a <C> } WHERE { ?s ?p ?o }", ["http://g"], [])
    'INSERT { ?s a <C> } USING <http://g> WHERE { ?s ?p ?o }'
    >>> add_using("CLEAR ALL ; DELETE WHERE { ?s ?p ?o }", ["http://g"], [])
    'CLEAR ALL ; DELETE WHERE { ?s ?p ?o }'
    >>> add_using("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", [], ["http://h"])
    Traceback (most recent call last):
    ...
    maillage.api.sparqltext.DatasetConflict: the update names its own dataset (USING or WITH) and the request gives using-graph-uri / using-named-graph-uri
    """
    if not default_graphs and not named_graphs:
        return update
    clause = "".join(f"USING <{g}> " for g in default_graphs)
    clause += "".join(f"USING NAMED <{g}> " for g in named_graphs)
    inserts: list[int] = []
    previous: Token | None = None
    for token in top_level_tokens(update):
        if token.kind == "word" and token.text in ("USING", "WITH"):
            raise DatasetConflict(
                "the update names its own dataset (USING or WITH) and the request gives "
                "using-graph-uri / using-named-graph-uri"
            )
        if token.kind == "word" and token.text == "WHERE" and previous and previous.kind == "close":
            inserts.append(token.start)
        previous = token
    for offset in reversed(inserts):
        update = update[:offset] + clause + update[offset:]
    return update


_POSITION = re.compile(r"error at (\d+):(\d+)")


def error_position(message: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) of an Oxigraph parser message, if it gives them.

    >>> error_position("error at 2:10: expected OPTIONAL")
    (2, 10)
    >>> error_position("something else")
    (None, None)
    """
    m = _POSITION.search(message)
    if not m:
        return None, None
    return int(m.group(1)), int(m.group(2))
