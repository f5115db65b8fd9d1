"""Find the commune of a row of a curated list: INSEE code, postcode, city name, point.

The commune table (codes, postcodes, names) is read from the store's territory graph; the
boundaries come from ``data/territoires/communes_idf.geojson`` (point-in-polygon by ray
casting). Where a Paris point falls, the municipal arrondissement is preferred to the commune
of Paris, as SIRENE does.

Rules (each outcome is ``Located``, ``Outside`` (→ filtered) or ``Unlocated`` (→ quarantine)):

- an INSEE code is used when given: outside the IdF départements → outside; unknown → quarantine;
- else a postcode: a 4-digit postcode lost its leading zero (``9140`` → ``09140``, with a
  warning), so it is never in IdF; a postcode outside the IdF départements → outside; one
  commune → that commune; several → the one whose boundary holds the point, else the one whose
  name is the city's, else quarantine "ambiguous postcode";
- else a point: the commune whose boundary holds it, else outside Île-de-France.

>>> normalise_postcode("9140"), normalise_postcode(" 75011 "), normalise_postcode("PA 19140")
(('09140', True), ('75011', False), (None, False))
>>> point_in_ring(1.0, 1.0, [(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)])
True
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol

from ..namespaces import sparql_prefixes
from ..resources import data_file

IDF_DEPARTEMENTS = frozenset({"75", "77", "78", "91", "92", "93", "94", "95"})
OUTSIDE_IDF = "outside Île-de-France"

Ring = list[tuple[float, float]]


class Reader(Protocol):
    """Anything that runs a SPARQL SELECT over the union of graphs (store or writer)."""

    def query(self, sparql: str) -> Any: ...


@dataclass(frozen=True)
class Located:
    code: str
    warning: str | None = None


@dataclass(frozen=True)
class Outside:
    reason: str = OUTSIDE_IDF


@dataclass(frozen=True)
class Unlocated:
    reason: str


Outcome = Located | Outside | Unlocated


def normalise_postcode(text: str) -> tuple[str | None, bool]:
    """(5-digit postcode or None, whether a lost leading zero was restored)."""
    text = text.strip().replace(" ", "")
    if text.isdigit() and len(text) == 5:
        return text, False
    if text.isdigit() and len(text) == 4:
        return "0" + text, True
    return None, False


def fold(text: str) -> str:
    """Lower case, without accents or non-alphanumeric characters (to compare names).

    >>> fold("L'Haÿ-les-Roses"), fold("EnerCit'IF")
    ('lhaylesroses', 'enercitif')
    """
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c)).lower()


# ---------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Boundary:
    code: str
    arrondissement: bool
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: outer ring then holes

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return any(
            sum(point_in_ring(lon, lat, ring) for ring in poly) % 2 == 1 for poly in self.polygons
        )

    def distance_m(self, lon: float, lat: float) -> float:
        """Approximate distance (metres) from the point to the boundary's edges."""
        kx = 111_320 * math.cos(math.radians(lat))
        ky = 110_540
        best = math.inf
        for poly in self.polygons:
            for ring in poly:
                for (ax, ay), (bx, by) in pairwise(ring):
                    best = min(best, _segment_distance(
                        (lon - ax) * kx, (lat - ay) * ky, (bx - ax) * kx, (by - ay) * ky))
        return best


def _segment_distance(px: float, py: float, bx: float, by: float) -> float:
    """Distance from P to the segment [0, B] (plane coordinates)."""
    length2 = bx * bx + by * by
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (px * bx + py * by) / length2))
    return math.hypot(px - t * bx, py - t * by)


def point_in_ring(x: float, y: float, ring: Ring) -> bool:
    """Ray casting: is (x, y) inside the closed ring?"""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


@lru_cache(maxsize=1)
def boundaries() -> dict[str, Boundary]:
    """Commune and arrondissement boundaries of Île-de-France, by INSEE code."""
    path = data_file("territoires", "communes_idf.geojson")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    out = {}
    for f in features:
        geom = f["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        polygons = tuple(tuple([(float(x), float(y)) for x, y in ring] for ring in p)
                         for p in polys)
        xs = [x for p in polygons for ring in p for x, _ in ring]
        ys = [y for p in polygons for ring in p for _, y in ring]
        code = f["properties"]["code_insee"]
        out[code] = Boundary(code, f["properties"]["type"] == "ARM",
                             (min(xs), min(ys), max(xs), max(ys)), polygons)
    return out


# ---------------------------------------------------------------------------- the table
@dataclass
class CommuneTable:
    """The communes of the store: codes → IRI, postcodes → codes, code → folded names."""

    iris: dict[str, str]
    postcodes: dict[str, list[str]]
    names: dict[str, set[str]]

    @classmethod
    def from_store(cls, reader: Reader) -> CommuneTable:
        """Read the table from the territory graph (communes and arrondissements)."""
        q = sparql_prefixes("igeo", "schema", "rdfs") + """
        SELECT ?t ?code ?cp ?name WHERE {
          { ?t a igeo:Commune } UNION { ?t a igeo:ArrondissementMunicipal }
          ?t igeo:codeINSEE ?code .
          OPTIONAL { ?t schema:postalCode ?cp }
          OPTIONAL { { ?t igeo:nom ?name } UNION { ?t rdfs:label ?name } }
        }"""
        table = cls({}, {}, {})
        for r in reader.query(q):
            code = r["code"].value
            table.iris[code] = r["t"].value
            if r["cp"] is not None and code not in table.postcodes.get(r["cp"].value, []):
                table.postcodes.setdefault(r["cp"].value, []).append(code)
            if r["name"] is not None:
                table.names.setdefault(code, set()).add(fold(r["name"].value))
        for codes in table.postcodes.values():
            codes.sort()
        return table

    # ---------------------------------------------------------------------- resolution
    def locate(self, *, insee: str = "", postcode: str = "", city: str = "",
               point: tuple[float, float] | None = None) -> Outcome:
        """The commune of a row from its INSEE code, postcode, city name and (lon, lat)."""
        if insee:
            return self._by_insee(insee)
        if postcode:
            return self._by_postcode(postcode, city, point)
        if point is not None:
            found = self._by_point(point, self.iris)
            return Located(found) if found else Outside()
        return Unlocated("no commune: the row has no INSEE code, postcode or point")

    def _by_insee(self, insee: str) -> Outcome:
        code = insee.strip().zfill(5) if insee.strip().isdigit() else insee.strip().upper()
        if code[:2] not in IDF_DEPARTEMENTS:
            return Outside()
        if code not in self.iris:
            return Unlocated(f"unknown INSEE commune code {code}")
        return Located(code)

    def _by_postcode(self, raw: str, city: str, point: tuple[float, float] | None) -> Outcome:
        cp, _ = normalise_postcode(raw)
        if cp is None:
            return Unlocated(f"malformed postcode {raw!r}")
        if cp[:2] not in IDF_DEPARTEMENTS:
            return Outside()
        candidates = self.postcodes.get(cp, [])
        if not candidates:
            found = self._by_point(point, self.iris) if point else None
            if found:
                return Located(found, f"unknown postcode {cp}: commune from the point")
            return Unlocated(f"unknown postcode {cp}")
        if len(candidates) == 1:
            return self._check_point(candidates[0], point)
        return self._disambiguate(cp, candidates, city, point)

    def _disambiguate(self, cp: str, candidates: list[str], city: str,
                      point: tuple[float, float] | None) -> Outcome:
        if point is not None:
            found = self._by_point(point, candidates)
            if found:
                return Located(found)
        by_name = [c for c in candidates if city and fold(city) in self.names.get(c, set())]
        if len(by_name) == 1:
            return Located(by_name[0])
        if point is not None:
            nearest = self._nearest(point, candidates)
            if nearest:
                return Located(nearest, f"point outside the communes of postcode {cp}: "
                               "nearest commune chosen")
        return Unlocated(f"ambiguous postcode {cp}: communes {', '.join(candidates)}")

    def _check_point(self, code: str, point: tuple[float, float] | None) -> Located:
        b = boundaries().get(code)
        if point is None or b is None or b.contains(*point):
            return Located(code)
        return Located(code, "point not inside the commune of its postcode")

    @staticmethod
    def _by_point(point: tuple[float, float] | None, codes: Any) -> str | None:
        """The code (among ``codes``) whose boundary holds the point; arrondissements first."""
        if point is None:
            return None
        hits = [b for c, b in boundaries().items() if c in codes and b.contains(*point)]
        hits.sort(key=lambda b: (not b.arrondissement, b.code))
        return hits[0].code if hits else None

    @staticmethod
    def _nearest(point: tuple[float, float], codes: list[str]) -> str | None:
        known = [boundaries()[c] for c in codes if c in boundaries()]
        return min(known, key=lambda b: b.distance_m(*point)).code if known else None

