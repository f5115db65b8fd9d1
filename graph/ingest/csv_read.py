"""Reading curated input files (CSV or Django JSON fixtures) and parsing their values.

``read_table`` decodes the file (UTF-8 with or without BOM, else Windows-1252, or the encoding
given), finds the delimiter (``csv.Sniffer``, or the one given), applies the mapping's header
options (``first-row``, ``shifted`` when the header names sit one column right of the data,
``ignore`` or ``none`` with explicit names) and checks that every column the mapping uses exists.
A malformed file raises :class:`InputError` naming the file, the line and what was expected.

>>> slugify("La Boîte à Cycler"), derived_key("Vélo Solidaire", "95000")
('la-boite-a-cycler', 'velo-solidaire-95000')
>>> parse_point("48,88", "2.41")
Point(lon=2.41, lat=48.88, wkt='POINT(2.41 48.88)')
>>> parse_wkt("SRID=4326;POINT (7.1514437 43.6560528)").wkt
'POINT(7.1514437 43.6560528)'
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from pyoxigraph import Literal

from ..errors import InputError
from ..namespaces import XSD
from .mapping import LITERAL_PROPERTIES, Mapping

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_WKT_POINT = re.compile(r"^(?:SRID=(\d+);)?\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)$", re.IGNORECASE)


@dataclass
class Table:
    """The rows of an input file: (line number, {column: value}) with values stripped."""

    path: str
    encoding: str
    delimiter: str
    columns: list[str]
    header_line: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def decode(data: bytes, encoding: str, path: str) -> tuple[str, str]:
    """(text, encoding used). ``auto``: UTF-8 (with or without BOM), else Windows-1252.

    >>> decode("é".encode("cp1252"), "auto", "x.csv")
    ('é', 'cp1252')
    """
    if encoding != "auto":
        return _decode_as(data, encoding, path), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_as(data, "utf-8-sig", path), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data[: exc.start]):
            raise InputError(
                f"mixed encodings: UTF-8 text with a byte 0x{data[exc.start]:02x} that is not "
                "UTF-8", path=path, line=data[: exc.start].count(b"\n") + 1,
                hint="re-save the file in one encoding (UTF-8)") from exc
    return _decode_as(data, "cp1252", path), "cp1252"


def _decode_as(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"byte 0x{data[exc.start]:02x} is not valid {encoding} ({exc.reason})",
            path=path, line=data[: exc.start].count(b"\n") + 1,
            hint="give the file's encoding with --encoding (utf-8, cp1252, latin-1)") from exc


def sniff_delimiter(sample: str, path: str) -> str:
    """The delimiter of a CSV sample among ``, ; TAB |`` (csv.Sniffer, then counting).

    >>> sniff_delimiter("a;b;c\\n1;2,5;3\\n", "x.csv")
    ';'
    """
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    first = sample.splitlines()[0] if sample.strip() else ""
    counts = {d: first.count(d) for d in ",;\t|"}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise InputError("cannot detect the delimiter (no , ; TAB or | in the first line)",
                         path=path, line=1, hint="give it with --delimiter")
    return best


def read_table(path: Path, m: Mapping, *, encoding: str | None = None,
               delimiter: str | None = None) -> Table:
    """Read and check the file: every column the mapping uses must exist."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=str(path)) from exc
    text, used = decode(data, encoding or m.read.encoding, str(path))
    if m.read.format == "django-fixture":
        table = _read_fixture(text, str(path), used, m.read.model or "")
    else:
        table = _read_csv(text, str(path), used, m, delimiter or m.read.delimiter)
    missing = sorted(m.required_columns() - set(table.columns))
    if missing:
        raise InputError(
            f"column(s) {', '.join(map(repr, missing))} used by the mapping {m.path} not found; "
            f"the file has: {', '.join(map(repr, table.columns))}",
            path=str(path), line=table.header_line,
            hint="fix [columns] in the mapping, or the [read] header options")
    return table


def _read_csv(text: str, path: str, encoding: str, m: Mapping, delimiter: str) -> Table:
    lines = io.StringIO(text)
    for _ in range(m.read.skip_rows):
        lines.readline()
    offset = m.read.skip_rows
    body = lines.read()
    if delimiter == "auto":
        delimiter = sniff_delimiter("\n".join(body.splitlines()[:20]), path)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)
    records = _records(reader, path, offset)
    header = m.read.header
    if header == "none":
        names, header_line = list(m.read.columns), offset + 1
    else:
        if not records:
            raise InputError("the file is empty: a header line was expected", path=path)
        header_line, first = records.pop(0)
        names = list(m.read.columns) if header == "ignore" else [c.strip() for c in first]
        if header == "shifted":
            names = names[1:]
    _check_names(names, path, header_line)
    table = Table(path, encoding, delimiter, names, header_line)
    for line, fields in records:
        table.rows.append((line, _fit(fields, names, path, line, delimiter)))
    return table


def _records(reader: csv.Reader, path: str, offset: int) -> list[tuple[int, list[str]]]:
    out = []
    try:
        start = 1
        for fields in reader:
            if fields and any(f.strip() for f in fields) or len(fields) > 1:
                out.append((offset + start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path,
                         line=offset + reader.line_num) from exc
    return out


def _check_names(names: list[str], path: str, line: int) -> None:
    while names and not names[-1]:
        names.pop()  # a trailing delimiter in the header
    seen = set()
    for i, name in enumerate(names):
        if name and name in seen:
            raise InputError(f"duplicate column name {name!r} in the header", path=path,
                             line=line, hint="rename one, or give columns in the mapping")
        seen.add(name or f"#{i}")


def _fit(fields: list[str], names: list[str], path: str, line: int,
         delimiter: str) -> dict[str, str]:
    n = len(names)
    if len(fields) < n or any(f.strip() for f in fields[n:]):
        raise InputError(
            f"expected {n} {delimiter!r}-separated fields, found {len(fields)}",
            path=path, line=line, hint="check the quoting and the delimiter of this line")
    return {name: value.strip() for name, value in zip(names, fields) if name}


def _read_fixture(text: str, path: str, encoding: str, model: str) -> Table:
    """A Django JSON fixture: the ``fields`` of each record of ``model`` (line = record no.)."""
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    if not isinstance(records, list):
        raise InputError("a Django fixture is a JSON array of records", path=path, line=1)
    rows, columns = [], {}
    for i, rec in enumerate(records, start=1):
        if isinstance(rec, dict) and rec.get("model") == model:
            row = {k: _flatten(v) for k, v in (rec.get("fields") or {}).items()}
            columns.update(dict.fromkeys(row))
            rows.append((i, row))
    return Table(path, encoding, "json", list(columns), 1, rows)


def _flatten(value: object) -> str:
    """A JSON value as text: lists (even nested) become '|'-joined strings."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(x for x in (_flatten(v) for v in value) if x)
    return str(value).strip()


# ================================================================================ values
def slugify(text: str, limit: int = 60) -> str:
    """A lower-case ASCII slug (accents folded, other characters → '-')."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-")


def derived_key(name: str, place: str, address: str = "") -> str:
    """The stable key of a row without a key: name + postcode (+ address if needed)."""
    parts = [slugify(name), place] + ([slugify(address, 40)] if address else [])
    return "-".join(p for p in parts if p)


class Point(NamedTuple):
    """A WGS84 point and its WKT literal text (the source's digits kept)."""

    lon: float
    lat: float
    wkt: str


def parse_point(lat: str, lon: str) -> Point | None:
    """The point of two texts (decimal comma accepted); None when both are empty."""
    if not lat and not lon:
        return None
    lat, lon = lat.replace(",", "."), lon.replace(",", ".")
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise RowProblem(f"malformed coordinates {lat!r}, {lon!r}") from None
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        raise RowProblem(f"coordinates out of range {lat!r}, {lon!r}")
    plain = all(_DECIMAL.match(t) for t in (lat, lon))
    wkt = f"POINT({lon} {lat})" if plain else f"POINT({x!r} {y!r})"
    return Point(x, y, wkt)


def parse_wkt(text: str) -> Point | None:
    """The point of a WKT/EWKT ``POINT(lon lat)`` (SRID 4326 only); None when empty."""
    if not text:
        return None
    m = _WKT_POINT.match(text.strip())
    if not m:
        raise RowProblem(f"not a WKT point: {text!r}")
    if m.group(1) not in (None, "4326"):
        raise RowProblem(f"unsupported SRID {m.group(1)} (only WGS84, 4326)")
    return parse_point(m.group(3), m.group(2))


def literal_for(prop: str, value: str) -> Literal:
    """The typed literal of a whitelisted property's value (raises _Quarantine if bad)."""
    kind = LITERAL_PROPERTIES[prop]
    try:
        if kind == "decimal":
            return Literal(str(Decimal(value.replace(",", "."))), datatype=XSD.decimal)
        if kind == "date":
            return Literal(_iso_date(value), datatype=XSD.date)
    except (InvalidOperation, ValueError):
        raise RowProblem(f"{prop}: {value!r} is not a {kind}") from None
    return Literal(value, language="fr") if kind == "text" else Literal(value)


def _iso_date(value: str) -> str:
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", value)
    if m:
        value = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return _dt.date.fromisoformat(value).isoformat()


def url_key(url: str) -> str:
    """A URL without scheme, ``www.`` or trailing slash, lower-cased (to compare websites).

    >>> url_key("https://www.Electrons-Solaires93.org/")
    'electrons-solaires93.org'
    """
    url = re.sub(r"^[a-z]+://", "", url.strip().lower())
    return url.removeprefix("www.").rstrip("/")


class RowProblem(ValueError):
    """A value of a row cannot be read (the message is the quarantine reason)."""
