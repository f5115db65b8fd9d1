"""Co-location network: a planted community is recovered and flagged as cross-domain."""

from __future__ import annotations

import math

import pytest
from maillage.graph.analysis import colocation
from test_analysis_world import IRIS, World, context

G1 = ("reemploi", "reemploi-materiaux-btp", "eco-construction")  # two domains
G2 = ("velo", "cyclologistique")
G3 = ("circuits-courts", "amap")


def planted_world(n: int = 30) -> World:
    """``n`` communes in 3 EPCIs; G1 in communes 0–9, G2 in 10–19, G3 in 20–29, noise across."""
    w = World()
    epcis = [w.epci(f"20000000{i}", f"EPCI {i}", "91") for i in range(3)]
    towns = [w.commune(f"91{i:03d}", epcis[i * 3 // n], "91") for i in range(n)]
    for i, town in enumerate(towns):
        group = (G1, G2, G3)[i * 3 // n]
        for f in group:
            w.structure(town, (f,))
    for i in (0, 11, 22, 25):  # spread: co-located with nobody in particular
        w.structure(towns[i], ("gaspillage-alimentaire",))
    return w


def _tee(slug: str) -> str:
    return IRIS.concept("tee", slug).value


@pytest.fixture(scope="module")
def output():
    return colocation.run(context(planted_world().store()))


def test_planted_communities_are_recovered(output):
    communities = [r for r in output.results if r.kind == "FiliereCommunity"]
    found = sorted(sorted(r.about) for r in communities)
    assert found == sorted(sorted(_tee(f) for f in g) for g in (G1, G2, G3))


def test_cross_domain_community_is_flagged(output):
    by_members = {frozenset(r.about): r for r in output.results if r.kind == "FiliereCommunity"}
    g1 = by_members[frozenset(_tee(f) for f in G1)]
    assert g1.values["crossDomain"] is True
    assert len(g1.evidence["domains"]) == 2 and g1.evidence["size"] == 3
    assert by_members[frozenset(_tee(f) for f in G2)].values["crossDomain"] is False


def test_edges_carry_lift_pmi_and_p_value(output):
    edges = {frozenset(r.about): r for r in output.results if r.kind == "FiliereCoLocation"}
    edge = edges[frozenset((_tee("reemploi"), _tee("eco-construction")))]
    # size null: réemploi and éco-construction are each 10 of the 74 actors; commune sizes:
    # G1 3 actors (commune 0: 4), G2 and G3 2 actors (communes 11, 22, 25: 3)
    p2, p3, p4 = (1 - (1 - 10 / 74) ** m for m in (2, 3, 4))
    expected = p4 ** 2 + 12 * p3 ** 2 + 17 * p2 ** 2
    assert edge.evidence["expected"] == pytest.approx(expected, abs=1e-4)
    assert edge.values["lift"] == pytest.approx(10 / expected, rel=1e-4)
    assert edge.score == edge.evidence["pmi"] == pytest.approx(math.log2(10 / expected), rel=1e-4)
    assert edge.values["pValue"] < 1e-3
    assert edge.evidence["n_ab"] == 10 and edge.evidence["units"] == 30
    noisy = [e for e in edges if _tee("gaspillage-alimentaire") in e]
    assert noisy == []
    assert output.queries == ["acteurs_filieres", "territoires_communes", "filieres_tee"]


def test_uniform_null_gives_the_classical_lift_and_exact_p_value():
    out = colocation.run(context(planted_world().store(), options={"colocation": {"null": "uniform"}}))
    edges = {frozenset(r.about): r for r in out.results if r.kind == "FiliereCoLocation"}
    edge = edges[frozenset((_tee("reemploi"), _tee("eco-construction")))]
    assert edge.values["lift"] == pytest.approx(3.0)  # 10 × 30 / (10 × 10)
    assert edge.evidence["p_value"] == pytest.approx(1 / math.comb(30, 10))
    assert "hypergeometric" in out.parameters["test"]


def test_leiden_finds_the_same_communities():
    out = colocation.run(context(planted_world().store(), options={"colocation": {"method": "leiden"}}))
    found = sorted(sorted(r.about) for r in out.results if r.kind == "FiliereCommunity")
    assert found == sorted(sorted(_tee(f) for f in g) for g in (G1, G2, G3))


def test_too_few_territories_is_recorded_not_raised():
    out = colocation.run(context(planted_world().store(), level="epci", territory="200000000"))
    assert [r.key for r in out.results] == ["non-calcule"]
    assert "3" in out.results[0].not_computed and out.notes
