"""Brokers: the planted bridge has the highest betweenness, for structures and for filières."""

from __future__ import annotations

import networkx as nx
import pytest
from maillage.graph.analysis import brokers
from maillage.graph.analysis.brokers import betweenness
from test_analysis_world import IRIS, World, context


def bridge_world() -> tuple[World, str]:
    """Structure X (réemploi + matériaux du BTP) links réparation and éco-construction groups.

    Réparation and éco-construction are not complementary: every path between the two groups of
    synergy candidates goes through X. Filières (none complementary to another): AMAP and
    rénovation share communes 0–23, cyclologistique and EnR citoyennes communes 24–47, gestion
    des déchets (the bridge) communes 12–35, circuits courts communes 48–95.
    """
    w = World()
    epcis = [w.epci(f"20000000{i}", f"EPCI {i}", "91") for i in range(4)]
    towns = [w.commune(f"91{i:03d}", epcis[i // 24], "91") for i in range(96)]
    x = w.structure(towns[0], ("reemploi", "reemploi-materiaux-btp"), name="Passerelle X")
    for _ in range(3):
        w.structure(towns[0], ("reparation",))
        w.structure(towns[0], ("eco-construction",))
    groups = {"amap": range(24), "renovation-energetique": range(24),
              "cyclologistique": range(24, 48), "enr-citoyennes": range(24, 48),
              "gestion-dechets": range(12, 36), "circuits-courts": range(48, 96)}
    for slug, where in groups.items():
        for i in where:
            w.structure(towns[i], (slug,))
    return w, x


@pytest.fixture(scope="module")
def output():
    world, x = bridge_world()
    return brokers.run(context(world.store())), x


def test_planted_structure_bridge_is_the_top_broker(output):
    out, x = output
    structures = [r for r in out.results if r.values.get("brokerKind") == "structure"]
    assert structures[0].about == [x] and structures[0].rank == 1
    assert structures[0].evidence["bridges_domains"] is True
    assert structures[0].values["domainCount"] == 2
    assert structures[0].values["degree"] == 6
    assert all(r.score < structures[0].score for r in structures[1:])


def test_planted_filiere_bridge_is_the_top_broker(output):
    out, _ = output
    filieres = [r for r in out.results if r.values.get("brokerKind") == "filiere"]
    assert filieres[0].about == [IRIS.concept("tee", "gestion-dechets").value]
    assert filieres[0].values["domainCount"] == 4 and filieres[0].values["degree"] == 4
    assert all(r.score < filieres[0].score for r in filieres[1:])
    assert out.parameters["structure_method"] == "exact (igraph)"


def test_backends_and_sampling_agree_on_the_bridge():
    graph = nx.union(nx.complete_graph(5), nx.complete_graph(range(5, 10)))
    graph.add_edges_from((10, v) for v in range(10))  # node 10 is the only bridge
    nx.set_edge_attributes(graph, 1.0, "length")
    exact, method = betweenness(graph)
    fast, method_ig = betweenness(graph, backend="igraph")
    sampled, method_s = betweenness(graph, exact_limit=5, samples=8, seed=3)
    sampled_ig, method_sig = betweenness(graph, backend="igraph", exact_limit=5, samples=8, seed=3)
    assert (method, method_ig) == ("exact (networkx)", "exact (igraph)")
    assert method_s.startswith("approximate") and method_sig.endswith("(igraph)")
    for values in (exact, fast, sampled, sampled_ig):
        assert max(values, key=values.get) == 10
    assert fast[10] == pytest.approx(exact[10]) == pytest.approx(25 / 45)
    assert sum(sampled_ig.values()) == pytest.approx(sum(exact.values()), rel=0.5)
