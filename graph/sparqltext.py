"""Small, safe rewrites of SPARQL texts for engines reached over HTTP.

The embedded store binds named-query parameters with pyoxigraph ``substitutions``; a remote
engine has no such API, so :func:`inline_values` binds them in the text instead: a
``VALUES ?name { term }`` block opens the WHERE group of the query *and* of every sub-query that
mentions the variable, which pre-binds it wherever it is evaluated. The term is serialized by
pyoxigraph (an IRI in ``<>``, a literal with its escapes), so a parameter cannot close a string
or a group: the value stays one inert term.

A regex lexer skips strings, IRIs and comments; the engine still parses everything.

>>> from pyoxigraph import Literal
>>> inline_values('SELECT ?x WHERE { ?s <p> ?x }', {"x": Literal('a" } ; DROP ALL #')})
'SELECT ?x WHERE { VALUES ?x { "a\\\\" } ; DROP ALL #" } ?s <p> ?x }'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyoxigraph import Literal, NamedNode

TOKEN = re.compile(
    r'''(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\''''
    r'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')'''
    r"""|(?P<comment>\#[^\n]*)"""
    r"""|(?P<iri><[^<>"{}|^`\\\s]*>)"""
    r"""|(?P<open>\{)|(?P<close>\})|(?P<lparen>\()|(?P<rparen>\))|(?P<var>[?$]\w+)"""
    r"""|(?P<word>[A-Za-z_][\w\-]*(?::[\w\-.]*)?)""",
    re.DOTALL,
)

_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


def _term_text(term: object) -> str:
    if not isinstance(term, (NamedNode, Literal)):
        raise TypeError(f"only IRIs and literals can be bound, not {term!r}")
    return str(term)


def where_groups(text: str) -> list[tuple[int, int, int]]:
    """``(form_start, open, close)`` offsets of the WHERE group of every (sub-)query.

    >>> q = "SELECT * { { SELECT ?a { ?a ?b ?c } } }"
    >>> [(q[o], q[c]) for _, o, c in where_groups(q)] == [("{", "}"), ("{", "}")]
    True
    >>> [o for _, o, _ in where_groups(q)]
    [9, 23]
    """
    return _groups(_tokens(text))


Tok = tuple[str, str, int, int]  # kind, text, start, end


def _tokens(text: str) -> list[Tok]:
    """The tokens of a text, strings and comments left out."""
    return [(m.lastgroup or "", m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)
            if m.lastgroup not in ("string", "comment")]


def _groups(tokens: list[Tok]) -> list[tuple[int, int, int]]:
    # matching braces
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, (kind, *_) in enumerate(tokens):
        if kind == "open":
            stack.append(i)
        elif kind == "close" and stack:
            match[stack.pop()] = i
    groups = []
    for i, (kind, value, start, _) in enumerate(tokens):
        if kind != "word" or value.upper() not in _FORMS:
            continue
        form = value.upper()
        j, parens = i + 1, 0
        if form == "CONSTRUCT" and j < len(tokens) and tokens[j][0] == "open":
            j = match.get(j, j) + 1  # skip the template
        while j < len(tokens):
            k, v, *_ = tokens[j]
            if k == "lparen":
                parens += 1
            elif k == "rparen":
                parens -= 1
            elif k == "open" and parens == 0:
                break
            elif k == "word" and v.upper() in _FORMS and parens == 0:
                j = len(tokens)  # a DESCRIBE without WHERE, followed by nothing of ours
            j += 1
        if j < len(tokens) and j in match:
            groups.append((start, tokens[j][2], tokens[match[j]][2]))
    return groups


def inline_values(text: str, bindings: Mapping[str, object]) -> str:
    """Bind variables to terms with ``VALUES`` blocks, the way substitution pre-binds them.

    A block opens the WHERE group of the query and of every sub-query whose pattern mentions
    the variable — except a group that assigns it itself with ``BIND(… AS ?v)``: there the
    block follows the BIND (a join, so the BIND's value must equal the parameter's).

    >>> from pyoxigraph import NamedNode
    >>> inline_values("SELECT ?t (COUNT(*) AS ?n) { { SELECT ?t { ?x <in> ?t } } } GROUP BY ?t",
    ...               {"t": NamedNode("http://ex/t")})  # doctest: +NORMALIZE_WHITESPACE
    'SELECT ?t (COUNT(*) AS ?n) { VALUES ?t { <http://ex/t> } { SELECT ?t { VALUES ?t { <http://ex/t> } ?x <in> ?t } } } GROUP BY ?t'
    >>> inline_values('SELECT ?a { ?x <p> ?y BIND(STR(?y) AS ?a) }', {"a": Literal("k")})
    'SELECT ?a { ?x <p> ?y BIND(STR(?y) AS ?a) VALUES ?a { "k" } }'
    """
    if not bindings:
        return text
    values = {name: _term_text(term) for name, term in bindings.items()}
    tokens = _tokens(text)
    # where each BIND(… AS ?v) assigns a parameter: its closing parenthesis and brace depth
    binds: list[tuple[str, int, int]] = []  # (name, offset after ')', brace depth)
    parens: list[bool] = []  # for each open '(': is it a BIND's?
    depth_at: dict[int, int] = {}  # offset of each '{' -> brace depth outside it
    depth = 0
    for i, (kind, _, start, end) in enumerate(tokens):
        if kind == "open":
            depth_at[start] = depth
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "lparen":
            parens.append(i > 0 and tokens[i - 1][0] == "word" and tokens[i - 1][1].upper() == "BIND")
        elif kind == "rparen" and parens:
            was_bind = parens.pop()
            if (was_bind and i >= 2 and tokens[i - 1][0] == "var"
                    and tokens[i - 2][1].upper() == "AS" and tokens[i - 1][1][1:] in values):
                binds.append((tokens[i - 1][1][1:], end, depth))
    inserts: list[tuple[int, str]] = []
    for form_start, open_, close in _groups(tokens):
        projection, inner = text[form_start:open_], text[open_ + 1:close]
        level = depth_at.get(open_, 0) + 1
        assigned_here = {n for n, at, d in binds if open_ < at <= close and d == level}
        assigned_here |= {n for n in values  # `(expr AS ?v)` in the projection computes ?v
                          if re.search(rf"\bAS\s+[?$]{re.escape(n)}\b", projection, re.IGNORECASE)}
        used = [n for n in values if n not in assigned_here
                and re.search(rf"[?$]{re.escape(n)}\b", projection + " " + inner)]
        if used:
            block = " ".join(f"VALUES ?{n} {{ {values[n]} }}" for n in used)
            inserts.append((open_ + 1, " " + block))
    inserts += [(at, f" VALUES ?{n} {{ {values[n]} }}") for n, at, _ in binds]
    for offset, block in sorted(inserts, reverse=True):
        text = text[:offset] + block + text[offset:]
    return text


def graph_iris(text: str) -> tuple[set[str], bool]:
    """IRIs written after GRAPH / WITH / INTO / FROM [NAMED] / USING [NAMED], and whether a
    ``GRAPH ?var`` (any graph) occurs.

    >>> graph_iris("DELETE WHERE { GRAPH <http://g> { ?s ?p ?o } }")
    ({'http://g'}, False)
    >>> graph_iris("SELECT * { GRAPH ?g { ?s ?p ?o } }")
    (set(), True)
    """
    iris: set[str] = set()
    any_graph = False
    previous = ""
    for m in TOKEN.finditer(text):
        kind = m.lastgroup or ""
        if kind in ("string", "comment"):
            continue
        value = m.group()
        if previous in ("GRAPH", "WITH", "INTO", "FROM", "NAMED", "USING", "TO"):
            if kind == "iri":
                iris.add(value[1:-1])
            elif kind == "var" and previous == "GRAPH":
                any_graph = True
        previous = value.upper() if kind == "word" else value
    return iris, any_graph


def has_from(text: str) -> bool:
    """True when a query names its own dataset (``FROM`` / ``FROM NAMED`` outside any group).

    >>> has_from("SELECT * FROM <http://g> WHERE { ?s ?p ?o }"), has_from("SELECT ?from { }")
    (True, False)
    """
    if "from" not in text.lower():
        return False
    depth = 0
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0 and m.group().upper() == "FROM":
            return True
    return False


_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def has_relative_iri(text: str) -> bool:
    """True when an IRI of the text needs a base to resolve (then a ``BASE`` is prepended).

    >>> has_relative_iri("SELECT * { <a> ?p <http://x/> }"), has_relative_iri("ASK { }")
    (True, False)
    """
    return any(m.lastgroup == "iri" and not _ABSOLUTE.match(m.group()[1:-1])
               for m in TOKEN.finditer(text))


POSITION = re.compile(r"error at (\d+):(\d+)")  # where a parser message (Oxigraph) points


def shift_error_lines(message: str, lines: int) -> str:
    """Move the line of a parser message ("error at L:C") up by the ``lines`` prepended.

    >>> shift_error_lines("error at 4:3: expected ...", 1)
    'error at 3:3: expected ...'
    """
    if not lines:
        return message
    return POSITION.sub(lambda m: f"error at {max(1, int(m.group(1)) - lines)}:{m.group(2)}",
                         message, count=1)
