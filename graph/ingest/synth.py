"""Labelled synthetic SIRENE stock files (``maillage synth``), for tests, demos and benchmarks.

``generate_stock(out_dir, structures=N, seed=S)`` writes ``StockUniteLegale_utf8.csv`` and
``StockEtablissement_utf8.csv`` with exactly the 35 / 54 columns of the 2026 INSEE stock files,
plus ``synth-summary.json`` (parameters and the counts an import must find). Same seed, same
bytes. numpy draws integer codes; DuckDB turns them into strings and writes the CSV, so 500,000
units take seconds.

**Everything is marked synthetic.** Every denomination (and natural-person name) starts with
``[SYNTHÉTIQUE]`` and reads "Association synthétique 000123"; the importer detects the marker
and loads the files only into ``graph/synthetique-sirene``. SIREN/SIRET numbers pass the Luhn
check but are random: they may coincide with real companies (INSEE has no reserved test
range), which is why the names, not the numbers, carry the mark.

**Rows written** (N = ``structures``) and what a default import does with them:

* N active ESS units (flag O) with their siège in Île-de-France — loaded;
* 6 % × N closed ESS units (state C, ``dateDebut`` = closing) — filtered "closed";
* 3 % × N associations (9220) without the ESS flag — filtered "not ESS", loaded with
  ``--add-families associations``;
* 10 % × N non-ESS companies (flag N or empty) and 1 % × N natural persons (category 1000, no
  flag) — filtered "not ESS";
* 2 % × N ESS units with no establishment in Île-de-France — filtered "no establishment in
  Île-de-France";
* ``extra_units`` (benchmarks): 90 % non-ESS, 10 % ESS, all outside Île-de-France.

Establishments: 1 + Poisson(0.4) per unit (≈ 1.4), the first is the siège. Secondary
establishments of IdF units are outside Île-de-France with probability 3 % and closed with
probability 5 %; establishments of closed units are closed.

**Distributions** (sources, and where a weight is an assumption):

* Communes: IdF communes and Paris arrondissements (not the commune 75056: SIRENE locates Paris
  establishments by arrondissement) weighted by ``population_municipale`` of
  ``data/territoires/communes_idf.csv``.
* ESS families of active units — associations 80 %, coopératives 9 %, sociétés commerciales de
  l'ESS 5 %, mutuelles 3 %, fondations 3 %. *Assumption*: only the order of magnitude
  "associations ≈ 80 % of ESS establishments" is commonly published (INSEE/CRESS); the split of
  the rest is ours. Legal categories within a family are assumptions too (9220 dominant).
* NAF codes: 15 % of associations, 45 % of coopératives, 40 % of commercial ESS companies draw
  uniformly from the TEE codes of ``data/reference/naf_filieres.csv``; the rest from weighted
  non-TEE lists (94.99Z and 88.99B heavy; weights are assumptions). Every code is in
  ``naf_rev2.csv``.
* **Planted signal** for the "emerging filières" analysis: units created from 2019 on take one
  of 74.90B, 70.22Z or 96.09Z (none mapped to a TEE filière) with probability 15 %, against a
  background share of about 1 % — their share of creations rises sharply after 2018.
* Creation years: 1901–2025, weight ∝ exp(0.045 × (year − 2025)) from 1950 (recent years more
  frequent; an assumption), a thin uniform tail 1901–1949; 3 % are 1900-01-01 (INSEE's
  "unknown").
* Staff bands: 55 % non-employers (``NN``); employers follow weights whose band-midpoint mean is
  ≈ 6.0 employees per establishment (:func:`mean_employees`), as the Île-de-France figure
  490,400 employees / 81,500 ESS establishments = 6.0 at the end of 2021 (Insee Analyses
  Île-de-France n° 188, cited in ``data/reference/convention_ademe_cress.md`` § 5).
* ``statutDiffusion`` P for 2 % of units (their establishments too), with ``[ND]`` in the
  protected fields as INSEE prints them (the marked denomination is kept).

>>> round(mean_employees(), 1)
6.0
>>> luhn_check_digits(np.array([73282932]), 8).tolist()
[0]
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..resources import data_file
from .sirene_input import ET_COLUMNS, UL_COLUMNS, sql_string
from .sirene_sql import SYNTHETIC_MARK

IDF_UNIT_SHARES = {"closed": 0.06, "noflag": 0.03, "nonESS": 0.10, "person": 0.01, "away": 0.02}
FAMILIES = {  # family: (weight, [(legal category, weight)], share of TEE NAF codes, kind)
    "associations": (0.80, [("9220", 0.90), ("9221", 0.03), ("9222", 0.02), ("9230", 0.03),
                            ("9210", 0.02)], 0.15, "Association"),
    "cooperatives": (0.09, [("5458", 0.30), ("5558", 0.10), ("5560", 0.15), ("5460", 0.15),
                            ("6317", 0.15), ("5547", 0.15)], 0.45, "Coopérative"),
    "societes-commerciales-ess": (0.05, [("5710", 0.6), ("5499", 0.4)], 0.40, "Entreprise ESS"),
    "mutuelles": (0.03, [("8210", 0.6), ("6411", 0.2), ("8250", 0.1), ("8290", 0.1)], 0.0,
                  "Mutuelle"),
    "fondations": (0.03, [("9300", 1.0)], 0.10, "Fondation"),
}
OTHER_NAF = {  # family: [(non-TEE NAF code, weight)] — assumptions
    "associations": [("94.99Z", 0.45), ("88.99B", 0.12), ("93.12Z", 0.08), ("85.59A", 0.06),
                     ("90.01Z", 0.05), ("88.10A", 0.04), ("87.30A", 0.03), ("94.12Z", 0.03),
                     ("85.51Z", 0.03), ("68.20B", 0.03), ("91.02Z", 0.02), ("88.91A", 0.03),
                     ("74.90B", 0.005), ("70.22Z", 0.005), ("96.09Z", 0.005)],
    "cooperatives": [("62.01Z", 0.2), ("69.20Z", 0.1), ("47.11F", 0.2), ("41.20A", 0.2),
                     ("64.19Z", 0.2), ("82.11Z", 0.1)],
    "societes-commerciales-ess": [("73.11Z", 0.3), ("62.01Z", 0.2), ("88.99B", 0.2),
                                  ("56.10A", 0.2), ("47.91B", 0.1)],
    "mutuelles": [("65.12Z", 0.6), ("65.11Z", 0.2), ("86.21Z", 0.2)],
    "fondations": [("88.99B", 0.4), ("94.99Z", 0.3), ("72.19Z", 0.2), ("86.10Z", 0.1)],
    "nonESS": [("62.01Z", 0.2), ("70.22Z", 0.2), ("68.20A", 0.2), ("47.11B", 0.1),
               ("43.21A", 0.1), ("56.10A", 0.1), ("96.02A", 0.1)],
}
NON_ESS_CATEGORIES = [("5710", 0.5), ("5499", 0.3), ("5599", 0.1), ("6540", 0.1)]
EMERGING_NAF = ("74.90B", "70.22Z", "96.09Z")
EMERGING_FROM, EMERGING_SHARE = 2019, 0.15
BANDS = [("01", 0.515, 1.5), ("02", 0.25, 4.0), ("03", 0.11, 7.5), ("11", 0.08, 14.5),
         ("12", 0.035, 34.5), ("21", 0.008, 74.5), ("22", 0.0015, 149.5), ("32", 0.0005, 374.5)]
EMPLOYER_SHARE, P_SHARE, UNKNOWN_DATE_SHARE = 0.45, 0.02, 0.03
AWAY = [  # communes outside Île-de-France: (code, name, postcode)
    ("69381", "LYON 1ER ARRONDISSEMENT", "69001"),
    ("13201", "MARSEILLE 1ER ARRONDISSEMENT", "13001"),
    ("33063", "BORDEAUX", "33000"), ("59350", "LILLE", "59000"), ("44109", "NANTES", "44000"),
    ("31555", "TOULOUSE", "31000"), ("67482", "STRASBOURG", "67000"), ("35238", "RENNES", "35000"),
    ("34172", "MONTPELLIER", "34000"), ("45234", "ORLEANS", "45000"),
]
VOIES = ["RUE", "AV", "BD", "PL", "ALL", "IMP", "CHE", "QUAI"]
SEGMENTS = ["active", "closed", "noflag", "nonESS", "person", "away", "extra_nonESS", "extra_ess"]


def mean_employees() -> float:
    """Mean employees per employer establishment implied by ``BANDS`` (band midpoints)."""
    return sum(w * mid for _, w, mid in BANDS) / sum(w for _, w, _ in BANDS)


def luhn_check_digits(prefix: np.ndarray, ndigits: int) -> np.ndarray:
    """The digit to append to each ``ndigits``-digit prefix so that the number passes Luhn."""
    total = np.zeros(prefix.shape, dtype=np.int64)
    for k in range(ndigits):  # k = 0 is the rightmost digit of the prefix: doubled
        d = (prefix // 10**k) % 10
        if k % 2 == 0:
            d = 2 * d
            d = d // 10 + d % 10
        total += d
    return (10 - total % 10) % 10


@dataclass
class SynthSummary:
    """What was generated, and what a default import of it must report."""

    structures: int
    seed: int
    extra_units: int
    units: dict[str, int] = field(default_factory=dict)
    establishments: int = 0
    expected: dict[str, dict] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reference tables
def _idf_communes() -> pd.DataFrame:
    with data_file("territoires", "communes_idf.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["code_insee"] != "75056"]
    postcodes: dict[str, str] = {}
    with data_file("territoires", "codes_postaux_idf.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            postcodes.setdefault(r["code_insee"], r["code_postal"])
    return pd.DataFrame({
        "code": [r["code_insee"] for r in rows],
        "name": [r["nom_complet"].upper() for r in rows],
        "postcode": [postcodes.get(r["code_insee"], "") for r in rows],
        "weight": [float(r["population_municipale"] or 0) for r in rows],
    })


def _tee_codes() -> list[str]:
    with data_file("reference", "naf_filieres.csv").open(encoding="utf-8") as fh:
        return sorted({r["naf_code"] for r in csv.DictReader(fh)})


def _year_weights() -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(1901, 2026)
    w = np.where(years >= 1950, np.exp(0.045 * (years - 2025)), 0.002)
    return years, w / w.sum()


# ----------------------------------------------------------------------------- units
class _Draw:
    """Seeded draws of integer codes (indices into the string tables)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def pick(self, n: int, weights: list[float] | np.ndarray) -> np.ndarray:
        p = np.asarray(weights, dtype=float)
        return self.rng.choice(len(p), size=n, p=p / p.sum())

    def chance(self, n: int, p: float) -> np.ndarray:
        return self.rng.random(n) < p


def _segments(n: int, extra: int) -> np.ndarray:
    sizes = [n] + [round(IDF_UNIT_SHARES[k] * n) for k in ("closed", "noflag", "nonESS", "person",
                                                            "away")]
    sizes += [extra - extra // 10, extra // 10]
    return np.repeat(np.arange(len(SEGMENTS)), sizes)


def _units(d: _Draw, n: int, extra: int, seed: int, naf: list[str], cjs: list[str]
           ) -> pd.DataFrame:
    seg = _segments(n, extra)
    total = len(seg)
    body = 10_000_000 + (48_271 * np.arange(total, dtype=np.int64) + 7_919 * seed) % 90_000_000
    siren = body * 10 + luhn_check_digits(body, 8)
    fam_names = list(FAMILIES)
    family = d.pick(total, [FAMILIES[f][0] for f in fam_names])
    family[np.isin(seg, [SEGMENTS.index("noflag")])] = 0  # associations
    year_values, year_w = _year_weights()
    year = year_values[d.pick(total, year_w)]
    df = pd.DataFrame({
        "siren": siren, "seg": seg, "serial": np.arange(1, total + 1), "family": family,
        "year": year, "doy": d.rng.integers(0, 365, total),
        "unknown_date": d.chance(total, UNKNOWN_DATE_SHARE),
        "close_after": d.rng.integers(1, 15, total),
        "p": d.chance(total, P_SHARE), "sigle": d.chance(total, 0.2),
        "rna": d.rng.integers(100_000_000, 1_000_000_000, total),
        "flag_n": d.chance(total, 0.6),
    })
    df["cj"] = _categories(d, df, fam_names, cjs)
    df["naf"] = _activities(d, df, fam_names, naf)
    return df


def _categories(d: _Draw, df: pd.DataFrame, fam_names: list[str], cjs: list[str]) -> np.ndarray:
    out = np.zeros(len(df), dtype=np.int64)
    for i, fam in enumerate(fam_names):
        rows = np.flatnonzero(df["family"].to_numpy() == i)
        codes, weights = zip(*FAMILIES[fam][1])
        out[rows] = np.array([cjs.index(c) for c in codes])[d.pick(len(rows), list(weights))]
    seg = df["seg"].to_numpy()
    non_ess = np.isin(seg, [SEGMENTS.index(s) for s in ("nonESS", "extra_nonESS")])
    codes, weights = zip(*NON_ESS_CATEGORIES)
    out[non_ess] = np.array([cjs.index(c) for c in codes])[d.pick(int(non_ess.sum()),
                                                                  list(weights))]
    out[seg == SEGMENTS.index("person")] = cjs.index("1000")
    out[seg == SEGMENTS.index("noflag")] = cjs.index("9220")
    return out


def _activities(d: _Draw, df: pd.DataFrame, fam_names: list[str], naf: list[str]) -> np.ndarray:
    tee = [naf.index(c) for c in _tee_codes()]
    out = np.zeros(len(df), dtype=np.int64)
    family = df["family"].to_numpy()
    seg = df["seg"].to_numpy()
    non_ess = np.isin(seg, [SEGMENTS.index(s) for s in ("nonESS", "extra_nonESS", "person")])
    for i, fam in enumerate([*fam_names, "nonESS"]):
        rows = np.flatnonzero(non_ess if fam == "nonESS" else (family == i) & ~non_ess)
        codes, weights = zip(*OTHER_NAF[fam])
        out[rows] = np.array([naf.index(c) for c in codes])[d.pick(len(rows), list(weights))]
        tee_share = 0.0 if fam == "nonESS" else FAMILIES[fam][2]
        use_tee = rows[d.chance(len(rows), tee_share)]
        out[use_tee] = np.array(tee)[d.rng.integers(0, len(tee), len(use_tee))]
    recent = np.flatnonzero((df["year"].to_numpy() >= EMERGING_FROM) & ~non_ess)
    emerging = recent[d.chance(len(recent), EMERGING_SHARE)]
    out[emerging] = np.array([naf.index(c) for c in EMERGING_NAF])[
        d.rng.integers(0, len(EMERGING_NAF), len(emerging))]
    return out


# ----------------------------------------------------------------------------- establishments
def _establishments(d: _Draw, units: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    count = 1 + d.rng.poisson(0.4, len(units))
    unit = np.repeat(np.arange(len(units)), count)
    rank = np.arange(len(unit)) - np.repeat(np.cumsum(count) - count, count)  # 0 = siège
    seg = units["seg"].to_numpy()[unit]
    n = len(unit)
    away_unit = np.isin(seg, [SEGMENTS.index(s) for s in ("away", "extra_nonESS", "extra_ess")])
    away = away_unit | ((rank > 0) & d.chance(n, 0.03))
    closed = (seg == SEGMENTS.index("closed")) | ((rank > 0) & d.chance(n, 0.05))
    nic_body = (rank + 1).astype(np.int64)
    prefix = units["siren"].to_numpy()[unit] * 10_000 + nic_body
    siret = prefix * 10 + luhn_check_digits(prefix, 13)
    employer = d.chance(n, EMPLOYER_SHARE)
    band = np.where(employer, d.pick(n, [w for _, w, _ in BANDS]) + 1, 0)
    return pd.DataFrame({
        "unit": unit, "rank": rank, "siret": siret, "away": away, "closed": closed,
        "commune": np.where(away, d.rng.integers(0, len(AWAY), n),
                            d.pick(n, communes["weight"].to_numpy())),
        "band": band, "band_year": 2022 + d.rng.integers(0, 2, n),
        "numero": d.rng.integers(1, 180, n), "voie": d.rng.integers(0, len(VOIES), n),
        "street": d.rng.integers(1, 400, n), "enseigne": d.chance(n, 0.1),
        "age": d.rng.integers(0, 8, n),
    })


# ----------------------------------------------------------------------------- writing
def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("NULL" if v is None else sql_string(v) for v in values) + "]"


def _kinds() -> list[str]:
    return [FAMILIES[f][3] for f in FAMILIES]


def _unit_sql(naf: list[str], cjs: list[str]) -> dict[str, str]:
    """Column → SQL expression over the ``units`` table (missing columns are NULL)."""
    mark = sql_string(SYNTHETIC_MARK + " ")
    seg = {s: i for i, s in enumerate(SEGMENTS)}
    person = f"seg = {seg['person']}"
    non_ess = f"seg IN ({seg['nonESS']}, {seg['extra_nonESS']})"
    created = ("CASE WHEN unknown_date THEN '1900-01-01' ELSE "
               "strftime(make_date(year, 1, 1) + CAST(doy AS INTEGER), '%Y-%m-%d') END")
    closed = ("strftime(make_date(least(year + close_after + 10, 2025), 1, 1) "
              "+ CAST(doy AS INTEGER), '%Y-%m-%d')")
    kind = f"CASE WHEN {non_ess} THEN 'Société' ELSE {_sql_list(_kinds())}[family + 1] END"
    name = f"{mark} || {kind} || ' synthétique ' || lpad(CAST(serial AS VARCHAR), 6, '0')"
    return {
        "siren": "lpad(CAST(siren AS VARCHAR), 9, '0')",
        "statutDiffusionUniteLegale": "CASE WHEN p THEN 'P' ELSE 'O' END",
        "dateCreationUniteLegale": created,
        "sigleUniteLegale": (f"CASE WHEN p THEN '[ND]' WHEN sigle AND NOT {person} "
                             "THEN 'SYN' || CAST(serial AS VARCHAR) END"),
        "sexeUniteLegale": (f"CASE WHEN {person} THEN "
                            "CASE WHEN serial % 2 = 0 THEN 'F' ELSE 'M' END END"),
        "prenom1UniteLegale": f"CASE WHEN {person} THEN 'SYNTHÉTIQUE' END",
        "prenomUsuelUniteLegale": f"CASE WHEN {person} THEN 'SYNTHÉTIQUE' END",
        "identifiantAssociationUniteLegale": ("CASE WHEN cj_code LIKE '92%' AND serial % 5 <> 0 "
                                              "THEN 'W' || CAST(rna AS VARCHAR) END"),
        "trancheEffectifsUniteLegale": "tranche", "anneeEffectifsUniteLegale": "tranche_annee",
        "dateDernierTraitementUniteLegale": "'2025-12-31T23:59:59'",
        "nombrePeriodesUniteLegale": "'1'",
        "dateDebut": f"CASE WHEN seg = {seg['closed']} THEN {closed} ELSE {created} END",
        "etatAdministratifUniteLegale": f"CASE WHEN seg = {seg['closed']} THEN 'C' ELSE 'A' END",
        "nomUniteLegale": (f"CASE WHEN {person} THEN {mark} || 'PERSONNE ' || "
                           "CAST(serial AS VARCHAR) END"),
        "denominationUniteLegale": f"CASE WHEN NOT {person} THEN {name} END",
        "categorieJuridiqueUniteLegale": "cj_code",
        "activitePrincipaleUniteLegale": f"{_sql_list(naf)}[naf + 1]",
        "nomenclatureActivitePrincipaleUniteLegale": "'NAFRev2'",
        "nicSiegeUniteLegale": "lpad(CAST(nic_siege AS VARCHAR), 5, '0')",
        "economieSocialeSolidaireUniteLegale": (
            f"CASE WHEN seg IN ({seg['noflag']}, {seg['person']}) THEN NULL "
            f"WHEN {non_ess} THEN CASE WHEN flag_n THEN 'N' END ELSE 'O' END"),
        "societeMissionUniteLegale": "'N'",
    }


def _et_sql(naf: list[str]) -> dict[str, str]:
    """Column → SQL expression over ``ets`` joined with ``units`` (``u``) and communes."""
    bands = _sql_list(["NN"] + [b for b, _, _ in BANDS])
    created = ("CASE WHEN u.unknown_date AND e.rank = 0 THEN '1900-01-01' ELSE strftime("
               "make_date(least(u.year + e.age * e.rank, 2025), 1, 1) + CAST(u.doy AS INTEGER),"
               " '%Y-%m-%d') END")
    hidden = "u.p"
    return {
        "siren": "lpad(CAST(u.siren AS VARCHAR), 9, '0')",
        "nic": "right(lpad(CAST(e.siret AS VARCHAR), 14, '0'), 5)",
        "siret": "lpad(CAST(e.siret AS VARCHAR), 14, '0')",
        "statutDiffusionEtablissement": "CASE WHEN u.p THEN 'P' ELSE 'O' END",
        "dateCreationEtablissement": created,
        "trancheEffectifsEtablissement": f"{bands}[e.band + 1]",
        "anneeEffectifsEtablissement": "CASE WHEN e.band > 0 THEN CAST(e.band_year AS VARCHAR) END",
        "dateDernierTraitementEtablissement": "'2025-12-31T23:59:59'",
        "etablissementSiege": "CASE WHEN e.rank = 0 THEN 'true' ELSE 'false' END",
        "nombrePeriodesEtablissement": "'1'",
        "numeroVoieEtablissement": (f"CASE WHEN {hidden} THEN '[ND]' "
                                    "ELSE CAST(e.numero AS VARCHAR) END"),
        "typeVoieEtablissement": (f"CASE WHEN {hidden} THEN '[ND]' "
                                  f"ELSE {_sql_list(VOIES)}[e.voie + 1] END"),
        "libelleVoieEtablissement": (f"CASE WHEN {hidden} THEN '[ND]' ELSE 'DE LA SYNTHESE ' || "
                                     "CAST(e.street AS VARCHAR) END"),
        "codePostalEtablissement": "c.postcode", "libelleCommuneEtablissement": "c.name",
        "codeCommuneEtablissement": "c.code",
        "dateDebut": ("CASE WHEN e.closed THEN strftime(make_date(least(u.year + e.age * e.rank"
                      " + u.close_after, 2025), 1, 1) + CAST(u.doy AS INTEGER), '%Y-%m-%d') "
                      f"ELSE {created} END"),
        "etatAdministratifEtablissement": "CASE WHEN e.closed THEN 'F' ELSE 'A' END",
        "enseigne1Etablissement": (f"CASE WHEN {hidden} THEN '[ND]' WHEN e.enseigne THEN "
                                   f"{sql_string(SYNTHETIC_MARK + ' Enseigne synthétique ')} || "
                                   "CAST(e.siret AS VARCHAR) END"),
        "activitePrincipaleEtablissement": f"{_sql_list(naf)}[u.naf + 1]",
        "nomenclatureActivitePrincipaleEtablissement": "'NAFRev2'",
        "caractereEmployeurEtablissement": "CASE WHEN e.band > 0 THEN 'O' ELSE 'N' END",
    }


def _copy(con: duckdb.DuckDBPyConnection, columns: list[str], exprs: dict[str, str],
          source: str, path: Path, order: str) -> None:
    select = ", ".join(f"{exprs.get(c, 'CAST(NULL AS VARCHAR)')} AS \"{c}\"" for c in columns)
    con.execute(f"COPY (SELECT {select} FROM {source} ORDER BY {order}) TO "
                f"{sql_string(str(path))} (FORMAT csv, HEADER true)")


def generate_stock(out_dir: Path, structures: int, seed: int = 0, *, extra_units: int = 0
                   ) -> SynthSummary:
    """Write the two synthetic stock files and ``synth-summary.json`` into ``out_dir``."""
    if structures < 1:
        raise ValueError("structures must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    d = _Draw(seed)
    with data_file("reference", "naf_rev2.csv").open(encoding="utf-8") as fh:
        naf = [r["naf_code"] for r in csv.DictReader(fh)]
    cjs = sorted({c for f in FAMILIES.values() for c, _ in f[1]}
                 | {c for c, _ in NON_ESS_CATEGORIES} | {"1000"})
    communes = _idf_communes()
    units = _units(d, structures, extra_units, seed, naf, cjs)
    ets = _establishments(d, units, communes)
    _finish_units(units, ets, cjs)
    places = pd.concat([communes[["code", "name", "postcode"]],
                        pd.DataFrame(AWAY, columns=["code", "name", "postcode"])],
                       ignore_index=True)
    places["rowid_"] = np.arange(len(places))
    ets["place"] = np.where(ets["away"], len(communes) + ets["commune"], ets["commune"])
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("units", units)
        con.register("ets", ets)
        con.register("places", places)
        ul_path = out_dir / "StockUniteLegale_utf8.csv"
        et_path = out_dir / "StockEtablissement_utf8.csv"
        _copy(con, UL_COLUMNS, _unit_sql(naf, cjs), "units", ul_path, "siren")
        _copy(con, ET_COLUMNS, _et_sql(naf),
              "ets e JOIN units u ON u.row = e.unit JOIN places c ON c.rowid_ = e.place",
              et_path, "e.siret")
    finally:
        con.close()
    summary = _summary(structures, seed, extra_units, units, ets, [ul_path.name, et_path.name])
    (out_dir / "synth-summary.json").write_text(json.dumps(asdict(summary), indent=2,
                                                           ensure_ascii=False))
    return summary


def _finish_units(units: pd.DataFrame, ets: pd.DataFrame, cjs: list[str]) -> None:
    """Columns of the units that depend on their establishments or on the string tables."""
    units["row"] = np.arange(len(units))
    siege = ets[ets["rank"] == 0].set_index("unit").loc[units["row"]]
    units["nic_siege"] = siege["siret"].to_numpy() % 100_000
    band = siege["band"].to_numpy()
    units["tranche"] = np.array(["NN"] + [b for b, _, _ in BANDS], dtype=object)[band]
    units["tranche_annee"] = np.where(band > 0, siege["band_year"].astype(str).to_numpy(), None)
    units["cj_code"] = np.array(cjs, dtype=object)[units["cj"].to_numpy()]


def _summary(n: int, seed: int, extra: int, units: pd.DataFrame, ets: pd.DataFrame,
             files: list[str]) -> SynthSummary:
    seg = units["seg"].to_numpy()
    counts = {s: int((seg == i).sum()) for i, s in enumerate(SEGMENTS)}
    et_seg = seg[ets["unit"].to_numpy()]
    selected = np.isin(et_seg, [SEGMENTS.index(s) for s in ("active", "away", "extra_ess")])
    away, closed = ets["away"].to_numpy(), ets["closed"].to_numpy()
    not_ess = counts["noflag"] + counts["nonESS"] + counts["person"] + counts["extra_nonESS"]
    expected = {
        "unites_legales": {"read": len(units), "loaded": counts["active"], "filtered": {
            "not ESS": not_ess, "closed": counts["closed"],
            "no establishment in Île-de-France": counts["away"] + counts["extra_ess"]}},
        "etablissements": {"read": len(ets), "loaded": int((selected & ~away & ~closed).sum()),
                           "filtered": {"unit not selected": int((~selected).sum()),
                                        "outside Île-de-France": int((selected & away).sum()),
                                        "closed": int((selected & ~away & closed).sum())}},
    }
    for part in expected.values():
        part["filtered"] = {k: v for k, v in part["filtered"].items() if v}
    return SynthSummary(n, seed, extra, counts, len(ets), expected, files)
