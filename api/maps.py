"""Small inline SVG maps drawn from the commune polygons (no web tiles, nothing external).

The polygons are ``data/territoires/communes_idf.geojson`` (package data, loaded once per
process). A map shows the highlighted communes over a context of others, and points (WKT
``POINT(lon lat)`` of establishments).

>>> parse_point("POINT(2.35 48.85)")
(2.35, 48.85)
>>> parse_point("LINESTRING(0 0, 1 1)") is None
True
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from maillage.graph.resources import data_file

WIDTH, HEIGHT, PAD = 480, 360, 8
_POINT = re.compile(r"^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$",
                    re.IGNORECASE)
_lock = threading.Lock()


def parse_point(wkt: str) -> tuple[float, float] | None:
    """(longitude, latitude) of a WKT point, None for anything else."""
    m = _POINT.match(wkt)
    if not m:
        return None
    lon, lat = float(m.group(1)), float(m.group(2))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


@dataclass(frozen=True)
class Commune:
    """A commune (or municipal arrondissement) outline."""

    code: str
    name: str
    kind: str
    rings: tuple[tuple[tuple[float, float], ...], ...]


@lru_cache(maxsize=1)
def communes() -> dict[str, Commune]:
    """Every commune outline of Île-de-France by INSEE code."""
    with _lock, open(data_file("territoires", "communes_idf.geojson"), encoding="utf-8") as fh:
        data = json.load(fh)
    out: dict[str, Commune] = {}
    for feature in data["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        rings = tuple(tuple((float(x), float(y)) for x, y in ring[:]) for poly in polygons
                      for ring in poly[:1])
        out[props["code_insee"]] = Commune(props["code_insee"], props["nom"], props["type"], rings)
    return out


def department_of(code: str) -> str:
    """The département code of a commune code (Île-de-France: two digits).

    >>> department_of("93066")
    '93'
    """
    return code[:2]


class Projection:
    """Equirectangular projection fitted to a bounding box (longitude scaled by cos(lat))."""

    def __init__(self, points: Iterable[tuple[float, float]]) -> None:
        pts = list(points)
        self.lon0, self.lon1 = min(p[0] for p in pts), max(p[0] for p in pts)
        self.lat0, self.lat1 = min(p[1] for p in pts), max(p[1] for p in pts)
        self.k = math.cos(math.radians((self.lat0 + self.lat1) / 2))
        w = max((self.lon1 - self.lon0) * self.k, 1e-6)
        h = max(self.lat1 - self.lat0, 1e-6)
        self.scale = min((WIDTH - 2 * PAD) / w, (HEIGHT - 2 * PAD) / h)
        self.dx = (WIDTH - w * self.scale) / 2
        self.dy = (HEIGHT - h * self.scale) / 2

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x = self.dx + (lon - self.lon0) * self.k * self.scale
        y = self.dy + (self.lat1 - lat) * self.scale
        return round(x, 1), round(y, 1)


def _path(commune: Commune, project: Projection, tolerance: float = 1.2) -> str:
    """SVG path data, dropping points closer than ``tolerance`` px to the last one kept."""
    kx, ky = project.k * project.scale, project.scale
    x0, y0 = project.dx - project.lon0 * kx, project.dy + project.lat1 * ky
    digits = 0 if tolerance >= 2 else 1
    parts = []
    for ring in commune.rings:
        kept: list[tuple[float, float]] = []
        last_x = last_y = -1e9
        for lon, lat in ring:
            x, y = x0 + lon * kx, y0 - lat * ky
            if abs(x - last_x) + abs(y - last_y) >= tolerance:
                kept.append((x, y))
                last_x, last_y = x, y
        if len(kept) >= 3:
            parts.append("M" + "L".join(f"{x:.{digits}f},{y:.{digits}f}" for x, y in kept) + "Z")
    return "".join(parts)


def render_map(highlight: Iterable[str], context: Iterable[str] = (),
               points: Iterable[tuple[float, float, str]] = (), title: str = "",
               tolerance: float = 1.2) -> str | None:
    """An SVG map: ``highlight`` communes filled, ``context`` communes as outline, and labelled
    points. None when nothing can be drawn (no known commune and no point).

    The communes part (projection and paths) is cached; points are drawn over it.
    """
    pts = list(points)
    base = _base_map(tuple(dict.fromkeys(highlight)), tuple(dict.fromkeys(context)), tolerance)
    if base is None:
        if not pts:
            return None
        frame = [(lon, lat) for lon, lat, _ in pts]
        frame += [(lon + d, lat + d) for lon, lat, _ in pts for d in (-0.02, 0.02)]
        base = ("", Projection(frame))
    paths, project = base
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'class="map" role="img" aria-label={quoteattr(title or "carte")}>')]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(paths)
    for lon, lat, label in pts:
        x, y = project(lon, lat)
        out.append(f'<circle class="pt" cx="{x}" cy="{y}" r="5"><title>{escape(label)}</title>'
                   "</circle>")
    out.append("</svg>")
    return "".join(out)


@lru_cache(maxsize=4096)
def _base_map(highlight: tuple[str, ...], context: tuple[str, ...],
              tolerance: float) -> tuple[str, Projection] | None:
    """The communes of a map as SVG paths, and the projection fitted to them."""
    known = communes()
    marked = [known[c] for c in highlight if c in known]
    around = [known[c] for c in context if c in known and c not in set(highlight)]
    frame = [xy for c in marked or around for ring in c.rings for xy in ring]
    if not frame:
        return None
    project = Projection(frame)
    out = [f'<path class="ctx" d="{_path(c, project, tolerance)}"><title>{escape(c.name)}'
           "</title></path>" for c in around]
    out += [f'<path class="hl" d="{_path(c, project, tolerance)}"><title>{escape(c.name)}'
            "</title></path>" for c in marked]
    return "".join(out), project


def communes_of_department(code: str) -> list[str]:
    """Codes of the communes of a département (Paris: its arrondissements)."""
    return [c.code for c in communes().values()
            if department_of(c.code) == code and (c.kind == "COM" or code == "75")
            and not (code == "75" and c.code == "75056")]


@lru_cache(maxsize=1)
def _boxes() -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for code, c in communes().items():
        xs = [x for ring in c.rings for x, _ in ring]
        ys = [y for ring in c.rings for _, y in ring]
        out[code] = (min(xs), min(ys), max(xs), max(ys))
    return out


def neighbours(codes: Iterable[str], points: Iterable[tuple[float, float]] = (),
               margin: float = 0.3) -> list[str]:
    """Communes whose bounding box meets the (enlarged) box of ``codes`` and ``points``."""
    boxes = _boxes()
    chosen = [boxes[c] for c in codes if c in boxes]
    chosen += [(x, y, x, y) for x, y in points]
    if not chosen:
        return []
    x0, y0 = min(b[0] for b in chosen), min(b[1] for b in chosen)
    x1, y1 = max(b[2] for b in chosen), max(b[3] for b in chosen)
    mx, my = max((x1 - x0) * margin, 0.006), max((y1 - y0) * margin, 0.004)
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
    paris_arm = any(c.startswith("751") for c in codes)
    return [code for code, (a, b, c, d) in boxes.items()
            if a <= x1 and c >= x0 and b <= y1 and d >= y0
            and (code != "75056" if paris_arm or not codes else True)
            and not (code.startswith("751") and not paris_arm)]


@lru_cache(maxsize=512)
def territory_map(kind: str, code: str, members: tuple[str, ...]) -> str | None:
    """The map of a territory page (cached: territories do not move)."""
    if kind == "departement":
        return render_map(communes_of_department(code), title=f"Département {code}",
                          tolerance=3.0)
    if kind == "region":
        return render_map([c for c in communes() if c != "75056" and
                           (communes()[c].kind == "COM" or c.startswith("751"))],
                          title="Île-de-France", tolerance=4.0)
    if kind in ("commune", "arrondissement"):
        return render_map([code], neighbours([code]))
    if kind == "epci":
        return render_map(members, neighbours(members, margin=0.15), tolerance=2.0)
    return None


@lru_cache(maxsize=4096)
def _neighbours_of(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(neighbours(codes))


def actor_map(communes_codes: list[str], points: list[tuple[float, float, str]]) -> str | None:
    """The map of an actor or establishment: its communes, around them, and its points."""
    if communes_codes:
        codes = tuple(sorted(communes_codes))
        return render_map(codes, _neighbours_of(codes), points)
    return render_map([], neighbours([], [(p[0], p[1]) for p in points]), points)
