"""A small hand-made world for the analysis tests, and the input queries read on it.

``World`` writes Turtle: the TEE vocabulary (4 domains, a dozen filières, a few
complementarities, NAF concepts mapped or not), territories (départements, EPCIs, communes with
populations) and structures placed by each test to plant an answer. ``World.store()`` loads it
into an in-memory ``MaillageStore(None)``, in the named graphs the real importers use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maillage.graph.analysis.base import AnalysisContext
from maillage.graph.analysis.inputs import actors, communes, complementarities, filieres
from maillage.graph.namespaces import Iris
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
from pyoxigraph import RdfFormat

BASE = "https://example.org/maillage/"
IRIS = Iris(BASE)
PREFIXES = f"""@prefix mai: <https://w3id.org/maillage/def#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix igeo: <http://rdf.insee.fr/def/geo#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@base <{BASE}> .
"""

DOMAINS = {
    "economie-circulaire": "Économie circulaire", "batiment-energie": "Bâtiment et énergie",
    "mobilite-douce": "Services de mobilité douce", "alimentation-durable": "Alimentation durable",
}
FILIERES = {
    "reemploi": ("economie-circulaire", "Réemploi"),
    "reparation": ("economie-circulaire", "Réparation"),
    "ressourcerie-recyclerie": ("economie-circulaire", "Ressourceries et recycleries"),
    "gestion-dechets": ("economie-circulaire", "Collecte et gestion des déchets"),
    "renovation-energetique": ("batiment-energie", "Rénovation énergétique"),
    "eco-construction": ("batiment-energie", "Éco-construction et gros œuvre"),
    "reemploi-materiaux-btp": ("batiment-energie", "Déconstruction et réemploi de matériaux du BTP"),
    "enr-citoyennes": ("batiment-energie", "Énergies renouvelables citoyennes"),
    "velo": ("mobilite-douce", "Vélo et ateliers vélo"),
    "cyclologistique": ("mobilite-douce", "Cyclologistique"),
    "circuits-courts": ("alimentation-durable", "Circuits courts"),
    "amap": ("alimentation-durable", "AMAP"),
    "gaspillage-alimentaire": ("alimentation-durable", "Lutte contre le gaspillage alimentaire"),
}
COMPLEMENTARITIES = [
    ("ressourcerie-recyclerie", "reemploi", "amont-aval",
     "Les ressourceries valorisent les objets collectés pour le réemploi."),
    ("reemploi", "reparation", "amont-aval",
     "Une part des objets réemployés doit être réparée avant d'être remise en circulation."),
    ("reemploi", "reemploi-materiaux-btp", "reciproque",
     "Le réemploi des objets et celui des matériaux partagent savoir-faire et lieux."),
    ("reemploi-materiaux-btp", "eco-construction", "reciproque",
     "L'éco-construction met en œuvre des matériaux issus de la déconstruction."),
    ("velo", "reparation", "reciproque", "La réparation de vélos est une activité de réparation."),
    ("circuits-courts", "gaspillage-alimentaire", "reciproque",
     "Les invendus des circuits courts peuvent être redistribués."),
]
MAPPED_NAF = {"47.79Z": "reemploi", "95.29Z": "reparation", "38.11Z": "gestion-dechets",
              "43.39Z": "eco-construction", "33.17Z": "velo"}
LARGE_NAF = {"43.21A": "renovation-energetique"}  # a generic code: mapped with large scope
UNMAPPED_NAF = {"94.99Z": "Autres organisations fonctionnant par adhésion volontaire",
                "88.99B": "Action sociale sans hébergement n.c.a.",
                "74.90B": "Activités spécialisées, scientifiques et techniques diverses"}


@dataclass
class World:
    """Turtle builder for a hand-made Maillage graph."""

    territories: list[str] = field(default_factory=list)
    structures: list[str] = field(default_factory=list)
    _siren: int = 100_000_000

    def epci(self, code: str, name: str, departement: str) -> str:
        """Declare a département (if new) and an EPCI; returns the EPCI IRI."""
        dep = IRIS.territory("departement", departement).value
        self.territories.append(
            f'<{dep}> a igeo:Departement ; igeo:codeINSEE "{departement}" ; igeo:nom "D{departement}" .\n'
            f'<{IRIS.territory("epci", code).value}> a igeo:Intercommunalite ; '
            f'igeo:codeINSEE "{code}" ; igeo:nom "{name}" .')
        return IRIS.territory("epci", code).value

    def commune(self, code: str, epci: str, departement: str, population: int = 10_000) -> str:
        """Declare a commune of ``epci`` (IRI) in ``departement`` (code); returns its IRI."""
        iri = IRIS.commune(code).value
        dep = IRIS.territory("departement", departement).value
        self.territories.append(
            f'<{iri}> a igeo:Commune ; igeo:codeINSEE "{code}" ; igeo:nom "Commune {code}" ; '
            f'mai:epci <{epci}> ; igeo:subdivisionDirecteDe <{dep}> ; '
            f'mai:population {population} .')
        return iri

    def structure(self, commune: str, filieres: tuple[str, ...] = (), *, naf: str | None = None,
                  created: str | None = "2010-05-01", band: str = "11", closed: bool = False,
                  name: str | None = None) -> str:
        """Add an ESS structure with its siège in ``commune``; returns its IRI."""
        self._siren += 1
        siren = str(self._siren)
        iri, site = IRIS.structure(siren).value, IRIS.etablissement(siren + "00011").value
        if naf is None and filieres:
            naf = next((c for c, f in MAPPED_NAF.items() if f == filieres[0]), "94.99Z")
        lines = [f'<{iri}> a mai:Structure ; mai:siren "{siren}" ; rdfs:label "{name or "S" + siren}" ;',
                 f'  org:hasRegisteredSite <{site}> ; mai:staffBand <voc/tranches-effectifs/{band}> ;',
                 f'  mai:administrativeStatus <voc/etats-administratifs/{"C" if closed else "A"}>']
        if naf:
            lines.append(f'  ; mai:activity <voc/naf/{naf}>')
        if created:
            lines.append(f'  ; mai:creationDate "{created}"^^xsd:date')
        for f in filieres:
            lines.append(f'  ; mai:filiere <voc/tee/{f}> ; mai:domain <voc/tee/{FILIERES[f][0]}>')
        lines.append(f' .\n<{site}> a mai:Establishment ; mai:locatedIn <{commune}> .')
        self.structures.append("\n".join(lines))
        return iri

    def vocabulary(self) -> str:
        """The TEE, NAF, staff band and status vocabulary, and the complementarities."""
        out = []
        for slug, label in DOMAINS.items():
            out.append(f'<voc/tee/{slug}> a mai:Domain ; skos:notation "{slug}" ; '
                       f'skos:prefLabel "{label}"@fr .')
        for slug, (dom, label) in FILIERES.items():
            out.append(f'<voc/tee/{slug}> a mai:Filiere ; skos:notation "{slug}" ; '
                       f'skos:prefLabel "{label}"@fr ; mai:domain <voc/tee/{dom}> ; '
                       f'skos:broader <voc/tee/{dom}> .')
        for a, b, kind, text in COMPLEMENTARITIES:
            out.append(f'<voc/tee/{a}> mai:complementaryTo <voc/tee/{b}> .\n'
                       f'<voc/complementarites/{a}--{b}> a mai:Complementarity ; '
                       f'mai:fromFiliere <voc/tee/{a}> ; mai:toFiliere <voc/tee/{b}> ; '
                       f'mai:relationKind "{kind}" ; rdfs:comment "{text}"@fr .')
        for scope, table in (("spécifique", MAPPED_NAF), ("large", LARGE_NAF)):
            for code, slug in table.items():
                out.append(f'<voc/naf/{code}> a mai:NafActivity ; skos:notation "{code}" ; '
                           f'skos:prefLabel "NAF {code}"@fr ; mai:proposedFiliere <voc/tee/{slug}> ; '
                           f'mai:teeScope "{scope}" .')
        for code, label in UNMAPPED_NAF.items():
            out.append(f'<voc/naf/{code}> a mai:NafActivity ; skos:notation "{code}" ; '
                       f'skos:prefLabel "{label}"@fr .')
        for code in ("A", "C"):
            out.append(f'<voc/etats-administratifs/{code}> skos:notation "{code}" .')
        return "\n".join(out)

    def store(self) -> MaillageStore:
        """An in-memory store holding the world, one named graph per kind of source."""
        store = MaillageStore(None)
        with store.writing() as w:
            for name, text in (("vocabulaires", self.vocabulary()),
                               ("territoires", "\n".join(self.territories)),
                               ("sirene", "\n".join(self.structures))):
                w.load((PREFIXES + text).encode(), RdfFormat.TURTLE, graph=IRIS.graph(name),
                       base_iri=BASE)
        return store


def context(store: MaillageStore, **kwargs) -> AnalysisContext:
    """An analysis context on ``store`` with the test base IRI."""
    return AnalysisContext(store, Settings.from_env({}, base_iri=BASE, store="unused"), **kwargs)


def small_world() -> tuple[World, dict[str, str]]:
    """Two départements, three EPCIs, four communes and a handful of structures."""
    w = World()
    e1, e2, e3 = w.epci("200000001", "EPCI Un", "91"), w.epci("200000002", "EPCI Deux", "91"), \
        w.epci("200000003", "EPCI Trois", "92")
    c = {"c1": w.commune("91001", e1, "91", 20_000), "c2": w.commune("91002", e1, "91", 5_000),
         "c3": w.commune("91003", e2, "91", 8_000), "c4": w.commune("92001", e3, "92", 30_000)}
    c.update(e1=e1, e2=e2, e3=e3)
    return w, c


def test_inputs_read_the_world():
    w, c = small_world()
    a = w.structure(c["c1"], ("reemploi", "reemploi-materiaux-btp"), name="Atelier A")
    w.structure(c["c2"], ("reparation",), closed=True)
    v = w.structure(c["c4"], ("velo",), created=None, band="NN")
    ctx = context(w.store())
    table = actors(ctx)
    assert set(table["acteur"]) == {a, v}  # the closed structure is not an active actor
    assert table.loc[table["acteur"] == v, ["tranche", "annee"]].isna().sum().sum() == 1
    row = table[table["filiere"].str.endswith("/reemploi")].iloc[0]
    assert (row["nom"], row["epci"], row["tranche"], row["annee"]) == ("Atelier A", c["e1"], "11", 2010)
    assert IRIS.territory("departement", "91").value == row["departement"]
    assert len(filieres(ctx)) == len(FILIERES)
    comp = complementarities(ctx)
    assert len(comp) == len(COMPLEMENTARITIES)
    assert set(comp["relation"]) == {"amont-aval", "reciproque"}
    assert communes(ctx).set_index("code").at["92001", "population"] == 30_000
    assert set(ctx._used) == {"acteurs_filieres", "territoires_communes", "filieres_tee",
                              "complementarites_filieres"}


def test_large_scope_naf_links_count_only_on_request():
    w, c = small_world()
    specific = w.structure(c["c1"], ("renovation-energetique",), naf="43.29A")
    generic = w.structure(c["c1"], ("renovation-energetique",), naf="43.21A")
    assert list(actors(context(w.store()))["acteur"]) == [specific]
    assert set(actors(context(w.store(), scope="large"))["acteur"]) == {specific, generic}


def test_territory_scope_keeps_only_its_actors():
    w, c = small_world()
    w.structure(c["c1"], ("reemploi",))
    inside = w.structure(c["c4"], ("velo",))
    ctx = context(w.store(), territory="92")
    assert list(actors(ctx)["acteur"]) == [inside]
    assert list(actors(context(w.store(), territory="200000003"))["acteur"]) == [inside]
