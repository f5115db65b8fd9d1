"""Ingest benchmark: synthetic SIRENE stock → queryable store, against Oxigraph's own loader.

Usage::

    .venv/bin/python bench/bench_ingest.py [--scales idf,national] [--work DIR] [--no-write]
                                           [--alternatives]

For each scale it generates labelled synthetic stock files (``maillage synth``), builds the
reference graph in a fresh store, then runs, each in a child process measured with
``/usr/bin/time`` (wall time and peak RSS):

1. the end-to-end import (``import_sirene``: DuckDB selection → N-Quads → Oxigraph bulk load
   into a new store generation), keeping the N-Quads it produced;
2. ``oxigraph load --location NEW --file units.nq establishments.nq`` (the native CLI of the
   PyPI ``oxigraph`` package, same version as pyoxigraph) on those same N-Quads: the reference.

Scales: ``idf`` = 50,000 active ESS units (~61,000 legal units and ~85,000 establishments
read); ``national`` = 500,000 active ESS units plus 2,000,000 extra non-ESS / non-IdF units
(~2.6 M legal units and ~3.7 M establishments read), so that the filters do national-scale
work. ``--alternatives`` also times a pure-Python row loop (csv module + f-strings) on the
same files, the design DuckDB replaced. Results replace the "Ingest" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCALES = {"idf": (50_000, 0), "national": (500_000, 2_000_000)}

IMPORT_CHILD = """
import json, sys
from pathlib import Path
from maillage.graph.ingest.sirene import SireneOptions, import_sirene
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore
store, ul, et, keep, work = sys.argv[1:6]
r = import_sirene(MaillageStore(store), Settings.from_env({}), Path(ul), Path(et),
                  SireneOptions(keep_nquads=Path(keep), work_dir=Path(work)))
print(json.dumps({"quads": r.quads, "timings": r.timings, "graph": r.graph.value,
                  "reports": [x.to_dict() for x in r.reports],
                  "nquads": [str(p) for p in r.nquads]}))
"""


def timed(cmd: list[str], out: Path) -> dict:
    """Run ``cmd`` under /usr/bin/time: wall seconds, peak RSS (MB), CPU seconds, stdout."""
    stats = out.with_suffix(".time")
    proc = subprocess.run(
        ["/usr/bin/time", "-o", str(stats), "-f", "%e %M %U %S", *cmd],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{proc.stderr[-3000:]}")
    wall, rss, user, system = stats.read_text().split()[-4:]
    return {"wall_s": float(wall), "peak_rss_mb": int(rss) / 1024,
            "cpu_s": float(user) + float(system), "stdout": proc.stdout}


def build_reference(store: Path) -> None:
    from maillage.graph.reference import build_reference as build
    from maillage.graph.settings import Settings
    from maillage.graph.store import MaillageStore

    build(MaillageStore(store), Settings.from_env({}))


def run_scale(name: str, work: Path, alternative: bool) -> dict:
    """Generate, import, compare with the native loader (and a Python loop); the figures."""
    from maillage.graph.ingest.common import commune_codes
    from maillage.graph.ingest.synth import generate_stock
    from maillage.graph.store import MaillageStore

    structures, extra = SCALES[name]
    base = work / name
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    t0 = time.perf_counter()
    summary = generate_stock(base / "stock", structures, seed=1, extra_units=extra)
    generation = time.perf_counter() - t0
    store = base / "store"
    build_reference(store)
    territory = commune_codes(MaillageStore(store))
    ul, et = base / "stock" / summary.files[0], base / "stock" / summary.files[1]
    run = timed([sys.executable, "-c", IMPORT_CHILD, str(store), str(ul), str(et),
                 str(base / "nquads"), str(base / "scratch")], base / "import")
    result = json.loads(run.pop("stdout").strip().splitlines()[-1])
    files = [Path(p) for p in result["nquads"]]
    native = timed([str(VENV_BIN / "oxigraph"), "load", "--location", str(base / "native"),
                    "--file", *map(str, files)], base / "native")
    native.pop("stdout")
    rows = [r["read"] for r in result["reports"]]
    figures = {
        "scale": name, "structures": structures, "extra_units": extra,
        "generation_s": round(generation, 1),
        "rows_read": rows, "loaded": [r["loaded"] for r in result["reports"]],
        "quads": result["quads"], "nquads_mb": round(sum(p.stat().st_size for p in files) / 1e6),
        "import": run, "timings": {k: round(v, 2) for k, v in result["timings"].items()},
        "native": native,
    }
    shutil.rmtree(base / "native", ignore_errors=True)
    shutil.rmtree(base / "store", ignore_errors=True)
    shutil.rmtree(base / "nquads", ignore_errors=True)
    if alternative:
        figures["python_loop"] = python_row_loop(ul, et, base / "loop.nq", territory)
        (base / "loop.nq").unlink()
    return figures


# ----------------------------------------------------------------------------- alternative
def python_row_loop(ul: Path, et: Path, out: Path, territory: dict[str, str]) -> dict:
    """The design DuckDB replaced: csv module + f-strings, establishments only (no checks
    beyond the filters), single-threaded. Returns rows/s and lines/s."""
    base, g = "https://w3id.org/maillage/", " <https://w3id.org/maillage/graph/x> .\n"
    t0 = time.perf_counter()
    units = {}
    n_ul = n_et = lines = 0
    with ul.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            n_ul += 1
            if (row["economieSocialeSolidaireUniteLegale"] == "O"
                    and row["etatAdministratifUniteLegale"] == "A"
                    and row["categorieJuridiqueUniteLegale"] != "1000"):
                units[row["siren"]] = row["denominationUniteLegale"]
    with et.open(encoding="utf-8", newline="") as fh, out.open("w", encoding="utf-8") as dst:
        for row in csv.DictReader(fh):
            n_et += 1
            name = units.get(row["siren"])
            commune = territory.get(row["codeCommuneEtablissement"])
            if name is None or commune is None or row["etatAdministratifEtablissement"] != "A":
                continue
            s = f"<{base}id/etablissement/{row['siret']}>"
            label = name.replace("\\", "\\\\").replace('"', '\\"')
            parts = [
                f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{base}def#Establishment>",
                f'{s} <{base}def#siret> "{row["siret"]}"',
                f"{s} <http://www.w3.org/ns/org#siteOf> <{base}id/structure/{row['siren']}>",
                f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "{label}"',
                f"{s} <{base}def#locatedIn> <{commune}>",
                (f"{s} <{base}def#activity> "
                 f"<{base}voc/naf/{row['activitePrincipaleEtablissement']}>"),
                (f'{s} <{base}def#creationDate> "{row["dateCreationEtablissement"]}"'
                 "^^<http://www.w3.org/2001/XMLSchema#date>"),
            ]
            dst.write(g.join(parts) + g)
            lines += len(parts)
    elapsed = time.perf_counter() - t0
    return {"rows": n_ul + n_et, "lines": lines, "seconds": round(elapsed, 2),
            "rows_per_s": round((n_ul + n_et) / elapsed), "lines_per_s": round(lines / elapsed)}


# ----------------------------------------------------------------------------- report
def machine() -> dict:
    import duckdb
    import pyoxigraph

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    native = subprocess.run([str(VENV_BIN / "oxigraph"), "--version"], capture_output=True,
                            text=True, check=False).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem), "python":
            platform.python_version(), "duckdb": duckdb.__version__,
            "pyoxigraph": pyoxigraph.__version__, "oxigraph_cli": native,
            "load_average": os.getloadavg()}


def _row(r: dict) -> str:
    imp, nat, quads = r["import"], r["native"], r["quads"]
    total, t = imp["wall_s"], r["timings"]
    return (
        f"| {r['scale']} | {r['rows_read'][0]:,} + {r['rows_read'][1]:,} | "
        f"{r['loaded'][0]:,} + {r['loaded'][1]:,} | {quads:,} ({r['nquads_mb']:,} MB) | "
        f"{total:.1f} s = select {t['select']} + N-Quads {t['nquads']} + load {t['load']}; "
        f"CPU {imp['cpu_s']:.1f} s | {sum(r['rows_read']) / total:,.0f} | {quads / total:,.0f} | "
        f"{imp['peak_rss_mb']:,.0f} MB | {nat['wall_s']:.1f} s ({quads / nat['wall_s']:,.0f} "
        f"t/s), CPU {nat['cpu_s']:.1f} s, {nat['peak_rss_mb']:,.0f} MB | "
        f"**{nat['wall_s'] / total:.2f}×** (CPU {nat['cpu_s'] / imp['cpu_s']:.2f}×) |"
    )


def _loop_text(results: list[dict]) -> list[str]:
    loops = [(r["scale"], r["python_loop"], r) for r in results if "python_loop" in r]
    if not loops:
        return []
    parts = [
        f"{scale}: {loop['rows']:,} rows in {loop['seconds']} s ({loop['rows_per_s']:,} rows/s, "
        f"{loop['lines_per_s']:,} lines/s) against DuckDB's select + N-Quads "
        f"{r['timings']['select'] + r['timings']['nquads']:.1f} s for all the triples"
        for scale, loop, r in loops
    ]
    return [
        ("Design choice: DuckDB SQL does the filtering, the joins with the lookup tables, the "
         "counts by reason (GROUP BY) and writes the N-Quads itself (string concatenation + "
         "`COPY`), on both cores. Alternative measured on the same files: a pure-Python row "
         "loop (csv module + f-strings, single-threaded, establishments only, 7 triples each, "
         "no identifier or date checks) — " + "; ".join(parts) + ". Polars was not tried (not a "
         "dependency of the project). The load into Oxigraph dominates either way."),
        "",
    ]


def _targets_text(results: list[dict], env: dict) -> list[str]:
    """Targets met or not, and the bound the native loader's CPU cost puts on any importer."""
    parts = []
    for r in results:
        us = r["native"]["cpu_s"] / r["quads"] * 1e6
        bound = env["cores"] / (r["native"]["cpu_s"] / r["quads"])
        parts.append(
            f"{r['scale']}: {r['quads'] / r['import']['wall_s']:,.0f} triples/s end-to-end, "
            f"ratio {r['native']['wall_s'] / r['import']['wall_s']:.2f}; Oxigraph's own loader "
            f"spends {us:.1f} CPU-µs per quad, so {env['cores']} fully free cores bound any "
            f"loader at ≈ {bound:,.0f} quads/s"
        )
    load_share = [r["timings"]["load"] / r["timings"]["total"] for r in results]
    native_rate = [r["quads"] / r["native"]["wall_s"] for r in results]
    met = all(r["native"]["wall_s"] / r["import"]["wall_s"] >= 0.7 for r in results)
    fast = all(r["quads"] / r["import"]["wall_s"] >= 250_000 for r in results)
    return [
        (f"Targets: ≥ 0.7× the native load — {'met' if met else '**not met**'}; ≥ 250,000 "
         f"triples/s end-to-end — {'met' if fast else '**not met**'}. " + "; ".join(parts) +
         ". The limit is the Oxigraph bulk load itself (parsing, dictionary, six quad indexes, "
         f"RocksDB SST files): {min(load_share):.0%}–{max(load_share):.0%} of the import time; "
         "DuckDB's selection and N-Quads writing take the rest. On this shared machine the "
         f"native loader reached {min(native_rate):,.0f}–{max(native_rate):,.0f} quads/s. Peak "
         "RSS is about twice the native CLI's: the import bulk-loads its two files in two "
         "threads, one pyoxigraph bulk loader each, each with its own buffers."),
        "",
    ]


def markdown(results: list[dict], env: dict) -> str:
    load = ", ".join(f"{x:.1f}" for x in env["load_average"])
    return "\n".join([
        "## Ingest",
        "",
        (f"Run of `bench/bench_ingest.py` on {dt.date.today().isoformat()}: {env['cores']} cores "
         f"({env['cpu']}), {env['ram_gb']} GB RAM; Python {env['python']}, DuckDB "
         f"{env['duckdb']}, pyoxigraph {env['pyoxigraph']}, CLI {env['oxigraph_cli']}. Load "
         f"average when the run started: {load} — the machine is shared with other jobs, so "
         "wall times are pessimistic; CPU seconds (user + system) are given too."),
        "",
        ("Input: labelled synthetic stock files (`maillage synth`, seed 1; see "
         "`graph/ingest/synth.py`); `idf` = 50,000 active ESS units, `national` = 500,000 plus "
         "2,000,000 non-ESS / non-IdF units. End-to-end = a child process running "
         "`import_sirene`: read and filter both CSV files with DuckDB, write N-Quads, bulk-load "
         "them (two files, two threads) into a new store generation and swap it; the reference "
         "graph was built beforehand. Native = `oxigraph load --location NEW --file units.nq "
         "establishments.nq` on the N-Quads the import wrote. Ratio = native wall time / "
         "end-to-end wall time (target ≥ 0.7)."),
        "",
        ("| scale | rows read (units + establishments) | loaded | quads | end-to-end | rows/s | "
         "triples/s | peak RSS | native `oxigraph load` | ratio |"),
        "|---|---|---|---|---|---|---|---|---|---|",
        *[_row(r) for r in results],
        "",
        *_targets_text(results, env),
        *_loop_text(results),
    ])


def write_section(section: str, path: Path) -> None:
    """Replace (or append) the "## Ingest" section of BENCHMARKS.md."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = text.find("## Ingest")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="idf,national")
    parser.add_argument("--work", type=Path, default=Path("/tmp/maillage-bench-ingest"))
    parser.add_argument("--no-write", action="store_true", help="Do not touch BENCHMARKS.md.")
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="Rewrite the section from WORK/results.json without running.")
    args = parser.parse_args()
    saved = args.work / "results.json"
    if args.report_only:
        data = json.loads(saved.read_text())
        env, results = data["env"], data["results"]
    else:
        env, results = machine(), []
        for name in args.scales.split(","):
            print(f"== {name}", flush=True)
            results.append(run_scale(name, args.work, args.alternatives))
            print(json.dumps(results[-1], indent=1), flush=True)
        saved.write_text(json.dumps({"env": env, "results": results}))
    section = markdown(results, env)
    print(section)
    if not args.no_write:
        write_section(section, ROOT / "BENCHMARKS.md")


if __name__ == "__main__":
    main()
