"""French labels for people: of the terms used as properties and of the resources linked.

Labels come from the store (the ontology labels its terms, the vocabularies their concepts, the
territories their names); terms of external vocabularies that the store does not label get the
French labels of :data:`EXTERNAL_LABELS`. Property groups order a resource page.

>>> short_iri("http://www.w3.org/2004/02/skos/core#prefLabel")
'skos:prefLabel'
>>> group_of("https://schema.org/streetAddress")
'Localisation'
>>> best_label([("Paris", "en"), ("Paris (ville)", "fr")])
'Paris (ville)'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from maillage.graph.namespaces import PREFIXES
from pyoxigraph import NamedNode

EXTERNAL_LABELS: dict[str, str] = {
    "rdf:type": "type",
    "rdf:value": "valeur",
    "rdfs:label": "libellé",
    "rdfs:comment": "commentaire",
    "rdfs:seeAlso": "voir aussi",
    "rdfs:subClassOf": "sous-classe de",
    "rdfs:subPropertyOf": "sous-propriété de",
    "rdfs:domain": "domaine",
    "rdfs:range": "portée",
    "rdfs:isDefinedBy": "défini par",
    "owl:sameAs": "identique à",
    "owl:versionInfo": "version",
    "owl:equivalentClass": "classe équivalente",
    "owl:equivalentProperty": "propriété équivalente",
    "dcterms:title": "titre",
    "dcterms:description": "description",
    "dcterms:source": "source",
    "dcterms:license": "licence",
    "dcterms:identifier": "identifiant",
    "dcterms:creator": "auteur",
    "dcterms:publisher": "éditeur",
    "dcterms:issued": "publié le",
    "dcterms:modified": "modifié le",
    "dcterms:subject": "sujet",
    "skos:prefLabel": "libellé préféré",
    "skos:altLabel": "autre libellé",
    "skos:notation": "code",
    "skos:definition": "définition",
    "skos:scopeNote": "note d'application",
    "skos:editorialNote": "note éditoriale",
    "skos:example": "exemple",
    "skos:broader": "concept plus large",
    "skos:narrower": "concept plus précis",
    "skos:related": "concept associé",
    "skos:inScheme": "schéma de concepts",
    "skos:topConceptOf": "concept de tête de",
    "skos:hasTopConcept": "concept de tête",
    "skos:exactMatch": "correspondance exacte",
    "skos:closeMatch": "correspondance proche",
    "org:hasSite": "établissement",
    "org:siteOf": "établissement de",
    "org:hasRegisteredSite": "siège",
    "org:memberOf": "membre de",
    "rov:legalName": "raison sociale",
    "rov:orgType": "type d'organisation",
    "rov:orgActivity": "activité",
    "rov:orgStatus": "statut",
    "schema:streetAddress": "adresse",
    "schema:postalCode": "code postal",
    "schema:url": "site web",
    "schema:containedInPlace": "situé dans",
    "geo:hasGeometry": "géométrie",
    "geo:hasCentroid": "centroïde",
    "geo:asWKT": "coordonnées (WKT)",
    "igeo:codeINSEE": "code INSEE",
    "igeo:nom": "nom",
    "igeo:subdivisionDirecteDe": "subdivision de",
    "foaf:name": "nom",
    "foaf:homepage": "page d'accueil",
    "prov:generatedAtTime": "généré le",
    "prov:wasGeneratedBy": "généré par",
    "prov:used": "a utilisé",
    "prov:wasAssociatedWith": "associé à",
    "prov:endedAtTime": "terminé le",
    "dcat:distribution": "distribution",
    "void:triples": "nombre de triplets",
}

CLASS_LABELS: dict[str, str] = {
    "igeo:Region": "Région",
    "igeo:Departement": "Département",
    "igeo:Intercommunalite": "Intercommunalité (EPCI)",
    "igeo:Commune": "Commune",
    "igeo:ArrondissementMunicipal": "Arrondissement municipal",
    "skos:Concept": "Concept",
    "skos:ConceptScheme": "Schéma de concepts",
    "org:Organization": "Organisation",
    "org:Site": "Site",
    "dcat:Dataset": "Jeu de données",
    "prov:Entity": "Entité (PROV)",
    "prov:Activity": "Activité (PROV)",
    "prov:SoftwareAgent": "Logiciel",
    "owl:Class": "Classe OWL",
    "owl:ObjectProperty": "Propriété d'objet",
    "owl:DatatypeProperty": "Propriété de donnée",
    "owl:Ontology": "Ontologie",
    "foaf:Organization": "Organisation",
    "foaf:Agent": "Agent",
}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Identité", (
        "rdf:type", "rdfs:label", "skos:prefLabel", "skos:altLabel", "rov:legalName",
        "mai:acronym", "mai:tradeName", "mai:siren", "mai:siret", "mai:rna", "skos:notation",
        "igeo:codeINSEE", "igeo:nom", "dcterms:title", "dcterms:identifier", "foaf:name",
        "mai:measureNumber", "mai:titleExact")),
    ("Activité et économie sociale", (
        "mai:essFamily", "mai:essField", "mai:legalCategory", "mai:activity", "mai:domain",
        "mai:filiere", "mai:staffBand", "mai:staffBandYear", "mai:creationDate",
        "mai:closingDate", "mai:administrativeStatus", "mai:lvaoActorType", "mai:peakPowerKw",
        "mai:commissioningDate", "mai:partialDiffusion", "mai:synthetic", "mai:programme",
        "mai:axis", "mai:concernsFiliere", "mai:partial")),
    ("Localisation", (
        "mai:locatedIn", "schema:streetAddress", "schema:postalCode", "geo:hasGeometry",
        "geo:hasCentroid", "igeo:subdivisionDirecteDe", "mai:epci", "mai:epciType",
        "mai:population", "mai:populationYear", "mai:serves", "org:hasRegisteredSite",
        "org:hasSite", "org:siteOf", "mai:headquarters")),
    ("Vocabulaire", (
        "skos:inScheme", "skos:topConceptOf", "skos:hasTopConcept", "skos:broader",
        "skos:narrower", "skos:related", "skos:definition", "skos:scopeNote", "skos:example",
        "mai:proposedFiliere", "mai:teeScope", "mai:complementaryTo", "mai:familyOf",
        "mai:fromFiliere", "mai:toFiliere", "mai:relationKind", "rdfs:subClassOf",
        "rdfs:subPropertyOf", "rdfs:domain", "rdfs:range")),
    ("Description et sources", (
        "dcterms:description", "rdfs:comment", "skos:editorialNote", "dcterms:source",
        "dcterms:license", "dcterms:creator", "rdfs:seeAlso", "schema:url", "foaf:homepage",
        "owl:sameAs", "rdfs:isDefinedBy", "prov:generatedAtTime", "prov:wasGeneratedBy")),
)
OTHER_GROUP = "Autres propriétés"
_GROUP_OF: dict[str, tuple[str, int]] = {
    term: (title, i) for title, terms in GROUPS for i, term in enumerate(terms)
}
LABEL_PREDICATES = (  # the order of the lookups (actors have rdfs:label: first)
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://rdf.insee.fr/def/geo#nom",
    "http://purl.org/dc/terms/title",
    "http://www.w3.org/ns/regorg#legalName",
    "http://xmlns.com/foaf/0.1/name",
)
_LANG_RANK = {"fr": 0, "": 1, "en": 2}


@lru_cache(maxsize=8192)
def short_iri(iri: str) -> str:
    """``prefix:local`` for an IRI of a known namespace, else the IRI."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def group_of(predicate: str) -> str:
    """The title of the group a predicate is shown in."""
    return _GROUP_OF.get(short_iri(predicate), (OTHER_GROUP, 0))[0]


def order_in_group(predicate: str) -> tuple[int, str]:
    """Sort key of a predicate inside its group."""
    short = short_iri(predicate)
    return (_GROUP_OF.get(short, ("", 99))[1], short)


def group_order(title: str) -> int:
    """Position of a group on the page."""
    titles = [g[0] for g in GROUPS]
    return titles.index(title) if title in titles else len(titles)


def best_label(candidates: Iterable[tuple[str, str]]) -> str | None:
    """The label to show among (text, language) pairs: French, then untagged, then English."""
    ranked = sorted(candidates, key=lambda c: (_LANG_RANK.get(c[1], 3), len(c[0])))
    return ranked[0][0] if ranked else None


def fallback_label(iri: str) -> str:
    """A readable name for an IRI nobody labelled (its last segment or prefixed form).

    >>> fallback_label("https://w3id.org/maillage/id/etablissement/12345678900011")
    '12345678900011'
    """
    short = short_iri(iri)
    if short in EXTERNAL_LABELS:
        return EXTERNAL_LABELS[short]
    if short in CLASS_LABELS:
        return CLASS_LABELS[short]
    if short != iri:
        return short
    tail = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if iri.startswith(("http://", "https://")) and "/id/" not in iri and "/voc/" not in iri:
        host = iri.split("/")[2]
        return f"{host} › {tail}" if tail and tail != host else host
    return tail or iri


def read_labels(store: Any, iris: Iterable[str]) -> dict[str, str]:
    """Labels of ``iris`` read from the store (French first), one lookup per IRI."""
    out: dict[str, str] = {}
    predicates = [NamedNode(p) for p in LABEL_PREDICATES]
    for iri in iris:
        try:
            node = NamedNode(iri)
        except ValueError:
            continue
        for predicate in predicates:
            found = [(q.object.value, getattr(q.object, "language", None) or "")
                     for q in store.quads_for_pattern(node, predicate, None, None)]
            if found:
                out[iri] = best_label(found) or iri
                break
    return out


REFERENCE_LABELS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?s ?l WHERE {
  GRAPH ?g { ?s skos:prefLabel|rdfs:label|igeo:nom|dcterms:title ?l }
  FILTER(?g IN (%s))
}
"""


def reference_labels(store: Any, graphs: list[str]) -> dict[str, str]:
    """Labels of every term of the reference graphs (ontology, vocabularies, territories…)."""
    if not graphs:
        return {}
    query = REFERENCE_LABELS % ", ".join(f"<{g}>" for g in graphs)
    found: dict[str, list[tuple[str, str]]] = {}
    for row in store.query(query):
        subject = row["s"]
        if isinstance(subject, NamedNode):
            found.setdefault(subject.value, []).append(
                (row["l"].value, getattr(row["l"], "language", None) or ""))
    return {iri: best_label(c) or iri for iri, c in found.items()}


class Labeller:
    """Labels for a page: the cached reference labels, then a store lookup per unknown IRI."""

    def __init__(self, store: Any, reference: dict[str, str]) -> None:
        self.store, self.reference = store, reference
        self.extra: dict[str, str] = {}

    def prefetch(self, iris: Iterable[str]) -> None:
        """Look up at once the labels of IRIs not in the reference labels."""
        missing = {i for i in iris if i not in self.reference and i not in self.extra}
        self.extra.update(read_labels(self.store, missing))

    def __call__(self, iri: str) -> str:
        if iri in self.reference:
            return self.reference[iri]
        if iri not in self.extra:
            self.extra.update(read_labels(self.store, [iri]))
        return self.extra.get(iri) or fallback_label(iri)

    def predicate(self, iri: str) -> str:
        """A property's label: the ontology's French label, else the built-in table."""
        if iri in self.reference:
            return self.reference[iri]
        return EXTERNAL_LABELS.get(short_iri(iri)) or fallback_label(iri)
