"""Import a curated CSV list into its own named graph, driven by a declarative mapping.

``import_csv(store, settings, mapping, file)`` reads the file (encoding and delimiter detected
or given), accounts every row in an :class:`ImportReport` (loaded, filtered with the filter,
or quarantined with the reason), and replaces the graph ``{base}graph/import/{dataset id}`` in
one atomic write: a malformed file raises :class:`InputError` and leaves the store unchanged.
Re-importing the same file gives the same graph (IRIs come from stable keys).

IRIs: ``{base}id/structure/{siren}`` when a row has a valid SIREN (or a valid SIRET, whose
first 9 digits are the SIREN), else ``{base}id/acteur/{dataset}/{key}`` (mai:Actor) or
``{base}id/site/{dataset}/{key}`` (mai:Site). The key is the ``key`` column when the mapping
gives one and the row has a value; otherwise it is derived from the name and the postcode (or,
without a postcode, the INSEE code of the commune): ``slugify(name)-{postcode}``. Rows of one
file that would get the same derived key also get ``-slugify(address)``; a row that still
collides is quarantined as a duplicate. The mapping format is described in
:mod:`maillage.graph.ingest.mapping` and ``data/mappings/README.md``.

>>> curie("mai:serves").value
'https://w3id.org/maillage/def#serves'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from ..errors import InputError, StoreError
from ..namespaces import (
    DCTERMS,
    GEO,
    MAI,
    ORG,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    Iris,
    Namespace,
    sparql_prefixes,
)
from ..provenance import describe_graph
from ..settings import Settings
from ..store import GraphWriter, MaillageStore
from .common import siren_problem, siret_problem
from .csv_read import (
    Point,
    RowProblem,
    Table,
    derived_key,
    literal_for,
    parse_point,
    parse_wkt,
    read_table,
    url_key,
)
from .locate import CommuneTable, Located, Outside, Reader, fold, normalise_postcode
from .mapping import LinkSpec, Mapping, load_mapping
from .report import ImportReport

_CURIES: dict[str, Namespace] = {"mai": MAI, "schema": SCHEMA, "org": ORG}


class _Quarantine(Exception):
    """A row cannot be loaded (the message is the reason)."""


class _Filtered(Exception):
    """A row is out of scope (the message is the filter)."""


def curie(name: str) -> NamedNode:
    """The IRI of a ``mai:``/``schema:``/``org:`` CURIE of the mapping whitelists."""
    prefix, local = name.split(":", 1)
    return _CURIES[prefix][local]


# ================================================================================ lookups
class TargetIndex:
    """The actors/sites of an imported dataset, found by name, key or website."""

    def __init__(self, reader: Reader, iris: Iris, dataset: str) -> None:
        graph = iris.graph(f"import/{dataset}")
        q = sparql_prefixes("mai", "rdfs", "schema") + f"""
        SELECT ?s ?label ?url WHERE {{ GRAPH <{graph.value}> {{
          ?s a ?cls ; rdfs:label ?label . OPTIONAL {{ ?s schema:url ?url }}
          FILTER(?cls IN (mai:Actor, mai:Site)) }} }}"""
        self.dataset, self.iris = dataset, iris
        self.subjects: set[str] = set()
        self.by: dict[str, dict[str, set[str]]] = {"name": {}, "url": {}}
        for r in reader.query(q):
            s = r["s"].value
            self.subjects.add(s)
            self.by["name"].setdefault(fold(r["label"].value), set()).add(s)
            if r["url"] is not None:
                self.by["url"].setdefault(url_key(r["url"].value), set()).add(s)
        if not self.subjects:
            raise StoreError(f"dataset {dataset!r} is not in the store (graph {graph.value})",
                             hint=f"import it first: `maillage import csv … --mapping "
                                  f"{dataset}.toml` (`maillage import curated` does it in order)")

    def find(self, value: str, match: str) -> tuple[str | None, str]:
        """(IRI, '') or (None, why not)."""
        if match == "key":
            hits = {i.value for i in (self.iris.actor(self.dataset, value),
                                      self.iris.site(self.dataset, value))} & self.subjects
        else:
            hits = self.by[match].get(fold(value) if match == "name" else url_key(value), set())
        if len(hits) == 1:
            return next(iter(hits)), ""
        what = "several" if hits else "no"
        return None, f"{what} resource with {match} {value!r} in dataset {self.dataset}"


def filiere_domains(reader: Reader, iris: Iris, slugs: set[str]) -> dict[str, tuple[str, str]]:
    """slug → (filière IRI, domain IRI), read from the store's ``tee`` vocabulary."""
    if not slugs:
        return {}
    values = " ".join(f"<{iris.concept('tee', s).value}>" for s in sorted(slugs))
    q = sparql_prefixes("mai") + f"SELECT ?f ?d WHERE {{ VALUES ?f {{ {values} }} ?f mai:domain ?d }}"
    found = {r["f"].value: r["d"].value for r in reader.query(q)}
    out = {}
    for slug in sorted(slugs):
        iri = iris.concept("tee", slug).value
        if iri not in found:
            raise StoreError(f"filière {slug!r} ({iri}) has no mai:domain in the store",
                             hint="build the vocabularies first: `maillage init`")
        out[slug] = (iri, found[iri])
    return out


# ================================================================================ rows
@dataclass
class Candidate:
    """A row that passed every check, before its IRI is settled (derived keys)."""

    line: int
    row: dict[str, str]
    name: str
    subject: str | None  # fixed IRI (SIREN, key column, subject lookup) or None (derive)
    place: str  # postcode or INSEE code, for a derived key
    triples: list[tuple[str, NamedNode, object]]  # ("S" placeholder subject, p, o)


class RowBuilder:
    """Turns the rows of a table into quads, accounting for each in the report."""

    def __init__(self, reader: Reader, settings: Settings, m: Mapping,
                 report: ImportReport) -> None:
        self.m, self.report = m, report
        self.iris = Iris(settings.base_iri)
        self.graph = self.iris.graph(f"import/{m.dataset.id}")
        needs_communes = m.locate or any(lk.target == "commune" for lk in m.links)
        self.communes = CommuneTable.from_store(reader) if needs_communes else None
        if self.communes is not None and not self.communes.iris:
            raise StoreError("the store has no communes (territory graph)",
                             hint="build the reference graph first: `maillage init`")
        self.filieres = filiere_domains(reader, self.iris, self._filiere_slugs())
        datasets = {lk.dataset for lk in m.links if lk.dataset}
        if m.subject:
            datasets.add(m.subject.dataset)
        self.targets = {d: TargetIndex(reader, self.iris, d) for d in sorted(datasets)}

    def _filiere_slugs(self) -> set[str]:
        spec = self.m.values.get("filiere")
        if spec is None:
            return set()
        return {spec.value} if spec.value else set(spec.map.values())

    # ------------------------------------------------------------------ one row
    def candidate(self, line: int, row: dict[str, str]) -> Candidate | None:
        """Check one row: a Candidate, or None when it was filtered or quarantined."""
        row = {k: ("" if v in self.m.null_values.get(k, ()) else v) for k, v in row.items()}
        try:
            for f in self.m.filters:
                if f.rejects(row):
                    raise _Filtered(f.reason)
            if self.m.kind == "none":
                return self._link_row(line, row)
            return self._resource_row(line, row)
        except _Filtered as exc:
            self.report.filtered(str(exc))
        except (_Quarantine, RowProblem) as exc:
            self.report.quarantine(line, str(exc), self._describe(row))
        return None

    def _get(self, role: str, row: dict[str, str]) -> str:
        spec = self.m.columns.get(role)
        return spec.extract(row) if spec else ""

    def _describe(self, row: dict[str, str]) -> str:
        if "name" in self.m.columns:
            return self._get("name", row) or "; ".join(list(row.values())[:4])
        return "; ".join(list(row.values())[:4])

    def _resource_row(self, line: int, row: dict[str, str]) -> Candidate:
        try:
            point, bad_point = self._point(row), None
        except RowProblem as exc:  # reported after the IdF filter: out of scope comes first
            point, bad_point = None, exc
        triples: list[tuple[str, NamedNode, object]] = []
        place = self._locate(row, point, triples) if self.m.locate else ""
        if bad_point is not None:
            raise bad_point
        name = self._get("name", row)
        if not name:
            raise _Quarantine("missing name")
        subject = self._identifiers(row, triples)
        key = self._get("key", row)
        if subject is None and key:
            subject = self._minted(key)
        self._describe_resource(row, name, point, triples)
        triples += self._links(row)
        return Candidate(line, row, name, subject, place, triples)

    def _point(self, row: dict[str, str]) -> Point | None:
        if "wkt" in self.m.columns:
            return parse_wkt(self._get("wkt", row))
        if "lat" in self.m.columns:
            return parse_point(self._get("lat", row), self._get("lon", row))
        return None

    def _locate(self, row: dict[str, str], point: Point | None, triples: list) -> str:
        assert self.communes is not None
        insee, postcode = self._get("insee", row), self._get("postcode", row)
        cp, padded = normalise_postcode(postcode) if postcode else (None, False)
        if padded:
            self.report.warn("4-digit postcode: leading zero restored")
        outcome = self.communes.locate(insee=insee, postcode=postcode,
                                       city=self._get("city", row),
                                       point=(point.lon, point.lat) if point else None)
        if isinstance(outcome, Outside):
            raise _Filtered(outcome.reason)
        if not isinstance(outcome, Located):
            raise _Quarantine(outcome.reason)
        if outcome.warning:
            self.report.warn(outcome.warning)
        triples.append(("S", MAI.locatedIn, NamedNode(self.communes.iris[outcome.code])))
        if cp:
            triples.append(("S", SCHEMA.postalCode, Literal(cp)))
        return cp or outcome.code

    def _identifiers(self, row: dict[str, str], triples: list) -> str | None:
        siren = self._get("siren", row).replace(" ", "")
        siret = self._get("siret", row).replace(" ", "")
        if siren and (why := siren_problem(siren)):
            raise _Quarantine(f"bad SIREN {siren}: {why}")
        if siret and (why := siret_problem(siret, siren or None)):
            raise _Quarantine(f"bad SIRET {siret}: {why}")
        if siret:
            triples.append(("S", MAI.siret, Literal(siret)))
            if not siren and siren_problem(siret[:9]) is None:
                siren = siret[:9]
        if not siren:
            return None
        triples.append(("S", MAI.siren, Literal(siren)))
        return self.iris.structure(siren).value

    def _minted(self, key: str) -> str:
        kind = self.iris.site if self.m.kind == "site" else self.iris.actor
        return kind(self.m.dataset.id, key).value

    def _describe_resource(self, row: dict[str, str], name: str,
                           point: Point | None, triples: list) -> None:
        cls = MAI.Site if self.m.kind == "site" else MAI.Actor
        triples += [("S", RDF.type, cls), ("S", RDFS.label, Literal(name)),
                    ("S", DCTERMS.source, self.graph)]
        if point is not None:
            wkt = Literal(point.wkt, datatype=GEO.wktLiteral)
            triples.append(("S", GEO.hasGeometry, ("GEOM", GEO.asWKT, wkt)))
        if address := self._get("address", row):
            triples.append(("S", SCHEMA.streetAddress, Literal(address)))
        if website := self._website(self._get("website", row)):
            triples.append(("S", SCHEMA.url, website))
        for prop, spec in self.m.properties.items():
            if value := spec.extract(row):
                triples.append(("S", curie(prop), literal_for(prop, value)))
        triples += self._values(row)
        for text, lang in ((self.m.note_fr, "fr"), (self.m.note_en, "en")):
            if text:
                triples.append(("S", SKOS.editorialNote, Literal(text, language=lang)))

    def _website(self, url: str) -> NamedNode | None:
        if not url:
            return None
        if not re.match(r"^https?://", url, re.IGNORECASE):
            self.report.warn("website without http(s)://: https:// assumed")
            url = "https://" + url
        try:
            return NamedNode(url)
        except ValueError:
            self.report.warn("malformed website URL dropped")
            return None

    def _values(self, row: dict[str, str]) -> list[tuple[str, NamedNode, object]]:
        out: list[tuple[str, NamedNode, object]] = []
        for role, spec in self.m.values.items():
            raw = [spec.value] if spec.value else _split(row.get(spec.column or "", ""),
                                                         spec.separator)
            for value in raw:
                code = spec.map.get(value, value if not spec.map else None)
                if code is None:
                    self.report.warn(f"{role}: no code for value {value!r}")
                    continue
                out += self._value_triples(role, code)
        return out

    def _value_triples(self, role: str, code: str) -> list[tuple[str, NamedNode, object]]:
        if role == "filiere":
            if code not in self.filieres:
                self.report.warn(f"filiere: unknown filière {code!r}")
                return []
            f, d = self.filieres[code]
            return [("S", MAI.filiere, NamedNode(f)), ("S", MAI.domain, NamedNode(d))]
        if role == "ess_family":
            return [("S", MAI.essFamily, self.iris.concept("familles-ess", code))]
        return [("S", MAI.lvaoActorType, self.iris.concept("lvao-types-acteurs", code))]

    # ------------------------------------------------------------------ links
    def _links(self, row: dict[str, str]) -> list[tuple[str, NamedNode, object]]:
        out: list[tuple[str, NamedNode, object]] = []
        for lk in self.m.links:
            value = row.get(lk.column, "") if lk.column else ""
            if lk.when and value not in lk.when:
                continue
            target, why = self._target(lk, value)
            if target is None:
                if not why:
                    continue
                if lk.on_missing == "quarantine":
                    raise _Quarantine(f"{lk.property}: {why}")
                self.report.warn(f"{lk.property}: {why}")
                continue
            out.append(("S", curie(lk.property), NamedNode(target)))
            if lk.inverse:
                out.append((target, curie(lk.inverse), "S"))
        return out

    def _target(self, lk: LinkSpec, value: str) -> tuple[str | None, str]:
        if lk.target == "organisation":
            return self.iris.organisation(lk.organisation or "").value, ""
        if not value:
            return None, ""
        if lk.target == "commune":
            assert self.communes is not None
            code = value.zfill(5) if value.isdigit() else value
            iri = self.communes.iris.get(code)
            return (iri, "") if iri else (None, f"unknown INSEE commune code {code}")
        return self.targets[lk.dataset or ""].find(value, lk.match)

    def _link_row(self, line: int, row: dict[str, str]) -> Candidate:
        assert self.m.subject is not None
        spec = self.m.subject
        subject, why = self.targets[spec.dataset].find(row.get(spec.column, ""), spec.match)
        if subject is None:
            raise _Quarantine(f"subject: {why}" if row.get(spec.column) else "missing subject")
        triples = self._links(row)
        if not triples:
            raise _Quarantine("no link to add (the link columns are empty)")
        return Candidate(line, row, "", subject, "", triples)

    # ------------------------------------------------------------------ quads
    def quads(self, candidates: list[Candidate]) -> list[Quad]:
        """Settle the IRIs (derived keys, duplicates) and build the quads of loaded rows."""
        self._settle_keys(candidates)
        seen: dict[str, int] = {}
        out: list[Quad] = []
        for c in candidates:
            assert c.subject is not None
            if self.m.kind != "none" and c.subject in seen:
                self.report.quarantine(c.line, f"duplicate of line {seen[c.subject]} "
                                       f"(same IRI {c.subject})", c.name)
                continue
            seen.setdefault(c.subject, c.line)
            out += self._row_quads(NamedNode(c.subject), c.triples)
            self.report.loaded()
        return out

    def _settle_keys(self, candidates: list[Candidate]) -> None:
        bases: dict[str, int] = {}
        for c in candidates:
            if c.subject is None:
                bases[derived_key(c.name, c.place)] = bases.get(derived_key(c.name, c.place),
                                                                0) + 1
        for c in candidates:
            if c.subject is None:
                base = derived_key(c.name, c.place)
                address = self._get("address", c.row) if bases[base] > 1 else ""
                c.subject = self._minted(derived_key(c.name, c.place, address))

    def _row_quads(self, subject: NamedNode, triples: list) -> list[Quad]:
        out = []
        for s, p, o in triples:
            s_term = subject if s == "S" else NamedNode(s)
            if isinstance(o, tuple):  # a geometry node: a hash IRI of the actor, the same
                # on every engine (blank node labels do not survive the SPARQL protocols)
                node = NamedNode(subject.value + "#geometrie")
                out += [Quad(s_term, p, node, self.graph), Quad(node, o[1], o[2], self.graph)]
            else:
                out.append(Quad(s_term, p, subject if o == "S" else o, self.graph))
        return out


def _split(value: str, separator: str | None) -> list[str]:
    parts = value.split(separator) if separator else [value]
    return [p.strip() for p in parts if p.strip()]


# ================================================================================ import
def dataset_quads(m: Mapping, settings: Settings, report: ImportReport,
                  table: Table) -> list[Quad]:
    """The graph's self-description (sources, licence, rights) and declared organisations."""
    iris = Iris(settings.base_iri)
    graph = iris.graph(f"import/{m.dataset.id}")
    ds = m.dataset
    params = {"mapping": Path(m.path).name, "file": Path(table.path).name,
              "encoding": table.encoding, "delimiter": table.delimiter,
              **{f"rows {k}": str(v) for k, v in report.counts().items()}}
    quads = describe_graph(
        iris, graph, title_fr=ds.title_fr, title_en=ds.title_en, sources=list(ds.sources),
        licence=NamedNode(ds.licence), description_fr=ds.description_fr,
        description_en=ds.description_en, parameters=params)
    rights = []
    if ds.attribution:
        rights.append(Literal(ds.attribution))
    if ds.share_alike:
        rights += [
            Literal("Partage dans les mêmes conditions : toute œuvre dérivée de ces données doit "
                    "être diffusée sous la même licence.", language="fr"),
            Literal("Share-alike: any derivative of these data must be distributed under the "
                    "same licence.", language="en")]
    quads += [Quad(graph, DCTERMS.rights, r, graph) for r in rights]
    for org in m.organisations:
        o = iris.organisation(org.slug)
        quads += [Quad(o, RDF.type, ORG.Organization, graph),
                  Quad(o, RDFS.label, Literal(org.label), graph),
                  Quad(o, DCTERMS.source, graph, graph)]
        if org.url:
            quads.append(Quad(o, SCHEMA.url, NamedNode(org.url), graph))
    return quads


def build_import(reader: Reader, settings: Settings, m: Mapping, path: Path, *,
                 encoding: str | None = None, delimiter: str | None = None,
                 ) -> tuple[list[Quad], ImportReport]:
    """Read ``path`` with mapping ``m``: the quads of its graph and the row accounting."""
    table = read_table(path, m, encoding=encoding, delimiter=delimiter)
    report = ImportReport(source=path.name)
    builder = RowBuilder(reader, settings, m, report)
    report.read(len(table.rows))
    candidates = [c for line, row in table.rows if (c := builder.candidate(line, row))]
    quads = builder.quads(candidates)
    report.check_balanced()
    report.extra.update({"dataset": m.dataset.id, "graph": builder.graph.value,
                         "mapping": m.path, "encoding": table.encoding,
                         "delimiter": table.delimiter})
    return quads + dataset_quads(m, settings, report, table), report


def import_into(writer: GraphWriter, settings: Settings, m: Mapping, path: Path,
                **options: str | None) -> ImportReport:
    """Build the import reading through ``writer``, then replace its graph in ``writer``."""
    quads, report = build_import(writer, settings, m, path, **options)
    writer.replace_graph(Iris(settings.base_iri).graph(f"import/{m.dataset.id}"), quads)
    return report


def import_csv(store: MaillageStore, settings: Settings, mapping: Mapping | str | Path,
               file: str | Path | None = None, *, encoding: str | None = None,
               delimiter: str | None = None) -> ImportReport:
    """Import ``file`` (default: the mapping's shipped file) into its graph, atomically."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    path = Path(file) if file is not None else m.shipped_file()
    if path is None:
        raise InputError("no input file: give FILE, or file = \"…\" in [dataset]", path=m.path)
    with store.writing() as writer:
        return import_into(writer, settings, m, path, encoding=encoding, delimiter=delimiter)
