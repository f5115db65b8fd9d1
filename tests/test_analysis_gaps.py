"""Territorial gaps: densities against the median, and a planted white zone is found."""

from __future__ import annotations

import pytest
from maillage.graph.analysis import gaps
from test_analysis_world import IRIS, context, small_world


def gap_world():
    """EPCI Un (25,000 inhab.): 5 circular-economy actors, 1 building; EPCI Deux (8,000): 1 and 1;
    EPCI Trois (30,000): 3 circular-economy actors and no building actor (the white zone)."""
    w, c = small_world()
    for _ in range(5):
        w.structure(c["c1"], ("reemploi",))
    w.structure(c["c2"], ("renovation-energetique",))
    w.structure(c["c3"], ("reparation",))
    w.structure(c["c3"], ("eco-construction",))
    for _ in range(3):
        w.structure(c["c4"], ("reparation",))
    return w, c


@pytest.fixture(scope="module")
def world():
    return gap_world()


@pytest.fixture(scope="module")
def output(world):
    return gaps.run(context(world[0].store()))


def _domain(slug: str) -> str:
    return IRIS.concept("tee", slug).value


def test_density_per_10000_and_median(world, output):
    _, c = world
    rows = {(r.territory, r.about[0]): r for r in output.results if r.kind == "TerritorialGap"}
    ec_un = rows[(c["e1"], _domain("economie-circulaire"))]
    assert ec_un.values["actorCount"] == 5 and ec_un.evidence["population"] == 25_000
    assert ec_un.values["density"] == pytest.approx(2.0)
    # densities 2.0, 1.25, 1.0 → median 1.25
    assert ec_un.values["medianDensity"] == pytest.approx(1.25)
    assert ec_un.score == ec_un.evidence["ratio"] == pytest.approx(1.6)
    worst = min((r for r in rows.values() if r.score is not None), key=lambda r: r.rank)
    assert worst.values["actorCount"] == 0  # the largest deficit comes first


def test_planted_white_zone_is_found(world, output):
    _, c = world
    zones = [r for r in output.results if r.kind == "WhiteZone"]
    domain_zones = {(r.territory, r.about[0]) for r in zones
                    if r.values["whiteZoneOf"] == "domaine" and r.territory}
    assert domain_zones == {(c["e3"], _domain("batiment-energie"))}
    filiere_zones = {(r.territory, r.about[0]) for r in zones if r.values["whiteZoneOf"] == "filiere"}
    assert (c["e3"], _domain("renovation-energetique")) in filiere_zones
    assert (c["e1"], _domain("reparation")) in filiere_zones
    nowhere = [r for r in zones if r.territory is None]
    assert _domain("velo") in {r.about[0] for r in nowhere}  # no velo actor anywhere
    assert _domain("mobilite-douce") in {r.about[0] for r in nowhere}
    top = next(r for r in zones if r.values["whiteZoneOf"] == "domaine")
    # expected actors at the average building density (2 / 63,000) × 30,000
    assert top.score == pytest.approx(2 / 63_000 * 30_000, rel=1e-3)


def test_territory_restricts_the_epcis_reported_not_the_median(world):
    w, c = world
    out = gaps.run(context(w.store(), territory="92"))
    territories = {r.territory for r in out.results if r.territory}
    assert territories == {c["e3"]}
    ec = next(r for r in out.results if r.kind == "TerritorialGap"
              and r.about[0] == _domain("economie-circulaire"))
    assert ec.values["medianDensity"] == pytest.approx(1.25)


def test_missing_population_is_recorded():
    w, _ = gap_world()
    w.territories.append(f'<{IRIS.commune("92002").value}> a <http://rdf.insee.fr/def/geo#Commune> ; '
                         f'<http://rdf.insee.fr/def/geo#codeINSEE> "92002" ; '
                         f'<https://w3id.org/maillage/def#epci> <{IRIS.territory("epci", "200000009").value}> .')
    out = gaps.run(context(w.store()))
    missing = [r for r in out.results if r.territory == IRIS.territory("epci", "200000009").value
               and r.kind == "TerritorialGap"]
    assert missing and all(r.not_computed for r in missing)
    assert any("population" in n.en for n in out.notes)
