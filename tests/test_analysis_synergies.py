"""Synergy candidates: a planted pair ranks first; blocking and the per-structure cap hold."""

from __future__ import annotations

import pandas as pd
import pytest
from maillage.graph.analysis import synergies
from maillage.graph.analysis.inputs import complementarities
from maillage.graph.analysis.synergies import candidate_pairs, cap_per_structure, structure_table
from test_analysis_world import IRIS, World, context, small_world


def planted() -> tuple[World, dict[str, str]]:
    """P1 (ressourcerie) and P2 (réemploi), established employers in commune c1, rank first."""
    w, c = small_world()
    c["p1"] = w.structure(c["c1"], ("ressourcerie-recyclerie",), name="Ressourcerie P1")
    c["p2"] = w.structure(c["c1"], ("reemploi",), name="Réemploi P2")
    c["p3"] = w.structure(c["c2"], ("reparation",), name="Réparation P3")  # same EPCI as P2
    c["p4"] = w.structure(c["c1"], ("velo",), band="00", created="2023-02-01", name="Vélo P4")
    c["p5"] = w.structure(c["c3"], ("reparation",), name="Réparation P5")  # same département
    c["p6"] = w.structure(c["c4"], ("reparation",), name="Réparation P6")  # other département
    w.structure(c["c1"], ("reemploi",), closed=True, name="Fermée")
    return w, c


@pytest.fixture(scope="module")
def world():
    return planted()


@pytest.fixture(scope="module")
def output(world):
    return synergies.run(context(world[0].store()))


def test_planted_pair_ranks_first_with_its_evidence(world, output):
    _, c = world
    top = output.results[0]
    assert top.rank == 1 and {top.values["firstActor"].value, top.values["secondActor"].value} == {
        c["p1"], c["p2"]}
    assert top.score == pytest.approx(1.0)
    assert top.territory == c["c1"] and top.values["proximity"] == "commune"
    assert top.evidence["relation"] == "amont-aval"
    assert "ressourceries" in top.evidence["justification"]
    assert top.evidence["shared_territory"] == c["c1"]
    assert top.values["complementarity"].value == IRIS.concept(
        "complementarites", "ressourcerie-recyclerie--reemploi").value


def test_proximity_orders_the_other_pairs(world, output):
    _, c = world
    by_pair = {frozenset((r.values["firstActor"].value, r.values["secondActor"].value)): r
               for r in output.results}
    epci = by_pair[frozenset((c["p2"], c["p3"]))]
    dep = by_pair[frozenset((c["p2"], c["p5"]))]
    assert (epci.values["proximity"], dep.values["proximity"]) == ("epci", "departement")
    assert epci.score == pytest.approx(0.6) and dep.score == pytest.approx(0.3)
    assert frozenset((c["p2"], c["p6"])) not in by_pair  # other département: never a candidate
    young = by_pair[frozenset((c["p4"], c["p3"]))]  # small, young vélo workshop: lower quality
    assert young.score == pytest.approx(0.9 * 0.6 * (0.7 * 0.8) ** 0.5)
    assert [r.rank for r in output.results] == sorted(r.rank for r in output.results)


def test_blocking_never_enumerates_all_pairs():
    w = World()
    town = w.commune("91001", w.epci("200000001", "EPCI", "91"), "91")
    for i in range(20):
        w.structure(town, ("reemploi",), band=("11" if i % 2 else "01"))
        w.structure(town, ("reparation",), band=("12" if i % 3 else "00"))
    ctx = context(w.store())
    table = structure_table(ctx)
    pairs = candidate_pairs(table, complementarities(ctx), ["commune"], k=2)
    assert len(pairs) <= 2 * 20 + 2 * 20 < 20 * 20
    kept = cap_per_structure(pairs, 2)
    assert len(kept) <= 2 * 40
    for s in table["sid"]:  # every structure keeps its best partner
        mine = pairs[(pairs["sid_1"] == s) | (pairs["sid_2"] == s)]
        assert mine["paire"].iloc[0] in set(kept["paire"])


def test_cap_keeps_pairs_chosen_by_either_side():
    pairs = pd.DataFrame({"paire": ["a b", "a c", "b c"], "score": [0.9, 0.8, 0.1],
                          "acteur_1": ["a", "a", "b"], "acteur_2": ["b", "c", "c"]})
    assert list(cap_per_structure(pairs, 1, "acteur_1", "acteur_2")["paire"]) == ["a b", "a c"]


def test_no_complementarity_is_recorded_not_raised():
    w = World()
    town = w.commune("91001", w.epci("200000001", "EPCI", "91"), "91")
    w.structure(town, ("amap",))
    w.structure(town, ("enr-citoyennes",))
    out = synergies.run(context(w.store()))
    assert [r.key for r in out.results] == ["non-calcule"]
    assert out.results[0].not_computed
