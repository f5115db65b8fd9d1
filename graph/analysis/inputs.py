"""The input tables of the analyses, each from named queries, shared through the context.

All territorial joins happen here: an actor's commune gives its EPCI and département (from
``territoires_communes``), and ``--territory`` keeps the actors located in that territory.

>>> last_segment("https://w3id.org/maillage/voc/tranches-effectifs/12")
'12'
"""

from __future__ import annotations

import pandas as pd

from ..errors import QueryError
from .base import AnalysisContext

COMMUNES = "territoires_communes"
ACTORS = "acteurs_filieres"
FILIERES = "filieres_tee"
COMPLEMENTARITIES = "complementarites_filieres"
EPCIS = "territoires_epci"
CREATIONS = "activites_creations_communes"
NAF = "activites_naf"


def last_segment(iri: str | None) -> str:
    """The last path segment of an IRI (the notation of a concept minted by Maillage)."""
    return "" if not iri else str(iri).rstrip("/").rsplit("/", 1)[-1]


def communes(ctx: AnalysisContext) -> pd.DataFrame:
    """Communes and arrondissements: commune, code, nom, type, epci, departement, population."""
    df = ctx.frame(COMMUNES)
    df["population"] = pd.to_numeric(df["population"], errors="coerce").astype(float)
    return df.drop_duplicates("commune").reset_index(drop=True)


def territory_iri(ctx: AnalysisContext) -> str | None:
    """The IRI of ``ctx.territory`` (a commune/département INSEE code, an EPCI SIREN or an IRI)."""
    code = ctx.territory
    if not code:
        return None
    if code.startswith(("http://", "https://")):
        return code
    table = communes(ctx)
    hits = table.loc[table["code"] == code, "commune"]
    if len(hits):
        return str(hits.iloc[0])
    for column in ("epci", "departement"):
        values = table[column].dropna().unique()
        found = [v for v in values if last_segment(v) == code]
        if found:
            return str(found[0])
    raise QueryError(f"unknown territory {code!r}",
                     hint="give a commune or département INSEE code, or an EPCI SIREN")


def scoped_communes(ctx: AnalysisContext) -> pd.DataFrame:
    """The communes of ``ctx.territory`` (all of them when no territory is set)."""
    table = communes(ctx)
    iri = territory_iri(ctx)
    if iri is None:
        return table
    inside = (table["commune"] == iri) | (table["epci"] == iri) | (table["departement"] == iri)
    return table[inside].reset_index(drop=True)


def all_actors(ctx: AnalysisContext) -> pd.DataFrame:
    """Active TEE actors × filière with commune, epci, departement, staff band code and year.

    One row per (actor, filière); an actor with several locations keeps the first. Not
    restricted to ``ctx.territory`` (see :func:`actors`). With ``ctx.scope == "specifique"``,
    (actor, filière) rows due only to a NAF code of large scope are left out.
    """
    def build() -> pd.DataFrame:
        df = ctx.frame(ACTORS).sort_values(["acteur", "filiere", "commune", "nom"],
                                           na_position="last", kind="mergesort")
        df = df.drop_duplicates(["acteur", "filiere"]).reset_index(drop=True)
        places = communes(ctx)[["commune", "epci", "departement"]]
        df = df.merge(places, on="commune", how="inner")
        df["tranche"] = df["tranche"].map(lambda v: last_segment(v) if isinstance(v, str) else "")
        years = pd.to_numeric(df["creation"].astype("string").str[:4], errors="coerce")
        df["annee"] = years.astype(float)
        return df.sort_values(["acteur", "filiere"]).reset_index(drop=True)

    df = ctx.derived("actors", [ACTORS, COMMUNES], build)
    if ctx.scope == "specifique":
        df = df[df["portee"].fillna("") != "large"].reset_index(drop=True)
    return df.copy()


def actors(ctx: AnalysisContext) -> pd.DataFrame:
    """:func:`all_actors` located in ``ctx.territory`` (all of them when it is not set)."""
    df = all_actors(ctx)
    if not ctx.territory:
        return df
    inside = set(scoped_communes(ctx)["commune"])
    return df[df["commune"].isin(inside)].reset_index(drop=True)


def filieres(ctx: AnalysisContext) -> pd.DataFrame:
    """TEE filières: filiere, code, libelle, domaine, domaineLibelle (one row per filière)."""
    df = ctx.frame(FILIERES).drop_duplicates("filiere").reset_index(drop=True)
    df["libelle"] = df["libelle"].fillna(df["code"]).fillna(df["filiere"].map(last_segment))
    df["domaineLibelle"] = df["domaineLibelle"].fillna(df["domaine"].map(last_segment))
    return df


def complementarities(ctx: AnalysisContext) -> pd.DataFrame:
    """Unordered complementary filière pairs: a, b, relation, justification, complementarite.

    A pair declared in both directions is kept once (the first description wins).
    """
    df = ctx.frame(COMPLEMENTARITIES)
    df = df[df["de"] != df["vers"]].copy()
    df["relation"] = df["relation"].map(lambda v: last_segment(v) if isinstance(v, str)
                                        and v.startswith("http") else v)
    df["a"] = df[["de", "vers"]].min(axis=1)
    df["b"] = df[["de", "vers"]].max(axis=1)
    df = df.sort_values(["a", "b", "complementarite"], na_position="last")
    return df.drop_duplicates(["a", "b"]).reset_index(drop=True)


def units_column(level: str) -> str:
    """The column of :func:`actors` holding the territorial unit of ``level``.

    >>> units_column("epci")
    'epci'
    """
    return {"commune": "commune", "epci": "epci"}[level]
