"""The OWL ontology ``maillage.ttl``: parses, documents every term in French and English, declares
every term of the design contract, and aligns with terms that exist in the real vocabularies."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from maillage.graph.resources import data_file, ontology_file
from rdflib.namespace import OWL, RDF, RDFS, SKOS

MAI = rdflib.Namespace("https://w3id.org/maillage/def#")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
ROV = rdflib.Namespace("http://www.w3.org/ns/regorg#")
IGEO = rdflib.Namespace("http://rdf.insee.fr/def/geo#")
ESSGLOBAL = rdflib.Namespace("http://purl.org/essglobal/vocab/")
SCHEMA = rdflib.Namespace("https://schema.org/")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
VANN = rdflib.Namespace("http://purl.org/vocab/vann/")
ONTOLOGY = rdflib.URIRef("https://w3id.org/maillage/def")
DESIGN = Path(__file__).resolve().parents[1] / "DESIGN.md"
TERM_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)

#: Terms the project brief adds to DESIGN.md's list (support schemes, analysis, provenance…).
EXTRA_TERMS = [
    "retrievedAt",
    "parameter",
    "synthetic",
    "Territory",
    "population",
    "populationYear",
    "epci",
    "epciType",
    "domain",
    "teeScope",
    "familyOf",
    "partial",
    "measureNumber",
    "axis",
    "titleExact",
    "concernsFiliere",
    "programme",
    "fromFiliere",
    "toFiliere",
    "relationKind",
    "funder",
    "beneficiary",
    "party",
    "objective",
    "signatureDate",
    "applicant",
    "call",
    "theme",
    "outcome",
    "applicationCount",
    "operator",
    "targets",
    "AnalysisResult",
    "score",
    "evidence",
    "rank",
    "minStaff",
    "maxStaff",
]


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_file("maillage.ttl"), format="turtle")


def _declared(g: rdflib.Graph) -> set[rdflib.URIRef]:
    return {
        s
        for kind in TERM_KINDS
        for s in g.subjects(RDF.type, kind)
        if isinstance(s, rdflib.URIRef) and s.startswith(str(MAI))
    }


def test_parses_the_same_with_rdflib_and_pyoxigraph(onto):
    quads = list(
        pyoxigraph.parse(
            path=str(ontology_file("maillage.ttl")), format=pyoxigraph.RdfFormat.TURTLE
        )
    )
    assert len(quads) == len(onto) > 500


def test_ontology_header(onto):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in onto
    assert onto.value(ONTOLOGY, OWL.versionInfo) is not None
    assert onto.value(ONTOLOGY, OWL.versionIRI) is not None
    assert onto.value(ONTOLOGY, DCTERMS.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    assert onto.value(ONTOLOGY, DCTERMS.creator) is not None
    assert str(onto.value(ONTOLOGY, VANN.preferredNamespacePrefix)) == "mai"
    for prop in (DCTERMS.title, DCTERMS.description):
        assert {o.language for o in onto.objects(ONTOLOGY, prop)} == {"fr", "en"}


def test_every_term_has_labels_and_comments_in_french_and_english(onto):
    terms = _declared(onto)
    assert len(terms) > 80
    missing = []
    for term in sorted(terms):
        for prop in (RDFS.label, RDFS.comment):
            langs = {o.language for o in onto.objects(term, prop)}
            if not {"fr", "en"} <= langs:
                missing.append(f"{term} {prop}")
        if onto.value(term, RDFS.isDefinedBy) != ONTOLOGY:
            missing.append(f"{term} rdfs:isDefinedBy")
    assert missing == []


def test_every_mai_iri_in_the_ontology_is_declared(onto):
    used = {
        t
        for triple in onto
        for t in triple
        if isinstance(t, rdflib.URIRef) and t.startswith(str(MAI))
    }
    assert used - _declared(onto) == set()


def _design_terms() -> set[str]:
    """The mai: terms named in DESIGN.md's "Ontology terms" section."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Ontology terms", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`mai:(\w+)`", section))
    classes = section.split("Classes:", 1)[1].split("\n\n", 1)[0]
    names |= {n for n in re.findall(r"`(\w+)`", classes) if n[0].isupper()}
    return names


def test_every_term_of_the_design_contract_is_declared(onto):
    wanted = _design_terms() | set(EXTRA_TERMS)
    assert {"Structure", "Measure", "siren", "proposedFiliere", "serves"} <= wanted
    missing = sorted(n for n in wanted if MAI[n] not in _declared(onto))
    assert missing == []


def test_properties_have_a_kind_and_sensible_ranges(onto):
    for prop in onto.subjects(RDF.type, OWL.DatatypeProperty):
        rng = onto.value(prop, RDFS.range)
        assert rng is None or str(rng).startswith(
            ("http://www.w3.org/2001/XMLSchema#", str(RDF))
        ), prop
    for prop in onto.subjects(RDF.type, OWL.ObjectProperty):
        rng = onto.value(prop, RDFS.range)
        assert rng is None or not str(rng).startswith("http://www.w3.org/2001/XMLSchema#"), prop


@pytest.mark.parametrize(
    "sub, rel, sup",
    [
        (MAI.Structure, RDFS.subClassOf, ROV.RegisteredOrganization),
        (MAI.Structure, RDFS.subClassOf, ESSGLOBAL.SSEInitiative),
        (MAI.Structure, RDFS.subClassOf, MAI.Actor),
        (MAI.Actor, RDFS.subClassOf, ORG.Organization),
        (MAI.Establishment, RDFS.subClassOf, ORG.Site),
        (MAI.Site, RDFS.subClassOf, ORG.Site),
        (MAI.PublicProgramme, RDFS.subClassOf, SKOS.ConceptScheme),
        (MAI.CallForProjects, RDFS.subClassOf, MAI.SupportScheme),
        (IGEO.Commune, RDFS.subClassOf, MAI.Territory),
        (IGEO.ArrondissementMunicipal, RDFS.subClassOf, MAI.Territory),
        (IGEO.Intercommunalite, RDFS.subClassOf, MAI.Territory),
        (IGEO.Departement, RDFS.subClassOf, MAI.Territory),
        (IGEO.Region, RDFS.subClassOf, MAI.Territory),
        (MAI.siren, RDFS.subPropertyOf, DCTERMS.identifier),
        (MAI.legalCategory, RDFS.subPropertyOf, ROV.orgType),
        (MAI.activity, RDFS.subPropertyOf, ROV.orgActivity),
        (MAI.administrativeStatus, RDFS.subPropertyOf, ROV.orgStatus),
        (MAI.locatedIn, RDFS.subPropertyOf, SCHEMA.containedInPlace),
        (MAI.complementaryTo, RDFS.subPropertyOf, SKOS.related),
        (MAI.programme, RDFS.subPropertyOf, SKOS.inScheme),
    ],
)
def test_alignments_of_the_design_contract(onto, sub, rel, sup):
    assert (sub, rel, sup) in onto


def test_concept_classes_are_skos_concepts(onto):
    for name in (
        "EssFamily",
        "LegalCategory",
        "Domain",
        "Filiere",
        "NafActivity",
        "StaffBand",
        "AdministrativeStatus",
        "Measure",
    ):
        assert (MAI[name], RDFS.subClassOf, SKOS.Concept) in onto, name


@pytest.mark.parametrize(
    "namespace, file",
    [
        (ORG, ("vocab", "w3c", "org.ttl")),
        (ROV, ("vocab", "w3c", "regorg.ttl")),
        (IGEO, ("vocab", "insee", "insee-geo.ttl")),
        (ESSGLOBAL, ("vocab", "essglobal", "essglobal-vocab.ttl")),
    ],
)
def test_external_terms_exist_in_the_real_vocabularies(onto, namespace, file):
    """Every org:/rov:/igeo:/essglobal: IRI the ontology uses is defined by that vocabulary."""
    vocab = rdflib.Graph().parse(data_file(*file), format="turtle")
    defined = set(vocab.subjects(RDF.type, None))
    used = {
        t
        for triple in onto
        for t in triple
        if isinstance(t, rdflib.URIRef)
        and t.startswith(str(namespace))
        and t != rdflib.URIRef(str(namespace))
    }
    assert used, f"no {namespace} term used"
    assert used - defined == set()
