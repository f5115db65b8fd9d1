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

from maillage.graph.sparqltext import POSITION as _POSITION
from maillage.graph.sparqltext import TOKEN as _TOKEN
from maillage.graph.sparqltext import has_from


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
        if kind in ("string", "comment", "var", "lparen", "rparen"):
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
    return has_from(query)


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


_STRICT = re.compile(
    r'''(?P<ws>\s+)|(?P<comment>\#[^\n]*)'''
    r'''|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')'''
    r'''|(?P<iri><[^<>"{}|^`\\\s]*>)|(?P<var>[?$]\w+)'''
    r'''|(?P<pname>[A-Za-z][\w\-.]*:[\w\-.]*[\w\-]|[A-Za-z][\w\-.]*:)'''
    r'''|(?P<word>[A-Za-z_]\w*)|(?P<int>\d+)|(?P<punct>[{}.*])|(?P<other>.)''',
    re.DOTALL,
)


def _strict_tokens(text: str) -> list[tuple[str, str]] | None:
    """Every token of a query, or None as soon as something unusual appears."""
    out = []
    for m in _STRICT.finditer(text):
        kind = m.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        if kind == "other":
            return None
        value = m.group()
        out.append((kind, value.upper() if kind == "word" else value))
    return out


def is_bounded_lookup(query: str) -> bool:
    """True for a lookup whose cost is bounded by one resource's statements: one triple
    pattern with a constant subject (optionally in one GRAPH block), no filter, path, union,
    optional, aggregate, ordering or sub-query; or ``DESCRIBE <iri>``.

    >>> is_bounded_lookup("SELECT ?p ?o WHERE { <http://x/a> ?p ?o }")
    True
    >>> is_bounded_lookup("PREFIX ex: <http://x/> SELECT DISTINCT * { GRAPH ?g { ex:a a ?o . } } LIMIT 5")
    True
    >>> is_bounded_lookup("DESCRIBE <http://x/a>")
    True
    >>> is_bounded_lookup("SELECT ?p ?o WHERE { ?s ?p ?o }")
    False
    >>> is_bounded_lookup("SELECT * { <http://x/a> ?p ?o . ?a ?b ?c }")
    False
    >>> is_bounded_lookup("SELECT * { <http://x/a> <http://x/p>/<http://x/q> ?o }")
    False
    >>> is_bounded_lookup("SELECT * { <http://x/a> ?p ?o } ORDER BY ?o")
    False
    """
    tokens = _strict_tokens(query)
    if tokens is None:
        return False
    return _Lookup(tokens).match()


class _Lookup:
    """A tiny recursive-descent matcher for :func:`is_bounded_lookup`."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, *accepted: str) -> bool:
        kind, value = self.peek()
        if kind in accepted or value in accepted:
            self.i += 1
            return True
        return False

    def match(self) -> bool:
        while self.peek()[1] in ("PREFIX", "BASE"):
            keyword = self.peek()[1]
            self.i += 1
            if keyword == "PREFIX" and not self.take("pname"):
                return False
            if not self.take("iri"):
                return False
        form = self.peek()[1]
        self.i += 1
        if form == "DESCRIBE":
            return self.take("iri", "pname") and self.peek()[0] == "end"
        if form == "SELECT":
            self.take("DISTINCT", "REDUCED")
            if not self.take("*"):
                if not self.take("var"):
                    return False
                while self.take("var"):
                    pass
        elif form == "CONSTRUCT":
            if self.peek()[1] == "{" and not self._block(template=True):
                return False
        elif form != "ASK":
            return False
        self.take("WHERE")
        if not self._block():
            return False
        while self.peek()[1] in ("LIMIT", "OFFSET"):
            self.i += 1
            if not self.take("int"):
                return False
        return self.peek()[0] == "end"

    def _block(self, template: bool = False) -> bool:
        if not self.take("{"):
            return False
        if not template and self.take("GRAPH"):
            if not (self.take("var", "iri", "pname") and self._block()):
                return False
            self.take(".")
            return self.take("}")
        if not self._triple(constant_subject=not template):
            return False
        self.take(".")
        return self.take("}")

    def _triple(self, constant_subject: bool) -> bool:
        subject = ("iri", "pname") if constant_subject else ("iri", "pname", "var")
        if not self.take(*subject):
            return False
        if not self.take("iri", "pname", "var", "A"):
            return False
        return self.take("iri", "pname", "var", "string", "int", "TRUE", "FALSE")
