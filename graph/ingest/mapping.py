"""Declarative mappings of curated CSV lists to the Maillage graph (one TOML file per dataset).

A mapping says which dataset a file is (its named graph, licence, attribution), how to read the
file, which column holds what, which rows to keep, and which links to make. The full reference
with examples is ``data/mappings/README.md``; in short::

    [dataset]                     # required
    id = "ateliers-velo"          # → graph {base}graph/import/{id}, IRIs …/acteur/{id}/{key}
    title_fr = "…"                # required, and title_en
    title_en = "…"
    description_fr = "…"          # optional, and description_en
    sources = ["https://…"]       # required: where the facts come from
    licence = "https://…"         # required: licence IRI of the source
    attribution = "© …"           # optional: attribution statement (→ dcterms:rights)
    share_alike = false           # optional: licence requires derivatives under the same terms
    file = "dir/file.csv"         # optional: the shipped file, relative to maillage.data/raw

    [read]                        # optional
    format = "csv"                # csv | django-fixture (a Django JSON fixture: one row a record)
    model = "app.model"           # django-fixture: keep the records of this model
    encoding = "auto"             # auto (UTF-8 with/without BOM, else cp1252/latin-1) or a codec
    delimiter = "auto"            # auto (csv.Sniffer) or one character
    header = "first-row"          # first-row | shifted | ignore | none
    columns = ["a", "b"]          # column names, with header = ignore | none
    skip_rows = 0                 # lines to skip before the header

    [resource]                    # optional
    class = "mai:Actor"           # mai:Actor | mai:Site | none (rows only add links to [subject])
    locate = true                 # resolve the commune (mai:locatedIn) and filter outside IdF
    note_fr = "…"                 # optional editorial note on every resource, and note_en

    [columns]                     # role = "column" or { column = "…", pattern = "regex(group)" }
    name = "…"                    # roles: name key siren siret insee postcode city lat lon wkt
                                  #        website address

    [values]                      # filiere, ess_family, lvao_actor_type:
    filiere = { value = "velo" }  #   a constant, or { column = "…", map = {…}, separator = "|" }

    [properties]                  # whitelisted literal properties: "mai:peakPowerKw" = "PeakPW"
    [null_values]                 # column = ["9999"]: values read as empty
    [[filters]]                   # column, keep = […] or drop = […], reason
    [[links]]                     # property, column, target (commune | organisation | actor |
                                  #   site), organisation, dataset, match (name | key | url),
                                  #   when = […], inverse, on_missing (quarantine | warn)
    [subject]                     # class = none: dataset, column, match
    [[organisations]]             # slug, label, url: organisations described in the graph

Unknown keys, missing required keys and wrong values raise :class:`InputError` naming the
mapping file.

>>> m = parse_mapping({"dataset": {"id": "x", "title_fr": "X", "title_en": "X",
...     "sources": ["https://example.org/"], "licence": "https://example.org/l"},
...     "columns": {"name": "Nom", "postcode": "CP"}}, "x.toml")
>>> m.dataset.id, m.kind, m.columns["name"].column, sorted(m.required_columns())
('x', 'actor', 'Nom', ['CP', 'Nom'])
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from ..errors import InputError
from ..resources import data_file

ROLES = (
    "name", "key", "siren", "siret", "insee", "postcode", "city", "lat", "lon", "wkt",
    "website", "address",
)
VALUE_ROLES = ("filiere", "ess_family", "lvao_actor_type")
ESS_FAMILIES = (
    "associations", "cooperatives", "mutuelles", "fondations", "societes-commerciales-ess",
    "a-verifier",
)
#: literal properties a mapping may fill, with the datatype of their values
LITERAL_PROPERTIES: dict[str, str] = {
    "mai:peakPowerKw": "decimal",
    "mai:commissioningDate": "date",
    "mai:creationDate": "date",
    "mai:acronym": "string",
    "mai:tradeName": "string",
    "mai:rna": "string",
    "schema:category": "text",
    "schema:description": "text",
    "schema:alternateName": "string",
    "schema:foundingDate": "date",
}
#: properties a link may use
LINK_PROPERTIES = ("mai:serves", "org:memberOf", "org:siteOf", "org:hasSite", "org:linkedTo")
LINK_TARGETS = ("commune", "organisation", "actor", "site")
MATCHES = ("name", "key", "url")
CLASSES = {"mai:Actor": "actor", "mai:Site": "site", "none": "none"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_SECTIONS = {
    "dataset", "read", "resource", "columns", "values", "properties", "null_values", "filters",
    "links", "subject", "organisations",
}
_DATASET_KEYS = {
    "id", "title_fr", "title_en", "description_fr", "description_en", "sources", "licence",
    "attribution", "share_alike", "file",
}
_READ_KEYS = {"format", "model", "encoding", "delimiter", "header", "columns", "skip_rows"}
_RESOURCE_KEYS = {"class", "locate", "note_fr", "note_en"}
_LINK_KEYS = {
    "property", "column", "target", "organisation", "dataset", "match", "when", "inverse",
    "on_missing",
}


@dataclass(frozen=True)
class ColumnSpec:
    """A column, with an optional regex whose first group is the value."""

    column: str
    pattern: re.Pattern[str] | None = None

    def extract(self, row: dict[str, str]) -> str:
        """The value of this column in ``row`` ('' when absent or when the pattern fails).

        >>> ColumnSpec("CITY", re.compile(r"(\\d{5})")).extract({"CITY": "Paris, 75010"})
        '75010'
        """
        value = row.get(self.column, "")
        if self.pattern is None or not value:
            return value
        m = self.pattern.search(value)
        return (m.group(1) if m.groups() else m.group(0)).strip() if m else ""


@dataclass(frozen=True)
class ValueSpec:
    """A constant value, or a column (with an optional value map and separator)."""

    value: str | None = None
    column: str | None = None
    map: dict[str, str] = field(default_factory=dict)
    separator: str | None = None


@dataclass(frozen=True)
class RowFilter:
    column: str
    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    reason: str = ""

    def rejects(self, row: dict[str, str]) -> bool:
        """True when the row is filtered out.

        >>> RowFilter("Pays", keep=("France",), reason="x").rejects({"Pays": "USA"})
        True
        """
        value = row.get(self.column, "")
        return (bool(self.keep) and value not in self.keep) or value in self.drop


@dataclass(frozen=True)
class LinkSpec:
    property: str
    column: str | None
    target: str
    organisation: str | None = None
    dataset: str | None = None
    match: str = "name"
    when: tuple[str, ...] = ()
    inverse: str | None = None
    on_missing: str = "quarantine"


@dataclass(frozen=True)
class SubjectSpec:
    dataset: str
    column: str
    match: str = "name"


@dataclass(frozen=True)
class Organisation:
    slug: str
    label: str
    url: str | None = None


@dataclass(frozen=True)
class DatasetMeta:
    id: str
    title_fr: str
    title_en: str
    sources: tuple[str, ...]
    licence: str
    description_fr: str | None = None
    description_en: str | None = None
    attribution: str | None = None
    share_alike: bool = False
    file: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    format: str = "csv"
    model: str | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    header: str = "first-row"
    columns: tuple[str, ...] = ()
    skip_rows: int = 0


@dataclass(frozen=True)
class Mapping:
    """A validated mapping (see the module docstring for the TOML form)."""

    path: str
    dataset: DatasetMeta
    read: ReadOptions = ReadOptions()
    kind: str = "actor"  # actor | site | none
    locate: bool = True
    note_fr: str | None = None
    note_en: str | None = None
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    values: dict[str, ValueSpec] = field(default_factory=dict)
    properties: dict[str, ColumnSpec] = field(default_factory=dict)
    null_values: dict[str, frozenset[str]] = field(default_factory=dict)
    filters: tuple[RowFilter, ...] = ()
    links: tuple[LinkSpec, ...] = ()
    subject: SubjectSpec | None = None
    organisations: tuple[Organisation, ...] = ()

    def required_columns(self) -> set[str]:
        """Every column the mapping reads: the file must have them all."""
        cols = {c.column for c in self.columns.values()}
        cols |= {c.column for c in self.properties.values()}
        cols |= {v.column for v in self.values.values() if v.column}
        cols |= {f.column for f in self.filters}
        cols |= {lk.column for lk in self.links if lk.column}
        if self.subject:
            cols.add(self.subject.column)
        return cols

    def shipped_file(self) -> Path | None:
        """The shipped data file this mapping is for (``[dataset] file``), if any."""
        return data_file("raw", *self.dataset.file.split("/")) if self.dataset.file else None


# ---------------------------------------------------------------------------------- loading
def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping TOML file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the mapping: {exc.strerror}", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML: {exc}", path=str(path)) from exc
    return parse_mapping(raw, str(path))


def parse_mapping(raw: dict[str, Any], path: str) -> Mapping:
    """Validate a parsed TOML mapping; ``path`` names it in error messages."""
    v = _Validator(path)
    v.keys(raw, _SECTIONS, "the mapping")
    dataset = _dataset(v, v.table(raw, "dataset", required=True))
    resource = v.table(raw, "resource")
    v.keys(resource, _RESOURCE_KEYS, "[resource]")
    cls = resource.get("class", "mai:Actor")
    if cls not in CLASSES:
        v.fail(f"[resource] class must be one of {', '.join(CLASSES)}, not {cls!r}")
    kind = CLASSES[cls]
    mapping = Mapping(
        path=path,
        dataset=dataset,
        read=_read_options(v, v.table(raw, "read")),
        kind=kind,
        locate=bool(v.typed(resource, "locate", bool, True)) and kind != "none",
        note_fr=v.typed(resource, "note_fr", str, None),
        note_en=v.typed(resource, "note_en", str, None),
        columns=_columns(v, v.table(raw, "columns"), ROLES, "[columns]"),
        values=_values(v, v.table(raw, "values")),
        properties=_columns(v, v.table(raw, "properties"), tuple(LITERAL_PROPERTIES),
                            "[properties]"),
        null_values=_null_values(v, v.table(raw, "null_values")),
        filters=tuple(_filter(v, f) for f in v.array(raw, "filters")),
        links=tuple(_link(v, lk) for lk in v.array(raw, "links")),
        subject=_subject(v, raw.get("subject")),
        organisations=tuple(_organisation(v, o) for o in v.array(raw, "organisations")),
    )
    _check_consistency(v, mapping)
    return mapping


class _Validator:
    """Small helpers raising InputError that name the mapping file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str) -> NoReturn:
        raise InputError(message, path=self.path, hint="see data/mappings/README.md")

    def keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
                      f"allowed: {', '.join(sorted(allowed))}")

    def table(self, raw: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
        value = raw.get(name)
        if value is None:
            if required:
                self.fail(f"missing [{name}] table")
            return {}
        if not isinstance(value, dict):
            self.fail(f"[{name}] must be a table")
        return value

    def array(self, raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            self.fail(f"{name} must be an array of tables ([[{name}]])")
        return value

    def typed(self, table: dict[str, Any], key: str, kind: type, default: Any,
              *, required: bool = False, where: str = "") -> Any:
        if key not in table:
            if required:
                self.fail(f"missing key {key!r}{' in ' + where if where else ''}")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(f"{where + ' ' if where else ''}{key} must be a {kind.__name__}, "
                      f"not {value!r}")
        return value

    def strings(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.fail(f"{where} {key} must be a list of strings")
        return tuple(value)


def _dataset(v: _Validator, t: dict[str, Any]) -> DatasetMeta:
    v.keys(t, _DATASET_KEYS, "[dataset]")
    req = {"required": True, "where": "[dataset]"}
    ds_id = v.typed(t, "id", str, None, **req)
    if not _SLUG.match(ds_id):
        v.fail(f"[dataset] id {ds_id!r} must be a slug (a-z, 0-9, '-')")
    licence = v.typed(t, "licence", str, None, **req)
    if not licence.startswith(("http://", "https://")):
        v.fail(f"[dataset] licence must be an IRI, not {licence!r}")
    sources = v.strings(t, "sources", "[dataset]")
    if not sources:
        v.fail("[dataset] sources must name at least one source")
    return DatasetMeta(
        id=ds_id,
        title_fr=v.typed(t, "title_fr", str, None, **req),
        title_en=v.typed(t, "title_en", str, None, **req),
        sources=sources,
        licence=licence,
        description_fr=v.typed(t, "description_fr", str, None),
        description_en=v.typed(t, "description_en", str, None),
        attribution=v.typed(t, "attribution", str, None),
        share_alike=v.typed(t, "share_alike", bool, False),
        file=v.typed(t, "file", str, None),
    )


def _read_options(v: _Validator, t: dict[str, Any]) -> ReadOptions:
    v.keys(t, _READ_KEYS, "[read]")
    opts = ReadOptions(
        format=v.typed(t, "format", str, "csv"),
        model=v.typed(t, "model", str, None),
        encoding=v.typed(t, "encoding", str, "auto"),
        delimiter=v.typed(t, "delimiter", str, "auto"),
        header=v.typed(t, "header", str, "first-row"),
        columns=v.strings(t, "columns", "[read]"),
        skip_rows=v.typed(t, "skip_rows", int, 0),
    )
    if opts.format not in ("csv", "django-fixture"):
        v.fail(f"[read] format must be csv or django-fixture, not {opts.format!r}")
    if opts.format == "django-fixture" and not opts.model:
        v.fail("[read] format = django-fixture needs model = \"app.model\"")
    if opts.header not in ("first-row", "shifted", "ignore", "none"):
        v.fail(f"[read] header must be first-row, shifted, ignore or none, not {opts.header!r}")
    if opts.header in ("ignore", "none") and not opts.columns:
        v.fail(f"[read] header = {opts.header} needs columns = [...]")
    if opts.columns and opts.header not in ("ignore", "none"):
        v.fail("[read] columns is only used with header = ignore or none")
    if opts.delimiter != "auto" and len(opts.delimiter) != 1:
        v.fail(f"[read] delimiter must be one character or auto, not {opts.delimiter!r}")
    if opts.skip_rows < 0:
        v.fail("[read] skip_rows must be >= 0")
    return opts


def _column_spec(v: _Validator, value: Any, where: str) -> ColumnSpec:
    if isinstance(value, str):
        return ColumnSpec(value)
    if isinstance(value, dict):
        v.keys(value, {"column", "pattern"}, where)
        column = v.typed(value, "column", str, None, required=True, where=where)
        pattern = v.typed(value, "pattern", str, None)
        try:
            return ColumnSpec(column, re.compile(pattern) if pattern else None)
        except re.error as exc:
            v.fail(f"{where} pattern {pattern!r} is not a valid regex: {exc}")
    v.fail(f"{where} must be a column name or {{ column = …, pattern = … }}")


def _columns(v: _Validator, t: dict[str, Any], allowed: tuple[str, ...],
             where: str) -> dict[str, ColumnSpec]:
    v.keys(t, set(allowed), where)
    return {k: _column_spec(v, val, f"{where} {k}") for k, val in t.items()}


def _values(v: _Validator, t: dict[str, Any]) -> dict[str, ValueSpec]:
    v.keys(t, set(VALUE_ROLES), "[values]")
    out = {}
    for role, spec in t.items():
        where = f"[values] {role}"
        if not isinstance(spec, dict):
            v.fail(f"{where} must be {{ value = … }} or {{ column = …, map = {{…}} }}")
        v.keys(spec, {"value", "column", "map", "separator"}, where)
        value = v.typed(spec, "value", str, None)
        column = v.typed(spec, "column", str, None)
        if (value is None) == (column is None):
            v.fail(f"{where} needs exactly one of value or column")
        vmap = v.typed(spec, "map", dict, {})
        if not all(isinstance(x, str) for x in vmap.values()):
            v.fail(f"{where} map values must be strings")
        out[role] = ValueSpec(value, column, dict(vmap), v.typed(spec, "separator", str, None))
        for code in ([value] if value else []) + list(vmap.values()):
            _check_code(v, role, code, where)
    return out


def _check_code(v: _Validator, role: str, code: str, where: str) -> None:
    known = {"filiere": filiere_slugs, "ess_family": lambda: ESS_FAMILIES,
             "lvao_actor_type": lvao_actor_types}[role]()
    if code not in known:
        v.fail(f"{where}: {code!r} is not a known code; known: {', '.join(sorted(known))}")


@lru_cache(maxsize=1)
def filiere_slugs() -> tuple[str, ...]:
    """Slugs of the filières and pillars of ``data/reference/filieres.csv`` (not the domains)."""
    with data_file("reference", "filieres.csv").open(encoding="utf-8") as fh:
        return tuple(r["slug"] for r in csv.DictReader(fh) if r["nature"] != "domaine")


@lru_cache(maxsize=1)
def lvao_actor_types() -> tuple[str, ...]:
    """Codes of the LVAO actor types (``data/raw/lvao-qfdmo-fixtures/acteur_types.json``)."""
    import json

    path = data_file("raw", "lvao-qfdmo-fixtures", "acteur_types.json")
    return tuple(r["fields"]["code"] for r in json.loads(path.read_text(encoding="utf-8")))


def _null_values(v: _Validator, t: dict[str, Any]) -> dict[str, frozenset[str]]:
    return {col: frozenset(v.strings(t, col, "[null_values]")) for col in t}


def _filter(v: _Validator, t: dict[str, Any]) -> RowFilter:
    where = "[[filters]]"
    v.keys(t, {"column", "keep", "drop", "reason"}, where)
    f = RowFilter(
        column=v.typed(t, "column", str, None, required=True, where=where),
        keep=v.strings(t, "keep", where),
        drop=v.strings(t, "drop", where),
        reason=v.typed(t, "reason", str, None, required=True, where=where),
    )
    if not f.keep and not f.drop:
        v.fail(f"{where} on {f.column!r} needs keep = […] or drop = […]")
    return f


def _link(v: _Validator, t: dict[str, Any]) -> LinkSpec:
    where = "[[links]]"
    v.keys(t, _LINK_KEYS, where)
    lk = LinkSpec(
        property=v.typed(t, "property", str, None, required=True, where=where),
        column=v.typed(t, "column", str, None),
        target=v.typed(t, "target", str, None, required=True, where=where),
        organisation=v.typed(t, "organisation", str, None),
        dataset=v.typed(t, "dataset", str, None),
        match=v.typed(t, "match", str, "name"),
        when=v.strings(t, "when", where),
        inverse=v.typed(t, "inverse", str, None),
        on_missing=v.typed(t, "on_missing", str, "quarantine"),
    )
    for prop in (lk.property, lk.inverse):
        if prop is not None and prop not in LINK_PROPERTIES:
            v.fail(f"{where} property {prop!r} is not allowed; use one of "
                   + ", ".join(LINK_PROPERTIES))
    if lk.target not in LINK_TARGETS:
        v.fail(f"{where} target must be one of {', '.join(LINK_TARGETS)}, not {lk.target!r}")
    if lk.match not in MATCHES:
        v.fail(f"{where} match must be one of {', '.join(MATCHES)}, not {lk.match!r}")
    if lk.on_missing not in ("quarantine", "warn"):
        v.fail(f"{where} on_missing must be quarantine or warn, not {lk.on_missing!r}")
    if lk.target == "organisation" and not lk.organisation:
        v.fail(f"{where} target = organisation needs organisation = \"slug\"")
    if lk.target in ("actor", "site") and not lk.dataset:
        v.fail(f"{where} target = {lk.target} needs dataset = \"id\" (where to look)")
    if lk.target != "organisation" and not lk.column:
        v.fail(f"{where} target = {lk.target} needs column = \"…\"")
    return lk


def _subject(v: _Validator, t: Any) -> SubjectSpec | None:
    if t is None:
        return None
    where = "[subject]"
    if not isinstance(t, dict):
        v.fail(f"{where} must be a table")
    v.keys(t, {"dataset", "column", "match"}, where)
    spec = SubjectSpec(
        dataset=v.typed(t, "dataset", str, None, required=True, where=where),
        column=v.typed(t, "column", str, None, required=True, where=where),
        match=v.typed(t, "match", str, "name"),
    )
    if spec.match not in MATCHES:
        v.fail(f"{where} match must be one of {', '.join(MATCHES)}, not {spec.match!r}")
    return spec


def _organisation(v: _Validator, t: dict[str, Any]) -> Organisation:
    where = "[[organisations]]"
    v.keys(t, {"slug", "label", "url"}, where)
    org = Organisation(
        slug=v.typed(t, "slug", str, None, required=True, where=where),
        label=v.typed(t, "label", str, None, required=True, where=where),
        url=v.typed(t, "url", str, None),
    )
    if not _SLUG.match(org.slug):
        v.fail(f"{where} slug {org.slug!r} must be a slug (a-z, 0-9, '-')")
    return org


def _check_consistency(v: _Validator, m: Mapping) -> None:
    cols = m.columns
    if m.kind == "none":
        if m.subject is None:
            v.fail("[resource] class = none needs a [subject] table (whose links these rows add)")
        if cols or m.values or m.properties:
            v.fail("[resource] class = none only adds links: remove [columns], [values] and "
                   "[properties]")
        if not m.links:
            v.fail("[resource] class = none needs at least one [[links]]")
    else:
        if "name" not in cols:
            v.fail("[columns] name is required")
        if m.subject is not None:
            v.fail("[subject] is only used with [resource] class = none")
    if m.kind == "site" and {"siren", "siret"} & set(cols):
        v.fail("[columns] siren and siret identify actors: not used with class = mai:Site")
    if ("lat" in cols) != ("lon" in cols):
        v.fail("[columns] lat and lon go together")
    if "wkt" in cols and "lat" in cols:
        v.fail("[columns] give either wkt or lat/lon, not both")
    slugs = {o.slug for o in m.organisations}
    for lk in m.links:
        if lk.target == "organisation" and lk.organisation not in slugs:
            v.fail(f"[[links]] organisation {lk.organisation!r} is not declared in "
                   "[[organisations]]")
