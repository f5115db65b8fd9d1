"""SKOS vocabularies: generated from the tables of ``data/reference/``, loaded under the base IRI.

``build_vocabularies(out_dir)`` writes one Turtle file per vocabulary into ``out_dir``; the
committed copies live in ``ontology/vocabularies/`` and ``python -m maillage.graph.vocabularies``
rewrites them. Instance IRIs are written *relative* to the base IRI (``<voc/naf/38.32Z>``, no
``@base``): ``load_vocabularies`` loads the files with ``base_iri=settings.base_iri``, so one
setting moves every concept. ``mai:`` terms and external IRIs are absolute.

Choices worth knowing:

* NAF: one ``skos:notation "38.32Z"`` (the dotted form SIRENE uses, plain string); the undotted
  form ``3832Z`` is a ``skos:hiddenLabel`` (found by text search, never displayed).
* Concepts carry both ``skos:Concept`` and their ``mai:`` class, so queries need no inference.
* Editorial links (NAF → filière, complementarities, measure → filière, LVAO → filière) go to
  the separate graph ``graph/naf-filieres``; the official or sourced schemes to
  ``graph/vocabulaires``.

>>> [t.value for t in source_terms("https://a.org/x ; Code civil (art. 1 ; al. 2)")]
['https://a.org/x', 'Code civil (art. 1 ; al. 2)']
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat

from .errors import InputError, StoreError
from .namespaces import (
    CC_BY_4,
    DCTERMS,
    LICENCE_OUVERTE,
    MAI,
    MIT,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    XSD,
    Iris,
)
from .provenance import describe_graph
from .resources import data_file, ontology_file
from .settings import Settings
from .store import GraphWriter

Term = NamedNode | Literal
Triple = tuple[NamedNode, NamedNode, Term]

#: Stands for the base IRI while generating; written as relative IRIs in the Turtle files.
PLACEHOLDER_BASE = "http://base.invalid/"
_IRIS = Iris(PLACEHOLDER_BASE)
EDITORIAL = "proposition éditoriale Maillage"
LVAO_REPO = (
    "https://github.com/incubateur-ademe/quefairedemesobjets/blob/"
    "85ea72916b1187dd15756e09b0e31e34d8295cf0/webapp/qfdmo/fixtures/"
)
FREC_MEASURE_COUNT = 50


# ----------------------------------------------------------------------------- small helpers
def fr(text: str | None) -> Literal | None:
    """A French literal, or None for an empty text."""
    return Literal(text, language="fr") if text else None


def en(text: str | None) -> Literal | None:
    """An English literal, or None for an empty text."""
    return Literal(text, language="en") if text else None


class Bag:
    """Collects triples; ``add`` ignores None objects (an empty cell gives no triple)."""

    def __init__(self) -> None:
        self.triples: list[Triple] = []

    def add(self, s: NamedNode, p: NamedNode, *objects: Term | None) -> None:
        self.triples += [(s, p, o) for o in objects if o is not None]

    def scheme(
        self,
        scheme: NamedNode,
        title_fr: str,
        title_en: str,
        licence: NamedNode,
        sources: Iterable[Term],
        extra_types: Sequence[NamedNode] = (),
    ) -> None:
        """Type, titles, labels, licence and sources of a concept scheme."""
        self.add(scheme, RDF.type, SKOS.ConceptScheme, *extra_types)
        self.add(scheme, DCTERMS.title, fr(title_fr), en(title_en))
        self.add(scheme, SKOS.prefLabel, fr(title_fr), en(title_en))
        self.add(scheme, DCTERMS.license, licence)
        self.add(scheme, DCTERMS.source, *_unique(sources))

    def concept(
        self,
        iri: NamedNode,
        scheme: NamedNode,
        cls: NamedNode | None,
        notation: str,
        label_fr: str,
        label_en: str | None = None,
        top: bool = False,
    ) -> None:
        """The common triples of a concept (``top``: also a top concept of ``scheme``)."""
        self.add(iri, RDF.type, SKOS.Concept, cls)
        self.add(iri, SKOS.inScheme, scheme)
        self.add(iri, SKOS.notation, Literal(notation))
        self.add(iri, SKOS.prefLabel, fr(label_fr), en(label_en))
        if top:
            self.add(iri, SKOS.topConceptOf, scheme)
            self.add(scheme, SKOS.hasTopConcept, iri)


def _unique(terms: Iterable[Term]) -> list[Term]:
    seen: dict[Term, None] = {}
    for t in terms:
        seen.setdefault(t, None)
    return list(seen)


def _split_top_level(text: str, sep: str = " ; ") -> list[str]:
    """Split on ``sep`` outside parentheses.

    >>> _split_top_level("a (b ; c) ; d")
    ['a (b ; c)', 'd']
    """
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += (ch == "(") - (ch == ")")
        if depth <= 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_GITHUB = re.compile(r"^github:([\w.-]+)/([\w.-]+)/(\S+?)(?:@([0-9a-f]{7,40}))?$")


def _part_iri(part: str) -> NamedNode | None:
    """The IRI a source part starts with (URL, or ``github:owner/repo/path@commit``)."""
    token = part.split()[0].rstrip(".,;")
    m = _GITHUB.match(token)
    if m:
        owner, repo, path, commit = m.groups()
        token = f"https://github.com/{owner}/{repo}/blob/{commit or 'HEAD'}/{path}"
    elif not token.startswith(("http://", "https://")):
        return None
    try:
        return NamedNode(token)
    except ValueError:
        return None


def source_terms(text: str) -> list[Term]:
    """The ``dcterms:source`` terms of a table's source cell (parts separated by `` ; ``).

    A part that is a URL or a ``github:`` reference gives an IRI; a part with more words keeps
    its whole text as a French literal too, so no citation detail is lost.

    >>> [t.value for t in source_terms("github:o/r/p/f.csv@abc1234 (copie)")]
    ['https://github.com/o/r/blob/abc1234/p/f.csv', 'github:o/r/p/f.csv@abc1234 (copie)']
    """
    terms: list[Term] = []
    for part in _split_top_level(text):
        iri = _part_iri(part)
        if iri is not None:
            terms.append(iri)
        if iri is None or " " in part:
            terms.append(Literal(part, language="fr"))
    return terms


def read_table(name: str, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of ``data/reference/{name}`` (stripped cells, ``_line`` = 1-based file line)."""
    path = data_file("reference", name)
    try:
        fh = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"cannot read the table: {exc.strerror}", path=str(path)) from exc
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing column(s): {', '.join(missing)}", path=str(path), line=1)
        rows = []
        for row in reader:
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            clean["_line"] = str(reader.line_num)
            rows.append(clean)
    return rows


def _bad(name: str, row: dict[str, str], message: str) -> InputError:
    return InputError(message, path=str(data_file("reference", name)), line=int(row["_line"]))


# ----------------------------------------------------------------------------- TEE
def _domain_definitions() -> dict[str, dict[str, str]]:
    """Rows of ``domaines_tee.csv`` keyed by the label ``filieres.csv`` refers to."""
    rows = read_table(
        "domaines_tee.csv", ["domaine", "filiere", "definition", "remarque", "source"]
    )
    return {(r["domaine"] if r["filiere"] == "(domaine)" else r["filiere"]): r for r in rows}


def _filieres() -> list[dict[str, str]]:
    return read_table("filieres.csv", ["slug", "domaine", "label_fr", "label_en", "definition_de"])


def tee_triples() -> list[Triple]:
    """Scheme ``tee``: the 4 domains (top concepts) and the filières, with sourced definitions."""
    bag, scheme = Bag(), _IRIS.scheme("tee")
    rows, defs = _filieres(), _domain_definitions()
    domains = {r["slug"] for r in rows if not r["domaine"]}
    sources: list[Term] = [fr("data/reference/filieres.csv (liste éditoriale Maillage)")]  # type: ignore[list-item]
    for row in rows:
        iri, parent = _IRIS.concept("tee", row["slug"]), row["domaine"]
        if parent and parent not in domains:
            raise _bad("filieres.csv", row, f"unknown domain {parent!r} (expected a domain slug)")
        cls = MAI.Filiere if parent else MAI.Domain
        bag.concept(iri, scheme, cls, row["slug"], row["label_fr"], row["label_en"], top=not parent)
        if parent:
            bag.add(iri, SKOS.broader, _IRIS.concept("tee", parent))
            bag.add(_IRIS.concept("tee", parent), SKOS.narrower, iri)
            bag.add(iri, MAI.domain, _IRIS.concept("tee", parent))
        sources += _definition(bag, iri, row, defs)
    bag.scheme(
        scheme,
        "Domaines et filières de la transition écologique et énergétique (TEE)",
        "Domains and sectors of the ecological and energy transition (TEE)",
        CC_BY_4,
        sources,
    )
    bag.add(
        scheme,
        SKOS.editorialNote,
        fr(
            "Liste éditoriale Maillage : les quatre domaines sont ceux du cahier des charges du projet ;"
            " les définitions sont citées avec leur source, une filière sans définition sourcée le dit."
        ),
        en(
            "Maillage editorial list: the four domains come from the project brief; definitions"
            " are quoted with their source, and a sector without a sourced definition says so."
        ),
    )
    return bag.triples


def _definition(
    bag: Bag, iri: NamedNode, row: dict[str, str], defs: dict[str, dict[str, str]]
) -> list[Term]:
    """Add the sourced definition(s) of a TEE concept; return their sources."""
    names = _split_top_level(row["definition_de"]) if row["definition_de"] else []
    found, sources = False, []
    for name in names:
        if name not in defs:
            raise _bad(
                "filieres.csv", row, f"definition_de {name!r} is not a row of domaines_tee.csv"
            )
        d = defs[name]
        bag.add(iri, SKOS.scopeNote, fr(d["remarque"]))
        if not d["definition"]:
            continue
        found = True
        terms = source_terms(d["source"])
        bag.add(iri, SKOS.definition, fr(d["definition"]))
        bag.add(iri, DCTERMS.source, *terms)
        sources += terms
        if name != row["label_fr"]:
            bag.add(
                iri,
                SKOS.editorialNote,
                fr(
                    f"Définition reprise de l'entrée « {name} » de la table des domaines TEE,"
                    " qui couvre cette filière."
                ),
            )
    if not found:
        bag.add(
            iri,
            SKOS.editorialNote,
            fr("Aucune définition sourcée trouvée pour ce concept dans les sources consultées."),
            en("No sourced definition was found for this concept in the sources consulted."),
        )
    return sources


# ----------------------------------------------------------------------------- NAF
_NAF_CODE = re.compile(r"^\d{2}\.\d{2}[A-Z]$")


def naf_triples() -> list[Triple]:
    """Scheme ``naf``: the 732 NAF rév. 2 sub-classes (flat, all top concepts)."""
    bag, scheme = Bag(), _IRIS.scheme("naf")
    sources: list[Term] = []
    for row in read_table(
        "naf_rev2.csv", ["naf_code", "naf_code_sans_point", "naf_libelle", "source"]
    ):
        if not _NAF_CODE.match(row["naf_code"]):
            raise _bad("naf_rev2.csv", row, f"bad NAF code {row['naf_code']!r} (expected 38.32Z)")
        iri, terms = _IRIS.concept("naf", row["naf_code"]), source_terms(row["source"])
        bag.concept(iri, scheme, MAI.NafActivity, row["naf_code"], row["naf_libelle"], top=True)
        bag.add(iri, SKOS.hiddenLabel, Literal(row["naf_code_sans_point"]))
        bag.add(iri, DCTERMS.source, *[t for t in terms if isinstance(t, NamedNode)])
        sources += terms
    bag.scheme(
        scheme,
        "Nomenclature d'activités française (NAF rév. 2), sous-classes",
        "French classification of activities (NAF rev. 2), sub-classes",
        LICENCE_OUVERTE,
        sources,
    )
    bag.add(
        scheme,
        SKOS.editorialNote,
        fr(
            "Nomenclature de l'INSEE. Notation : forme pointée « 38.32Z » des fichiers SIRENE ; la"
            " forme sans point « 3832Z » est un skos:hiddenLabel."
        ),
        en(
            "INSEE classification. Notation: the dotted form '38.32Z' used by SIRENE files; the"
            " undotted form '3832Z' is a skos:hiddenLabel."
        ),
    )
    return bag.triples


# ----------------------------------------------------------------------------- legal categories
#: value of ``famille_ess`` in categories_juridiques_ess.csv → (slug, label fr, label en)
FAMILIES: dict[str, tuple[str, str, str]] = {
    "associations": ("associations", "Associations", "Associations"),
    "coopératives": ("cooperatives", "Coopératives", "Cooperatives"),
    "mutuelles": ("mutuelles", "Mutuelles", "Mutual societies"),
    "fondations": ("fondations", "Fondations", "Foundations"),
    "sociétés commerciales de l'ESS": (
        "societes-commerciales-ess",
        "Sociétés commerciales de l'ESS",
        "Commercial companies of the social and solidarity economy",
    ),
    "à vérifier": ("a-verifier", "À vérifier", "To be checked"),
}
_ESS_PAGE = NamedNode(
    "https://www.sirene.fr/sirene/public/variable/economieSocialeSolidaireUniteLegale"
)
_FAMILY_NOTE = (
    "Selon l'INSEE (variable economieSocialeSolidaireUniteLegale), l'ESS « comprend les quatre"
    " familles traditionnelles en raison de leur régime juridique (associations, fondations,"
    " coopératives et mutuelles) et inclut une nouvelle catégorie, les entreprises de l'ESS,"
    " adhérant aux mêmes principes » (loi n° 2014-856 du 31 juillet 2014)."
)


def family_triples() -> list[Triple]:
    """Scheme ``familles-ess``: the ESS families (and ``a-verifier``)."""
    bag, scheme = Bag(), _IRIS.scheme("familles-ess")
    for slug, label_fr, label_en in FAMILIES.values():
        iri = _IRIS.concept("familles-ess", slug)
        bag.concept(iri, scheme, MAI.EssFamily, slug, label_fr, label_en, top=True)
        if slug == "a-verifier":
            bag.add(
                iri,
                SKOS.editorialNote,
                fr(
                    "Catégories juridiques dont l'appartenance à l'ESS n'est pas établie par la seule"
                    " forme juridique : voir la note de chaque catégorie."
                ),
            )
            continue
        bag.add(iri, SKOS.scopeNote, fr(_FAMILY_NOTE))
        bag.add(iri, DCTERMS.source, _ESS_PAGE)
    bag.add(
        _IRIS.concept("familles-ess", "societes-commerciales-ess"),
        SKOS.editorialNote,
        fr(
            "Aucune catégorie juridique n'est rattachée à cette famille : une société commerciale"
            " relève de l'ESS selon ses statuts (indicateur SIRENE economieSocialeSolidaireUniteLegale),"
            " pas selon sa catégorie juridique."
        ),
    )
    bag.scheme(
        scheme,
        "Familles de l'économie sociale et solidaire",
        "Families of the social and solidarity economy",
        CC_BY_4,
        [_ESS_PAGE, Literal("data/reference/categories_juridiques_ess.csv", language="fr")],
    )
    return bag.triples


def legal_category_triples() -> list[Triple]:
    """Schemes ``categories-juridiques`` (the 65 ESS-relevant categories) and ``familles-ess``."""
    bag, scheme = Bag(), _IRIS.scheme("categories-juridiques")
    sources: list[Term] = []
    rows = read_table(
        "categories_juridiques_ess.csv",
        ["code", "libelle", "famille_ess", "libelle_version_anterieure", "remarque", "source"],
    )
    for row in rows:
        if row["famille_ess"] not in FAMILIES or not re.match(r"^\d{4}$", row["code"]):
            raise _bad(
                "categories_juridiques_ess.csv",
                row,
                f"bad code or famille_ess {row['famille_ess']!r}"
                f" (expected 4 digits and one of {', '.join(FAMILIES)})",
            )
        iri, terms = (
            _IRIS.concept("categories-juridiques", row["code"]),
            source_terms(row["source"]),
        )
        bag.concept(iri, scheme, MAI.LegalCategory, row["code"], row["libelle"], top=True)
        bag.add(iri, MAI.familyOf, _IRIS.concept("familles-ess", FAMILIES[row["famille_ess"]][0]))
        bag.add(iri, SKOS.altLabel, fr(row["libelle_version_anterieure"]))
        if row["libelle_version_anterieure"]:
            bag.add(
                iri,
                SKOS.historyNote,
                fr(f"Libellé antérieur : « {row['libelle_version_anterieure']} »."),
            )
        bag.add(iri, SKOS.scopeNote, fr(row["remarque"]))
        bag.add(iri, DCTERMS.source, *terms)
        sources += terms
    bag.scheme(
        scheme,
        "Catégories juridiques (INSEE, niveau III) des familles de l'ESS",
        "Legal categories (INSEE, level III) of the SSE families",
        LICENCE_OUVERTE,
        sources,
    )
    bag.add(
        scheme,
        SKOS.editorialNote,
        fr(
            f"Sous-ensemble : seules les {len(rows)} catégories juridiques retenues pour les familles"
            " de l'ESS figurent ici, pas toute la nomenclature ; le rattachement à une famille est un"
            " choix éditorial (colonne famille_ess)."
        ),
        en(
            f"Subset: only the {len(rows)} legal categories kept for the SSE families, not the whole"
            " classification; the family of each category is an editorial choice."
        ),
    )
    return bag.triples + family_triples()


# ----------------------------------------------------------------------------- SIRENE codes
def staff_band_triples() -> list[Triple]:
    """Scheme ``tranches-effectifs``: INSEE staff bands with their numeric bounds."""
    bag, scheme = Bag(), _IRIS.scheme("tranches-effectifs")
    sources: list[Term] = []
    for row in read_table(
        "tranches_effectifs.csv",
        ["code", "libelle", "definition", "label_en", "effectif_min", "effectif_max", "source"],
    ):
        iri, terms = _IRIS.concept("tranches-effectifs", row["code"]), source_terms(row["source"])
        bag.concept(iri, scheme, MAI.StaffBand, row["code"], row["libelle"], row["label_en"], True)
        bag.add(iri, SKOS.definition, fr(row["definition"]))
        for prop, col in ((MAI.minStaff, "effectif_min"), (MAI.maxStaff, "effectif_max")):
            if row[col] and not row[col].isdigit():
                raise _bad("tranches_effectifs.csv", row, f"{col} is not an integer")
            bag.add(iri, prop, Literal(int(row[col])) if row[col] else None)
        bag.add(iri, DCTERMS.source, *terms)
        sources += terms
    bag.scheme(
        scheme,
        "Tranches d'effectif salarié (INSEE, SIRENE)",
        "Staff size bands (INSEE, SIRENE)",
        LICENCE_OUVERTE,
        sources,
    )
    return bag.triples


def status_triples() -> list[Triple]:
    """Scheme ``etats-administratifs``: A (actif/active), C (cessée), F (fermé)."""
    bag, scheme = Bag(), _IRIS.scheme("etats-administratifs")
    sources: list[Term] = []
    for row in read_table(
        "etats_administratifs.csv",
        ["code", "libelle", "label_en", "variable", "definition", "source"],
    ):
        iri, terms = _IRIS.concept("etats-administratifs", row["code"]), source_terms(row["source"])
        bag.concept(
            iri,
            scheme,
            MAI.AdministrativeStatus,
            row["code"],
            row["libelle"],
            row["label_en"],
            top=True,
        )
        bag.add(iri, SKOS.definition, fr(row["definition"]))
        bag.add(iri, DCTERMS.source, *terms)
        sources += terms
    bag.scheme(
        scheme,
        "États administratifs (INSEE, SIRENE)",
        "Administrative statuses (INSEE, SIRENE)",
        LICENCE_OUVERTE,
        sources,
    )
    return bag.triples


# ----------------------------------------------------------------------------- programmes
def _programme(
    bag: Bag, slug: str, title_fr: str, title_en: str, issued: Literal, sources: list[Term]
) -> NamedNode:
    iri = _IRIS.programme(slug)
    bag.scheme(iri, title_fr, title_en, CC_BY_4, sources, extra_types=[MAI.PublicProgramme])
    bag.add(iri, DCTERMS.issued, issued)
    return iri


def _measure(
    bag: Bag,
    iri: NamedNode,
    programme: NamedNode,
    notation: str,
    title: str,
    exact: bool,
    source: str,
    top: bool,
) -> None:
    bag.concept(iri, programme, MAI.Measure, notation, title, top=top)
    bag.add(iri, DCTERMS.title, fr(title))
    bag.add(iri, MAI.programme, programme)
    bag.add(iri, MAI.titleExact, Literal(exact))
    bag.add(iri, DCTERMS.source, *source_terms(source))


def frec_triples() -> list[Triple]:
    """Programme ``frec`` (a partial concept scheme) and its sourced measures only."""
    bag = Bag()
    rows = read_table(
        "frec_mesures.csv",
        ["numero", "axe", "titre", "titre_exact", "remarque", "source", "extrait"],
    )
    sources = [t for r in rows for t in source_terms(r["source"])]
    frec = _programme(
        bag,
        "frec",
        "Feuille de route économie circulaire (FREC)",
        "Circular economy roadmap (FREC)",
        Literal("2018-04-23", datatype=XSD.date),
        sources,
    )
    bag.add(frec, MAI.partial, Literal(True))
    bag.add(
        frec,
        SKOS.editorialNote,
        fr(
            f"Schéma partiel : seules {len(rows)} des {FREC_MEASURE_COUNT} mesures de la Feuille de"
            " route économie circulaire ont pu être sourcées (intitulé ou objet cité par une source"
            " publique) ; les autres ne sont pas listées plutôt que d'inventer leur intitulé. Pour"
            " compléter : reprendre le document officiel (ministère de la Transition écologique et"
            " solidaire, Feuille de route économie circulaire, avril 2018), ajouter une ligne par"
            " mesure à data/reference/frec_mesures.csv (numéro, axe, intitulé exact, source), puis"
            " lancer python -m maillage.graph.vocabularies."
        ),
        en(
            f"Partial scheme: only {len(rows)} of the {FREC_MEASURE_COUNT} measures of the circular"
            " economy roadmap could be sourced (title or subject quoted by a public source); the"
            " others are left out rather than given an invented title. To complete it, take the"
            " official document (Ministry for the Ecological and Inclusive Transition, FREC, April"
            " 2018), add one row per measure to data/reference/frec_mesures.csv (number, axis, exact"
            " title, source) and run python -m maillage.graph.vocabularies."
        ),
    )
    for row in rows:
        if not row["numero"].isdigit() or row["titre_exact"] not in {"oui", "non"}:
            raise _bad("frec_mesures.csv", row, "numero must be an integer, titre_exact oui/non")
        iri = _IRIS.concept("frec", row["numero"])
        _measure(
            bag,
            iri,
            frec,
            row["numero"],
            row["titre"],
            row["titre_exact"] == "oui",
            row["source"],
            top=True,
        )
        bag.add(iri, MAI.measureNumber, Literal(int(row["numero"])))
        bag.add(iri, MAI.axis, fr(row["axe"]))
        bag.add(iri, SKOS.scopeNote, fr(row["remarque"]))
        bag.add(iri, SKOS.note, fr(row["extrait"]))
    return bag.triples


_ACTION = re.compile(r"^Action n°(\d+)\b")


def plan_batiment_triples() -> list[Triple]:
    """Programmes ``preb`` and ``plan-batiment-durable``: rows as measures, axes → actions."""
    bag = Bag()
    rows = read_table("plan_batiment_durable.csv", ["id", "programme", "axe", "titre", "source"])
    by_prog = {p: [r for r in rows if r["id"].startswith(p + "-")] for p in ("PREB", "PBD")}
    if len(by_prog["PREB"]) + len(by_prog["PBD"]) != len(rows):
        bad = next(r for r in rows if not r["id"].startswith(("PREB-", "PBD-")))
        raise _bad("plan_batiment_durable.csv", bad, "id must start with PREB- or PBD-")
    preb = _programme(
        bag,
        "preb",
        "Plan de rénovation énergétique des bâtiments (PREB)",
        "Building energy renovation plan (PREB)",
        Literal("2018-04", datatype=XSD.gYearMonth),
        [t for r in by_prog["PREB"] for t in source_terms(r["source"])],
    )
    bag.add(preb, MAI.partial, Literal(True))
    bag.add(
        preb,
        SKOS.editorialNote,
        fr(
            "Schéma partiel : la version finale (avril 2018) compte 4 axes et 12 actions ; l'intitulé"
            " de l'axe 4 et ceux des actions 11 et 12 n'ont pas été trouvés, celui de l'action 10 est"
            " tronqué dans la seule copie trouvée. Les intitulés sont reproduits tels quels."
        ),
        en(
            "Partial scheme: the final version (April 2018) has 4 axes and 12 actions; the titles of"
            " axis 4 and of actions 11 and 12 were not found, and action 10 is truncated in the only"
            " copy found. Titles are reproduced as they are."
        ),
    )
    _preb_rows(bag, preb, by_prog["PREB"])
    pbd = _programme(
        bag,
        "plan-batiment-durable",
        "Plan Bâtiment Durable",
        "Sustainable Building Plan (Plan Bâtiment Durable)",
        Literal("2009-01", datatype=XSD.gYearMonth),
        [t for r in by_prog["PBD"] for t in source_terms(r["source"])],
    )
    bag.add(pbd, SKOS.altLabel, fr("Plan Bâtiment Grenelle"))
    bag.add(
        pbd,
        SKOS.editorialNote,
        fr(
            "Les éléments de ce schéma sont la mission du Plan Bâtiment Durable et les points de ses"
            " lettres de mission (2017, 2020) tels que les résument les sources citées, pas des"
            " mesures numérotées officielles."
        ),
        en(
            "The items of this scheme are the mission of the Plan Bâtiment Durable and the points of"
            " its mission letters (2017, 2020) as summarised by the sources cited, not official"
            " numbered measures."
        ),
    )
    for row in by_prog["PBD"]:
        iri = _IRIS.concept("plan-batiment", row["id"])
        _measure(bag, iri, pbd, row["id"], row["titre"], False, row["source"], top=True)
        bag.add(iri, MAI.axis, fr(row["axe"]))
    return bag.triples


def _preb_rows(bag: Bag, preb: NamedNode, rows: list[dict[str, str]]) -> None:
    axes = {
        r["axe"]: _IRIS.concept("plan-batiment", r["id"])
        for r in rows
        if r["titre"].startswith("(axe)")
    }
    for row in rows:
        iri = _IRIS.concept("plan-batiment", row["id"])
        if row["titre"].startswith("(axe)"):
            rest = row["titre"][len("(axe)") :].strip(" —-")
            _measure(
                bag,
                iri,
                preb,
                row["id"],
                row["axe"],
                "non trouvé" not in row["axe"],
                row["source"],
                top=True,
            )
            bag.add(iri, SKOS.scopeNote, fr(rest))
            continue
        truncated = "tronqué" in row["titre"]
        _measure(bag, iri, preb, row["id"], row["titre"], not truncated, row["source"], top=False)
        bag.add(iri, MAI.axis, fr(row["axe"]))
        if m := _ACTION.match(row["titre"]):
            bag.add(iri, MAI.measureNumber, Literal(int(m.group(1))))
        if row["axe"] in axes:
            bag.add(iri, SKOS.broader, axes[row["axe"]])
            bag.add(axes[row["axe"]], SKOS.narrower, iri)
        else:
            bag.add(iri, SKOS.topConceptOf, preb)
            bag.add(preb, SKOS.hasTopConcept, iri)


# ----------------------------------------------------------------------------- LVAO
LVAO_SCHEMES: dict[str, tuple[str, str, str, str]] = {
    # scheme: (fixture file, Django model, title fr, title en)
    "lvao-types-acteurs": (
        "acteur_types.json",
        "qfdmo.acteurtype",
        "Longue vie aux objets : types d'acteurs",
        "Longue vie aux objets: actor types",
    ),
    "lvao-actions": (
        "actions.json",
        "qfdmo.action",
        "Longue vie aux objets : actions",
        "Longue vie aux objets: actions",
    ),
    "lvao-services": (
        "acteur_services.json",
        "qfdmo.acteurservice",
        "Longue vie aux objets : services des acteurs",
        "Longue vie aux objets: actor services",
    ),
    "lvao-labels": (
        "labels.json",
        "qfdmo.labelqualite",
        "Longue vie aux objets : labels",
        "Longue vie aux objets: labels",
    ),
}


def lvao_fixture(file: str, model: str) -> list[dict]:
    """The ``fields`` of the records of ``model`` in an LVAO fixture (ADEME, MIT)."""
    path = data_file("raw", "lvao-qfdmo-fixtures", file)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the LVAO fixture: {exc}", path=str(path)) from exc
    return [r["fields"] for r in records if r.get("model") == model]


def lvao_triples() -> list[Triple]:
    """The four LVAO taxonomies (notation = code, prefLabel = libelle); services → actions."""
    bag = Bag()
    for name, (file, model, title_fr, title_en) in LVAO_SCHEMES.items():
        scheme, source = _IRIS.scheme(name), NamedNode(LVAO_REPO + file)
        bag.scheme(scheme, title_fr, title_en, MIT, [source])
        bag.add(
            scheme,
            DCTERMS.rights,
            fr("© 2023 ADEME, licence MIT (dépôt incubateur-ademe/quefairedemesobjets)"),
        )
        for f in lvao_fixture(file, model):
            iri = _IRIS.concept(name, f["code"])
            bag.concept(iri, scheme, None, f["code"], f["libelle"], top=True)
            bag.add(iri, DCTERMS.source, source)
            bag.add(iri, SKOS.altLabel, fr(f.get("libelle_groupe")))
            bag.add(iri, SKOS.scopeNote, fr(f.get("description")))
            for (action,) in f.get("actions", []):
                bag.add(iri, SKOS.related, _IRIS.concept("lvao-actions", action))
            if f.get("url", "").startswith("http"):
                bag.add(iri, RDFS.seeAlso, NamedNode(f["url"]))
    return bag.triples


# ----------------------------------------------------------------------------- editorial graph
#: Editorial links from LVAO concepts to our filières: (scheme, code, SKOS property, filière).
LVAO_FILIERE_LINKS: tuple[tuple[str, str, str, str], ...] = (
    ("lvao-services", "service_de_reparation", "closeMatch", "reparation"),
    ("lvao-services", "recyclerie", "closeMatch", "ressourcerie-recyclerie"),
    ("lvao-services", "atelier_pour_reparer_soi_meme", "related", "reparation"),
    ("lvao-services", "atelier_pour_reparer_soi_meme", "related", "velo"),
    ("lvao-services", "pieces_detachees", "related", "reparation"),
    ("lvao-services", "structure_de_collecte", "related", "reemploi"),
    ("lvao-services", "depot_vente", "related", "reemploi"),
    ("lvao-services", "achat_revente_professionnel", "related", "reemploi"),
    ("lvao-services", "location_professionnel", "related", "economie-fonctionnalite"),
    ("lvao-services", "espace_de_partage", "related", "economie-fonctionnalite"),
    ("lvao-actions", "reparer", "related", "reparation"),
    ("lvao-actions", "donner", "related", "reemploi"),
    ("lvao-actions", "acheter", "related", "reemploi"),
    ("lvao-actions", "louer", "related", "economie-fonctionnalite"),
    ("lvao-actions", "trier", "related", "gestion-dechets"),
    ("lvao-types-acteurs", "decheterie", "related", "gestion-dechets"),
    ("lvao-labels", "reparacteur", "related", "reparation"),
    ("lvao-labels", "qualirepar", "related", "reparation"),
)


def _check_filiere(table: str, row: dict[str, str], slug: str, known: set[str]) -> NamedNode:
    if slug not in known:
        raise _bad(table, row, f"unknown filière {slug!r} (expected a slug of filieres.csv)")
    return _IRIS.concept("tee", slug)


def naf_filiere_triples(known: set[str]) -> list[Triple]:
    """``mai:proposedFiliere`` and ``mai:teeScope`` from naf_filieres.csv (editorial)."""
    bag, naf = Bag(), {r["naf_code"] for r in read_table("naf_rev2.csv", ["naf_code"])}
    scopes: dict[str, str] = {}
    for row in read_table("naf_filieres.csv", ["naf_code", "filiere", "portee", "ligne_naf_tee"]):
        code = row["naf_code"]
        if code not in naf or row["portee"] not in {"spécifique", "large"}:
            raise _bad("naf_filieres.csv", row, "unknown NAF code or portee not spécifique/large")
        if scopes.setdefault(code, row["portee"]) != row["portee"]:
            raise _bad("naf_filieres.csv", row, f"conflicting portee for {code}")
        iri = _IRIS.concept("naf", code)
        bag.add(
            iri, MAI.proposedFiliere, _check_filiere("naf_filieres.csv", row, row["filiere"], known)
        )
        bag.add(iri, MAI.teeScope, Literal(row["portee"]))
        bag.add(
            iri,
            SKOS.editorialNote,
            fr(f"Rattachement TEE proposé (éditorial) : {row['ligne_naf_tee']}."),
        )
    bag.add(
        _IRIS.scheme("naf"),
        SKOS.editorialNote,
        fr(
            "Les liens mai:proposedFiliere sont une proposition éditoriale de Maillage : aucune table"
            " officielle de correspondance NAF → filières TEE n'a été trouvée (voir la colonne source"
            " de data/reference/naf_tee.csv)."
        ),
        en(
            "The mai:proposedFiliere links are an editorial proposal of Maillage: no official NAF →"
            " TEE sector table was found (see the source column of data/reference/naf_tee.csv)."
        ),
    )
    return _dedupe(bag.triples)


def complementarity_triples(known: set[str], labels: dict[str, str]) -> list[Triple]:
    """Complementarities between filières (``mai:complementaryTo`` + one resource each)."""
    bag, scheme = Bag(), _IRIS.scheme("complementarites")
    for row in read_table(
        "filieres_complementaires.csv", ["de", "vers", "relation", "justification_fr"]
    ):
        a = _check_filiere("filieres_complementaires.csv", row, row["de"], known)
        b = _check_filiere("filieres_complementaires.csv", row, row["vers"], known)
        if row["relation"] not in {"amont-aval", "reciproque"}:
            raise _bad(
                "filieres_complementaires.csv", row, "relation must be amont-aval or reciproque"
            )
        both = row["relation"] == "reciproque"
        iri = _IRIS.concept("complementarites", f"{row['de']}--{row['vers']}")
        bag.add(a, MAI.complementaryTo, b)
        if both:
            bag.add(b, MAI.complementaryTo, a)
        arrow = " ↔ " if both else " → "
        bag.add(iri, RDF.type, MAI.Complementarity)
        bag.add(iri, SKOS.inScheme, scheme)
        bag.add(iri, RDFS.label, fr(labels[row["de"]] + arrow + labels[row["vers"]]))
        bag.add(iri, MAI.fromFiliere, a)
        bag.add(iri, MAI.toFiliere, b)
        bag.add(iri, MAI.relationKind, Literal(row["relation"]))
        bag.add(iri, RDFS.comment, fr(row["justification_fr"]))
        bag.add(iri, DCTERMS.source, fr(EDITORIAL))
    bag.scheme(
        scheme,
        "Complémentarités entre filières",
        "Complementarities between sectors",
        CC_BY_4,
        [fr(EDITORIAL)],
    )  # type: ignore[list-item]
    bag.add(
        scheme,
        SKOS.editorialNote,
        fr(
            "Relation éditoriale : « amont-aval » est orientée (de → vers), « reciproque » vaut dans"
            " les deux sens."
        ),
        en(
            "Editorial relation: 'amont-aval' (upstream-downstream) is"
            " directed, 'reciproque' holds both ways."
        ),
    )
    return bag.triples


def measure_filiere_triples(known: set[str]) -> list[Triple]:
    """``mai:concernsFiliere`` from mesures_filieres.csv (editorial)."""
    bag = Bag()
    measures = {f"frec/{r['numero']}" for r in read_table("frec_mesures.csv", ["numero"])}
    measures |= {
        f"plan-batiment/{r['id']}" for r in read_table("plan_batiment_durable.csv", ["id"])
    }
    labels = {r["slug"]: r["label_fr"] for r in _filieres()}
    for row in read_table(
        "mesures_filieres.csv", ["mesure_id", "filiere", "justification_fr", "source"]
    ):
        if row["mesure_id"] not in measures:
            raise _bad(
                "mesures_filieres.csv",
                row,
                f"unknown measure {row['mesure_id']!r}"
                " (expected frec/{numero} or plan-batiment/{id} of a sourced row)",
            )
        scheme, key = row["mesure_id"].split("/", 1)
        iri = _IRIS.concept(scheme, key)
        bag.add(
            iri,
            MAI.concernsFiliere,
            _check_filiere("mesures_filieres.csv", row, row["filiere"], known),
        )
        bag.add(
            iri,
            SKOS.editorialNote,
            fr(
                f"Filière « {labels[row['filiere']]} » :"
                f" {row['justification_fr']} [{row['source']}]"
            ),
        )
    return bag.triples


def lvao_link_triples(known: set[str]) -> list[Triple]:
    """Editorial SKOS mapping links from LVAO concepts to our filières."""
    bag = Bag()
    codes = {
        name: {f["code"] for f in lvao_fixture(file, model)}
        for name, (file, model, _, _) in LVAO_SCHEMES.items()
    }
    for scheme, code, prop, slug in LVAO_FILIERE_LINKS:
        if code not in codes[scheme] or slug not in known:
            raise InputError(
                f"LVAO_FILIERE_LINKS: unknown {scheme}/{code} or filière {slug}", path=__file__
            )
        bag.add(_IRIS.concept(scheme, code), SKOS[prop], _IRIS.concept("tee", slug))
    return bag.triples


def editorial_triples() -> list[Triple]:
    """Everything of the editorial graph ``graph/naf-filieres``."""
    rows = _filieres()
    known, labels = {r["slug"] for r in rows}, {r["slug"]: r["label_fr"] for r in rows}
    return (
        naf_filiere_triples(known)
        + complementarity_triples(known, labels)
        + measure_filiere_triples(known)
        + lvao_link_triples(known)
    )


def _dedupe(triples: list[Triple]) -> list[Triple]:
    return list(dict.fromkeys(triples))


# ----------------------------------------------------------------------------- Turtle output
def _local_name(iri: str) -> tuple[str, str] | None:
    for prefix, ns in PREFIXES.items():
        local = iri[len(ns) :]
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", local):
            return prefix, local
    return None


def _iri_text(iri: str, used: set[str]) -> str:
    if iri.startswith(PLACEHOLDER_BASE):
        return f"<{iri[len(PLACEHOLDER_BASE) :]}>"
    if iri == RDF.type.value:
        return "a"
    pn = _local_name(iri)
    if pn is None:
        return f"<{iri}>"
    used.add(pn[0])
    return f"{pn[0]}:{pn[1]}"


def _literal_text(lit: Literal, used: set[str]) -> str:
    """A literal in Turtle syntax.

    >>> _literal_text(Literal('a "b"\\n', language="fr"), set())
    '"a \\\\"b\\\\"\\\\n"@fr'
    """
    text = lit.value
    for a, b in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(a, b)
    if lit.language:
        return f'"{text}"@{lit.language}'
    if lit.datatype == XSD.string:
        return f'"{text}"'
    if lit.datatype in (XSD.integer, XSD.boolean) and re.fullmatch(r"-?\d+|true|false", text):
        return text
    dt = _iri_text(lit.datatype.value, used)
    return f'"{text}"^^{dt}'


def _sort_key(text: str) -> list:
    return [
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text.strip("<>"))
    ]


def to_turtle(triples: Iterable[Triple], header: str) -> str:
    """Deterministic Turtle: placeholder-base IRIs written relative, subjects in natural order."""
    used: set[str] = set()
    grouped: dict[str, dict[str, set[str]]] = {}
    for s, p, o in _dedupe(list(triples)):
        obj = _literal_text(o, used) if isinstance(o, Literal) else _iri_text(o.value, used)
        pred = _iri_text(p.value, used)
        grouped.setdefault(_iri_text(s.value, used), {}).setdefault(pred, set()).add(obj)
    blocks = []
    for subject in sorted(grouped, key=_sort_key):
        preds = sorted(grouped[subject], key=lambda x: (x != "a", x))
        lines = [f"    {p} {', '.join(sorted(grouped[subject][p], key=_sort_key))}" for p in preds]
        blocks.append(subject + "\n" + " ;\n".join(lines) + " .\n")
    prefixes = "".join(f"@prefix {n}: <{PREFIXES[n]}> .\n" for n in sorted(used))
    comments = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comments + "\n" + prefixes + "\n" + "\n".join(blocks)


# ----------------------------------------------------------------------------- build and load
#: file name → (named graph, builder, what it holds)
VOCABULARY_FILES: dict[str, tuple[str, Callable[[], list[Triple]], str]] = {
    "tee.ttl": ("vocabulaires", tee_triples, "filieres.csv, domaines_tee.csv"),
    "naf.ttl": ("vocabulaires", naf_triples, "naf_rev2.csv"),
    "categories-juridiques.ttl": (
        "vocabulaires",
        legal_category_triples,
        "categories_juridiques_ess.csv",
    ),
    "tranches-effectifs.ttl": ("vocabulaires", staff_band_triples, "tranches_effectifs.csv"),
    "etats-administratifs.ttl": ("vocabulaires", status_triples, "etats_administratifs.csv"),
    "frec.ttl": ("vocabulaires", frec_triples, "frec_mesures.csv"),
    "plan-batiment.ttl": ("vocabulaires", plan_batiment_triples, "plan_batiment_durable.csv"),
    "lvao.ttl": ("vocabulaires", lvao_triples, "raw/lvao-qfdmo-fixtures/*.json"),
    "naf-filieres.ttl": (
        "naf-filieres",
        editorial_triples,
        (
            "naf_filieres.csv, filieres_complementaires.csv, mesures_filieres.csv"
            " and LVAO_FILIERE_LINKS (editorial)"
        ),
    ),
}


def build_vocabularies(out_dir: str | Path) -> list[Path]:
    """Generate every vocabulary Turtle file into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (graph, builder, tables) in VOCABULARY_FILES.items():
        header = (
            f"{name}: generated by `python -m maillage.graph.vocabularies` from {tables}.\n"
            "Do not edit: change the tables and regenerate.\n"
            f"IRIs in <…> are relative to the base IRI; loaded into graph/{graph}."
        )
        path = out / name
        path.write_text(to_turtle(builder(), header), encoding="utf-8")
        written.append(path)
    return written


GRAPH_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "vocabulaires": {
        "title_fr": "Vocabulaires contrôlés (SKOS)",
        "title_en": "Controlled vocabularies (SKOS)",
        "description_fr": (
            "Schémas SKOS générés depuis data/reference/ : domaines et filières TEE, NAF rév. 2,"
            " catégories juridiques et familles de l'ESS, tranches d'effectif et états"
            " administratifs SIRENE, mesures sourcées de la FREC et du Plan Bâtiment, taxonomies"
            " Longue vie aux objets (ADEME). Licence propre à chaque schéma (dcterms:license du"
            " skos:ConceptScheme) : Licence Ouverte pour les nomenclatures INSEE, MIT (© 2023"
            " ADEME) pour LVAO, CC BY 4.0 pour les listes éditoriales Maillage."
        ),
        "description_en": (
            "SKOS schemes generated from data/reference/: TEE domains and sectors, NAF rev. 2,"
            " SSE legal categories and families, SIRENE staff bands and statuses, sourced"
            " measures of the FREC and of the Plan Bâtiment, LVAO taxonomies (ADEME). Each scheme"
            " states its own licence (dcterms:license)."
        ),
    },
    "naf-filieres": {
        "title_fr": "Rattachements éditoriaux : NAF → filières, complémentarités, mesures → filières",
        "title_en": "Editorial links: NAF → sectors, complementarities, measures → sectors",
        "description_fr": (
            "Proposition éditoriale de Maillage, non officielle : aucune table officielle de"
            " correspondance NAF → filières TEE n'existe. Contient mai:proposedFiliere et"
            " mai:teeScope (NAF), les complémentarités entre filières, mai:concernsFiliere"
            " (mesures) et des liens SKOS des taxonomies LVAO vers les filières."
        ),
        "description_en": (
            "Editorial proposal of Maillage, not official: no official NAF → TEE sector table"
            " exists. Holds mai:proposedFiliere and mai:teeScope (NAF), sector complementarities,"
            " mai:concernsFiliere (measures) and SKOS links from LVAO taxonomies to sectors."
        ),
    },
}
GRAPH_LICENCES = {"vocabulaires": LICENCE_OUVERTE, "naf-filieres": CC_BY_4}
#: Sources of a graph besides the dcterms:source values found in it: the tables it comes from.
GRAPH_TABLES: dict[str, list[str]] = {
    "vocabulaires": [
        f"data/reference/{t}"
        for t in (
            "filieres.csv",
            "domaines_tee.csv",
            "naf_rev2.csv",
            "categories_juridiques_ess.csv",
            "tranches_effectifs.csv",
            "etats_administratifs.csv",
            "frec_mesures.csv",
            "plan_batiment_durable.csv",
        )
    ]
    + ["data/raw/lvao-qfdmo-fixtures/ (ADEME, MIT)"],
    "naf-filieres": [
        "data/reference/naf_filieres.csv (proposition éditoriale Maillage)",
        "data/reference/naf_tee.csv (aucune table officielle NAF → TEE trouvée)",
        "data/reference/filieres_complementaires.csv (proposition éditoriale Maillage)",
        "data/reference/mesures_filieres.csv (proposition éditoriale Maillage)",
        "maillage.graph.vocabularies.LVAO_FILIERE_LINKS (proposition éditoriale Maillage)",
    ],
}


def _graph_sources(writer: GraphWriter, graph: NamedNode) -> list[NamedNode | str]:
    """Every distinct ``dcterms:source`` of the resources of ``graph`` (sorted)."""
    q = (
        "PREFIX dcterms: <http://purl.org/dc/terms/>\nSELECT DISTINCT ?src WHERE {"
        f" GRAPH <{graph.value}> {{ ?s dcterms:source ?src }} }} ORDER BY ?src"
    )
    out: list[NamedNode | str] = []
    for row in writer.query(q):
        src = row["src"]
        out.append(src if isinstance(src, NamedNode) else src.value)
    return out


def load_vocabularies(writer: GraphWriter, settings: Settings) -> list[NamedNode]:
    """Replace ``graph/vocabulaires`` and ``graph/naf-filieres`` with the generated files."""
    iris = Iris(settings.base_iri)
    graphs: list[NamedNode] = []
    for graph_name, description in GRAPH_DESCRIPTIONS.items():
        graph = iris.graph(graph_name)
        writer.drop_graph(graph)
        for name, (target, _, _) in VOCABULARY_FILES.items():
            if target == graph_name:
                _load_file(writer, name, graph, settings.base_iri)
        writer.add_quads(
            describe_graph(
                iris,
                graph,
                sources=GRAPH_TABLES[graph_name] + _graph_sources(writer, graph),
                licence=GRAPH_LICENCES[graph_name],
                **description,
            )
        )
        graphs.append(graph)
    return graphs


def _load_file(writer: GraphWriter, name: str, graph: NamedNode, base_iri: str) -> None:
    path = ontology_file("vocabularies", name)
    if not path.is_file():
        raise StoreError(
            f"vocabulary file {path} is missing",
            hint="run `python -m maillage.graph.vocabularies` to generate it",
        )
    try:
        writer.load(path, RdfFormat.TURTLE, graph=graph, base_iri=base_iri)
    except SyntaxError as exc:
        raise InputError(f"not valid Turtle: {exc}", path=str(path)) from exc


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``ontology/vocabularies/`` (or the directory given as first argument)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else ontology_file("vocabularies")
    for path in build_vocabularies(target):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
