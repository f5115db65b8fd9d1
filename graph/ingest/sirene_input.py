"""SIRENE stock files as DuckDB sources: header variants, zip/CSV/Parquet, error translation.

INSEE publishes ``StockUniteLegale_utf8`` and ``StockEtablissement_utf8`` as CSV (UTF-8, comma,
header line), zipped CSV and Parquet (see ``data/reference/sirene_columns.md``). The header
changed over time; every variant is accepted and recognised by its header:

* StockUniteLegale: 35 columns (2026: with ``societeMissionUniteLegale`` and
  ``activitePrincipaleNAF25UniteLegale``), 34 (without the NAF 2025 column; inferred
  intermediate form), 33 (older).
* StockEtablissement: 54 columns (2026), 53 (Sirene 4 without the NAF 2025 column; inferred),
  48 (before Sirene 4).

A header must contain every column of the oldest variant (33 / 48); columns unknown to Maillage
are accepted with a warning (INSEE adds columns over time), a missing column is an
:class:`~maillage.graph.errors.InputError`. A zip is extracted (streamed) to a scratch directory
so DuckDB can scan the CSV in parallel; a truncated or corrupt zip is an InputError.

>>> variant_of("unites-legales", UL_COLUMNS)
'35 columns (2026)'
>>> variant_of("etablissements", ET_COLUMNS_48)
'48 columns (before Sirene 4)'
>>> sql_string("it's")
"'it''s'"
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import InputError

# ----------------------------------------------------------------------------- header variants
UL_COLUMNS: list[str] = [
    "siren", "statutDiffusionUniteLegale", "unitePurgeeUniteLegale", "dateCreationUniteLegale",
    "sigleUniteLegale", "sexeUniteLegale", "prenom1UniteLegale", "prenom2UniteLegale",
    "prenom3UniteLegale", "prenom4UniteLegale", "prenomUsuelUniteLegale",
    "pseudonymeUniteLegale", "identifiantAssociationUniteLegale", "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale", "dateDernierTraitementUniteLegale", "nombrePeriodesUniteLegale",
    "categorieEntreprise", "anneeCategorieEntreprise", "dateDebut", "etatAdministratifUniteLegale",
    "nomUniteLegale", "nomUsageUniteLegale", "denominationUniteLegale",
    "denominationUsuelle1UniteLegale", "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale", "categorieJuridiqueUniteLegale",
    "activitePrincipaleUniteLegale", "nomenclatureActivitePrincipaleUniteLegale",
    "nicSiegeUniteLegale", "economieSocialeSolidaireUniteLegale", "societeMissionUniteLegale",
    "caractereEmployeurUniteLegale", "activitePrincipaleNAF25UniteLegale",
]
UL_COLUMNS_34 = [c for c in UL_COLUMNS if c != "activitePrincipaleNAF25UniteLegale"]
UL_COLUMNS_33 = [c for c in UL_COLUMNS_34 if c != "societeMissionUniteLegale"]

ET_COLUMNS: list[str] = [
    "siren", "nic", "siret", "statutDiffusionEtablissement", "dateCreationEtablissement",
    "trancheEffectifsEtablissement", "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement", "dateDernierTraitementEtablissement",
    "etablissementSiege", "nombrePeriodesEtablissement", "complementAdresseEtablissement",
    "numeroVoieEtablissement", "indiceRepetitionEtablissement", "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement", "typeVoieEtablissement",
    "libelleVoieEtablissement", "codePostalEtablissement", "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement", "distributionSpecialeEtablissement",
    "codeCommuneEtablissement", "codeCedexEtablissement", "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement", "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement", "complementAdresse2Etablissement",
    "numeroVoie2Etablissement", "indiceRepetition2Etablissement", "typeVoie2Etablissement",
    "libelleVoie2Etablissement", "codePostal2Etablissement", "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement", "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement", "codeCedex2Etablissement", "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement", "libellePaysEtranger2Etablissement", "dateDebut",
    "etatAdministratifEtablissement", "enseigne1Etablissement", "enseigne2Etablissement",
    "enseigne3Etablissement", "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement", "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement", "activitePrincipaleNAF25Etablissement",
]
ET_COLUMNS_53 = [c for c in ET_COLUMNS if c != "activitePrincipaleNAF25Etablissement"]
_SIRENE4_ADDED = {
    "dernierNumeroVoieEtablissement", "indiceRepetitionDernierNumeroVoieEtablissement",
    "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
}
ET_COLUMNS_48 = [c for c in ET_COLUMNS_53 if c not in _SIRENE4_ADDED]

VARIANTS: dict[str, list[tuple[str, list[str]]]] = {
    "unites-legales": [
        ("35 columns (2026)", UL_COLUMNS),
        ("34 columns (before NAF 2025)", UL_COLUMNS_34),
        ("33 columns (before 2023)", UL_COLUMNS_33),
    ],
    "etablissements": [
        ("54 columns (2026)", ET_COLUMNS),
        ("53 columns (Sirene 4, before NAF 2025)", ET_COLUMNS_53),
        ("48 columns (before Sirene 4)", ET_COLUMNS_48),
    ],
}
REQUIRED = {"unites-legales": UL_COLUMNS_33, "etablissements": ET_COLUMNS_48}
FILE_STEM = {"unites-legales": "StockUniteLegale", "etablissements": "StockEtablissement"}
_MAX_HEADER = 1 << 16


def variant_of(kind: str, header: list[str]) -> str | None:
    """The name of the INSEE header variant ``header`` is exactly, or None."""
    for name, cols in VARIANTS[kind]:
        if header == cols:
            return name
    return None


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# ----------------------------------------------------------------------------- opened files
@dataclass
class StockFile:
    """One SIRENE stock file, ready for DuckDB."""

    path: Path  # as given by the user
    kind: str  # "unites-legales" or "etablissements"
    fmt: str  # "csv" or "parquet"
    data_path: Path  # what DuckDB reads (the extracted CSV for a zip)
    columns: list[str]
    types: dict[str, str] = field(default_factory=dict)  # Parquet column types
    variant: str = ""
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def description(self) -> str:
        """File name, size and modification time (a sha256 of a multi-GB file is too slow)."""
        st = self.path.stat()
        mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).replace(microsecond=0)
        return f"{self.path.name} ({st.st_size} bytes, modified {mtime.isoformat()})"


def open_stock(path: Path, kind: str, scratch: Path) -> StockFile:
    """Check ``path`` (csv, zip or parquet) and its header; extract a zip into ``scratch``."""
    if not path.is_file():
        raise InputError("file not found", path=str(path), hint="check the path")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        data = _extract_zip(path, kind, scratch)
        sf = StockFile(path, kind, "csv", data, _csv_header(data, shown=path))
    elif suffix == ".parquet":
        columns, types = _parquet_schema(path)
        sf = StockFile(path, kind, "parquet", path, columns, types)
    elif suffix in (".csv", ".txt"):
        sf = StockFile(path, kind, "csv", path, _csv_header(path, shown=path))
    else:
        raise InputError(
            f"unsupported file type {suffix!r}", path=str(path),
            hint=f"give {FILE_STEM[kind]}_utf8.csv, .zip or .parquet",
        )
    _check_columns(sf)
    return sf


def _extract_zip(path: Path, kind: str, scratch: Path) -> Path:
    try:
        with zipfile.ZipFile(path) as zf:
            member = _zip_member(zf, path, kind)
            target = scratch / f"{kind}-{Path(member.filename).name}"
            with zf.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
    except OSError as exc:
        raise InputError(f"cannot extract the zip archive: {exc}", path=str(path)) from exc
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise InputError(
            f"truncated or corrupt zip archive ({exc})", path=str(path),
            hint="download the file again (INSEE stock files are on data.gouv.fr)",
        ) from exc
    return target


def _zip_member(zf: zipfile.ZipFile, path: Path, kind: str) -> zipfile.ZipInfo:
    csvs = [i for i in zf.infolist() if i.filename.lower().endswith(".csv")]
    if len(csvs) > 1:
        csvs = [i for i in csvs if FILE_STEM[kind].lower() in i.filename.lower()] or csvs
    if len(csvs) != 1:
        names = ", ".join(i.filename for i in zf.infolist()) or "nothing"
        raise InputError(
            f"expected one {FILE_STEM[kind]} CSV in the zip archive, found {names}", path=str(path)
        )
    return csvs[0]


def _csv_header(path: Path, *, shown: Path) -> list[str]:
    with path.open("rb") as fh:
        raw = fh.readline(_MAX_HEADER)
    if not raw.strip():
        raise InputError("empty file: expected a header line", path=str(shown), line=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"header is not UTF-8 ({exc.reason} at byte {exc.start})", path=str(shown), line=1,
            hint="use the UTF-8 stock files (StockUniteLegale_utf8, StockEtablissement_utf8)",
        ) from exc
    return [c.strip() for c in next(csv.reader([text.rstrip("\r\n")]))]


def _parquet_schema(path: Path) -> tuple[list[str], dict[str, str]]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"not a readable Parquet file: {_first_line(exc)}",
                         path=str(path)) from exc
    finally:
        con.close()
    return [r[0] for r in rows], {r[0]: r[1] for r in rows}


def _check_columns(sf: StockFile) -> None:
    missing = [c for c in REQUIRED[sf.kind] if c not in sf.columns]
    if missing:
        other = "etablissements" if sf.kind == "unites-legales" else "unites-legales"
        looks = [c for c in REQUIRED[other] if c in sf.columns]
        hint = (
            f"this looks like a {FILE_STEM[other]} file: check --{sf.kind}"
            if len(looks) > len(REQUIRED[other]) // 2
            else f"expected the header of {FILE_STEM[sf.kind]} "
            "(see data/reference/sirene_columns.md)"
        )
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        raise InputError(
            f"missing {len(missing)} column(s) of {FILE_STEM[sf.kind]}: {shown}",
            path=str(sf.path), line=1 if sf.fmt == "csv" else None, hint=hint,
        )
    known = {c for _, cols in VARIANTS[sf.kind] for c in cols}
    sf.unknown_columns = [c for c in sf.columns if c not in known]
    sf.variant = variant_of(sf.kind, sf.columns) or f"{len(sf.columns)} columns (non-standard)"


# ----------------------------------------------------------------------------- DuckDB sources
def source_sql(sf: StockFile, columns: dict[str, str], raw: Iterable[str] = ()) -> str:
    """A SELECT of ``rec`` (record number, 1-based) and ``columns`` (alias → INSEE name).

    Values are trimmed; empty strings and INSEE's ``[ND]`` (not diffusible) become NULL —
    except for the aliases in ``raw``, left as read (clean them later with the SQL macro
    ``clean``: cheaper when only a few rows are kept).
    """
    keep_raw = set(raw)
    if sf.fmt == "csv":
        cols = ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in sf.columns)
        reader = (
            f"read_csv({sql_string(str(sf.data_path))}, header=true, auto_detect=false, "
            f"columns={{{cols}}}, delim=',', quote='\"', escape='\"', strict_mode=true, "
            "encoding='utf-8', null_padding=false)"
        )
    else:
        reader = f"read_parquet({sql_string(str(sf.data_path))})"
    exprs = ", ".join(f"{_value(sf, name, alias not in keep_raw)} AS {alias}"
                      for alias, name in columns.items())
    return f"SELECT ordinality AS rec, {exprs} FROM {reader} WITH ORDINALITY"


def _value(sf: StockFile, name: str, clean: bool) -> str:
    col = '"' + name.replace('"', '""') + '"'
    if name not in sf.columns:
        return "CAST(NULL AS VARCHAR)"
    value = f"CAST({col} AS VARCHAR)"
    kind = sf.types.get(name, "VARCHAR").upper()
    width = {"siren": 9, "nic": 5, "siret": 14, "nicSiegeUniteLegale": 5}.get(name)
    if width and kind != "VARCHAR":  # a Parquet file may type identifiers as integers
        value = f"lpad({value}, {width}, '0')"
    return f"nullif(nullif(trim({value}), ''), '[ND]')" if clean else value


_LINE = re.compile(r"CSV Error on Line: (\d+)")


def translate_error(exc: duckdb.Error, files: list[StockFile]) -> InputError | None:
    """The InputError for a DuckDB error raised while reading one of ``files`` (else None)."""
    text = str(exc)
    target = next((f for f in files if str(f.data_path) in text), None)
    if target is None and len(files) == 1:
        target = files[0]
    if target is None:
        return None
    m = _LINE.search(text)
    if m is None:
        if "parquet" not in text.lower() and target.fmt != "parquet":
            return None
        return InputError(f"cannot read the Parquet file: {_first_line(exc)}",
                          path=str(target.path))
    return InputError(
        f"malformed CSV: {_what(text)}", path=str(target.path), line=int(m.group(1)),
        hint=f"expected {len(target.columns)} comma-separated UTF-8 fields per line, "
        "as in the header",
    )


def _what(text: str) -> str:
    """The human part of a DuckDB CSV error: the last line before its "Possible fixes".

    >>> _what("CSV Error on Line: 3\\nOriginal Line: 4,5\\nExpected Number of Columns: 3 Found: 2"
    ...       "\\nPossible fixes:\\n* x")
    'Expected Number of Columns: 3 Found: 2'
    """
    lines = [ln.strip() for ln in text.splitlines()]
    what = lines[0]
    for ln in lines[1:]:
        if ln.startswith(("Possible fix", "Possible Solution", "file =")):
            break
        if ln and not ln.startswith("Original Line"):
            what = ln
    if "not utf-8" in what.lower():
        what = "invalid UTF-8 bytes (wrong encoding: the stock files are UTF-8)"
    return what


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
