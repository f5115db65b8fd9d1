"""Filière co-location network: which filières share territories more often than chance.

Method (documented in the run's parameters and in each result's evidence):

1. From ``acteurs_filieres`` + ``territoires_communes``, a filière is *present* in a territorial
   unit (commune/arrondissement, or EPCI with ``level="epci"``) when it has at least
   ``min_actors`` active actors there. The universe is the N units with at least one TEE actor.
2. For each pair of filières (A, B) present together in n_AB units, the expected number E_AB
   under a null model, ``lift = n_AB / E_AB``, ``PMI = log2(lift)`` and a one-sided p-value of
   observing at least n_AB:

   - ``null="size"`` (default): large communes hold every filière, so co-presence there is not
     a sign of affinity. Each unit u keeps its number of actors m_u and each filière f its
     overall share π_f; f is present in u with p_uf = P(Bin(m_u, π_f) ≥ min_actors), and
     ``E_AB = Σ_u p_uA·p_uB``. The p-value is the Poisson tail P(Poisson(E_AB) ≥ n_AB), a
     conservative approximation of the exact Poisson-binomial tail (Le Cam).
   - ``null="uniform"``: A's n_A units and B's n_B units drawn uniformly among N:
     ``E_AB = n_A·n_B / N`` and the exact hypergeometric p-value.

   Pairs with n_AB ≥ ``min_support`` are tested; p-values are adjusted with Benjamini–Hochberg,
   and a pair is an edge when lift > 1 and q ≤ ``alpha``.
3. Communities of the edge graph (weights = PMI) by Louvain (networkx, seeded) or Leiden
   (igraph, seeded). A community whose filières belong to several TEE domains is flagged as a
   candidate cross-domain filière (e.g. réemploi des matériaux du BTP between économie
   circulaire and bâtiment).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .base import AnalysisContext, AnalysisOutput, Note, Result, run_analysis
from .inputs import ACTORS, COMMUNES, actors, filieres, units_column
from .stats import (
    benjamini_hochberg,
    cooccurrence_table,
    hypergeom_sf,
    poisson_sf,
    presence_probability,
)

NAME = "colocation"
DEFAULTS: dict[str, Any] = {
    "min_actors": 1, "min_support": 2, "alpha": 0.05, "null": "size", "method": "louvain",
    "resolution": 1.0,
}


@dataclass
class CoLocationNetwork:
    """Presence of filières in units, the tested pairs and the significant-edge graph."""

    units: int
    counts: pd.DataFrame  # unit × filière, number of actors
    pairs: pd.DataFrame  # a, b, n_a, n_b, n_ab, expected, lift, pmi, p, q, edge
    graph: nx.Graph


def count_matrix(table: pd.DataFrame, unit: str, item: str) -> pd.DataFrame:
    """Unit × item matrix of distinct actors (units with at least one actor).

    >>> t = pd.DataFrame({"u": ["x", "x", "y"], "f": ["A", "B", "A"], "acteur": [1, 2, 3]})
    >>> count_matrix(t, "u", "f").values.tolist()
    [[1, 1], [1, 0]]
    """
    counts = table.dropna(subset=[unit]).groupby([unit, item])["acteur"].nunique()
    return counts.unstack(fill_value=0).sort_index().sort_index(axis=1)


def pair_statistics(left: pd.DataFrame, right: pd.DataFrame, *, min_actors: int,
                    min_support: int, null: str, same_items: bool,
                    left_columns: list[str] | None = None) -> pd.DataFrame:
    """Co-presence, expected co-presence, lift, PMI, p- and q-values of item pairs.

    ``left`` and ``right`` are unit × item count matrices (reindexed here on the union of their
    units); ``left_columns`` restricts the left items tested (their shares still come from all
    columns); with ``same_items`` only pairs a < b are kept.
    """
    units = left.index.union(right.index)
    left, right = left.reindex(units, fill_value=0), right.reindex(units, fill_value=0)
    if left_columns is not None:
        keep = [c for c in left.columns if c in set(left_columns)]
    else:
        keep = list(left.columns)
    pres_l, pres_r = left[keep] >= min_actors, right >= min_actors
    co = cooccurrence_table(pres_l.to_numpy(), pres_r.to_numpy())
    n_a, n_b = pres_l.sum(axis=0).to_numpy(), pres_r.sum(axis=0).to_numpy()
    if null == "uniform":
        expected = np.outer(n_a, n_b) / max(len(units), 1)
    else:
        prob_l = presence_probability(left.to_numpy(), min_actors)[:, left.columns.get_indexer(keep)]
        expected = prob_l.T @ presence_probability(right.to_numpy(), min_actors)
    rows = []
    for i, a in enumerate(keep):
        for j, b in enumerate(right.columns):
            if same_items and a >= b:
                continue
            n_ab, e = int(co[i, j]), float(expected[i, j])
            p = float("nan")
            if n_ab >= min_support:
                p = (hypergeom_sf(n_ab, len(units), int(n_a[i]), int(n_b[j])) if null == "uniform"
                     else poisson_sf(n_ab, e))
            rows.append((a, b, int(n_a[i]), int(n_b[j]), n_ab, e, n_ab / e if e else np.nan, p))
    df = pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "n_ab", "expected", "lift", "p"])
    df["pmi"] = np.log2(df["lift"].where(df["lift"] > 0))
    tested = df["p"].notna()
    df["q"] = np.nan
    df.loc[tested, "q"] = benjamini_hochberg(df.loc[tested, "p"].tolist())
    df.attrs["units"] = len(units)
    return df


def build_network(ctx: AnalysisContext) -> CoLocationNetwork:
    """The co-location network of ``ctx`` (computed once, shared with the brokers analysis)."""
    def build() -> CoLocationNetwork:
        opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
        counts = count_matrix(actors(ctx), units_column(ctx.level), "filiere")
        pairs = pair_statistics(counts, counts, min_actors=int(opt["min_actors"]),
                                min_support=int(opt["min_support"]), null=str(opt["null"]),
                                same_items=True)
        pairs["edge"] = (pairs["lift"] > 1) & (pairs["q"] <= float(opt["alpha"]))
        graph = nx.Graph()
        graph.add_nodes_from(counts.columns)
        for row in pairs[pairs["edge"]].itertuples():
            graph.add_edge(row.a, row.b, weight=float(row.pmi), lift=float(row.lift))
        return CoLocationNetwork(len(counts), counts, pairs, graph)

    return ctx.derived(f"colocation-{ctx.level}", [ACTORS, COMMUNES], build)


def communities(graph: nx.Graph, method: str, resolution: float, seed: int) -> list[set[str]]:
    """Communities of ``graph`` (isolated nodes included as singletons), in a stable order."""
    if graph.number_of_edges() == 0:
        parts = [{n} for n in graph.nodes]
    elif method == "leiden":
        parts = _leiden(graph, resolution, seed)
    else:
        parts = nx.community.louvain_communities(graph, weight="weight", resolution=resolution,
                                                 seed=seed)
    return sorted((set(p) for p in parts), key=lambda p: (-len(p), min(p)))


def _leiden(graph: nx.Graph, resolution: float, seed: int) -> list[set[str]]:
    import igraph as ig

    nodes = sorted(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[a], index[b]) for a, b in graph.edges])
    weights = [graph.edges[a, b]["weight"] for a, b in graph.edges]
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="modularity", weights=weights,
                                  resolution=resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return [{nodes[i] for i in members} for members in part]


def _edge_results(net: CoLocationNetwork, labels: dict[str, str], level: str) -> list[Result]:
    edges = net.pairs[net.pairs["edge"]].sort_values(["pmi", "a", "b"], ascending=[False, True, True])
    out = []
    for rank, row in enumerate(edges.itertuples(), start=1):
        la, lb = labels.get(row.a, row.a), labels.get(row.b, row.b)
        out.append(Result(
            kind="FiliereCoLocation", key=f"lien-{rank:04d}",
            label_fr=f"Co-implantation : {la} — {lb}", label_en=f"Co-location: {la} — {lb}",
            score=float(row.pmi), rank=rank, about=[row.a, row.b],
            values={"lift": float(row.lift), "pValue": float(row.q), "support": int(row.n_ab)},
            evidence={"level": level, "units": net.units, "pmi": float(row.pmi),
                      "n_a": row.n_a, "n_b": row.n_b,
                      "n_ab": row.n_ab, "expected": round(float(row.expected), 4),
                      "p_value": float(row.p), "q_value": float(row.q)},
        ))
    return out


def _community_result(rank: int, members: set[str], net: CoLocationNetwork,
                      info: pd.DataFrame) -> Result:
    rows = info.loc[sorted(members)]
    domains = sorted(rows["domaine"].unique())
    cross = len(domains) > 1
    inner = net.graph.subgraph(members)
    weights = [d["weight"] for _, _, d in inner.edges(data=True)]
    names = ", ".join(rows["libelle"])
    tag_fr = f" (transversale : {len(domains)} domaines)" if cross else ""
    tag_en = f" (cross-domain: {len(domains)} domains)" if cross else ""
    return Result(
        kind="FiliereCommunity", key=f"communaute-{rank:02d}",
        label_fr=f"Communauté de filières {rank} : {names}{tag_fr}",
        label_en=f"Filière community {rank}: {names}{tag_en}",
        score=float(np.mean(weights)) if weights else 0.0, rank=rank,
        about=sorted(members),
        values={"crossDomain": cross},
        evidence={"members": [{"filiere": f, "label": r.libelle, "domain": r.domaine}
                              for f, r in rows.iterrows()],
                  "domains": domains, "size": len(members), "internal_edges": inner.number_of_edges(),
                  "mean_internal_pmi": float(np.mean(weights)) if weights else None,
                  "cross_domain_candidate": cross},
    )


def compute(ctx: AnalysisContext) -> tuple[dict, list[Result], dict, list[Note]]:
    """The co-location analysis: significant filière pairs and their communities."""
    opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
    net = build_network(ctx)
    info = filieres(ctx).set_index("filiere")
    labels = info["libelle"].to_dict()
    notes: list[Note] = []
    test = "hypergeometric" if opt["null"] == "uniform" else "Poisson tail of the size null"
    params = {**opt, "universe_units": net.units, "test": f"{test}, Benjamini-Hochberg"}
    reason = _too_few(net)
    if reason:
        notes.append(reason)
        result = Result(kind="FiliereCommunity", key="non-calcule",
                        label_fr="Communautés de filières non calculées",
                        label_en="Filière communities not computed", not_computed=reason.fr,
                        evidence={"reason_en": reason.en, "units": net.units})
        return params, [result], {"colocation_paires": net.pairs}, notes
    parts = communities(net.graph, str(opt["method"]), float(opt["resolution"]), ctx.seed)
    info = info.reindex(sorted(set(info.index) | set(net.graph.nodes)))
    info["libelle"] = info["libelle"].fillna(pd.Series(info.index, index=info.index))
    info["domaine"] = info["domaine"].fillna("")
    grouped = [p for p in parts if len(p) > 1]
    results = _edge_results(net, labels, ctx.level)
    results += [_community_result(i, p, net, info) for i, p in enumerate(grouped, start=1)]
    params["modularity"] = round(nx.community.modularity(net.graph, parts), 4) \
        if net.graph.number_of_edges() else 0.0
    if not grouped:
        notes.append(Note("Aucune paire de filières significativement co-implantée.",
                          "No significantly co-located pair of filières."))
    membership = pd.DataFrame([(f, i) for i, p in enumerate(parts, start=1) for f in sorted(p)],
                              columns=["filiere", "communaute"])
    return params, results, {"colocation_paires": net.pairs,
                             "colocation_communautes": membership}, notes


def _too_few(net: CoLocationNetwork) -> Note | None:
    if net.units < 3:
        return Note(f"Trop peu de territoires avec des acteurs TEE ({net.units}, il en faut 3).",
                    f"Too few territories with TEE actors ({net.units}, 3 needed).")
    if net.counts.shape[1] < 2:
        return Note("Moins de deux filières présentes : pas de co-implantation à mesurer.",
                    "Fewer than two filières present: no co-location to measure.")
    return None


def run(ctx: AnalysisContext) -> AnalysisOutput:
    """Run the co-location analysis."""
    return run_analysis(ctx, NAME, compute)
