"""Run a selection of analyses, export them as CSV/JSON, summarise them.

>>> select_analyses(["gaps", "colocation"])
['colocation', 'gaps']
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, QueryError
from . import ANALYSES
from .base import AnalysisContext, AnalysisOutput
from .rdf import json_ready

Progress = Callable[[str], None]


def select_analyses(only: Sequence[str] | None) -> list[str]:
    """The analyses to run, in their canonical order (all when ``only`` is empty)."""
    if not only:
        return list(ANALYSES)
    unknown = [n for n in only if n not in ANALYSES]
    if unknown:
        raise QueryError(f"unknown analysis {unknown[0]!r}",
                         hint="choose among " + ", ".join(ANALYSES))
    return [n for n in ANALYSES if n in only]


def run_analyses(ctx: AnalysisContext, names: Sequence[str],
                 progress: Progress | None = None) -> list[AnalysisOutput]:
    """Run the analyses ``names`` on ``ctx`` (sharing their input queries), in order."""
    outputs = []
    for name in select_analyses(names):
        if progress:
            progress(name)
        module = importlib.import_module(f"{__package__}.{name}")
        outputs.append(module.run(ctx))
    return outputs


def export_outputs(outputs: Sequence[AnalysisOutput], directory: Path) -> list[Path]:
    """Write each output's tables as CSV and its run + results as JSON into ``directory``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory: {exc.strerror}",
                         path=str(directory)) from exc
    written = []
    for output in outputs:
        for name, table in output.tables.items():
            path = directory / f"{name}.csv"
            table.to_csv(path, index=False)
            written.append(path)
        path = directory / f"{output.name}.json"
        text = json.dumps(json_ready(output_json(output)), ensure_ascii=False,
                          separators=(",", ":"))
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def output_json(output: AnalysisOutput) -> dict[str, Any]:
    """A JSON-ready view of a run and its results."""
    return {
        "analysis": output.name, "run_id": output.run_id, "started": output.started,
        "ended": output.ended, "parameters": output.parameters, "queries": output.queries,
        "notes": [{"fr": n.fr, "en": n.en} for n in output.notes],
        "results": [
            {"kind": r.kind, "key": r.key, "label_fr": r.label_fr, "label_en": r.label_en,
             "score": r.score, "rank": r.rank, "about": r.about, "territory": r.territory,
             "values": {k: ([getattr(x, "value", x) for x in v] if isinstance(v, list)
                            else getattr(v, "value", v)) for k, v in r.values.items()},
             "evidence": r.evidence, "not_computed": r.not_computed}
            for r in output.results
        ],
    }


def summary_rows(outputs: Sequence[AnalysisOutput]) -> list[tuple[str, str, str, str]]:
    """(analysis, seconds, results, first note) rows for the command-line summary."""
    rows = []
    for o in outputs:
        kinds: dict[str, int] = {}
        for r in o.results:
            if r.not_computed is None or r.score is not None:
                kinds[r.kind] = kinds.get(r.kind, 0) + 1
        counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "0"
        note = o.notes[0].en if o.notes else ""
        rows.append((o.name, f"{o.seconds:.1f}", counts, note))
    return rows
