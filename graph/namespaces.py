"""Namespaces and the IRI patterns of Maillage (see DESIGN.md).

>>> iris = Iris("https://example.org/m/")
>>> iris.structure("123456789").value
'https://example.org/m/id/structure/123456789'
>>> iris.concept("naf", "38.32Z").value
'https://example.org/m/voc/naf/38.32Z'
>>> MAI.Structure.value
'https://w3id.org/maillage/def#Structure'
"""

from __future__ import annotations

from urllib.parse import quote

from pyoxigraph import NamedNode

DEFAULT_BASE = "https://w3id.org/maillage/"


class Namespace:
    """Attribute access to IRIs of a namespace: ``MAI.Structure``, ``MAI["siren"]``."""

    def __init__(self, iri: str) -> None:
        self.iri = iri

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self.iri + name)

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.iri + name)

    def __str__(self) -> str:
        return self.iri


MAI = Namespace("https://w3id.org/maillage/def#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
PROV = Namespace("http://www.w3.org/ns/prov#")
VOID = Namespace("http://rdfs.org/ns/void#")
ORG = Namespace("http://www.w3.org/ns/org#")
ROV = Namespace("http://www.w3.org/ns/regorg#")
IGEO = Namespace("http://rdf.insee.fr/def/geo#")
ESSGLOBAL = Namespace("http://purl.org/essglobal/vocab/")
SCHEMA = Namespace("https://schema.org/")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
SH = Namespace("http://www.w3.org/ns/shacl#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")

PREFIXES: dict[str, str] = {
    "mai": MAI.iri,
    "rdf": RDF.iri,
    "rdfs": RDFS.iri,
    "owl": OWL.iri,
    "xsd": XSD.iri,
    "skos": SKOS.iri,
    "dcterms": DCTERMS.iri,
    "dcat": DCAT.iri,
    "prov": PROV.iri,
    "void": VOID.iri,
    "org": ORG.iri,
    "rov": ROV.iri,
    "igeo": IGEO.iri,
    "essglobal": ESSGLOBAL.iri,
    "schema": SCHEMA.iri,
    "geo": GEO.iri,
    "sh": SH.iri,
    "foaf": FOAF.iri,
}

LICENCE_OUVERTE = NamedNode("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
CC_BY_SA_4 = NamedNode("https://creativecommons.org/licenses/by-sa/4.0/")
CC_BY_4 = NamedNode("https://creativecommons.org/licenses/by/4.0/")
MIT = NamedNode("https://opensource.org/license/mit")
APACHE_2 = NamedNode("https://www.apache.org/licenses/LICENSE-2.0")


def sparql_prefixes(*names: str) -> str:
    """PREFIX lines for a SPARQL query (all known prefixes when no name is given)."""
    chosen = names or tuple(PREFIXES)
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in chosen)


def _segment(value: str) -> str:
    return quote(value.strip(), safe="-._~")


class Iris:
    """The IRI patterns of minted resources under a base IRI."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        self.base = base

    def _iri(self, *parts: str) -> NamedNode:
        return NamedNode(self.base + "/".join(_segment(p) for p in parts))

    def structure(self, siren: str) -> NamedNode:
        return self._iri("id", "structure", siren)

    def etablissement(self, siret: str) -> NamedNode:
        return self._iri("id", "etablissement", siret)

    def actor(self, source: str, key: str) -> NamedNode:
        return self._iri("id", "acteur", source, key)

    def site(self, source: str, key: str) -> NamedNode:
        return self._iri("id", "site", source, key)

    def territory(self, kind: str, code: str) -> NamedNode:
        """kind: region, departement, epci, commune, arrondissement."""
        return self._iri("id", "territoire", kind, code)

    def commune(self, code: str) -> NamedNode:
        """A commune, or a Paris/Lyon/Marseille municipal arrondissement by its code."""
        kind = "arrondissement" if is_arrondissement(code) else "commune"
        return self.territory(kind, code)

    def organisation(self, slug: str) -> NamedNode:
        return self._iri("id", "organisation", slug)

    def partnership(self, slug: str) -> NamedNode:
        return self._iri("id", "partenariat", slug)

    def programme(self, slug: str) -> NamedNode:
        return self._iri("id", "programme", slug)

    def scheme(self, name: str) -> NamedNode:
        return self._iri("voc", name)

    def concept(self, scheme: str, notation: str) -> NamedNode:
        return self._iri("voc", scheme, notation)

    def graph(self, name: str) -> NamedNode:
        """A named graph; ``name`` may contain '/' (``import/ateliers-velo``)."""
        return NamedNode(self.base + "graph/" + "/".join(_segment(p) for p in name.split("/")))

    def software(self, version: str) -> NamedNode:
        return self._iri("id", "logiciel", "maillage", version)

    def id(self, *parts: str) -> NamedNode:
        """Any other minted resource under ``{base}id/``."""
        return self._iri("id", *parts)


def is_arrondissement(code: str) -> bool:
    """True for a municipal arrondissement code (Paris 75101–75120, Lyon, Marseille).

    >>> is_arrondissement("75105"), is_arrondissement("75056"), is_arrondissement("69381")
    (True, False, True)
    """
    return (
        ("75101" <= code <= "75120")
        or ("69381" <= code <= "69389")
        or ("13201" <= code <= "13216")
    )
