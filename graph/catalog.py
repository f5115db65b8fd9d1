"""The named-query library: ``queries/<topic>/<id>.rq`` files with YAML metadata in ``#+`` lines.

A named query is a plain SPARQL file that runs unchanged in a query editor. Its header declares
a summary and a description (French), tags, parameters and result columns::

    #+ summary: Acteurs d'une filière dans un territoire
    #+ params:
    #+   - name: territoire
    #+     kind: code
    #+     identifies: territoire
    #+     required: true
    #+     description: code INSEE ou SIREN d'EPCI
    #+ returns:
    #+   acteur: IRI de l'acteur

Parameters are ordinary SPARQL variables. At run time the user's strings are checked and turned
into RDF terms (:func:`bind_params`), then bound with pyoxigraph ``substitutions`` — never
spliced into the text. pyoxigraph 0.5 only substitutes projected variables, so every parameter
is in the SELECT projection (the lint checks it).

>>> q = parse_header("#+ summary: Un exemple\\n#+ description: Texte.\\n#+ tags: [a]\\nSELECT ?x {}")
>>> q["summary"], q["tags"], q["params"]
('Un exemple', ['a'], [])
>>> bind_value(Param("n", "integer", description="un entier"), " 42 ")
<Literal value=42 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#integer>>
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    Store,
    Variable,
)

from .errors import InputError, QueryError
from .ingest.common import normalise_naf
from .namespaces import DCTERMS, RDF, RDFS, SCHEMA, SH, XSD, Iris
from .provenance import describe_graph
from .resources import queries_dir
from .settings import Settings
from .store import GraphWriter, MaillageStore

Term = NamedNode | Literal

KINDS = ("iri", "literal", "code", "integer", "date", "year")
HEADER_KEYS = {"summary", "description", "tags", "params", "returns", "example"}
REQUIRED_KEYS = ("summary", "description", "tags")
PARAM_KEYS = {"name", "kind", "required", "default", "description", "identifies", "choices"}
MAX_LITERAL = 500

_SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: What a ``code`` parameter identifies → (regular expression, French description).
CODES: dict[str, tuple[str, str]] = {
    "territoire": (r"^(\d{2}|\d[0-9AB]\d{3}|\d{9})$",
                   ("code INSEE d'une région, d'un département, d'une commune ou d'un "
                    "arrondissement, ou SIREN d'un EPCI")),
    "region": (r"^\d{2}$", "code INSEE d'une région"),
    "departement": (r"^(\d{2}|2[AB]|97\d)$", "code INSEE d'un département"),
    "commune": (r"^\d[0-9AB]\d{3}$", "code INSEE d'une commune ou d'un arrondissement"),
    "epci": (r"^\d{9}$", "SIREN d'un EPCI"),
    "siren": (r"^\d{9}$", "SIREN d'une unité légale"),
    "siret": (r"^\d{14}$", "SIRET d'un établissement"),
    "filiere": (_SLUG, "slug d'une filière TEE ou d'un domaine (skos:notation)"),
    "domaine": (_SLUG, "slug d'un domaine TEE (skos:notation)"),
    "famille": (_SLUG, "slug d'une famille de l'ESS (skos:notation)"),
    "programme": (_SLUG, "slug d'un programme public (frec, plan-batiment-durable, preb)"),
    "appel": (_SLUG, "slug d'un appel à projets"),
    "naf": (r"^\d{2}\.\d{2}[A-Z]$", "code NAF rév. 2 (38.32Z)"),
    "tranche": (r"^(NN|\d{2})$", "code INSEE de tranche d'effectifs (NN, 00, 01…)"),
}
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Param:
    """A declared parameter of a named query (a variable of its projection)."""

    name: str
    kind: str
    required: bool = False
    default: str | None = None
    description: str = ""
    identifies: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def pattern(self) -> str | None:
        """The regular expression a ``code`` value must match (None for other kinds)."""
        return CODES[self.identifies][0] if self.kind == "code" and self.identifies else None


@dataclass(frozen=True)
class NamedQuery:
    """One ``.rq`` file of the library, with its parsed header."""

    id: str
    topic: str
    path: Path
    text: str
    summary: str
    description: str
    tags: tuple[str, ...]
    params: tuple[Param, ...]
    returns: dict[str, str] = field(default_factory=dict)
    query_type: str = "select"
    example: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)

    @property
    def source(self) -> str:
        """The path of the file inside the repository (``queries/<topic>/<id>.rq``)."""
        return f"queries/{self.topic}/{self.id}.rq"


# ---------------------------------------------------------------------------- parsing
def _header_lines(text: str) -> list[tuple[int, str]]:
    """The leading ``#+`` lines as (file line number, YAML text)."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            break
        out.append((number, line[2:].removeprefix(" ")))
    return out


def parse_header(text: str, path: str = "<query>") -> dict[str, Any]:
    """The YAML metadata of a query text, checked; errors name the file and the line.

    >>> parse_header("#+ summary: [oops\\nSELECT ?x {}", "x.rq")
    Traceback (most recent call last):
    ...
    maillage.graph.errors.InputError: x.rq, line 1: bad YAML header: ...
    """
    lines = _header_lines(text)
    try:
        meta = yaml.safe_load("\n".join(t for _, t in lines)) if lines else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        index = mark.line if mark is not None else 0
        line = lines[index][0] if index < len(lines) else lines[-1][0] + 1
        raise InputError(f"bad YAML header: {getattr(exc, 'problem', exc)}", path=path,
                         line=line) from exc
    first = lines[0][0] if lines else 1
    if not isinstance(meta, dict):
        raise InputError("the #+ header must be a YAML mapping", path=path, line=first)
    _check_keys(meta, path, lines)
    meta["params"] = [_param(p, path, _line_of(lines, p.get("name") if isinstance(p, dict)
                                                 else None)) for p in meta.get("params") or []]
    meta.setdefault("tags", [])
    return meta


def _line_of(lines: list[tuple[int, str]], needle: Any) -> int:
    """The file line of the first header line mentioning ``needle`` (else the first line)."""
    for number, text in lines:
        if needle is not None and str(needle) in text:
            return number
    return lines[0][0] if lines else 1


def _check_keys(meta: dict[str, Any], path: str, lines: list[tuple[int, str]]) -> None:
    unknown = sorted(set(meta) - HEADER_KEYS)
    if unknown:
        raise InputError(f"unknown header key {unknown[0]!r}; expected one of "
                         f"{sorted(HEADER_KEYS)}", path=path, line=_line_of(lines, unknown[0]))
    for key in REQUIRED_KEYS:
        if not meta.get(key):
            raise InputError(f"missing or empty header key {key!r}", path=path,
                             line=lines[0][0] if lines else 1)
    for key in ("summary", "description"):
        if not isinstance(meta[key], str):
            raise InputError(f"{key!r} must be a text", path=path, line=_line_of(lines, key))
    if not isinstance(meta["tags"], list) or not all(isinstance(t, str) for t in meta["tags"]):
        raise InputError("'tags' must be a list of words", path=path, line=_line_of(lines, "tags"))
    returns = meta.get("returns") or {}
    if not isinstance(returns, dict) or not all(isinstance(v, str) and v for v in returns.values()):
        raise InputError("'returns' must map each column to a description", path=path,
                         line=_line_of(lines, "returns"))
    if not isinstance(meta.get("params") or [], list):
        raise InputError("'params' must be a list", path=path, line=_line_of(lines, "params"))
    if not isinstance(meta.get("example") or {}, dict):
        raise InputError("'example' must map parameters to values", path=path,
                         line=_line_of(lines, "example"))


def _param(raw: Any, path: str, line: int) -> Param:
    """A :class:`Param` from its YAML mapping, checked."""
    def fail(message: str) -> InputError:
        return InputError(message, path=path, line=line)

    if not isinstance(raw, dict):
        raise fail("each parameter must be a mapping (name, kind, description…)")
    unknown = sorted(set(raw) - PARAM_KEYS)
    if unknown:
        raise fail(f"unknown parameter key {unknown[0]!r}; expected {sorted(PARAM_KEYS)}")
    name, kind = str(raw.get("name", "")), raw.get("kind")
    if not _VARNAME.match(name):
        raise fail(f"parameter name {name!r} is not a SPARQL variable name")
    if kind not in KINDS:
        raise fail(f"parameter {name}: kind {kind!r} is not one of {list(KINDS)}")
    if not raw.get("description"):
        raise fail(f"parameter {name}: missing description")
    identifies = raw.get("identifies")
    if (kind == "code") != (identifies is not None):
        raise fail(f"parameter {name}: 'identifies' is required for kind code and only for it")
    if identifies is not None and identifies not in CODES:
        raise fail(f"parameter {name}: identifies {identifies!r} is not one of {sorted(CODES)}")
    required = raw.get("required", False)
    if not isinstance(required, bool) or (required and raw.get("default") is not None):
        raise fail(f"parameter {name}: 'required' must be true or false, without a default")
    default = raw.get("default")
    return Param(name=name, kind=kind, required=required,
                 default=None if default is None else str(default),
                 description=str(raw["description"]), identifies=identifies,
                 choices=tuple(str(c) for c in raw.get("choices") or ()))


def query_type(text: str) -> str:
    """The form of a SPARQL query: select, construct, ask or describe.

    >>> query_type("PREFIX a: <http://a#>\\n# SELECT in a comment\\nCONSTRUCT { ?s ?p ?o } {}")
    'construct'
    """
    body = re.sub(r"#[^\n]*", "", re.sub(r"<[^<>\s]*>", "<>", text))
    m = re.search(r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", body, re.IGNORECASE)
    if m is None:
        raise QueryError("not a SPARQL query (no SELECT, CONSTRUCT, ASK or DESCRIBE)")
    return m.group(1).lower()


def load_query(path: Path) -> NamedQuery:
    """Read and parse one ``.rq`` file (its directory is its topic)."""
    text = path.read_text(encoding="utf-8")
    meta = parse_header(text, str(path))
    return NamedQuery(
        id=path.stem, topic=path.parent.name, path=path, text=text,
        summary=meta["summary"].strip(), description=meta["description"].strip(),
        tags=tuple(meta["tags"]), params=tuple(meta["params"]),
        returns={str(k): str(v) for k, v in (meta.get("returns") or {}).items()},
        query_type=query_type(text),
        example={str(k): str(v) for k, v in (meta.get("example") or {}).items()},
    )


@lru_cache(maxsize=4)
def _load_all(directory: str) -> tuple[NamedQuery, ...]:
    queries = [load_query(p) for p in sorted(Path(directory).glob("*/*.rq"))]
    seen: dict[str, Path] = {}
    for q in queries:
        if q.id in seen:
            raise InputError(f"query id {q.id!r} is also {seen[q.id]}", path=str(q.path),
                             hint="a file stem must be unique across topics")
        seen[q.id] = q.path
    return tuple(sorted(queries, key=lambda q: (q.topic, q.id)))


def all_queries(directory: Path | None = None) -> list[NamedQuery]:
    """Every named query of the library (``directory`` defaults to the packaged queries)."""
    return list(_load_all(str(directory if directory is not None else queries_dir())))


def get_query(query_id: str, directory: Path | None = None) -> NamedQuery:
    """The named query ``query_id``; a :class:`QueryError` lists close names when unknown."""
    queries = {q.id: q for q in all_queries(directory)}
    if query_id in queries:
        return queries[query_id]
    close = difflib.get_close_matches(query_id, list(queries), n=5, cutoff=0.5)
    close += [q for q in sorted(queries) if query_id and query_id in q and q not in close][:5]
    hint = ("did you mean: " + ", ".join(close) + "?") if close else ""
    raise QueryError(f"unknown named query {query_id!r}",
                     hint=(hint + " " if hint else "") + "`maillage query --list` shows them all")


# ---------------------------------------------------------------------------- binding
def _fail(param: Param, value: str, expected: str) -> QueryError:
    shown = value if len(value) <= 60 else value[:57] + "…"
    return QueryError(f"parameter {param.name}: {shown!r} is not {expected}")


def bind_value(param: Param, value: str, settings: Settings | None = None) -> Term:
    """The RDF term for a user string, checked against the parameter's kind.

    >>> bind_value(Param("t", "code", identifies="territoire", description="d"), "93")
    <Literal value=93 datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#string>>
    >>> bind_value(Param("t", "code", identifies="territoire", description="d"), '93" }')
    Traceback (most recent call last):
    ...
    maillage.graph.errors.QueryError: parameter t: '93" }' is not a code INSEE d'une région, ...
    """
    text = value.strip()
    if param.choices:
        if text not in param.choices:
            raise _fail(param, text, "one of " + ", ".join(param.choices))
        value = text
    if param.kind == "iri":
        return _bind_iri(param, text, settings)
    if param.kind == "code":
        return _bind_code(param, text)
    if param.kind in ("integer", "year"):
        if not re.fullmatch(r"[+-]?\d{1,12}", text) or (param.kind == "year" and len(text) != 4):
            raise _fail(param, text, "a year (4 digits)" if param.kind == "year" else "an integer")
        return Literal(str(int(text)), datatype=XSD.integer)
    if param.kind == "date":
        try:
            day = _dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        except ValueError:
            day = None
        if day is None:
            raise _fail(param, text, "a date YYYY-MM-DD")
        return Literal(day.isoformat(), datatype=XSD.date)
    if len(value) > MAX_LITERAL or any(ord(c) < 32 for c in value):
        raise _fail(param, value, f"a text of at most {MAX_LITERAL} printable characters")
    return Literal(value)


def _bind_iri(param: Param, text: str, settings: Settings | None) -> NamedNode:
    """An absolute IRI; a path under the base (``id/…``, ``voc/…``) is resolved against it."""
    if settings is not None and re.match(r"^(id|voc|graph)/", text):
        text = settings.base_iri + text
    if not _IRI.match(text):
        raise _fail(param, text, 'an absolute IRI (no spaces nor <>"{}|\\^` characters)')
    try:
        return NamedNode(text)
    except ValueError as exc:  # what the pattern lets through: bad %-escapes, a second '#'…
        raise _fail(param, text, f"a well-formed IRI ({exc})") from None


def _bind_code(param: Param, text: str) -> Literal:
    assert param.identifies is not None
    pattern, description = CODES[param.identifies]
    if param.identifies == "naf":
        text = normalise_naf(text) or text
    elif param.identifies in ("departement", "commune", "territoire"):
        text = text.upper()
    if not re.fullmatch(pattern, text):
        raise _fail(param, text, f"a {description}")
    return Literal(text)


def bind_params(query: NamedQuery, raw: Mapping[str, Any],
                settings: Settings | None = None) -> dict[str, Term]:
    """Turn user strings into RDF terms by kind; reject unknown, missing or invalid values.

    Parameters not given take their declared default; others stay unbound (the query then
    ranges over every value). Empty strings count as not given.
    """
    values = {k.strip().lstrip("?$"): ("" if v is None else str(v)) for k, v in raw.items()}
    unknown = sorted(k for k in values if query.param(k) is None)
    if unknown:
        names = ", ".join(p.name for p in query.params) or "none"
        raise QueryError(f"query {query.id!r} has no parameter {unknown[0]!r}",
                         hint=f"its parameters: {names}")
    out: dict[str, Term] = {}
    for p in query.params:
        value = values.get(p.name, "")
        if value.strip() == "":
            if p.required:
                raise QueryError(f"query {query.id!r} needs the parameter {p.name!r}",
                                 hint=f"{p.name}: {p.description} (--param {p.name}=…)")
            if p.default is None:
                continue
            value = p.default
        out[p.name] = bind_value(p, value, settings)
    return out


def bind_text_params(text: str, raw: Mapping[str, str]) -> dict[str, Term]:
    """Bind parameters of an ad-hoc query as literals (``<…>`` values as IRIs).

    Each name must be a variable of the query's projection (pyoxigraph binds only those).

    >>> bind_text_params("SELECT ?x WHERE { ?s ?p ?x } ORDER BY ?x", {"x": "<http://ex/a>"})
    {'x': <NamedNode value=http://ex/a>}
    """
    out: dict[str, Term] = {}
    for key, value in raw.items():
        name = key.strip().lstrip("?$")
        param = Param(name, "literal", description="ad hoc")
        if not _VARNAME.match(name) or not re.search(rf"[?$]{name}\b", text):
            raise QueryError(f"the query has no variable ?{name}", hint="--param NAME=value binds ?NAME")
        if value.startswith("<") and value.endswith(">"):
            out[name] = _bind_iri(param, value[1:-1], None)
        else:
            out[name] = bind_value(param, value)
    _probe(text, out)
    return out


def _probe(text: str, bindings: Mapping[str, Term]) -> None:
    """Prepare the query on an empty store so a bad substitution is a QueryError, not a crash."""
    try:
        result = Store().query(text, substitutions={Variable(k): v for k, v in bindings.items()})
        if isinstance(result, QuerySolutions):
            list(result)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    except RuntimeError as exc:
        raise QueryError(str(exc), hint="a parameter must be a variable of the SELECT "
                         "projection (and of GROUP BY when aggregating)") from exc


# ---------------------------------------------------------------------------- running
def run_named_query(store: MaillageStore, query_id: str, params: Mapping[str, Any] | None = None,
                    settings: Settings | None = None
                    ) -> QuerySolutions | QueryBoolean | QueryTriples:
    """Run the named query ``query_id`` with user parameters (strings), safely bound."""
    query = get_query(query_id)
    bindings = bind_params(query, params or {}, settings)
    return store.query(query.text, substitutions=bindings or None)


_INTEGER_TYPES = {XSD[t].value for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "gYear")}
_FLOAT_TYPES = {XSD[t].value for t in ("decimal", "double", "float")}
_DATE_TYPES = {XSD[t].value for t in ("date", "dateTime")}


def _column_kind(terms: list[Any]) -> str:
    """int, float, bool, date or str: the type of a result column (str when mixed)."""
    kinds = set()
    for term in terms:
        if term is None:
            continue
        dt = term.datatype.value if isinstance(term, Literal) else None
        kinds.add("int" if dt in _INTEGER_TYPES else "float" if dt in _FLOAT_TYPES
                  else "bool" if dt == XSD.boolean.value else "date" if dt in _DATE_TYPES
                  else "str")
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else "str"


def solutions_dataframe(results: QuerySolutions) -> Any:
    """A pandas DataFrame of SELECT results with typed columns (Int64, float, boolean, dates)."""
    import pandas as pd

    names = [v.value for v in results.variables]
    rows = [[sol[n] for n in names] for sol in results]
    columns: dict[str, Any] = {}
    for i, name in enumerate(names):
        terms = [r[i] for r in rows]
        kind = _column_kind(terms)
        texts = [None if t is None else t.value for t in terms]
        if kind == "int":
            columns[name] = pd.array([None if t is None else int(t) for t in texts], dtype="Int64")
        elif kind == "float":
            columns[name] = pd.array([None if t is None else float(t) for t in texts],
                                     dtype="Float64")
        elif kind == "bool":
            columns[name] = pd.array([None if t is None else t in ("true", "1") for t in texts],
                                     dtype="boolean")
        elif kind == "date":
            columns[name] = pd.to_datetime(pd.Series(texts, dtype="object"), utc=False,
                                           format="ISO8601")
        else:
            columns[name] = pd.Series(texts, dtype="object")
    return pd.DataFrame(columns, columns=names)


def query_dataframe(store: MaillageStore, query_id: str, **params: Any) -> Any:
    """Run a named SELECT query and return a pandas DataFrame with typed columns."""
    results = run_named_query(store, query_id, {k: v for k, v in params.items() if v is not None})
    if not isinstance(results, QuerySolutions):
        raise QueryError(f"query {query_id!r} is not a SELECT query")
    return solutions_dataframe(results)


def list_queries_text(directory: Path | None = None) -> str:
    """The library as text for ``maillage query --list``: topic, id, summary, parameters."""
    out: list[str] = []
    queries = all_queries(directory)
    width = max((len(q.id) for q in queries), default=10)
    topic = None
    for q in queries:
        if q.topic != topic:
            topic = q.topic
            out.append(("" if not out else "\n") + f"[{topic}]")
        params = ", ".join(p.name + ("" if p.required else "?") for p in q.params)
        out.append(f"  {q.id:<{width}}  {q.summary}" + (f"  ({params})" if params else ""))
    out.append(f"\n{len(queries)} queries; parameters marked ? are optional. "
               "Run one with: maillage query NAME --param k=v")
    return "\n".join(out)


# ---------------------------------------------------------------------------- lint
def projection(text: str) -> list[str]:
    """The projected variables of a SELECT query, read from pyoxigraph (run on an empty store)."""
    result = Store().query(text)
    return [v.value for v in result.variables] if isinstance(result, QuerySolutions) else []


def _without_strings_and_comments(text: str) -> str:
    text = re.sub(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', text)
    return re.sub(r"<[^<>\s]*>", "<>", re.sub(r"#[^\n]*", "", text))


def lint_query(query: NamedQuery) -> list[str]:
    """The problems of a named query (empty when it is fine)."""
    problems: list[str] = []
    try:
        Store().query(query.text)
    except SyntaxError as exc:
        return [f"{query.source}: does not parse: {exc}"]
    body = _without_strings_and_comments(query.text)
    columns = projection(query.text) if query.query_type == "select" else []
    for p in query.params:
        if not re.search(rf"[?$]{p.name}\b", body):
            problems.append(f"{query.source}: parameter {p.name} is not a variable of the query")
        if query.query_type == "select" and p.name not in columns:
            problems.append(f"{query.source}: parameter {p.name} must be a projected variable "
                            "(pyoxigraph binds only those)")
    if query.query_type == "select":
        if columns != list(query.returns):
            problems.append(f"{query.source}: returns {list(query.returns)} but the query "
                            f"projects {columns}")
        tail = body[body.rfind("}"):]
        if not re.search(r"\bORDER\s+BY\b", tail, re.IGNORECASE):
            problems.append(f"{query.source}: a SELECT must end with ORDER BY")
    for m in re.finditer(r"PREFIX\s+mai:\s*<([^>]*)>", query.text, re.IGNORECASE):
        if m.group(1) != "https://w3id.org/maillage/def#":
            problems.append(f"{query.source}: mai: must be <https://w3id.org/maillage/def#>")
    code = "\n".join(ln for ln in query.text.splitlines() if not ln.lstrip().startswith("#"))
    for m in re.finditer(r"https://w3id\.org/maillage/(?!def#)\S*", code):
        problems.append(f"{query.source}: hard-coded instance IRI {m.group(0)}")
    for name in query.example:
        if query.param(name) is None:
            problems.append(f"{query.source}: example sets unknown parameter {name}")
    return problems


# ---------------------------------------------------------------------------- catalogue RDF
_EXECUTABLE = {"select": SH.SPARQLSelectExecutable, "construct": SH.SPARQLConstructExecutable,
               "ask": SH.SPARQLAskExecutable, "describe": SH.SPARQLExecutable}
_TEXT_PROPERTY = {"select": SH.select, "construct": SH.construct, "ask": SH.ask,
                  "describe": SCHEMA.text}
_DATATYPE = {"literal": XSD.string, "code": XSD.string, "integer": XSD.integer,
             "year": XSD.integer, "date": XSD.date}
AGPL = NamedNode("https://spdx.org/licenses/AGPL-3.0-or-later.html")


def query_iri(iris: Iris, query_id: str) -> NamedNode:
    """The IRI of a named query in the catalogue: ``{base}id/requete/{id}``."""
    return iris.id("requete", query_id)


def _param_triples(node: NamedNode, p: Param, order: int) -> list[tuple[Any, Any, Any]]:
    triples: list[tuple[Any, Any, Any]] = [
        (node, RDF.type, SH.Parameter),
        (node, SH.path, node),
        (node, SH.name, Literal(p.name)),
        (node, SH.description, Literal(p.description, language="fr")),
        (node, SH.optional, Literal(not p.required)),
        (node, SH.order, Literal(str(order), datatype=XSD.integer)),
        (node, DCTERMS.type, Literal(p.kind)),
    ]
    if p.kind == "iri":
        triples.append((node, SH.nodeKind, SH.IRI))
    else:
        triples.append((node, SH.datatype, _DATATYPE[p.kind]))
    if p.pattern:
        triples += [(node, SH.pattern, Literal(p.pattern)),
                    (node, RDFS.comment, Literal(CODES[p.identifies or ""][1], language="fr"))]
    if p.default is not None:
        triples.append((node, SH.defaultValue, bind_value(p, p.default)))
    if p.choices:
        head = _rdf_list(triples, [Literal(c) for c in p.choices])
        triples.append((node, SH["in"], head))
    return triples


def _rdf_list(triples: list[tuple[Any, Any, Any]], items: list[Any]) -> Any:
    head: Any = RDF.nil
    for item in reversed(items):
        cell = BlankNode()
        triples += [(cell, RDF.first, item), (cell, RDF.rest, head)]
        head = cell
    return head


def query_triples(iris: Iris, q: NamedQuery) -> list[tuple[Any, Any, Any]]:
    """The triples describing one named query (SHACL SPARQL executable + schema.org)."""
    node = query_iri(iris, q.id)
    triples: list[tuple[Any, Any, Any]] = [
        (node, RDF.type, SH.SPARQLExecutable),
        (node, RDF.type, _EXECUTABLE[q.query_type]),
        (node, DCTERMS.identifier, Literal(q.id)),
        (node, RDFS.label, Literal(q.summary, language="fr")),
        (node, RDFS.comment, Literal(q.description, language="fr")),
        (node, DCTERMS.subject, Literal(q.topic)),
        (node, _TEXT_PROPERTY[q.query_type], Literal(q.text)),
        (node, DCTERMS.source, Literal(q.source)),
    ]
    triples += [(node, SCHEMA.keywords, Literal(t)) for t in q.tags]
    for i, p in enumerate(q.params, 1):
        pnode = iris.id("requete", q.id, "parametre", p.name)
        triples.append((node, SH.parameter, pnode))
        triples += _param_triples(pnode, p, i)
    for i, (name, description) in enumerate(q.returns.items(), 1):
        cnode = iris.id("requete", q.id, "colonne", name)
        triples += [(node, SCHEMA.variableMeasured, cnode),
                    (cnode, RDF.type, SCHEMA.PropertyValue),
                    (cnode, SCHEMA.name, Literal(name)),
                    (cnode, SCHEMA.description, Literal(description, language="fr")),
                    (cnode, SH.order, Literal(str(i), datatype=XSD.integer))]
    return triples


def catalogue_quads(settings: Settings, directory: Path | None = None) -> list[Quad]:
    """The catalogue graph: one SHACL executable per named query, and the graph's description."""
    iris = Iris(settings.base_iri)
    graph = iris.graph("catalogue")
    quads = [Quad(s, p, o, graph) for q in all_queries(directory) for s, p, o in
             query_triples(iris, q)]
    return quads + describe_graph(
        iris, graph, title_fr="Catalogue des requêtes nommées",
        title_en="Catalogue of the named queries",
        sources=["queries/ (fichiers .rq du logiciel Maillage)"], licence=AGPL,
        description_fr=("Une ressource sh:SPARQLExecutable par requête nommée de la "
                        "bibliothèque : résumé, description, mots-clés, texte SPARQL, "
                        "paramètres (sh:parameter) et colonnes (schema:variableMeasured)."),
        description_en=("One sh:SPARQLExecutable per named query of the library: summary, "
                        "description, keywords, SPARQL text, parameters and columns."),
    )


def load_catalogue(writer: GraphWriter, settings: Settings) -> NamedNode:
    """Replace ``graph/catalogue`` with the catalogue of the named queries. Returns its IRI."""
    graph = Iris(settings.base_iri).graph("catalogue")
    writer.replace_graph(graph, catalogue_quads(settings))
    return graph
