"""Brokers: filières and structures that bridge domains and territories (betweenness).

- **Filières**: betweenness centrality on the filière co-location graph (the significant edges of
  :mod:`~maillage.graph.analysis.colocation`), with edge length 1/lift, so the shortest paths
  follow the strongest co-locations. A filière through which the paths between otherwise
  separate groups pass is a broker.
- **Structures**: betweenness on the synergy graph, the projection of the bipartite graph
  structures — (filière, territory) through the complementarity relation: two structures are
  linked when they form a synergy candidate (complementary filières, same commune, EPCI or
  département; top-k per structure, see :mod:`~maillage.graph.analysis.synergies`), with edge
  length 1/score. Above ``exact_limit`` nodes the betweenness is estimated from ``samples``
  random sources (seeded), with networkx or with igraph (the same estimator, in C).

Each broker records how many TEE domains and communes its neighbours span.
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import pandas as pd

from .base import AnalysisContext, AnalysisOutput, Note, Result, run_analysis
from .colocation import build_network
from .inputs import actors, filieres
from .synergies import synergy_pairs

NAME = "brokers"
DEFAULTS: dict[str, Any] = {
    "backend": "igraph", "exact_limit": 2000, "samples": 500, "max_results": 100,
}


def betweenness(graph: nx.Graph, *, backend: str = "networkx", exact_limit: int = 5000,
                samples: int = 500, seed: int = 1, weight: str | None = "length",
                ) -> tuple[dict[Any, float], str]:
    """Normalised betweenness of every node, and a description of the method used.

    Above ``exact_limit`` nodes, shortest paths are counted from ``samples`` random sources
    (drawn with ``seed``) and scaled by n/k (Brandes & Pich), with networkx or igraph.

    >>> g = nx.path_graph(["a", "b", "c"])
    >>> betweenness(g, weight=None)[0]["b"], betweenness(g, backend="igraph", weight=None)[0]["b"]
    (1.0, 1.0)
    """
    n = graph.number_of_nodes()
    if n < 3:
        return {v: 0.0 for v in graph.nodes}, "exact (fewer than 3 nodes)"
    k = min(samples, n) if n > exact_limit else None
    how = "exact" if k is None else f"approximate, {k} sampled sources, seed {seed}"
    if backend == "igraph":
        return _igraph_betweenness(graph, weight, k, seed), f"{how} (igraph)"
    if k is None:
        return nx.betweenness_centrality(graph, weight=weight, normalized=True), f"{how} (networkx)"
    values = nx.betweenness_centrality(graph, k=k, seed=seed, weight=weight, normalized=True)
    return values, f"{how} (networkx)"


def _igraph_betweenness(graph: nx.Graph, weight: str | None, k: int | None,
                        seed: int) -> dict[Any, float]:
    import igraph as ig

    nodes = list(graph.nodes)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    g = ig.Graph(n=n, edges=[(index[a], index[b]) for a, b in graph.edges])
    weights = [d[weight] for _, _, d in graph.edges(data=True)] if weight else None
    if k is None:
        raw, factor = g.betweenness(weights=weights, directed=False), 1.0
    else:
        sources = random.Random(seed).sample(range(n), k)
        raw = g.betweenness(weights=weights, directed=False, sources=sources)
        factor = n / k
    scale = factor * 2.0 / ((n - 1) * (n - 2))
    return {v: raw[i] * scale for i, v in enumerate(nodes)}


def synergy_graph(kept: pd.DataFrame) -> nx.Graph:
    """The structure graph: one edge per kept synergy pair, length 1/score."""
    graph = nx.Graph()
    for row in kept.itertuples():
        graph.add_edge(row.acteur_1, row.acteur_2, length=1.0 / max(float(row.score), 1e-9),
                       score=float(row.score))
    return graph


def _spans(graph: nx.Graph, node: str, domain_of: dict[str, set[str]],
           commune_of: dict[str, str]) -> tuple[list[str], list[str]]:
    neighbours = list(graph.neighbors(node))
    domains = set(domain_of.get(node, set()))
    for v in neighbours:
        domains |= domain_of.get(v, set())
    communes = {commune_of[v] for v in neighbours + [node] if v in commune_of}
    return sorted(domains), sorted(communes)


def _broker_results(graph: nx.Graph, scores: dict[str, float], method: str, kind: str,
                    labels: dict[str, str], domain_of: dict[str, set[str]],
                    commune_of: dict[str, str], limit: int) -> list[Result]:
    ranked = sorted((v for v in scores if scores[v] > 0), key=lambda v: (-scores[v], v))[:limit]
    out = []
    for rank, node in enumerate(ranked, start=1):
        domains, communes = _spans(graph, node, domain_of, commune_of)
        name = labels.get(node) or node.rsplit("/", 1)[-1]
        what_fr, what_en = ("Filière", "Filière") if kind == "filiere" else ("Structure", "Structure")
        out.append(Result(
            kind="Broker", key=f"{kind}-{rank:04d}",
            label_fr=f"{what_fr} passerelle : {name}", label_en=f"{what_en} broker: {name}",
            score=round(scores[node], 6), rank=rank, about=[node],
            values={"degree": graph.degree(node), "domainCount": len(domains),
                    "brokerKind": kind},
            evidence={"graph": "co-location of filières" if kind == "filiere"
                      else "synergy candidates between structures",
                      "method": method, "betweenness": float(scores[node]),
                      "bridges_domains": len(domains) > 1,
                      "neighbours": sorted(graph.neighbors(node))[:20],
                      "domains": domains, "communes": communes[:20],
                      "commune_count": len(communes)},
        ))
    return out


def compute(ctx: AnalysisContext) -> tuple[dict, list[Result], dict, list[Note]]:
    """The brokers analysis: filière brokers, then structure brokers."""
    opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
    notes: list[Note] = []
    info = filieres(ctx)
    f_labels = info.set_index("filiere")["libelle"].to_dict()
    f_domain = {f: {d} for f, d in zip(info["filiere"], info["domaine"])}
    table = actors(ctx)
    s_labels = table.dropna(subset=["nom"]).groupby("acteur")["nom"].first().to_dict()
    s_domain = table.groupby("acteur")["domaine"].agg(set).to_dict()
    s_commune = table.groupby("acteur")["commune"].first().to_dict()
    kwargs = {"backend": str(opt["backend"]), "exact_limit": int(opt["exact_limit"]),
              "samples": int(opt["samples"]), "seed": ctx.seed}

    fgraph = build_network(ctx).graph.copy()
    for a, b, d in fgraph.edges(data=True):
        d["length"] = 1.0 / d["lift"]
    fscores, fmethod = betweenness(fgraph, **kwargs)
    results = _broker_results(fgraph, fscores, fmethod, "filiere", f_labels, f_domain, {},
                              int(opt["max_results"]))
    if fgraph.number_of_edges() < 2:
        notes.append(Note("Graphe de co-implantation trop petit : pas de filière passerelle.",
                          "Co-location graph too small: no filière broker."))
    _pairs, kept = synergy_pairs(ctx)
    sgraph = synergy_graph(kept)
    sscores, smethod = betweenness(sgraph, **kwargs)
    results += _broker_results(sgraph, sscores, smethod, "structure", s_labels, s_domain,
                               s_commune, int(opt["max_results"]))
    if sgraph.number_of_edges() < 2:
        notes.append(Note("Graphe des synergies trop petit : pas de structure passerelle.",
                          "Synergy graph too small: no structure broker."))
    params = {**opt, "filiere_method": fmethod, "structure_method": smethod,
              "structure_nodes": sgraph.number_of_nodes(), "structure_edges": sgraph.number_of_edges()}
    if not results:
        results = [Result(kind="Broker", key="non-calcule", label_fr="Passerelles non calculées",
                          label_en="Brokers not computed",
                          not_computed="Aucun nœud ne relie d'autres nœuds (graphes trop petits).",
                          evidence={"reason_en": "No node lies between others (graphs too small)."})]
    tables = {"courtiers": pd.DataFrame(
        [(r.values["brokerKind"], r.about[0], r.score, r.values["degree"],
          r.values["domainCount"]) for r in results if r.not_computed is None],
        columns=["type", "noeud", "intermediarite", "degre", "domaines"])}
    return params, results, tables, notes


def run(ctx: AnalysisContext) -> AnalysisOutput:
    """Run the brokers analysis."""
    return run_analysis(ctx, NAME, compute)
