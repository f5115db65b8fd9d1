"""Emerging filières: NAF activities of ESS structures outside every TEE filière that grow.

Method:

1. ``activites_creations_communes`` counts structures per NAF activity, creation year, commune
   and state; the activities without ``mai:proposedFiliere`` are the candidates.
2. Reference year R: ``year`` if given, else the latest creation year — or the year before when
   the latest has fewer than half the creations of the previous one (a stock file extracted
   during the year holds a partial year). With a window of K years, ``recent`` counts the
   creations in (R−K, R] and ``previous`` those in (R−2K, R−K].
3. Growth = the smoothed ratio (recent + α)/(previous + α) of the activity divided by the same
   ratio for all ESS creations (so a general rise of creations is not mistaken for emergence).
   An activity is *eligible* with at least ``min_recent`` recent creations, *emerging* when its
   growth is at least ``min_growth``.
4. Co-location with TEE filières: lift, PMI and hypergeometric q-value (Benjamini–Hochberg)
   between the units where the activity has active structures and those where each filière is
   present (units at ``level``). Significant neighbours have lift > 1, q ≤ ``alpha`` and at least
   ``min_support`` shared units.
5. Score = log2(growth) + β × (largest PMI with a significant neighbour, 0 if none).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .base import AnalysisContext, AnalysisOutput, Iri, Note, Result, run_analysis
from .colocation import build_network, pair_statistics
from .inputs import CREATIONS, NAF, filieres, last_segment, scoped_communes, units_column
from .stats import smoothed_ratio

NAME = "emergence"
DEFAULTS: dict[str, Any] = {
    "window": 5, "year": None, "min_recent": 5, "min_growth": 1.5, "alpha_smoothing": 1.0,
    "beta": 0.5, "alpha": 0.05, "min_support": 2, "max_results": 100, "neighbours": 5,
}


def reference_year(per_year: pd.Series) -> int | None:
    """The last complete year of a creations-per-year series (see the module docstring).

    >>> reference_year(pd.Series({2020: 10, 2021: 12, 2022: 3}))
    2021
    >>> reference_year(pd.Series({2020: 10, 2021: 12}))
    2021
    """
    years = per_year[per_year > 0].sort_index()
    if years.empty:
        return None
    last = int(years.index[-1])
    before = per_year.get(last - 1, 0)
    return last - 1 if before and years.iloc[-1] < 0.5 * before else last


def creations_table(ctx: AnalysisContext) -> pd.DataFrame:
    """Structures per activity, year, unit and state, within ``ctx.territory``.

    ``rattachee``: the activity is mapped to a TEE filière (``activites_naf``); ``active``: the
    structure has no closing date and a state other than C.
    """
    df = ctx.frame(CREATIONS)
    places = scoped_communes(ctx)[["commune", "epci"]]
    df = df.merge(places, on="commune", how="inner")
    naf = ctx.frame(NAF)
    mapped = set(naf.loc[pd.to_numeric(naf["filieres"], errors="coerce").fillna(0) > 0,
                         "activite"])
    df["annee"] = pd.to_numeric(df["annee"], errors="coerce").astype(float)
    df["structures"] = pd.to_numeric(df["structures"], errors="coerce").fillna(0).astype(int)
    df["rattachee"] = df["activite"].isin(mapped)
    df["active"] = (df["etat"].fillna("") != "C") & ~df["fermee"].fillna(False).astype(bool)
    return df


def growth_table(df: pd.DataFrame, year: int, window: int, alpha: float) -> pd.DataFrame:
    """Recent/previous creations and relative growth of each unmapped activity."""
    recent_years = range(year - window + 1, year + 1)
    previous_years = range(year - 2 * window + 1, year - window + 1)
    dated = df.dropna(subset=["annee"])
    total_recent = dated.loc[dated["annee"].isin(recent_years), "structures"].sum()
    total_previous = dated.loc[dated["annee"].isin(previous_years), "structures"].sum()
    baseline = smoothed_ratio(total_recent, total_previous, alpha)
    unmapped = dated[~dated["rattachee"]]
    per_year = unmapped.groupby(["activite", "annee"])["structures"].sum().unstack(fill_value=0)
    out = pd.DataFrame(index=per_year.index)
    out["recent"] = per_year.reindex(columns=list(recent_years), fill_value=0).sum(axis=1)
    out["previous"] = per_year.reindex(columns=list(previous_years), fill_value=0).sum(axis=1)
    out["ratio"] = [smoothed_ratio(r, p, alpha) for r, p in zip(out["recent"], out["previous"])]
    out["growth"] = out["ratio"] / baseline
    out.attrs.update(baseline=baseline, total_recent=int(total_recent),
                     total_previous=int(total_previous))
    shown = list(range(year - 2 * window + 1, year + 1))
    out["per_year"] = [
        {str(y): int(per_year.loc[a].get(y, 0)) for y in shown} for a in out.index
    ]
    return out


def neighbour_table(ctx: AnalysisContext, df: pd.DataFrame, eligible: list[str],
                    opt: dict[str, Any]) -> pd.DataFrame:
    """Lift/PMI/q of each eligible activity with each TEE filière over territorial units.

    The activities' counts are those of all active structures (so a unit's size is its number of
    ESS structures); the filières' counts those of the co-location network.
    """
    unit = units_column(ctx.level)
    active = df[df["active"]].dropna(subset=[unit])
    counts = active.groupby([unit, "activite"])["structures"].sum().unstack(fill_value=0)
    filiere_counts = build_network(ctx).counts
    if counts.empty or filiere_counts.empty or not eligible:
        return pd.DataFrame(columns=["a", "b", "n_ab", "lift", "pmi", "q", "neighbour"])
    pairs = pair_statistics(counts, filiere_counts, min_actors=1,
                            min_support=int(opt["min_support"]),
                            null=str(ctx.option("colocation", "null", "size")),
                            same_items=False, left_columns=eligible)
    pairs["neighbour"] = (pairs["lift"] > 1) & (pairs["q"] <= float(opt["alpha"]))
    return pairs


def _neighbours(pairs: pd.DataFrame, activity: str, labels: dict[str, str],
                limit: int) -> list[dict[str, Any]]:
    rows = pairs[(pairs["a"] == activity) & pairs["neighbour"]]
    rows = rows.sort_values(["pmi", "b"], ascending=[False, True]).head(limit)
    return [{"filiere": r.b, "label": labels.get(r.b, r.b), "lift": round(float(r.lift), 4),
             "pmi": round(float(r.pmi), 4), "q_value": float(r.q), "support": int(r.n_ab)}
            for r in rows.itertuples()]


def _result(rank: int, activity: str, row: Any, info: dict[str, tuple[str, str]],
            neighbours: list[dict[str, Any]], context: dict[str, Any]) -> Result:
    code, label = info.get(activity, (last_segment(activity), ""))
    text = f"{code} {label}".strip()
    ratio = f"{row.growth:.2f}".replace(".", ",")
    return Result(
        kind="EmergingActivity", key=f"activite-{rank:03d}",
        label_fr=f"Activité émergente hors filières TEE : {text} (croissance relative ×{ratio})",
        label_en=f"Emerging activity outside TEE filières: {text} (relative growth ×{row.growth:.2f})",
        score=float(row.score), rank=rank,
        about=[activity] + [n["filiere"] for n in neighbours],
        values={"recentCount": int(row.recent), "previousCount": int(row.previous),
                "growthRatio": float(row.growth),
                "colocatedWith": [Iri(n["filiere"]) for n in neighbours]},
        evidence={**context, "naf_code": code, "naf_label": label,
                  "creations_per_year": row.per_year, "recent": int(row.recent),
                  "previous": int(row.previous), "ratio": round(float(row.ratio), 4),
                  "relative_growth": round(float(row.growth), 4), "neighbours": neighbours},
    )


def compute(ctx: AnalysisContext) -> tuple[dict, list[Result], dict, list[Note]]:
    """The emergence analysis: growing unmapped activities and their TEE neighbours."""
    opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
    df = creations_table(ctx)
    per_year = df.dropna(subset=["annee"]).groupby("annee")["structures"].sum()
    year = int(opt["year"]) if opt["year"] else reference_year(per_year)
    params = {k: v for k, v in opt.items() if v is not None}
    if year is None or (~df["rattachee"]).sum() == 0:
        note = Note("Pas de date de création pour les activités hors filières : croissance "
                    "non calculable.", "No creation dates for unmapped activities: growth "
                    "cannot be computed.")
        return params, [_not_computed(note)], {}, [note]
    window = int(opt["window"])
    params["reference_year"] = year
    growth = growth_table(df, year, window, float(opt["alpha_smoothing"]))
    growth["eligible"] = growth["recent"] >= int(opt["min_recent"])
    pairs = neighbour_table(ctx, df, list(growth.index[growth["eligible"]]), opt)
    labels = filieres(ctx).set_index("filiere")["libelle"].to_dict()
    best = pairs[pairs["neighbour"]].groupby("a")["pmi"].max() if len(pairs) else pd.Series()
    growth["colocation_pmi"] = best.reindex(growth.index).fillna(0.0)
    growth["score"] = np.log2(growth["growth"]) + float(opt["beta"]) * growth["colocation_pmi"]
    growth["emerging"] = growth["eligible"] & (growth["growth"] >= float(opt["min_growth"]))
    ranked = growth.sort_values(["score"], ascending=False, kind="mergesort")
    chosen = ranked[ranked["emerging"]].head(int(opt["max_results"]))
    info = _naf_info(ctx)
    context = {"reference_year": year, "window": window, "level": ctx.level,
               "baseline_ratio": round(float(growth.attrs["baseline"]), 4)}
    results = [
        _result(rank, a, row, info, _neighbours(pairs, a, labels, int(opt["neighbours"])), context)
        for rank, (a, row) in enumerate(chosen.iterrows(), start=1)
    ]
    notes = _notes(growth, chosen, opt)
    return params, results, {"emergence_activites": _export(ranked, info)}, notes


def _naf_info(ctx: AnalysisContext) -> dict[str, tuple[str, str]]:
    naf = ctx.frame(NAF)
    return {r.activite: (str(r.code), "" if pd.isna(r.libelle) else str(r.libelle))
            for r in naf.itertuples()}


def _export(ranked: pd.DataFrame, info: dict[str, tuple[str, str]]) -> pd.DataFrame:
    out = ranked.drop(columns=["per_year"]).reset_index().rename(columns={"index": "activite"})
    out.insert(1, "code", out["activite"].map(lambda a: info.get(a, ("", ""))[0]))
    out.insert(2, "libelle", out["activite"].map(lambda a: info.get(a, ("", ""))[1]))
    return out


def _not_computed(note: Note) -> Result:
    return Result(kind="EmergingActivity", key="non-calcule",
                  label_fr="Activités émergentes non calculées",
                  label_en="Emerging activities not computed", not_computed=note.fr,
                  evidence={"reason_en": note.en})


def _notes(growth: pd.DataFrame, chosen: pd.DataFrame, opt: dict[str, Any]) -> list[Note]:
    n_all, n_ok, n_em = len(growth), int(growth["eligible"].sum()), int(growth["emerging"].sum())
    notes = [Note(
        f"{n_all} activités hors filières TEE, {n_ok} avec au moins {opt['min_recent']} créations "
        f"récentes, {n_em} émergentes (croissance relative ≥ {opt['min_growth']}).",
        f"{n_all} activities outside TEE filières, {n_ok} with at least {opt['min_recent']} recent "
        f"creations, {n_em} emerging (relative growth ≥ {opt['min_growth']}).")]
    if n_em > len(chosen):
        notes.append(Note(f"Seules les {len(chosen)} premières sont enregistrées dans le graphe.",
                          f"Only the top {len(chosen)} are stored in the graph."))
    if math.isclose(float(growth.attrs["total_previous"]), 0.0):
        notes.append(Note("Aucune création dans la fenêtre précédente : croissance peu fiable.",
                          "No creation in the previous window: growth is unreliable."))
    return notes


def run(ctx: AnalysisContext) -> AnalysisOutput:
    """Run the emergence analysis."""
    return run_analysis(ctx, NAME, compute)
