"""Import the ESS structures of Île-de-France from the INSEE SIRENE stock files.

``import_sirene(store, settings, unites_legales, etablissements)`` reads
``StockUniteLegale_utf8`` and ``StockEtablissement_utf8`` (CSV, zip or Parquet, any header
variant: see :mod:`.sirene_input`), selects with DuckDB (see :mod:`.sirene_sql` for the exact
filter cascade and reasons):

* legal units with ``economieSocialeSolidaireUniteLegale = 'O'`` — plus, on request, units of
  chosen legal categories or ESS families even without the flag; natural persons (category
  1000) are never ESS structures;
* their establishments whose commune (or Paris arrondissement) is in the territory graph;
* active units and establishments only, unless ``include_closed``.

**Which legal units are kept.** A unit is kept when it has at least one kept establishment in
Île-de-France, *or* its siège establishment has a commune of the territory graph (even if that
siège row was itself filtered as closed or quarantined). Its establishments elsewhere in France
are not loaded (filtered "outside Île-de-France").

**Decisions.** A unit without any name (denomination, usual name, acronym) is loaded with a
neutral label "Structure sans dénomination (SIREN …)" and a report warning: the SIREN is its
identity. Partially diffusible units and establishments (``statutDiffusion… = P``; INSEE prints
``[ND]`` for withheld fields) are conservatively published with identifiers, legal category,
activity, staff band, dates, status and commune only: no name, acronym, usual name, RNA number,
street address, postcode or enseigne, a neutral label and ``mai:partialDiffusion true``; an
establishment's label falls back to its unit's name only if both are diffusible. Only ``O`` is
treated as diffusible.

**Re-import.** The graph (``graph/sirene``, or ``graph/synthetique-sirene`` for synthetic files)
is replaced as a whole: updated units are rewritten, nothing is duplicated. Units and
establishments already in the graph that are now closed are kept and marked closed
(``mai:administrativeStatus`` C/F, ``mai:closingDate``) even without ``include_closed``. Units
that disappear from the stock, or leave the ESS field, are dropped: the SIRENE stock keeps
closed units, so a unit missing from it was purged or is out of scope.

**Synthetic files.** Files from ``maillage synth`` carry denominations starting with
``[SYNTHÉTIQUE]``. They are detected and always go to ``graph/synthetique-sirene`` (described
with ``mai:synthetic true``; each resource gets ``mai:synthetic true`` and a visibly synthetic
label); a file mixing marked and unmarked names is refused, so synthetic rows never reach
``graph/sirene``.

**Atomicity.** N-Quads are written to a scratch directory first; the store is changed in one
``store.writing()`` block, so any error leaves it untouched.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat

from ..errors import InputError, MaillageError, StoreError
from ..namespaces import LICENCE_OUVERTE, Iris, sparql_prefixes
from ..provenance import describe_graph
from ..resources import data_file
from ..settings import Settings
from ..store import GraphWriter, MaillageStore
from . import sirene_sql as q
from .common import commune_codes, naf_filiere_map
from .report import ImportReport, write_reports
from .sirene_input import StockFile, open_stock, source_sql, translate_error

SOURCE_TITLE = "INSEE, Base Sirene des entreprises et de leurs établissements (stock)"
SOURCE_URL = (
    "https://www.data.gouv.fr/fr/datasets/"
    "base-sirene-des-entreprises-et-de-leurs-etablissements-siren-siret/"
)
SYNTHETIC_SOURCE = "Générateur de données synthétiques de Maillage (maillage synth)"
FAMILY_SLUGS = {
    "associations": "associations", "coopératives": "cooperatives", "mutuelles": "mutuelles",
    "fondations": "fondations", "à vérifier": "a-verifier",
}
KNOWN_FAMILIES = (*FAMILY_SLUGS.values(), "societes-commerciales-ess")
Progress = Callable[[str], None]


@dataclass
class SireneOptions:
    """What to select, beyond active ESS-flagged units in Île-de-France."""

    include_closed: bool = False
    legal_categories: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    synthetic: bool = False
    work_dir: Path | None = None  # scratch space (zip extraction, N-Quads); default: system tmp
    keep_nquads: Path | None = None  # copy the N-Quads there (benchmarks)
    threads: int | None = None


@dataclass
class SireneResult:
    """What an import did."""

    graph: NamedNode
    synthetic: bool
    reports: list[ImportReport]
    quads: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    nquads: list[Path] = field(default_factory=list)


def import_sirene(
    store: MaillageStore, settings: Settings, unites_legales: Path, etablissements: Path,
    options: SireneOptions | None = None, *, progress: Progress | None = None,
) -> SireneResult:
    """Import both stock files into the SIRENE graph (replaced atomically). See module doc."""
    opts = options or SireneOptions()
    say = progress or (lambda _msg: None)
    iris = Iris(settings.base_iri)
    clock = _Clock()
    with _scratch(opts.work_dir) as scratch:
        with _duckdb(scratch, opts.threads) as con:  # closed before loading: frees its memory
            sel = _select(con, store, iris, (Path(unites_legales), Path(etablissements)), opts,
                          scratch, say)
            clock.lap("select")
            say("writing N-Quads")
            with _scratch_writes(scratch):
                nquads, quads = q.write_nquads(
                    con, q.Terms(iris, sel.graph.value, sel.synthetic), scratch)
        description = _describe(iris, sel.graph, sel.synthetic, sel.files, sel.reports, opts)
        clock.lap("nquads")
        say(f"loading {quads} quads into {sel.graph.value}")
        replace_graph_from_files(store, sel.graph, nquads, description, scratch)
        clock.lap("load")
        kept = _keep(nquads, opts.keep_nquads)
    return SireneResult(sel.graph, sel.synthetic, sel.reports, quads, clock.total(), kept)


@dataclass
class _Selection:
    graph: NamedNode
    synthetic: bool
    files: list[StockFile]
    reports: list[ImportReport]


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now

    def total(self) -> dict[str, float]:
        return {**self.laps, "total": time.perf_counter() - self.start}


def _select(con: duckdb.DuckDBPyConnection, store: MaillageStore, iris: Iris,
            paths: tuple[Path, Path], opts: SireneOptions, scratch: Path, say: Progress
            ) -> _Selection:
    """Open and check both files, classify every row, build the reports."""
    ul = open_stock(paths[0], "unites-legales", scratch)
    et = open_stock(paths[1], "etablissements", scratch)
    files = [ul, et]
    synthetic = opts.synthetic or _guess_synthetic(con, ul)
    graph = iris.graph("synthetique-sirene" if synthetic else "sirene")
    q.setup(con, _lookups(store, iris, graph, opts))
    say(f"reading {ul.name} ({ul.variant})")
    _run(files, q.scan_unites_legales, con, ul, opts.include_closed)
    say(f"reading {et.name} ({et.variant})")
    _run(files, q.scan_etablissements, con, et, opts.include_closed)
    _check_synthetic(con, ul, synthetic, opts.synthetic)
    reports = [_report(con, ul, "ul", "siren"), _report(con, et, "et", "siret")]
    return _Selection(graph, synthetic, files, reports)


# ----------------------------------------------------------------------------- resources
@contextmanager
def _scratch(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="maillage-sirene-", dir=work_dir) as tmp:
        yield Path(tmp)


@contextmanager
def _duckdb(scratch: Path, threads: int | None) -> Iterator[duckdb.DuckDBPyConnection]:
    config: dict[str, str | int] = {"temp_directory": str(scratch / "duckdb-tmp")}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")
    # Without statistics on a CSV, DuckDB may build its hash tables on the big file side of a
    # join with the small lookup tables (measured: 2x slower on 3.6M establishments).
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        yield con
    finally:
        con.close()


def _run(files: list[StockFile], fn: Callable, *args: object) -> None:
    """Run a DuckDB step, turning file errors into InputError."""
    try:
        fn(*args)
    except duckdb.Error as exc:
        err = translate_error(exc, files)
        if err is None:
            raise
        raise err from exc


def _keep(nquads: list[Path], target: Path | None) -> list[Path]:
    if target is None:
        return []
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.move(p, target / p.name)) for p in nquads]


# ----------------------------------------------------------------------------- lookups
def _lookups(store: MaillageStore, iris: Iris, graph: NamedNode, opts: SireneOptions
             ) -> q.Lookups:
    territory = commune_codes(store)
    if not territory:
        raise StoreError(
            "the store has no communes: the territory graph is missing",
            hint="run `maillage init` first",
        )
    families = legal_category_families(store, iris)
    naf_map = naf_filiere_map(store)
    return q.Lookups(
        territory=territory,
        naf_links={k: [(x.filiere, x.domain) for x in v] for k, v in naf_map.items()},
        naf_codes=_naf_codes(),
        families=families,
        extra_categories=_extra_categories(opts, families),
        previous_sirens=_previous(store, graph, "siren"),
        previous_sirets=_previous(store, graph, "siret"),
    )


def legal_category_families(store: MaillageStore, iris: Iris) -> dict[str, str]:
    """Legal category code → ESS family IRI, from the vocabulary (else the reference CSV)."""
    query = sparql_prefixes("mai", "skos") + """
    SELECT ?code ?family WHERE { ?cj mai:familyOf ?family ; skos:notation ?code }
    ORDER BY ?code"""
    rows = store.query(query)
    found = {r["code"].value: r["family"].value for r in rows}  # type: ignore[union-attr]
    if found:
        return found
    base = iris.scheme("familles-ess").value + "/"
    with data_file("reference", "categories_juridiques_ess.csv").open(encoding="utf-8") as fh:
        return {
            row["code"]: base + FAMILY_SLUGS[row["famille_ess"]]
            for row in csv.DictReader(fh)
            if row["famille_ess"] in FAMILY_SLUGS
        }


def _extra_categories(opts: SireneOptions, families: dict[str, str]) -> list[str]:
    codes = []
    for code in opts.legal_categories:
        if not (len(code) == 4 and code.isdigit()):
            raise InputError(
                f"--add-legal-categories: {code!r} is not a 4-digit INSEE legal category",
                hint="e.g. --add-legal-categories 9220,9300",
            )
        codes.append(code)
    for slug in opts.families:
        if slug not in KNOWN_FAMILIES:
            raise InputError(f"--add-families: unknown family {slug!r}",
                             hint="one of " + ", ".join(KNOWN_FAMILIES))
        chosen = [cj for cj, iri in families.items() if iri.rsplit("/", 1)[-1] == slug]
        if not chosen:
            raise InputError(
                f"--add-families: no legal category belongs to {slug!r}",
                hint="commercial ESS companies are only known by the SIRENE ESS flag",
            )
        codes += chosen
    return sorted(set(codes))


def _naf_codes() -> list[str]:
    with data_file("reference", "naf_rev2.csv").open(encoding="utf-8") as fh:
        return [row["naf_code"] for row in csv.DictReader(fh)]


def _previous(store: MaillageStore, graph: NamedNode, what: str) -> list[str]:
    query = sparql_prefixes("mai") + f"SELECT ?g ?id WHERE {{ GRAPH ?g {{ ?s mai:{what} ?id }} }}"
    return [r["id"].value for r in store.query(query, {"g": graph})]  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- synthetic
def _guess_synthetic(con: duckdb.DuckDBPyConnection, ul: StockFile) -> bool:
    """True if the first named rows of the file carry the synthetic marker."""
    mark = f"'{q.SYNTHETIC_MARK}%'"
    sql = f"""SELECT count(*) FILTER (WHERE denom LIKE {mark}),
                     count(*) FILTER (WHERE denom NOT LIKE {mark})
              FROM ({source_sql(ul, {'denom': 'denominationUniteLegale'})} LIMIT 5000)"""
    try:
        marked, unmarked = con.execute(sql).fetchone()  # type: ignore[misc]
    except duckdb.Error as exc:
        err = translate_error(exc, [ul])
        if err is None:
            raise
        raise err from exc
    return marked > 0 and unmarked == 0


def _check_synthetic(con: duckdb.DuckDBPyConnection, ul: StockFile, synthetic: bool,
                     forced: bool) -> None:
    marked, unmarked = q.synthetic_marks(con)
    if marked and not synthetic:
        raise InputError(
            f"{marked} legal unit(s) are synthetic ({q.SYNTHETIC_MARK}) in a file read as real:"
            " synthetic rows are never loaded into graph/sirene", path=str(ul.path),
            hint="import synthetic files alone (they go to graph/synthetique-sirene)",
        )
    if synthetic and unmarked and not forced:
        raise InputError(
            f"the file mixes synthetic ({marked}) and real ({unmarked}) legal units",
            path=str(ul.path), hint="regenerate it with `maillage synth`",
        )


# ----------------------------------------------------------------------------- reports
def _report(con: duckdb.DuckDBPyConnection, sf: StockFile, prefix: str, key: str) -> ImportReport:
    report = ImportReport(source=sf.name)
    detailed = {}
    offset = 1 if sf.fmt == "csv" else 0  # the CSV header is line 1
    for rec, reason, value in q.quarantined(con, prefix, key, report.max_kept_rows):
        report.quarantine(int(rec) + offset, reason, value)
        detailed[reason] = detailed.get(reason, 0) + 1
    for reason, n in q.accounting(con, prefix):
        report.read(int(n))
        if reason is None:
            report.loaded(int(n))
        elif reason.startswith("F:"):
            report.filtered(reason[2:], int(n))
        elif int(n) > detailed.get(reason[2:], 0):  # beyond the rows kept in detail
            report.quarantine_reasons[reason[2:]] += int(n) - detailed.get(reason[2:], 0)
    for what, n in q.warnings(con, prefix):
        report.warn(what, n)
    for col in sf.unknown_columns:
        report.warn(f"column unknown to Maillage, ignored: {col}")
    report.extra.update({"file": sf.description(), "header": sf.variant,
                         "line_numbers": "physical lines" if sf.fmt == "csv" else "row numbers"})
    report.check_balanced()
    return report


def write_sirene_reports(result: SireneResult, report_dir: Path) -> tuple[Path, Path]:
    """``sirene-report.json`` and ``sirene-quarantine.csv`` in ``report_dir``."""
    return write_reports(result.reports, report_dir, "sirene")


def _describe(iris: Iris, graph: NamedNode, synthetic: bool, files: list[StockFile],
              reports: list[ImportReport], opts: SireneOptions) -> list:
    ul, et = reports
    params = {
        "unites_legales": files[0].description(), "etablissements": files[1].description(),
        "include_closed": str(opts.include_closed).lower(),
        "added_legal_categories": ",".join(opts.legal_categories) or "none",
        "added_families": ",".join(opts.families) or "none",
        "structures_loaded": str(ul.n_loaded), "establishments_loaded": str(et.n_loaded),
        "rows_read": f"{ul.n_read} legal units, {et.n_read} establishments",
    }
    title = ("Structures de l'ESS francilienne (SIRENE)", "Île-de-France ESS structures (SIRENE)")
    if synthetic:
        title = ("Structures SIRENE SYNTHÉTIQUES", "SYNTHETIC SIRENE structures")
    return describe_graph(
        iris, graph, title_fr=title[0], title_en=title[1],
        sources=[SYNTHETIC_SOURCE] if synthetic else [SOURCE_TITLE, SOURCE_URL],
        licence=LICENCE_OUVERTE, synthetic=synthetic, parameters=params,
        description_fr=("Unités légales de l'ESS (indicateur ESS de SIRENE) ayant un "
                        "établissement en Île-de-France, et leurs établissements franciliens."),
        description_en=("ESS legal units (SIRENE ESS flag) with an establishment in "
                        "Île-de-France, and their Île-de-France establishments."),
    )


# ----------------------------------------------------------------------------- loading
DROP_RATE = 25_000  # quads/s removed by Oxigraph's remove_graph (measured, 2 cores)
LOAD_RATE = 200_000  # quads/s of a bulk load


def replace_graph_from_files(store: MaillageStore, graph: NamedNode, nquads: list[Path],
                             description: list, scratch: Path) -> None:
    """Replace ``graph`` by the N-Quads files (+ its description) in one atomic write.

    Oxigraph removes a graph quad by quad; when that is slower than reloading every other
    graph, the new generation starts empty and the other graphs are copied over by dump/load.
    """
    old = store.count(graph) if graph in store.named_graphs() else 0
    rest = store.count() - old if old else 0
    fresh = store.path is not None and old > 20_000 and old / DROP_RATE > rest / LOAD_RATE
    # a failed write (disk full…) becomes a StoreError in store.writing, the store unchanged
    with store.writing(fresh=fresh) as w:
        jobs: list[tuple[Path, RdfFormat, NamedNode | None]] = []
        if fresh:
            with _scratch_writes(scratch):
                jobs += _dump_others(store, graph, scratch)
        else:
            w.drop_graph(graph)
        jobs += [(p, RdfFormat.N_QUADS, None) for p in nquads]
        _parallel_load(w, jobs)
        w.add_quads(description)


@contextmanager
def _scratch_writes(scratch: Path) -> Iterator[None]:
    """Turn a failed write of a scratch file (disk full…) into a one-line error."""
    try:
        yield
    except (OSError, duckdb.IOException) as exc:
        raise MaillageError(
            f"cannot write the scratch files in {scratch.parent}: {_reason(exc)}",
            hint="free disk space there (or choose another --work-dir), then run the import "
                 "again; the store is unchanged",
        ) from exc


def _reason(exc: BaseException) -> str:
    """The reason of a failed write, in one line (DuckDB gives a JSON blob with an errno).

    >>> _reason(OSError(28, "No space left on device"))
    '[Errno 28] No space left on device'
    >>> _reason(duckdb.IOException('IO Error: Async write failed for range [offset=0, size=9]: '
    ...     '{"exception_type":"IO","exception_message":"Could not write file \\"/t/u.nq\\": '
    ...     'File too large","errno":"27"}'))
    'File too large (/t/u.nq)'
    """
    text = str(exc).strip()
    errno = re.search(r'"errno"\s*:\s*"(\d+)"', text)
    if errno:
        path = re.search(r'file \\?"([^"\\]+)\\?"', text)
        return os.strerror(int(errno.group(1))) + (f" ({path.group(1)})" if path else "")
    return text.splitlines()[0] if text else type(exc).__name__


def _dump_others(store: MaillageStore, graph: NamedNode, scratch: Path
                 ) -> list[tuple[Path, RdfFormat, NamedNode | None]]:
    out = []
    graphs: list = [g for g in store.named_graphs() if g != graph]
    if next(store.oxigraph.quads_for_pattern(None, None, None, DefaultGraph()), None):
        graphs.append(DefaultGraph())
    for i, g in enumerate(graphs):
        path = scratch / f"other-{i}.nt"
        with path.open("wb") as fh:
            store.oxigraph.dump(fh, format=RdfFormat.N_TRIPLES, from_graph=g)
        out.append((path, RdfFormat.N_TRIPLES, g if isinstance(g, NamedNode) else None))
    return out


def _parallel_load(w: GraphWriter, jobs: list[tuple[Path, RdfFormat, NamedNode | None]]) -> None:
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(w.load, p, fmt, graph=g, bulk=True) for p, fmt, g in jobs]
        for f in futures:
            f.result()
