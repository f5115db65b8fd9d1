"""The institutional graph ``graph/institutions``: organisations (ADEME, CRESS…), partnerships,
the DLA support scheme and the 2020 call « L'ESS : accélérateur des transitions écologiques ».

The facts live in ``data/reference/institutions.toml``, each with its source, all taken from
``data/reference/convention_ademe_cress.md`` (public pages, one address per fact). This module
only turns that table into RDF: it adds nothing the table does not say.

>>> typed_date("2017-10").datatype.value
'http://www.w3.org/2001/XMLSchema#gYearMonth'
>>> typed_date("2018-06-27").value
'2018-06-27'
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from pyoxigraph import Literal, NamedNode, Quad

from .errors import InputError
from .namespaces import CC_BY_4, DCTERMS, MAI, ORG, RDF, RDFS, SKOS, XSD, Iris
from .provenance import describe_graph
from .resources import data_file
from .settings import Settings
from .store import GraphWriter

PROGRAMMES = ("frec", "plan-batiment-durable", "preb")
SECTIONS: dict[str, tuple[NamedNode, ...]] = {
    "organisation": (ORG.Organization,),
    "partenariat": (MAI.Partnership,),
    "dispositif": (MAI.SupportScheme,),
    "appel": (MAI.CallForProjects, MAI.SupportScheme),
}
#: ``class`` of an organisation: "Organization" when the sources say nothing of its legal form.
ORG_CLASSES = {"FormalOrganization": ORG.FormalOrganization,
               "OrganizationalUnit": ORG.OrganizationalUnit,
               "Organization": ORG.Organization}

#: Keys of an entry → (predicate, kind of value).
FIELDS: dict[str, tuple[NamedNode, str]] = {
    "label_fr": (RDFS.label, "fr"),
    "label_en": (RDFS.label, "en"),
    "acronym": (MAI.acronym, "plain"),
    "alt_labels_fr": (SKOS.altLabel, "fr*"),
    "description_fr": (DCTERMS.description, "fr"),
    "objectives_fr": (MAI.objective, "fr*"),
    "notes_fr": (SKOS.note, "note*"),
    "editorial_notes_fr": (SKOS.editorialNote, "fr*"),
    "sources": (DCTERMS.source, "source*"),
    "signature": (MAI.signatureDate, "date"),
    "launched": (DCTERMS.issued, "date"),
    "created": (DCTERMS.created, "date"),
    "application_count": (MAI.applicationCount, "int"),
    "parties": (MAI.party, "ref*"),
    "funders": (MAI.funder, "ref*"),
    "beneficiaries": (MAI.beneficiary, "ref*"),
    "organisers": (MAI.organiser, "ref*"),
    "operators": (MAI.operator, "ref*"),
    "creators": (DCTERMS.creator, "ref*"),
    "related": (DCTERMS.relation, "ref*"),
    "targets": (MAI.targets, "ref*"),
    "filieres": (MAI.filiere, "ref*"),
    "domains": (MAI.domain, "ref*"),
    "unit_of": (ORG.unitOf, "ref"),
    "spatial": (DCTERMS.spatial, "ref"),
}
STRUCTURAL = {"slug", "class", "theme"}


def typed_date(text: str) -> Literal:
    """A date literal at the precision given: ``2002`` (gYear), ``2017-10``, ``2018-06-27``."""
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}.get(len(text))
    if datatype is None:
        raise ValueError(f"not a year, year-month or date: {text!r}")
    return Literal(text, datatype=datatype)


def source_term(value: str) -> NamedNode | Literal:
    """An IRI for a web address, else a plain literal (``github:owner/repo/path``).

    >>> source_term("https://example.org/p").value, source_term("github:a/b/c.yml").value
    ('https://example.org/p', 'github:a/b/c.yml')
    """
    return NamedNode(value) if value.startswith(("http://", "https://")) else Literal(value)


def tee_slugs(path: Path | None = None) -> set[str]:
    """Slugs of the TEE domains and filières (``data/reference/filieres.csv``)."""
    with open(path or data_file("reference", "filieres.csv"), encoding="utf-8") as fh:
        return {row["slug"] for row in csv.DictReader(fh)}


class _Builder:
    """Turns the entries of the institutions table into triples, checking every reference."""

    def __init__(self, iris: Iris, table: dict[str, Any], path: Path, text: str) -> None:
        self.iris, self.table, self.path, self.text = iris, table, path, text
        self.sources: dict[str, str] = table.get("sources", {})
        self.used_sources: set[str] = set()
        self.tee = tee_slugs()
        self.slugs = {s: {e.get("slug") for e in table.get(s, [])} for s in SECTIONS}
        self.triples: list[tuple] = []

    def fail(self, slug: str, message: str) -> NoReturn:
        """Raise an InputError naming the table and the line of the entry ``slug``."""
        line = next((i for i, ln in enumerate(self.text.splitlines(), 1)
                     if ln.strip() == f'slug = "{slug}"'), None)
        raise InputError(f"entry {slug!r}: {message}", path=str(self.path), line=line)

    def ref(self, slug: str, value: str) -> NamedNode:
        kind, _, key = value.partition(":")
        resolvers: dict[str, Callable[[], NamedNode | None]] = {
            "organisation": lambda: self.iris.organisation(key),
            "partenariat": lambda: self.iris.partnership(key),
            "dispositif": lambda: self.iris.id("dispositif", key),
            "appel": lambda: self.iris.id("appel", key),
            "programme": lambda: self.iris.programme(key) if key in PROGRAMMES else None,
            "tee": lambda: self.iris.concept("tee", key) if key in self.tee else None,
            "region": lambda: self.iris.territory("region", key) if key == "11" else None,
        }
        if kind in SECTIONS and key not in self.slugs[kind]:
            self.fail(slug, f"reference {value!r} to an entry that does not exist")
        node = resolvers[kind]() if kind in resolvers else None
        if node is None:
            self.fail(slug, f"unknown reference {value!r} (expected one of {sorted(resolvers)}:…)")
        return node

    def source(self, slug: str, key: str) -> str:
        if key not in self.sources:
            self.fail(slug, f"unknown source {key!r}: add it to [sources]")
        self.used_sources.add(key)
        return self.sources[key]

    def note(self, slug: str, note: dict[str, Any]) -> Literal:
        keys = note.get("source")
        keys = [keys] if isinstance(keys, str) else keys
        if not note.get("text") or not keys:
            self.fail(slug, "a note needs a text and a source")
        urls = " ; ".join(self.source(slug, k) for k in keys)
        return Literal(f"{note['text']} (source : {urls})", language="fr")

    def values(self, slug: str, key: str, raw: Any) -> list[NamedNode | Literal]:
        kind = FIELDS[key][1]
        items = raw if kind.endswith("*") else [raw]
        if kind.endswith("*") and not isinstance(raw, list):
            self.fail(slug, f"{key} must be a list")
        make: dict[str, Callable[[Any], NamedNode | Literal]] = {
            "fr": lambda v: Literal(v, language="fr"),
            "en": lambda v: Literal(v, language="en"),
            "plain": Literal,
            "int": lambda v: Literal(str(int(v)), datatype=XSD.integer),
            "date": typed_date,
            "ref": lambda v: self.ref(slug, v),
            "note": lambda v: self.note(slug, v),
            "source": lambda v: source_term(self.source(slug, v)),
        }
        try:
            return [make[kind.rstrip("*")](v) for v in items]
        except (ValueError, TypeError) as exc:
            self.fail(slug, f"{key}: {exc}")

    def entry(self, node: NamedNode, entry: dict[str, Any], classes: tuple[NamedNode, ...]
              ) -> None:
        slug = entry["slug"]
        if not entry.get("sources"):
            self.fail(slug, "every entry needs its sources")
        self.triples += [(node, RDF.type, c) for c in classes]
        for key, raw in entry.items():
            if key in STRUCTURAL:
                continue
            if key not in FIELDS:
                self.fail(slug, f"unknown key {key!r}; expected one of {sorted(FIELDS)}")
            predicate = FIELDS[key][0]
            self.triples += [(node, predicate, v) for v in self.values(slug, key, raw)]

    def organisation(self, entry: dict[str, Any]) -> None:
        cls = ORG_CLASSES.get(entry.get("class", ""))
        if cls is None:
            self.fail(entry["slug"], f"class must be one of {sorted(ORG_CLASSES)}")
        classes = tuple(dict.fromkeys((ORG.Organization, cls)))
        self.entry(self.iris.organisation(entry["slug"]), entry, classes)

    def call(self, entry: dict[str, Any]) -> None:
        node = self.iris.id("appel", entry["slug"])
        self.entry(node, entry, SECTIONS["appel"])
        themes = entry.get("theme", [])
        for theme in themes:
            t = self.iris.id("appel", entry["slug"], "theme", theme["slug"])
            self.entry(t, theme, (MAI.CallTheme,))
            self.triples += [(node, MAI.theme, t), (t, DCTERMS.isPartOf, node)]
        counted = sum(t.get("application_count", 0) for t in themes)
        if themes and counted != entry.get("application_count"):
            self.fail(entry["slug"], f"the themes count {counted} applications, "
                      f"the call {entry.get('application_count')}")

    def check_slugs(self) -> None:
        for section in (*SECTIONS, "appel.theme"):
            name, _, sub = section.partition(".")
            entries = self.table.get(name, [])
            entries = [t for e in entries for t in e.get(sub, [])] if sub else entries
            for e in entries:
                if not isinstance(e.get("slug"), str) or not e["slug"]:
                    raise InputError(f"an entry of [[{section}]] has no slug: {e}",
                                     path=str(self.path))

    def build(self) -> list[tuple]:
        self.check_slugs()
        for entry in self.table.get("organisation", []):
            self.organisation(entry)
        for entry in self.table.get("partenariat", []):
            self.entry(self.iris.partnership(entry["slug"]), entry, SECTIONS["partenariat"])
        for entry in self.table.get("dispositif", []):
            self.entry(self.iris.id("dispositif", entry["slug"]), entry, SECTIONS["dispositif"])
        for entry in self.table.get("appel", []):
            self.call(entry)
        return self.triples


def read_institutions(path: Path | None = None) -> tuple[dict[str, Any], Path, str]:
    """The institutions table (TOML), its path and its text."""
    path = path or data_file("reference", "institutions.toml")
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), path, text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=str(path)) from exc


DESCRIPTION_FR = (
    "Faits institutionnels relevés dans des pages publiques (une adresse par fait, en "
    "dcterms:source de chaque ressource et à la fin de chaque note) : organisations (ADEME, "
    "ADEME Île-de-France, CRESS IDF, CNCRESS / ESS France, Emmaüs France, C2RA…), accords-cadres "
    "de 2017 et convention ADEME IDF – CRESS IDF du 27 juin 2018, dispositif local "
    "d'accompagnement (DLA), AMI « L'ESS : accélérateur des transitions écologiques » (2020). "
    "Les citations entre « » sont reprises mot pour mot de leurs sources (droit de courte "
    "citation) ; ce qui n'a pas été retrouvé est dit dans une skos:editorialNote. Les "
    "rattachements des thèmes de l'AMI aux filières TEE sont des propositions de Maillage."
)
DESCRIPTION_EN = (
    "Institutional facts found in public web pages (one address per fact, as dcterms:source of "
    "each resource and at the end of each note): organisations, the 2017 framework agreements, "
    "the ADEME IDF – CRESS IDF agreement of 27 June 2018, the DLA support scheme and the 2020 "
    "call for expressions of interest. Text within « » is quoted verbatim; what could not be "
    "found is said in a skos:editorialNote. Links from call themes to TEE filières are "
    "Maillage's proposals."
)


def institution_quads(iris: Iris, graph: NamedNode, path: Path | None = None) -> list[Quad]:
    """All the quads of the institutions graph, its self-description included."""
    table, path, text = read_institutions(path)
    builder = _Builder(iris, table, path, text)
    quads = [Quad(s, p, o, graph) for s, p, o in builder.build()]
    sources = [builder.sources[k] for k in sorted(builder.used_sources)]
    return quads + describe_graph(
        iris, graph, title_fr="Institutions : ADEME, CRESS, DLA, appels à projets",
        title_en="Institutions: ADEME, CRESS, DLA, calls for projects",
        sources=sources, licence=CC_BY_4,
        description_fr=DESCRIPTION_FR, description_en=DESCRIPTION_EN,
        parameters={"table": "data/reference/institutions.toml"},
    )


def load_institutions(writer: GraphWriter, settings: Settings, *,
                      path: Path | None = None) -> NamedNode:
    """Replace ``graph/institutions`` with the facts of ``institutions.toml``. Returns its IRI."""
    iris = Iris(settings.base_iri)
    graph = iris.graph("institutions")
    writer.replace_graph(graph, institution_quads(iris, graph, path))
    return graph
