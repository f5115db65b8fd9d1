"""Synergy candidates: pairs of structures in complementary filières close to each other.

Score of a pair (x in filière F, y in filière G, with F ``mai:complementaryTo`` G)::

    score = w_relation × w_proximity × q(x) × q(y)

- ``w_relation``: 1.0 for an upstream–downstream relation (``amont-aval``: one's output is the
  other's input), 0.9 for a reciprocal one (shared know-how or places), 0.8 when the relation is
  not described;
- ``w_proximity``: 1.0 in the same commune (or arrondissement), 0.6 in the same EPCI, 0.3 in the
  same département — farther pairs are not considered;
- ``q(s) = sqrt(size(s) × age(s))``: size from the INSEE staff band (10+ employees 1.0, 1–9
  0.85, none — ``00`` or non-employer ``NN`` — 0.7, unknown 0.75: a structure with staff can
  commit time to a partnership) and age
  (5+ years 1.0, 2–4 years 0.9, under 2 years 0.8, unknown 0.9).

Scaling: pairs are never enumerated nationally. For each complementary pair (F, G), each level
and each territory of that level, only the ``top_k`` best partners by q are joined to each
structure; since the score is ``w × q(y)`` for a fixed x, this finds each structure's exact
top-k partners. Each structure then keeps its ``top_k`` best pairs (the cap is reported); a
pair kept by either side is a candidate, and all candidates go to the CSV export. The graph
receives the pairs that are among the ``stored_per_structure`` best of one of their structures
(so every structure with a candidate has its best partner on its page), at most
``max_stored`` of them, best first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .base import AnalysisContext, AnalysisOutput, Iri, Note, Result, run_analysis
from .inputs import ACTORS, COMMUNES, COMPLEMENTARITIES, actors, complementarities, filieres

NAME = "synergies"
LEVELS = ("commune", "epci", "departement")
PROXIMITY = {"commune": 1.0, "epci": 0.6, "departement": 0.3}
RELATION = {"amont-aval": 1.0, "reciproque": 0.9}
RELATION_DEFAULT = 0.8
DEFAULTS: dict[str, Any] = {"top_k": 5, "stored_per_structure": 1, "max_stored": 20_000,
                            "max_level": "departement"}
PROXIMITY_FR = {"commune": "même commune", "epci": "même EPCI", "departement": "même département"}
PROXIMITY_EN = {"commune": "same commune", "epci": "same EPCI", "departement": "same département"}


def size_factor(band: str) -> float:
    """Weight of an INSEE staff band code (``NN`` = non-employer unit, empty = unknown).

    >>> size_factor("12"), size_factor("02"), size_factor("00"), size_factor("NN"), size_factor("")
    (1.0, 0.85, 0.7, 0.7, 0.75)
    """
    if band == "NN":
        return 0.7
    if not band[:2].isdigit():
        return 0.75
    code = int(band[:2])
    return 0.7 if code == 0 else 0.85 if code < 11 else 1.0


def age_factor(creation_year: float, reference_year: int) -> float:
    """Weight of a structure's age in years (unknown creation year = 0.9).

    >>> age_factor(2010, 2024), age_factor(2021, 2024), age_factor(2024, 2024)
    (1.0, 0.9, 0.8)
    """
    if creation_year is None or math.isnan(creation_year):
        return 0.9
    age = reference_year - creation_year
    return 1.0 if age >= 5 else 0.9 if age >= 2 else 0.8


def structure_table(ctx: AnalysisContext) -> pd.DataFrame:
    """Actors × filière with their quality ``q`` and integer codes for the joins.

    ``sid`` numbers the actors (in IRI order), ``fid`` the filières; ``commune_c``, ``epci_c``
    and ``departement_c`` the territories (-1 when unknown): the blocking works on integers.
    """
    df = actors(ctx)
    years = df["annee"].dropna()
    ref = int(years.max()) if len(years) else 0
    size = df["tranche"].map(size_factor)
    age = df["annee"].map(lambda y: age_factor(y, ref))
    df["q"] = np.sqrt(size * age)
    df["nom"] = df["nom"].fillna("")
    df["sid"] = pd.factorize(df["acteur"], sort=True)[0]
    df["fid"] = pd.factorize(df["filiere"], sort=True)[0]
    for level in LEVELS:
        df[f"{level}_c"] = pd.factorize(df[level], sort=True)[0]
    return df


def _candidates(a: pd.DataFrame, b: pd.DataFrame, levels: list[str], k: int) -> pd.DataFrame:
    """(x, y) pairs where y is among the k best of its filière in one of x's territories."""
    parts = []
    for level in levels:
        col = f"{level}_c"
        best = (b[b[col] >= 0].sort_values(["q", "sid"], ascending=[False, True])
                .groupby(col, sort=False).head(k))
        pairs = a.loc[a[col] >= 0, ["sid", col]].merge(best[["sid", col]], on=col,
                                                       suffixes=("_x", "_y"))
        parts.append(pairs[["sid_x", "sid_y"]])
    return pd.concat(parts, ignore_index=True).drop_duplicates()


NUMERIC = ["sid", "fid", "q", "commune_c", "epci_c", "departement_c"]


def candidate_pairs(table: pd.DataFrame, comp: pd.DataFrame, levels: list[str],
                    k: int) -> pd.DataFrame:
    """All blocked candidate pairs (integer codes), with proximity, score and pair key.

    Columns: ``sid_1``, ``fid_1``, ``sid_2``, ``fid_2`` (codes of :func:`structure_table`),
    ``rel`` (row of ``comp``), ``proximite``, ``territoire_c``, the weights, ``score`` and
    ``paire`` (one integer per unordered pair of structures); best pairs first.
    """
    fids = dict(zip(table["filiere"], table["fid"]))
    by_fid = {f: g[NUMERIC] for f, g in table.groupby("fid")}
    frames = []
    for i, rel in enumerate(comp.itertuples()):
        a, b = by_fid.get(fids.get(rel.a, -1)), by_fid.get(fids.get(rel.b, -1))
        if a is None or b is None:
            continue
        pairs = pd.concat([_candidates(a, b, levels, k),
                           _candidates(b, a, levels, k).rename(
                               columns={"sid_x": "sid_y", "sid_y": "sid_x"})]).drop_duplicates()
        pairs = pairs[pairs["sid_x"] != pairs["sid_y"]]
        pairs = pairs.merge(a.add_suffix("_1"), left_on="sid_x", right_on="sid_1")
        pairs = pairs.merge(b.add_suffix("_2"), left_on="sid_y", right_on="sid_2")
        pairs["rel"] = i
        pairs["w_relation"] = RELATION.get(rel.relation, RELATION_DEFAULT) \
            if isinstance(rel.relation, str) else RELATION_DEFAULT
        frames.append(pairs.drop(columns=["sid_x", "sid_y"]))
    if not frames:
        return pd.DataFrame()
    return _score(pd.concat(frames, ignore_index=True), levels, int(table["sid"].max()) + 1)


def _score(pairs: pd.DataFrame, levels: list[str], n: int) -> pd.DataFrame:
    pairs["proximite"] = ""
    pairs["territoire_c"] = -1
    for level in reversed(levels):  # the finest shared level wins
        c1, c2 = pairs[f"{level}_c_1"], pairs[f"{level}_c_2"]
        same = (c1 >= 0) & (c1 == c2)
        pairs.loc[same, "proximite"] = level
        pairs.loc[same, "territoire_c"] = c1[same]
    pairs = pairs[pairs["proximite"] != ""].copy()
    pairs["w_proximite"] = pairs["proximite"].map(PROXIMITY)
    pairs["score"] = pairs["w_relation"] * pairs["w_proximite"] * pairs["q_1"] * pairs["q_2"]
    # one row per structure pair: the best filière pair (structures may have several filières)
    low = np.minimum(pairs["sid_1"], pairs["sid_2"]).astype(np.int64)
    pairs["paire"] = low * n + np.maximum(pairs["sid_1"], pairs["sid_2"])
    pairs = pairs.sort_values(["score", "paire", "fid_1", "fid_2"],
                              ascending=[False, True, True, True], kind="mergesort")
    return pairs.drop_duplicates("paire").reset_index(drop=True)


def cap_per_structure(pairs: pd.DataFrame, k: int, first: str = "sid_1",
                      second: str = "sid_2") -> pd.DataFrame:
    """Keep a pair when it is among the ``k`` best of at least one of its two structures.

    ``pairs`` is sorted best first; the result keeps that order and numbers it in ``rang``.
    """
    if pairs.empty:
        return pairs
    long = pd.concat([
        pairs[["paire", "score", first]].rename(columns={first: "s"}),
        pairs[["paire", "score", second]].rename(columns={second: "s"}),
    ])
    long = long.sort_values(["s", "score", "paire"], ascending=[True, False, True],
                            kind="mergesort")
    long["rang"] = long.groupby("s").cumcount() + 1
    kept = set(long.loc[long["rang"] <= k, "paire"])
    out = pairs[pairs["paire"].isin(kept)].copy()
    out["rang"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def describe_pairs(pairs: pd.DataFrame, table: pd.DataFrame, comp: pd.DataFrame) -> pd.DataFrame:
    """The pairs with IRIs, names, filières, staff bands, years, relation and shared territory."""
    actor = table.drop_duplicates("sid").set_index("sid")[["acteur", "nom", "tranche", "annee"]]
    filiere = table.drop_duplicates("fid").set_index("fid")["filiere"]
    out = pairs.copy()
    for side in ("1", "2"):
        details = actor.reindex(out[f"sid_{side}"]).reset_index(drop=True)
        for column in details.columns:
            out[f"{column}_{side}"] = details[column].to_numpy()
        out[f"filiere_{side}"] = filiere.reindex(out[f"fid_{side}"]).to_numpy()
    for column in ("relation", "justification", "complementarite"):
        values = comp[column].where(comp[column].notna(), "").astype(str).to_numpy()
        out[column] = values[out["rel"].to_numpy()] if len(out) else []
    out["territoire"] = ""
    for level in LEVELS:
        codes = table.drop_duplicates(f"{level}_c").set_index(f"{level}_c")[level]
        mask = out["proximite"] == level
        out.loc[mask, "territoire"] = codes.reindex(out.loc[mask, "territoire_c"]).to_numpy()
    return out


def _result(row: Any, labels: dict[str, str]) -> Result:
    n1 = row.nom_1 or row.acteur_1.rsplit("/", 1)[-1]
    n2 = row.nom_2 or row.acteur_2.rsplit("/", 1)[-1]
    f1, f2 = labels.get(row.filiere_1, row.filiere_1), labels.get(row.filiere_2, row.filiere_2)
    values: dict[str, Any] = {
        "firstActor": Iri(row.acteur_1), "secondActor": Iri(row.acteur_2),
        "firstFiliere": Iri(row.filiere_1), "secondFiliere": Iri(row.filiere_2),
        "proximity": row.proximite,
    }
    if row.complementarite:
        values["complementarity"] = Iri(row.complementarite)
    return Result(
        kind="SynergyCandidate", key=f"synergie-{row.rang:06d}",
        label_fr=f"Synergie : {n1} ({f1}) — {n2} ({f2}), {PROXIMITY_FR[row.proximite]}",
        label_en=f"Synergy: {n1} ({f1}) — {n2} ({f2}), {PROXIMITY_EN[row.proximite]}",
        score=round(float(row.score), 6), rank=int(row.rang),
        about=[row.acteur_1, row.acteur_2], territory=row.territoire, values=values,
        evidence={
            "filieres": [f1, f2], "relation": row.relation or None,
            "justification": row.justification or None,
            "complementarity": row.complementarite or None,
            "proximity": row.proximite, "shared_territory": row.territoire,
            "factors": {"relation": row.w_relation, "proximity": row.w_proximite,
                        "quality_1": round(float(row.q_1), 4),
                        "quality_2": round(float(row.q_2), 4)},
            "staff_bands": [row.tranche_1 or None, row.tranche_2 or None],
            "creation_years": [_year(row.annee_1), _year(row.annee_2)],
        },
    )


def _year(value: float) -> int | None:
    return None if value is None or math.isnan(value) else int(value)


def synergy_pairs(ctx: AnalysisContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(all blocked candidate pairs, described pairs kept by the per-structure cap), once."""
    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        k = int(ctx.option(NAME, "top_k", DEFAULTS["top_k"]))
        max_level = str(ctx.option(NAME, "max_level", DEFAULTS["max_level"]))
        levels = list(LEVELS[: LEVELS.index(max_level) + 1])
        comp = complementarities(ctx)
        table = structure_table(ctx)
        if comp.empty or table.empty:
            return pd.DataFrame(), pd.DataFrame()
        pairs = candidate_pairs(table, comp, levels, k)
        if pairs.empty:
            return pairs, pairs
        return pairs, describe_pairs(cap_per_structure(pairs, k), table, comp)

    return ctx.derived("synergy-pairs", [ACTORS, COMMUNES, COMPLEMENTARITIES], build)


def compute(ctx: AnalysisContext) -> tuple[dict, list[Result], dict, list[Note]]:
    """The synergy analysis: ranked candidate pairs of structures."""
    opt = {k: ctx.option(NAME, k, v) for k, v in DEFAULTS.items()}
    k, max_stored = int(opt["top_k"]), int(opt["max_stored"])
    params = {**opt, "score": "w_relation × w_proximity × q1 × q2",
              "w_proximity": PROXIMITY, "w_relation": {**RELATION, "non décrite": RELATION_DEFAULT}}
    pairs, kept = synergy_pairs(ctx)
    if pairs.empty:
        note = Note("Pas de complémentarité entre filières ou pas de paire d'acteurs TEE proches.",
                    "No complementarity between filières or no pair of nearby TEE actors.")
        return params, [_not_computed(note)], {}, [note]
    labels = filieres(ctx).set_index("filiere")["libelle"].to_dict()
    best = set(cap_per_structure(kept, int(opt["stored_per_structure"]))["paire"])
    stored = kept[kept["paire"].isin(best)]
    results = [_result(row, labels) for row in stored.head(max_stored).itertuples()]
    notes = [Note(
        f"{len(pairs)} paires candidates examinées (bloquées par territoire et paire de filières), "
        f"{len(kept)} retenues : au plus {k} meilleures par structure (export CSV) ; "
        f"{len(results)} enregistrées dans le graphe (la meilleure de chaque structure"
        f"{f', plafonnées à {max_stored}' if len(stored) > max_stored else ''}).",
        f"{len(pairs)} candidate pairs examined (blocked by territory and filière pair), "
        f"{len(kept)} kept: at most the {k} best per structure (CSV export); {len(results)} "
        f"stored in the graph (each structure's best"
        f"{f', capped at {max_stored}' if len(stored) > max_stored else ''}).")]
    if not results:
        notes.append(Note("Aucune paire de structures complémentaires proches.",
                          "No pair of nearby complementary structures."))
    params["candidate_pairs"], params["kept_pairs"] = len(pairs), len(kept)
    params["stored_pairs"] = len(results)
    return params, results, {"synergies": _export(kept)}, notes


def _export(kept: pd.DataFrame) -> pd.DataFrame:
    cols = ["rang", "score", "acteur_1", "nom_1", "filiere_1", "acteur_2", "nom_2", "filiere_2",
            "relation", "proximite", "territoire", "w_relation", "w_proximite", "q_1", "q_2",
            "justification", "complementarite"]
    return kept[cols] if not kept.empty else pd.DataFrame(columns=cols)


def _not_computed(note: Note) -> Result:
    return Result(kind="SynergyCandidate", key="non-calcule",
                  label_fr="Synergies non calculées", label_en="Synergies not computed",
                  not_computed=note.fr, evidence={"reason_en": note.en})


def run(ctx: AnalysisContext) -> AnalysisOutput:
    """Run the synergy analysis."""
    return run_analysis(ctx, NAME, compute)
