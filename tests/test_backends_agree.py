"""Every command gives the same results on the embedded store and on a remote engine.

The README's whole pipeline — init, a (small, synthetic) SIRENE import, the curated lists, the
analyses, every named query, stats, dump — runs through the real CLI twice: on a store
directory, and on an emptied ``oxigraph serve`` process. Then the answers are compared.
Provenance times, run identifiers and blank node labels differ between any two runs and are
left out of the comparison (and only them). ``maillage validate`` is compared in
tests/test_validate.py, whose CLI tests run on both backends.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from engines import Engine
from maillage.graph.catalog import all_queries
from maillage.graph.cli import main
from pyoxigraph import BlankNode, Literal, RdfFormat, parse

#: every named query of the library, with the parameters of its documented example
QUERIES = [(q.id, [f"{k}={v}" for k, v in (q.example or {}).items()]) for q in all_queries()]
#: values that legitimately differ between two runs (times, run identifiers, software paths)
VOLATILE = re.compile(r"\d{8}T\d{6}Z|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
                      r"|/run/[0-9a-f-]+|#run-[0-9a-f-]+|[0-9a-f]{32}")


def _run(args: list[str], capsys: pytest.CaptureFixture[str], ok: tuple[int, ...] = (0,)) -> str:
    code = main(args)
    out = capsys.readouterr()
    assert code in ok, f"maillage {' '.join(args)} failed:\n{out.err[-3000:]}"
    return out.out


def _pipeline(store: str, stock: Path, work: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    s = ["--store", store]
    _run(["init", *s], capsys)
    _run(["import", "sirene", "--synthetic", "--unites-legales",
          str(stock / "StockUniteLegale_utf8.csv"), "--etablissements",
          str(stock / "StockEtablissement_utf8.csv"), "--report-dir", str(work / "reports"), *s],
         capsys)
    _run(["import", "curated", "--report-dir", str(work / "reports"), *s], capsys)
    _run(["analyze", "--out", str(work / "analysis"), "--seed", "3", *s], capsys)
    result: dict = {"stats": _run(["stats", *s], capsys)}
    for name, params in QUERIES:
        args = ["query", name, "--format", "csv", *s]
        for p in params:
            args += ["--param", p]
        result[name] = sorted(_strip(_run(args, capsys)).splitlines())
    _run(["dump", str(work / "dump.nq"), *s], capsys)
    result["dump"] = _canonical(work / "dump.nq")
    result["analysis"] = {p.name: _strip(p.read_text(encoding="utf-8"))
                          for p in sorted((work / "analysis").iterdir())}
    return result


def _strip(text: str) -> str:
    return VOLATILE.sub("~", text)


def _canonical(path: Path) -> list[str]:
    """The quads with blank nodes and volatile literals blanked out, sorted."""
    out = []
    for q in parse(path=str(path), format=RdfFormat.N_QUADS):
        terms = []
        for t in (q.subject, q.predicate, q.object, q.graph_name):
            if isinstance(t, BlankNode):
                terms.append("_:b")
            elif isinstance(t, Literal):
                terms.append(_strip(str(t)))
            else:
                terms.append(_strip(str(t)))
        out.append(" ".join(terms))
    return sorted(out)


@pytest.mark.timeout(900)
def test_the_whole_pipeline_gives_the_same_results_on_both_backends(
        tmp_path: Path, shared_engine: Engine, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILLAGE_STORE_RETRIES", "1")
    stock = tmp_path / "stock"
    _run(["synth", "--structures", "400", "--seed", "11", "--out", str(stock)], capsys)
    embedded = _pipeline(str(tmp_path / "store"), stock, tmp_path / "embedded", capsys)
    if shared_engine.proc is None or shared_engine.proc.poll() is not None:
        shared_engine.start()
    shared_engine.wipe()
    remote = _pipeline(shared_engine.url, stock, tmp_path / "remote", capsys)

    assert "synthetique-sirene" in embedded["stats"] and len(embedded["dump"]) > 40_000
    assert len(embedded["panorama_domaines"]) > 1
    for key in embedded:
        if key == "dump":
            missing = sorted(set(embedded["dump"]) - set(remote["dump"]))[:5]
            extra = sorted(set(remote["dump"]) - set(embedded["dump"]))[:5]
            assert embedded["dump"] == remote["dump"], f"dump differs: {missing} / {extra}"
        else:
            assert embedded[key] == remote[key], f"{key} differs between the backends"
