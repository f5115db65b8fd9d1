"""Territorial gaps: TEE actors per domain in each EPCI against the median, and white zones.

- For each EPCI and TEE domain: the number of active actors located in its communes (an
  arrondissement counts in the EPCI of its commune), the density per 10,000 inhabitants
  (population municipale of its communes) and its ratio to the median density of the same
  domain over all EPCIs of the store (the Île-de-France median). Results are ranked from the
  largest deficit (lowest ratio).
- White zones: an (EPCI, domain) or (EPCI, filière) pair with no actor, for a domain or filière
  present elsewhere. Their score is the number of actors the EPCI would have at the average
  density of the whole area (``density × population / 10,000``). A filière with no actor in any
  EPCI is reported once, without territory.
- ``--territory`` restricts the EPCIs reported, never the median.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import AnalysisContext, AnalysisOutput, Note, Result, run_analysis
from .inputs import EPCIS, all_actors, communes, filieres, last_segment, scoped_communes

NAME = "gaps"
PER = 10_000
DEFAULTS: dict[str, Any] = {"filiere_white_zones": True}


def epci_table(ctx: AnalysisContext) -> pd.DataFrame:
    """EPCIs with code, name and population (sum over their communes, arrondissements excluded)."""
    towns = communes(ctx)
    pop = (towns[towns["type"] == "commune"].dropna(subset=["epci"])
           .groupby("epci")["population"].sum(min_count=1))
    names = ctx.frame(EPCIS).drop_duplicates("epci").set_index("epci")
    index = sorted(set(towns["epci"].dropna()) | set(names.index))
    out = pd.DataFrame(index=pd.Index(index, name="epci"))
    out["code"] = names["code"].reindex(index).fillna(pd.Series(index, index=index).map(last_segment))
    out["nom"] = names["nom"].reindex(index).fillna(out["code"])
    out["population"] = pd.to_numeric(pop.reindex(index), errors="coerce").astype(float)
    return out


def density_table(counts: pd.DataFrame, epcis: pd.DataFrame) -> pd.DataFrame:
    """Long table (epci, item, actors, density, median, ratio) from an epci × item count matrix.

    >>> counts = pd.DataFrame({"d": [1, 4, 0]}, index=["e1", "e2", "e3"])
    >>> epcis = pd.DataFrame({"population": [10_000, 20_000, 5_000]}, index=["e1", "e2", "e3"])
    >>> density_table(counts, epcis)[["epci", "density", "median", "ratio"]].values.tolist()
    [['e1', 1.0, 1.0, 1.0], ['e2', 2.0, 1.0, 2.0], ['e3', 0.0, 1.0, 0.0]]
    """
    pop = epcis["population"].reindex(counts.index)
    density = counts.div(pop, axis=0) * PER
    median = density[pop > 0].median(axis=0)
    long = counts.stack().rename("actors").reset_index()
    long.columns = ["epci", "item", "actors"]
    long["population"] = long["epci"].map(pop)
    long["density"] = [density.at[e, i] for e, i in zip(long["epci"], long["item"])]
    long["median"] = long["item"].map(median)
    long["ratio"] = np.where(long["median"] > 0, long["density"] / long["median"], np.nan)
    return long


def _count_matrix(table: pd.DataFrame, item: str, epcis: pd.Index, items: list[str]) -> pd.DataFrame:
    counts = table.dropna(subset=["epci"]).groupby(["epci", item])["acteur"].nunique()
    return counts.unstack(fill_value=0).reindex(index=epcis, columns=items, fill_value=0)


def _fmt(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def _gap_result(rank: int, row: Any, epcis: pd.DataFrame, labels: dict[str, str]) -> Result:
    name, item = epcis.at[row.epci, "nom"], labels.get(row.item, row.item)
    if pd.isna(row.density):
        return Result(kind="TerritorialGap", key=f"densite-{rank:04d}",
                      label_fr=f"{item} — {name} : densité non calculée",
                      label_en=f"{item} — {name}: density not computed",
                      about=[row.item, row.epci], territory=row.epci,
                      values={"actorCount": int(row.actors)},
                      not_computed="Population de l'EPCI inconnue dans le graphe des territoires.",
                      evidence={"reason_en": "EPCI population unknown in the territory graph."})
    ratio = None if pd.isna(row.ratio) else float(row.ratio)
    values: dict[str, Any] = {"actorCount": int(row.actors), "density": float(row.density),
                              "medianDensity": float(row.median)}
    return Result(
        kind="TerritorialGap", key=f"densite-{rank:04d}",
        label_fr=f"{item} — {name} : {_fmt(row.density)} acteurs pour 10 000 habitants "
                 f"(médiane {_fmt(row.median)})",
        label_en=f"{item} — {name}: {row.density:.2f} actors per 10,000 inhabitants "
                 f"(median {row.median:.2f})",
        score=ratio, rank=rank, about=[row.item, row.epci], territory=row.epci, values=values,
        not_computed=None if ratio is not None else "Médiane nulle : ratio non défini.",
        evidence={"actors": int(row.actors), "population": int(row.population),
                  "density_per_10000": round(float(row.density), 4),
                  "median_density": round(float(row.median), 4), "ratio": ratio},
    )


def _white_zones(long: pd.DataFrame, scope: set[str], epcis: pd.DataFrame,
                 labels: dict[str, str], kind: str) -> list[Result]:
    totals = long.groupby("item")["actors"].sum()
    population = epcis["population"].sum()
    present = totals[totals > 0].index
    zones = long[(long["actors"] == 0) & long["item"].isin(present) & long["epci"].isin(scope)]
    zones = zones.assign(
        expected=zones["item"].map(totals / population * PER) * zones["population"] / PER)
    zones = zones.sort_values(["expected", "epci", "item"], ascending=[False, True, True])
    out = []
    for rank, row in enumerate(zones.itertuples(), start=1):
        name, item = epcis.at[row.epci, "nom"], labels.get(row.item, row.item)
        expected = None if pd.isna(row.expected) else round(float(row.expected), 3)
        out.append(Result(
            kind="WhiteZone", key=f"zone-blanche-{kind}-{rank:04d}",
            label_fr=f"Zone blanche : aucun acteur « {item} » — {name}",
            label_en=f"White zone: no “{item}” actor — {name}",
            score=expected, rank=rank, about=[row.item, row.epci],
            territory=row.epci, values={"actorCount": 0, "whiteZoneOf": kind},
            evidence={"level": kind, "expected_at_average_density": expected,
                      "population": None if pd.isna(row.population) else int(row.population)},
        ))
    for item in sorted(set(long["item"]) - set(present)):
        out.append(Result(
            kind="WhiteZone", key=f"zone-blanche-{kind}-absente-{last_segment(item)}",
            label_fr=f"« {labels.get(item, item)} » : aucun acteur dans les territoires analysés",
            label_en=f"“{labels.get(item, item)}”: no actor in the territories analysed",
            about=[item], values={"actorCount": 0, "whiteZoneOf": kind},
            evidence={"level": kind, "everywhere": True}))
    return out


def compute(ctx: AnalysisContext) -> tuple[dict, list[Result], dict, list[Note]]:
    """The gaps analysis: density per domain and EPCI, and white zones."""
    opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
    epcis = epci_table(ctx)
    info = filieres(ctx)
    table = all_actors(ctx)
    domains = sorted(info["domaine"].unique())
    labels = {**dict(zip(info["domaine"], info["domaineLibelle"])),
              **dict(zip(info["filiere"], info["libelle"]))}
    if epcis.empty or not domains:
        note = Note("Pas d'EPCI ou pas de domaine TEE dans le graphe.",
                    "No EPCI or no TEE domain in the graph.")
        return opt, [Result(kind="TerritorialGap", key="non-calcule", label_fr="Lacunes non calculées",
                            label_en="Gaps not computed", not_computed=note.fr)], {}, [note]
    scope = set(scoped_communes(ctx)["epci"].dropna())
    by_domain = density_table(_count_matrix(table, "domaine", epcis.index, domains), epcis)
    by_domain = by_domain.sort_values(["ratio", "epci", "item"], na_position="last")
    shown = by_domain[by_domain["epci"].isin(scope)]
    results = [_gap_result(i, row, epcis, labels) for i, row in enumerate(shown.itertuples(), 1)]
    results += _white_zones(by_domain, scope, epcis, labels, "domaine")
    tables = {"lacunes_domaines": by_domain}
    if opt["filiere_white_zones"]:
        by_filiere = density_table(
            _count_matrix(table, "filiere", epcis.index, sorted(info["filiere"])), epcis)
        tables["lacunes_filieres"] = by_filiere
        results += _white_zones(by_filiere, scope, epcis, labels, "filiere")
    notes = []
    missing = epcis["population"].isna().sum()
    if missing:
        notes.append(Note(f"{missing} EPCI sans population : densité non calculée.",
                          f"{missing} EPCI without population: density not computed."))
    return opt, results, tables, notes


def run(ctx: AnalysisContext) -> AnalysisOutput:
    """Run the gaps analysis."""
    return run_analysis(ctx, NAME, compute)
