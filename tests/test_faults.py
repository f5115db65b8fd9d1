"""Faults, end to end through the command line: an import killed in its write phase, a disk that
fills up (while writing the scratch files, then while writing the store), a read-only store
directory. Each time the previous store must open and answer exactly as before (triples per
graph, number of structures, hash of a full dump), errors must be one clear message (no
traceback), and the next import must succeed.

The kill test only checks through the command line, queries and a server, so it runs on both
backends (on a remote store, the import is killed while it holds the write lock in the engine);
the tests that need the store directory (file-size limits, permissions, generations) skip on a
remote store.

Disk full is simulated without root nor mounts: ``RLIMIT_FSIZE`` (with ``SIGXFSZ`` ignored, as
Python does anyway) makes every write past the limit fail with ``EFBIG`` ("File too large"), set
either before the import starts or with ``prlimit`` once the import is in its write phase.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent / "api"))
from webtools import start_server

#: triples per graph, and the number of structures (the row without ?g)
COUNTS = """PREFIX mai: <https://w3id.org/maillage/def#>
SELECT ?g ?n WHERE {
  { SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g }
  UNION { SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a mai:Structure } }
}"""
SYNTHETIC_GRAPH = "https://w3id.org/maillage/graph/synthetique-sirene"
LOADING = "· loading "  # printed by `maillage import sirene` just before its write block
BIG = 5_000  # structures of the import interrupted in its write phase (which lasts > 1 s)
GROWN = 512 * 1024  # bytes of new files in the new generation: the load is under way
LOCK = "urn:maillage:lock"  # the write lock of a remote store, held in the engine
STAGING = "urn:maillage:staging:"  # graphs uploaded by a remote write before its switch


# ----------------------------------------------------------------------------- helpers
def _remote(settings) -> bool:
    return settings.store.startswith(("http://", "https://"))


def _embedded_only(settings) -> None:
    if _remote(settings):
        pytest.skip("needs an embedded store: file-size limits and permissions of its directory")


def maillage(settings, *args: str, check: bool = True,
             preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``maillage ARGS`` on the test store; check the exit code unless ``check=False``."""
    env = {**os.environ, "MAILLAGE_STORE": settings.store, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "maillage.graph.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600, check=False,
                          preexec_fn=preexec_fn)
    if check:
        assert proc.returncode == 0, (f"maillage {' '.join(args)} exited {proc.returncode}:\n"
                                      f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


def _rows(results: dict) -> list[tuple[str | None, ...]]:
    names = results["head"]["vars"]
    return [tuple(b.get(n, {}).get("value") for n in names) for b in results["results"]["bindings"]]


@dataclass(frozen=True)
class Counts:
    """What the store answers: triples per graph and the number of structures."""

    graphs: dict[str, int]
    structures: int

    @classmethod
    def from_json(cls, results: dict) -> Counts:
        rows = _rows(results)
        graphs = {str(g): int(str(n)) for g, n in rows if g is not None}
        [structures] = [int(str(n)) for g, n in rows if g is None]
        return cls(graphs, structures)


@dataclass(frozen=True)
class Snapshot:
    """The counts and the hash of a full dump (every quad, sorted)."""

    counts: Counts
    dump_sha256: str


def counts(settings, preexec_fn: Callable[[], None] | None = None) -> Counts:
    out = maillage(settings, "query", "--sparql", COUNTS, "--format", "json",
                   preexec_fn=preexec_fn).stdout
    return Counts.from_json(json.loads(out))


def snapshot(settings, tmp: Path, preexec_fn: Callable[[], None] | None = None) -> Snapshot:
    answered = counts(settings, preexec_fn)
    dump = tmp / f"dump-{time.monotonic_ns()}.nq"
    maillage(settings, "dump", str(dump), preexec_fn=preexec_fn)
    lines = sorted(dump.read_bytes().splitlines())  # the order of a dump is the engine's
    dump.unlink()
    assert len(lines) == sum(answered.graphs.values())
    return Snapshot(answered, hashlib.sha256(b"\n".join(lines)).hexdigest())


def _generations(settings) -> dict[str, dict[str, int]]:
    """Generation directories of an embedded store: file name → size, for each."""
    gens: dict[str, dict[str, int]] = {}
    for gen in Path(settings.store).glob("gen-*"):
        files = {}
        try:
            for entry in os.scandir(gen):
                try:
                    files[entry.name] = entry.stat().st_size
                except FileNotFoundError:  # RocksDB removes obsolete files as it goes
                    pass
        except FileNotFoundError:
            continue
        gens[gen.name] = files
    return gens


def _current(settings) -> str:
    return os.readlink(Path(settings.store) / "current")


def _sirene_args(stock: Path, tmp: Path) -> list[str]:
    return ["import", "sirene", "--unites-legales", str(stock / "StockUniteLegale_utf8.csv"),
            "--etablissements", str(stock / "StockEtablissement_utf8.csv"),
            "--report-dir", str(tmp / "reports")]


def _start(settings, args: list[str], log: Path,
           preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAILLAGE_STORE": settings.store, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "maillage.graph.cli", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=preexec_fn)  # noqa: PLW1509 (signals and limits only)


def _engine_graphs(settings, prefix: str) -> list[str]:
    """Graphs of a remote engine whose IRI starts with ``prefix``, asked with its own protocol."""
    query = ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
             f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}')
    r = httpx.post(settings.store.rstrip("/") + "/query", data={"query": query},
                   headers={"Accept": "application/sparql-results+json"}, timeout=60)
    r.raise_for_status()
    return sorted(b["g"]["value"] for b in r.json()["results"]["bindings"])


def _wait_for_write_phase(settings, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Return once the import is in its write block, after it announced its load.

    Embedded: its new generation holds at least GROWN bytes of new files. Remote: it holds the
    write lock in the engine (it then builds the new graphs locally and uploads them).
    """
    gens_before = set(_generations(settings)) if not _remote(settings) else set()
    old = _generations(settings).get(_current(settings), {}) if not _remote(settings) else {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the import ended before its write phase:\n{log.read_text()}"
        if LOADING in log.read_text(encoding="utf-8", errors="replace"):
            if _remote(settings):
                if _engine_graphs(settings, LOCK):
                    return
            else:
                for name, files in _generations(settings).items():
                    if name not in gens_before and sum(
                            size for f, size in files.items() if f not in old) >= GROWN:
                        return
        time.sleep(0.01)
    raise AssertionError(f"the import never reached its write phase:\n{log.read_text()}")


def _one_clear_error(stderr: str, *expected: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 2, stderr  # "Error: what happened" and maybe "→ what to do"
    assert lines[0].startswith("Error: "), stderr
    for text in expected:
        assert text in lines[0], stderr
    if len(lines) == 2:
        assert lines[1].startswith("→ "), stderr


def _no_file_size_signal() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        _no_file_size_signal()
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def stocks(tmp_path_factory) -> dict[str, Path]:
    """Synthetic SIRENE stock files: "small" (200 structures), "other" (300), "big" (BIG)."""
    root = tmp_path_factory.mktemp("stocks")
    env = {**os.environ, "MAILLAGE_STORE": str(root / "unused")}
    out = {}
    for name, count, seed in (("small", 200, 1), ("other", 300, 2), ("big", BIG, 3)):
        subprocess.run([sys.executable, "-m", "maillage.graph.cli", "synth", "--structures",
                        str(count), "--seed", str(seed), "--out", str(root / name)],
                       env=env, check=True, capture_output=True, timeout=300)
        out[name] = root / name
    return out


@dataclass(frozen=True)
class _Location:
    store: str


@dataclass(frozen=True)
class Template:
    store: Path
    snapshot: Snapshot
    dump: Path


@pytest.fixture(scope="module")
def template(tmp_path_factory, stocks) -> Template:
    """An embedded store built once by the command line: init + the small SIRENE import."""
    tmp = tmp_path_factory.mktemp("template")
    built = _Location(str(tmp / "store"))
    maillage(built, "init")
    maillage(built, *_sirene_args(stocks["small"], tmp))
    maillage(built, "dump", str(tmp / "template.nq"))
    return Template(Path(built.store), snapshot(built, tmp), tmp / "template.nq")


@pytest.fixture
def embedded(settings) -> None:
    """Skip (before building anything) a test that needs the store directory."""
    _embedded_only(settings)


@pytest.fixture
def built(settings, tmp_path, stocks, template) -> Snapshot:
    """The store before each fault: reference graph + a small synthetic SIRENE import.

    Embedded: a copy of the template store directory. Remote: the template's dump, loaded.
    """
    if not _remote(settings):
        shutil.copytree(template.store, settings.store, symlinks=True)
        return template.snapshot
    maillage(settings, "load", str(template.dump))
    loaded = snapshot(settings, tmp_path)
    assert loaded.counts == template.snapshot.counts
    return loaded


# ----------------------------------------------------------------------------- kill
@pytest.mark.timeout(600)
def test_import_killed_in_its_write_phase_leaves_the_previous_store_serving(
        settings, tmp_path, stocks, built):
    assert built.counts.graphs[SYNTHETIC_GRAPH] > 0 and built.counts.structures == 200
    log = tmp_path / "import.log"
    proc = _start(settings, _sirene_args(stocks["big"], tmp_path), log)
    try:
        _wait_for_write_phase(settings, proc, log)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL, log.read_text()  # killed, not finished
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    if _remote(settings):  # the killed writer's lock is still in the engine
        assert _engine_graphs(settings, LOCK) == [LOCK]

    # the store opens and answers exactly as before: counts and every quad
    assert snapshot(settings, tmp_path) == built

    # and so does a server on it, over HTTP
    server = start_server(settings.store, tmp_path, MAILLAGE_WORKERS="1")  # type: ignore[arg-type]
    try:
        with server.http(headers={"Accept": "application/sparql-results+json"}) as http:
            r = http.get("/sparql", params={"query": COUNTS})
            assert r.status_code == 200, r.text
            assert Counts.from_json(r.json()) == built.counts
    finally:
        server.stop()

    # a new import then succeeds: the dead writer's lock does not block it, its leftovers go
    maillage(settings, *_sirene_args(stocks["other"], tmp_path))
    after = counts(settings)
    assert after.structures == 300
    assert after.graphs[SYNTHETIC_GRAPH] > built.counts.graphs[SYNTHETIC_GRAPH]
    assert {g: n for g, n in after.graphs.items() if g != SYNTHETIC_GRAPH} == {
        g: n for g, n in built.counts.graphs.items() if g != SYNTHETIC_GRAPH}
    if _remote(settings):  # the stale lock was taken over, then released
        assert _engine_graphs(settings, LOCK) == [] and _engine_graphs(settings, STAGING) == []
    else:
        assert list(_generations(settings)) == [_current(settings)]
        assert not (Path(settings.store) / ".current.tmp").exists()


# ----------------------------------------------------------------------------- disk full
@pytest.mark.timeout(300)
def test_disk_full_while_writing_the_scratch_files_is_a_clear_error(
        embedded, settings, tmp_path, stocks, built):
    work = tmp_path / "work"
    work.mkdir()
    gens = _generations(settings)
    failed = maillage(settings, *_sirene_args(stocks["other"], tmp_path), "--work-dir", str(work),
                      check=False, preexec_fn=_file_size_limit(256 * 1024))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert LOADING not in failed.stdout  # it failed before touching the store
    _one_clear_error(failed.stderr, "cannot write the scratch files", "File too large")
    assert list(work.iterdir()) == []  # its scratch directory is removed
    assert snapshot(settings, tmp_path) == built
    assert _generations(settings) == gens


@pytest.mark.timeout(600)
def test_disk_full_while_writing_the_store_is_a_clear_error(
        embedded, settings, tmp_path, stocks, built):
    gens = _generations(settings)
    log = tmp_path / "import.log"
    proc = _start(settings, _sirene_args(stocks["big"], tmp_path), log,
                  preexec_fn=_no_file_size_signal)
    try:
        _wait_for_write_phase(settings, proc, log)
        # the disk is full from now on: no file of the import may grow past 64 KiB
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
        assert proc.wait(120) == 1, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    output = log.read_text()
    assert "Error: " in output, output
    _one_clear_error(output[output.index("Error: "):], "cannot write the store", "File too large")
    # rolled back at once: no partial generation left behind, the previous one untouched
    assert _generations(settings) == gens
    assert snapshot(settings, tmp_path) == built
    # with space again, the next import succeeds and leaves one generation
    maillage(settings, *_sirene_args(stocks["other"], tmp_path))
    assert counts(settings).structures == 300
    assert list(_generations(settings)) == [_current(settings)]


# ----------------------------------------------------------------------------- read-only
PR_CAPBSET_DROP = 24
#: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_LINUX_IMMUTABLE
ROOT_POWERS = (1, 2, 3, 9)


def _as_plain_user() -> Callable[[], None] | None:
    """A preexec_fn that makes file permissions apply to the child, even when tests run as root.

    As root, the capabilities that bypass permissions are dropped from the bounding set before
    ``exec``: the child keeps uid 0 (it owns the files and can read them) but cannot write where
    the mode says it cannot.
    """
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

    def preexec() -> None:
        for cap in ROOT_POWERS:
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    return preexec


def _set_writable(root: Path, writable: bool) -> None:
    paths = [root, *root.rglob("*")]
    for p in paths if writable else reversed(paths):
        if p.is_symlink():
            continue
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP
                                                              | stat.S_IWOTH))


@pytest.mark.timeout(300)
def test_read_only_store_directory_is_a_clear_error_and_reads_still_work(
        embedded, settings, tmp_path, stocks, built):
    store = Path(settings.store)
    gens = _generations(settings)
    current = _current(settings)
    plain = _as_plain_user()
    rdf = tmp_path / "more.nt"
    rdf.write_text('<http://example.org/s> <http://example.org/p> "o" .\n')
    _set_writable(store, False)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", f"open({str(store / 'probe')!r}, 'w')"], capture_output=True,
            text=True, preexec_fn=plain, timeout=60, check=False)
        if probe.returncode == 0:
            pytest.skip("permissions are not enforced here (root without CAP_SETPCAP?)")
        assert "PermissionError" in probe.stderr, probe.stderr
        for args in (_sirene_args(stocks["other"], tmp_path), ["init"], ["load", str(rdf)]):
            failed = maillage(settings, *args, check=False, preexec_fn=plain)
            assert failed.returncode == 1, (args, failed.stdout, failed.stderr)
            _one_clear_error(failed.stderr, f"the store directory {store} is not writable")
        # reads work as the same user: queries, stats, dump
        assert snapshot(settings, tmp_path, preexec_fn=plain) == built
    finally:
        _set_writable(store, True)
    assert _generations(settings) == gens and _current(settings) == current
