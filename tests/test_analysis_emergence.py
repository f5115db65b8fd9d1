"""Emerging activities: an unmapped NAF whose creations grow is flagged, with its neighbours."""

from __future__ import annotations

import math

import pytest
from maillage.graph.analysis import emergence
from test_analysis_colocation import planted_world
from test_analysis_world import IRIS, World, context

EMERGING, STABLE, DECLINING = "74.90B", "94.99Z", "88.99B"


def emerging_world() -> World:
    """The co-location world plus unmapped activities with planted creation histories.

    94.99Z: 1 creation a year in every third commune, 2009–2023 (stable); 88.99B: 6 a year in
    2014–2018, 1 a year in 2019–2023 (declining); 74.90B: none before 2021, 4 a year in
    2021–2023, all in the communes of the réemploi / BTP group (communes 0–9).
    """
    w = planted_world()
    towns = [IRIS.commune(f"91{i:03d}").value for i in range(30)]
    for year in range(2009, 2024):
        for i in range(0, 30, 3):
            w.structure(towns[i], naf=STABLE, created=f"{year}-03-01")
    for year, n in [(y, 6) for y in range(2014, 2019)] + [(y, 1) for y in range(2019, 2024)]:
        for j in range(n):
            w.structure(towns[(j * 7) % 30], naf=DECLINING, created=f"{year}-06-01")
    k = 0
    for year in (2021, 2022, 2023):
        for _ in range(4):
            w.structure(towns[k % 10], naf=EMERGING, created=f"{year}-09-01")
            k += 1
    return w


@pytest.fixture(scope="module")
def output():
    return emergence.run(context(emerging_world().store()))


def test_the_growing_unmapped_activity_is_flagged(output):
    flagged = [r for r in output.results if r.kind == "EmergingActivity"]
    assert [r.about[0] for r in flagged] == [IRIS.concept("naf", EMERGING).value]
    top = flagged[0]
    assert top.rank == 1 and top.values["recentCount"] == 12 and top.values["previousCount"] == 0
    assert top.evidence["reference_year"] == 2023
    assert top.evidence["creations_per_year"]["2021"] == 4
    assert top.evidence["creations_per_year"]["2018"] == 0
    assert top.values["growthRatio"] > 10


def test_neighbours_are_the_co_located_tee_filieres(output):
    top = next(r for r in output.results if r.kind == "EmergingActivity")
    neighbours = {n["filiere"] for n in top.evidence["neighbours"]}
    group = {IRIS.concept("tee", f).value for f in ("reemploi", "reemploi-materiaux-btp",
                                                    "eco-construction")}
    assert neighbours == group
    assert all(n["lift"] > 1.5 and n["q_value"] < 0.05 for n in top.evidence["neighbours"])
    best = max(n["pmi"] for n in top.evidence["neighbours"])
    assert top.score == pytest.approx(math.log2(top.values["growthRatio"]) + 0.5 * best, rel=1e-4)


def test_stable_and_declining_activities_are_not_flagged(output):
    table = output.tables["emergence_activites"].set_index("code")
    assert not table.at[STABLE, "emerging"] and not table.at[DECLINING, "emerging"]
    assert table.at[DECLINING, "growth"] < 1 < table.at[EMERGING, "growth"]
    assert "activites_creations_communes" in output.queries


def test_partial_last_year_is_not_the_reference():
    w = emerging_world()
    w.structure(IRIS.commune("91000").value, naf=STABLE, created="2024-01-05")
    out = emergence.run(context(w.store()))
    assert out.parameters["reference_year"] == "2023"


def test_without_creation_dates_the_reason_is_recorded():
    w = World()
    town = w.commune("91000", w.epci("200000000", "EPCI", "91"), "91")
    for naf in (STABLE, DECLINING, "47.79Z"):
        w.structure(town, naf=naf, created=None)
    out = emergence.run(context(w.store()))
    assert [r.key for r in out.results] == ["non-calcule"]
    assert "création" in out.results[0].not_computed
