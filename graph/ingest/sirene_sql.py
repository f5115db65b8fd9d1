"""The SQL of the SIRENE importer: DuckDB classifies every row and writes the N-Quads itself.

One scan per file. Each row gets a ``reason`` from a CASE cascade (``F:…`` filtered, ``Q:…``
quarantined, NULL kept); one GROUP BY per file counts the rows by reason (so national files are
accounted with aggregate SQL, never a Python loop) and, in the same pass, collects the few rows
that matter (kept or quarantined) with ``list(…) FILTER (…)``.

Unités légales, in order: ``not ESS`` (flag ≠ O and legal category not added), ``natural
person`` (category 1000), ``closed`` (state C, unless ``--include-closed`` or already in the
graph), then quarantine: SIREN not 9 digits / Luhn, unknown administrative state, unparsable
date; later ``duplicate SIREN`` and, once establishments are known, ``no establishment in
Île-de-France`` (kept only with at least one kept IdF establishment or a siège whose commune is
in the territory table).

Établissements, in order: ``unit not selected`` / ``unit quarantined``, ``outside
Île-de-France`` (no commune code, or a département outside 75 77 78 91 92 93 94 95),
``closed`` (state F, same exceptions), then quarantine: unknown administrative state,
``unknown commune (merged?)`` (IdF département but a code missing from the territory table),
SIRET checks, unparsable date, ``duplicate SIRET``.

N-Quads lines are built by string concatenation (``NULL`` propagates, so an absent value drops its
triple) and written with ``COPY … (FORMAT csv, QUOTE '', ESCAPE '')`` — one file per thread.
Literals are escaped as N-Triples requires (backslash, quote, LF, CR).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from pyoxigraph import NamedNode

from ..namespaces import MAI, ORG, RDF, RDFS, ROV, SCHEMA, XSD, Iris
from .sirene_input import StockFile, source_sql, sql_string

IDF_DEPARTEMENTS = ("75", "77", "78", "91", "92", "93", "94", "95")
SYNTHETIC_MARK = "[SYNTHÉTIQUE]"
ANNUAIRE = "https://annuaire-entreprises.data.gouv.fr/entreprise/"

UL_FIELDS = {
    "siren": "siren", "diff": "statutDiffusionUniteLegale", "dcrea": "dateCreationUniteLegale",
    "sigle": "sigleUniteLegale", "rna": "identifiantAssociationUniteLegale",
    "tranche": "trancheEffectifsUniteLegale", "tranche_annee": "anneeEffectifsUniteLegale",
    "ddebut": "dateDebut", "etat": "etatAdministratifUniteLegale",
    "denom": "denominationUniteLegale", "du1": "denominationUsuelle1UniteLegale",
    "du2": "denominationUsuelle2UniteLegale", "du3": "denominationUsuelle3UniteLegale",
    "cj": "categorieJuridiqueUniteLegale", "ape": "activitePrincipaleUniteLegale",
    "nomen": "nomenclatureActivitePrincipaleUniteLegale", "nic_siege": "nicSiegeUniteLegale",
    "ess": "economieSocialeSolidaireUniteLegale",
}
ET_FIELDS = {
    "siren": "siren", "siret": "siret", "diff": "statutDiffusionEtablissement",
    "dcrea": "dateCreationEtablissement", "tranche": "trancheEffectifsEtablissement",
    "tranche_annee": "anneeEffectifsEtablissement", "siege": "etablissementSiege",
    "num": "numeroVoieEtablissement", "indice": "indiceRepetitionEtablissement",
    "typevoie": "typeVoieEtablissement", "voie": "libelleVoieEtablissement",
    "cp": "codePostalEtablissement", "commune": "codeCommuneEtablissement",
    "ddebut": "dateDebut", "etat": "etatAdministratifEtablissement",
    "enseigne": "enseigne1Etablissement", "du": "denominationUsuelleEtablissement",
    "ape": "activitePrincipaleEtablissement",
    "nomen": "nomenclatureActivitePrincipaleEtablissement",
}

_MACROS = r"""
CREATE OR REPLACE MACRO clean(x) AS (nullif(nullif(trim(x), ''), '[ND]'));
CREATE OR REPLACE MACRO bad_date(d) AS (
  d IS NOT NULL AND (NOT regexp_full_match(d, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
                     OR try_cast(d AS DATE) IS NULL));
CREATE OR REPLACE MACRO lit(x) AS ('"' || replace(replace(replace(replace(
  x, '\', '\\'), '"', '\"'), chr(10), '\n'), chr(13), '\r') || '"');
CREATE OR REPLACE MACRO naf_dot(x) AS (
  upper(regexp_replace(x, '^([0-9]{2})\.?([0-9]{2})([A-Za-z])$', '\1.\2\3')));
"""


@dataclass
class Lookups:
    """The small tables the SQL joins (read from the store before the import)."""

    territory: dict[str, str]  # INSEE code → commune/arrondissement IRI
    naf_links: dict[str, list[tuple[str, str]]]  # NAF code → [(filière IRI, domain IRI)]
    naf_codes: Iterable[str]  # every NAF rév. 2 code (dotted)
    families: dict[str, str]  # legal category code → ESS family IRI
    extra_categories: Iterable[str]  # categories selected even without the ESS flag
    previous_sirens: Iterable[str]
    previous_sirets: Iterable[str]


def luhn_macro(name: str, width: int) -> str:
    """A DuckDB macro: True if a ``width``-digit string passes the Luhn check (unrolled).

    >>> "ascii(substr(s, 9, 1)) - 48" in luhn_macro("luhn9", 9)
    True
    """
    terms = []
    for i in range(1, width + 1):
        d = f"(ascii(substr(s, {i}, 1)) - 48)"
        doubled = (width - i) % 2 == 1  # every second digit from the right
        terms.append(f"(2 * {d} - CASE WHEN {d} >= 5 THEN 9 ELSE 0 END)" if doubled else d)
    return f"CREATE OR REPLACE MACRO {name}(s) AS (({' + '.join(terms)}) % 10 = 0);"


def setup(con: duckdb.DuckDBPyConnection, lk: Lookups) -> None:
    """Create the macros and the lookup tables."""
    con.execute(_MACROS + luhn_macro("luhn9", 9) + luhn_macro("luhn14", 14))
    _table(con, "territory", ["code", "iri"], lk.territory.items())
    _table(con, "naf_codes", ["code"], ((c,) for c in lk.naf_codes))
    _table(con, "families", ["cj", "iri"], lk.families.items())
    _table(con, "extra_cj", ["code"], ((c,) for c in lk.extra_categories))
    _table(con, "prev_siren", ["siren"], ((c,) for c in lk.previous_sirens))
    _table(con, "prev_siret", ["siret"], ((c,) for c in lk.previous_sirets))
    po = [(code, "\t".join(_naf_po(links))) for code, links in lk.naf_links.items()]
    _table(con, "naf_links_flat", ["code", "po"], po)
    con.execute("CREATE OR REPLACE TEMP TABLE naf_links AS "
                "SELECT code, string_split(po, chr(9)) AS po FROM naf_links_flat")


def _naf_po(links: list[tuple[str, str]]) -> list[str]:
    """Predicate-object fragments of the filières and domains of one NAF code."""
    out = [f"<{MAI.filiere.value}> <{f}>" for f, _ in links]
    out += [f"<{MAI.domain.value}> <{d}>" for d in dict.fromkeys(d for _, d in links)]
    return list(dict.fromkeys(out))


def _table(con: duckdb.DuckDBPyConnection, name: str, cols: list[str], rows: Iterable) -> None:
    frame = pd.DataFrame(list(rows), columns=cols, dtype=object)
    con.register("_frame", frame)
    casts = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in cols)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {casts} FROM _frame")
    con.unregister("_frame")


UL_CLASSIFY = ("siren", "etat", "ess", "cj", "dcrea", "ddebut")
ET_CLASSIFY = ("siren", "siret", "commune", "etat", "dcrea", "ddebut")


def _payload(fields: Iterable[str]) -> str:
    """The struct of a row worth keeping (kept or quarantined), NULL for the others."""
    packed = ", ".join(f"{f} := {f}" for f in fields)
    return f"CASE WHEN reason IS NULL OR reason LIKE 'Q:%' THEN struct_pack({packed}) END"


def _unnest_clean(table: str, fields: Iterable[str], classify: Iterable[str]) -> str:
    """SELECT the kept rows of ``table``, cleaning the fields read raw."""
    done = {"rec", "commune_iri", *classify}
    cols = ", ".join(f if f in done else f"clean({f}) AS {f}" for f in fields)
    return (f"SELECT reason, {cols} FROM (SELECT reason, unnest(rows, recursive := true) "
            f"FROM {table} WHERE rows IS NOT NULL)")


# ----------------------------------------------------------------------------- scans
def scan_unites_legales(con: duckdb.DuckDBPyConnection, sf: StockFile,
                        include_closed: bool) -> None:
    """Classify every legal unit: table ``ul_agg`` (reason, n, rows) then ``ul_rows``."""
    closed_ok = "true" if include_closed else "false"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE ul_agg AS
    WITH src AS ({source_sql(sf, UL_FIELDS, raw=set(UL_FIELDS) - set(UL_CLASSIFY))}),
    c AS (SELECT src.*, CASE
      WHEN NOT (coalesce(ess, '') = 'O' OR coalesce(cj IN (SELECT code FROM extra_cj), false))
        THEN 'F:not ESS'
      WHEN cj = '1000' THEN 'F:natural person'
      WHEN etat = 'C' AND NOT {closed_ok}
           AND NOT coalesce(siren IN (SELECT siren FROM prev_siren), false) THEN 'F:closed'
      WHEN NOT regexp_full_match(coalesce(siren, ''), '[0-9]{{9}}') THEN 'Q:SIREN is not 9 digits'
      WHEN NOT luhn9(siren) THEN 'Q:SIREN fails the Luhn check'
      WHEN etat IS NULL OR etat NOT IN ('A', 'C') THEN 'Q:unknown administrative state'
      WHEN bad_date(dcrea) THEN 'Q:unparsable date (dateCreationUniteLegale)'
      WHEN etat = 'C' AND bad_date(ddebut) THEN 'Q:unparsable date (dateDebut)'
      END AS reason FROM src),
    k AS (SELECT reason, {_payload(['rec', *UL_FIELDS])} AS payload FROM c)
    SELECT reason, count(*) AS n, list(payload) FILTER (WHERE payload IS NOT NULL) AS rows
    FROM k GROUP BY reason""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE ul_rows AS
      {_unnest_clean('ul_agg', ['rec', *UL_FIELDS], UL_CLASSIFY)};
    UPDATE ul_rows SET reason = 'Q:duplicate SIREN' WHERE reason IS NULL AND rec NOT IN
      (SELECT min(rec) FROM ul_rows WHERE reason IS NULL GROUP BY siren);
    CREATE OR REPLACE TEMP TABLE ul_status AS
      SELECT siren, CASE WHEN bool_or(reason IS NULL) THEN 'C' ELSE 'Q' END AS status
      FROM ul_rows WHERE siren IS NOT NULL GROUP BY siren;
    """)


def scan_etablissements(con: duckdb.DuckDBPyConnection, sf: StockFile,
                        include_closed: bool) -> None:
    """Classify every establishment (``et_agg``, ``et_rows``) and decide the kept units."""
    closed_ok = "true" if include_closed else "false"
    deps = ", ".join(sql_string(d) for d in IDF_DEPARTEMENTS)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE et_agg AS
    WITH src AS ({source_sql(sf, ET_FIELDS, raw=set(ET_FIELDS) - set(ET_CLASSIFY))}),
    c AS (SELECT s.*, t.iri AS commune_iri, u.status AS ustatus, CASE
      WHEN u.status IS NULL THEN 'F:unit not selected'
      WHEN u.status = 'Q' THEN 'F:unit quarantined'
      WHEN s.commune IS NULL OR left(s.commune, 2) NOT IN ({deps}) THEN 'F:outside Île-de-France'
      WHEN s.etat = 'F' AND NOT {closed_ok} AND p.siret IS NULL THEN 'F:closed'
      WHEN s.etat IS NULL OR s.etat NOT IN ('A', 'F') THEN 'Q:unknown administrative state'
      WHEN t.iri IS NULL THEN 'Q:unknown commune (merged?)'
      WHEN NOT regexp_full_match(coalesce(s.siret, ''), '[0-9]{{14}}')
        THEN 'Q:SIRET is not 14 digits'
      WHEN left(s.siret, 9) <> s.siren THEN 'Q:SIRET does not start with the SIREN'
      WHEN left(s.siret, 9) <> '356000000' AND NOT luhn14(s.siret)
        THEN 'Q:SIRET fails the Luhn check'
      WHEN bad_date(s.dcrea) THEN 'Q:unparsable date (dateCreationEtablissement)'
      WHEN s.etat = 'F' AND bad_date(s.ddebut) THEN 'Q:unparsable date (dateDebut)'
      END AS reason
      FROM src s LEFT JOIN ul_status u ON s.siren = u.siren
      LEFT JOIN territory t ON s.commune = t.code
      LEFT JOIN prev_siret p ON s.siret = p.siret),
    k AS (SELECT reason, siren, CASE WHEN ustatus = 'C' AND siege = 'true'
                 AND commune_iri IS NOT NULL THEN siren END AS siege_of,
          {_payload(['rec', 'commune_iri', *ET_FIELDS])} AS payload FROM c)
    SELECT reason, count(*) AS n, list(payload) FILTER (WHERE payload IS NOT NULL) AS rows,
      list(siege_of) FILTER (WHERE siege_of IS NOT NULL) AS sieges
    FROM k GROUP BY reason""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE et_rows AS
      {_unnest_clean('et_agg', ['rec', 'commune_iri', *ET_FIELDS], ET_CLASSIFY)};
    UPDATE et_rows SET reason = 'Q:duplicate SIRET' WHERE reason IS NULL AND rec NOT IN
      (SELECT min(rec) FROM et_rows WHERE reason IS NULL GROUP BY siret);
    CREATE OR REPLACE TEMP TABLE sieges AS
      SELECT DISTINCT unnest(sieges) AS siren FROM et_agg;
    UPDATE ul_rows SET reason = 'F:no establishment in Île-de-France'
      WHERE reason IS NULL
        AND siren NOT IN (SELECT siren FROM et_rows WHERE reason IS NULL)
        AND siren NOT IN (SELECT siren FROM sieges);
    """)


def accounting(con: duckdb.DuckDBPyConnection, prefix: str) -> list[tuple[str | None, int]]:
    """(reason, count) of every row of a file: reason None = loaded."""
    return con.execute(f"""
      SELECT reason, sum(n)::BIGINT FROM (
        SELECT reason, n FROM {prefix}_agg WHERE reason LIKE 'F:%'
        UNION ALL SELECT reason, count(*) FROM {prefix}_rows GROUP BY reason)
      GROUP BY reason ORDER BY reason NULLS FIRST""").fetchall()


def quarantined(con: duckdb.DuckDBPyConnection, prefix: str, key: str, limit: int
                ) -> list[tuple[int, str, str]]:
    """(record number, reason, identifier) of the first ``limit`` quarantined rows."""
    return con.execute(f"""
      SELECT rec, substr(reason, 3), coalesce({key}, '') FROM {prefix}_rows
      WHERE reason LIKE 'Q:%' ORDER BY rec LIMIT {int(limit)}""").fetchall()


def synthetic_marks(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(marked, unmarked) named legal units among the kept and quarantined rows."""
    mark = sql_string(SYNTHETIC_MARK + "%")
    row = con.execute(f"""
      SELECT count(*) FILTER (WHERE coalesce(denom, du1, sigle) LIKE {mark}),
             count(*) FILTER (WHERE coalesce(denom, du1, sigle) NOT LIKE {mark})
      FROM ul_rows""").fetchone()
    return int(row[0]), int(row[1])


def warnings(con: duckdb.DuckDBPyConnection, prefix: str) -> list[tuple[str, int]]:
    """Counts of what loaded rows lack or had withheld (no Python loop over rows)."""
    name = "coalesce(denom, du1, sigle)" if prefix == "ul" else "coalesce(enseigne, du)"
    row = con.execute(f"""
      SELECT count(*) FILTER (WHERE ape IS NOT NULL AND coalesce(nomen, '') <> 'NAFRev2'),
             count(*) FILTER (WHERE nomen = 'NAFRev2' AND ape IS NOT NULL
                              AND naf_dot(ape) NOT IN (SELECT code FROM naf_codes)),
             count(*) FILTER (WHERE {name} IS NULL AND coalesce(diff, '') = 'O'),
             count(*) FILTER (WHERE coalesce(diff, '') <> 'O'),
             count(*) FILTER (WHERE dcrea = '1900-01-01')
      FROM {prefix}_rows WHERE reason IS NULL""").fetchone()
    what = [
        "activity not coded in NAF rév. 2: no mai:activity",
        "unknown NAF rév. 2 code: no mai:activity",
        "no name in the file: neutral label" if prefix == "ul" else "no own name: unit's name used",
        "partial diffusion (P): protected fields withheld",
        "creation date 1900-01-01 (unknown): not published",
    ]
    return [(w, int(n)) for w, n in zip(what, row) if n]


# ----------------------------------------------------------------------------- N-Quads
class Terms:
    """Builds the SQL expression of each N-Quads line (IRIs and fragments as SQL literals)."""

    def __init__(self, iris: Iris, graph: str, synthetic: bool) -> None:
        self.base = iris.base
        self.g = sql_string(f" <{graph}> .")
        self.synthetic = synthetic

    def q(self, pred: NamedNode, obj: str, when: str | None = None, subj: str = "s") -> str:
        """``subj pred obj graph .`` (NULL when ``obj`` is NULL or ``when`` is false)."""
        line = f"{subj} || {sql_string(f' <{pred.value}> ')} || {obj} || {self.g}"
        return f"CASE WHEN {when} THEN {line} END" if when else line

    def iri(self, path: str, key: str) -> str:
        """``<{base}{path}`` || key || ``>``."""
        return f"{sql_string(f'<{self.base}{path}')} || {key} || '>'"

    def typed(self, expr: str, datatype: NamedNode) -> str:
        return f"lit({expr}) || {sql_string('^^<' + datatype.value + '>')}"

    def bool(self, expr: str) -> str:
        return self.typed(f"CASE WHEN {expr} THEN 'true' ELSE 'false' END", XSD.boolean)

    def name(self, expr: str) -> str:
        """A name as a plain literal, visibly synthetic in a synthetic import."""
        if not self.synthetic:
            return f"lit({expr})"
        marked = sql_string(SYNTHETIC_MARK + "%")
        return f"lit(CASE WHEN {expr} LIKE {marked} THEN {expr} " \
               f"ELSE {sql_string(SYNTHETIC_MARK + ' ')} || {expr} END)"

    def neutral(self, text: str, lang: str, key: str) -> str:
        """A neutral label ``text (key)`` in ``lang`` (marked synthetic when needed)."""
        mark = SYNTHETIC_MARK + " " if self.synthetic else ""
        return f"lit({sql_string(mark + text + ' (')} || {key} || ')') || '@{lang}'"

    def labels(self, key: str, hidden: tuple[str, str], unnamed: tuple[str, str]) -> list[str]:
        """rdfs:label lines: the name, else neutral labels (partial diffusion or no name)."""
        label = RDFS.label
        return [
            self.q(label, self.name("name"), "public AND name IS NOT NULL"),
            self.q(label, self.neutral(hidden[0], "fr", key), "NOT public"),
            self.q(label, self.neutral(hidden[1], "en", key), "NOT public"),
            self.q(label, self.neutral(unnamed[0], "fr", key), "public AND name IS NULL"),
            self.q(label, self.neutral(unnamed[1], "en", key), "public AND name IS NULL"),
        ]

    def common(self) -> list[str]:
        """Lines shared by units and establishments (activity, staff, dates, status, flags)."""
        return [
            self.q(MAI.activity, self.iri("voc/naf/", "naf")),
            self.q(MAI.staffBand, self.iri("voc/tranches-effectifs/", "tranche_ok")),
            self.q(MAI.staffBandYear, self.typed("annee_ok", XSD.gYear)),
            self.q(MAI.creationDate, self.typed("creation", XSD.date)),
            self.q(MAI.administrativeStatus, self.iri("voc/etats-administratifs/", "etat")),
            self.q(MAI.closingDate, self.typed("closing", XSD.date)),
            self.q(MAI.partialDiffusion, self.bool("true"), "NOT public"),
            self.q(MAI.synthetic, self.bool("true"), str(self.synthetic).lower()),
        ]


def _common_columns(closed_state: str) -> str:
    return f"""
      CASE WHEN r.nomen = 'NAFRev2' THEN nc.code END AS naf,
      CASE WHEN regexp_full_match(r.tranche, 'NN|[0-9]{{2}}') THEN r.tranche END AS tranche_ok,
      CASE WHEN regexp_full_match(r.tranche_annee, '[0-9]{{4}}') THEN r.tranche_annee END
        AS annee_ok,
      nullif(r.dcrea, '1900-01-01') AS creation,
      CASE WHEN r.etat = '{closed_state}' THEN r.ddebut END AS closing,
      r.etat"""


def _lines(t: Terms, lines: list[str]) -> str:
    return (f"unnest(list_concat(list_filter([{', '.join(lines)}], lambda x: x IS NOT NULL), "
            f"list_transform(coalesce(naf_po, []), lambda x: s || ' ' || x || {t.g}))) AS line")


def unit_lines_sql(t: Terms) -> str:
    """SELECT of the N-Quads lines of the kept legal units."""
    lines = [
        t.q(RDF.type, sql_string(f"<{MAI.Structure.value}>")),
        t.q(MAI.siren, "lit(siren)"),
        t.q(ROV.legalName, "lit(denom)", "public"),
        *t.labels("'SIREN ' || siren",
                  ("Structure à diffusion partielle", "Partially diffusible structure"),
                  ("Structure sans dénomination", "Unnamed structure")),
        t.q(MAI.acronym, "lit(sigle)", "public"),
        t.q(MAI.tradeName, "lit(du1)", "public"),
        t.q(MAI.tradeName, "lit(du2)", "public AND du2 <> du1"),
        t.q(MAI.tradeName, "lit(du3)", "public AND du3 <> du1"),
        t.q(MAI.rna, "lit(rna)", "public"),
        t.q(RDFS.seeAlso, f"{sql_string('<' + ANNUAIRE)} || siren || '>'", "public"),
        t.q(MAI.legalCategory, t.iri("voc/categories-juridiques/", "cj"),
            "regexp_full_match(cj, '[0-9]{4}')"),
        t.q(MAI.essFamily, "'<' || family || '>'"),
        t.q(MAI.essField, t.bool("ess = 'O'"), "ess IN ('O', 'N')"),
        t.q(ORG.hasRegisteredSite, t.iri("id/etablissement/", "siege_siret")),
        *t.common(),
    ]
    family_fallback = sql_string(f"{t.base}voc/familles-ess/societes-commerciales-ess")
    return f"""
    WITH u AS (
      SELECT r.*, {t.iri('id/structure/', 'r.siren')} AS s,
        coalesce(r.diff = 'O', false) AS public,
        coalesce(r.denom, r.du1, r.sigle) AS name,
        coalesce(f.iri, CASE WHEN r.ess = 'O' AND r.cj LIKE '5%' THEN {family_fallback} END)
          AS family,
        e.siret AS siege_siret, nl.po AS naf_po, {_common_columns('C')}
      FROM ul_rows r
      LEFT JOIN families f ON f.cj = r.cj
      LEFT JOIN naf_codes nc ON nc.code = naf_dot(r.ape)
      LEFT JOIN naf_links nl ON nl.code = nc.code AND r.nomen = 'NAFRev2'
      LEFT JOIN et_rows e ON e.reason IS NULL AND e.siret = r.siren || r.nic_siege
      WHERE r.reason IS NULL)
    SELECT {_lines(t, lines)} FROM u"""


def establishment_lines_sql(t: Terms) -> str:
    """SELECT of the N-Quads lines of the kept establishments."""
    lines = [
        t.q(RDF.type, sql_string(f"<{MAI.Establishment.value}>")),
        t.q(MAI.siret, "lit(siret)"),
        t.q(ORG.siteOf, "u"),
        t.q(ORG.hasSite, "s", subj="u"),
        t.q(MAI.headquarters, t.bool("siege = 'true'")),
        t.q(MAI.locatedIn, "'<' || commune_iri || '>'"),
        t.q(SCHEMA.streetAddress, "lit(street)", "public"),
        t.q(SCHEMA.postalCode, "lit(cp)", "public"),
        t.q(MAI.tradeName, "lit(du)", "public"),
        *t.labels("'SIRET ' || siret",
                  ("Établissement à diffusion partielle", "Partially diffusible establishment"),
                  ("Établissement sans dénomination", "Unnamed establishment")),
        *t.common(),
    ]
    return f"""
    WITH e AS (
      SELECT r.*, {t.iri('id/etablissement/', 'r.siret')} AS s,
        {t.iri('id/structure/', 'r.siren')} AS u,
        coalesce(r.diff = 'O' AND ul.diff = 'O', false) AS public,
        coalesce(r.enseigne, r.du, ul.denom, ul.du1, ul.sigle) AS name,
        nullif(concat_ws(' ', r.num, r.indice, r.typevoie, r.voie), '') AS street,
        nl.po AS naf_po, {_common_columns('F')}
      FROM et_rows r
      JOIN ul_rows ul ON ul.siren = r.siren AND ul.reason IS NULL
      LEFT JOIN naf_codes nc ON nc.code = naf_dot(r.ape)
      LEFT JOIN naf_links nl ON nl.code = nc.code AND r.nomen = 'NAFRev2'
      WHERE r.reason IS NULL)
    SELECT {_lines(t, lines)} FROM e"""


def write_nquads(con: duckdb.DuckDBPyConnection, t: Terms, out_dir: Path) -> tuple[list[Path], int]:
    """Write the N-Quads of the kept units and establishments: two files (loaded in parallel).

    Returns the files and the number of lines written.
    """
    con.execute("SET preserve_insertion_order = false")
    files, lines = [], 0
    for name, sql in (("units.nq", unit_lines_sql(t)), ("establishments.nq",
                                                        establishment_lines_sql(t))):
        target = out_dir / name
        row = con.execute(f"COPY ({sql}) TO {sql_string(str(target))} "
                          "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '')").fetchone()
        files.append(target)
        lines += int(row[0]) if row else 0
    return files, lines
