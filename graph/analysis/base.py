"""What every analysis shares: the context (store, parameters, query frames) and the results.

An analysis reads its inputs only through named queries (``ctx.frame(query_id)``), which
records the query ids it used, and returns an :class:`AnalysisOutput`: result resources
(:class:`Result`, written back as ``mai:AnalysisResult``), tables to export, and notes saying
what could not be computed and why.

>>> Note("trop peu de données", "too little data").en
'too little data'
>>> run_id("synergies", "2026-01-02T03:04:05+00:00")
'synergies-20260102T030405Z'
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..catalog import query_dataframe
from ..errors import QueryError
from ..namespaces import Iris
from ..provenance import now_iso
from ..settings import Settings
from ..store import MaillageStore

LEVELS = ("commune", "epci")
SCOPES = ("specifique", "large")


@dataclass(frozen=True)
class Iri:
    """An IRI value in :attr:`Result.values` (plain ``str`` values become literals)."""

    value: str


@dataclass(frozen=True)
class Note:
    """A remark on a run (a cap applied, a metric not computed), in French and English."""

    fr: str
    en: str


@dataclass
class Result:
    """One result resource: a ``mai:AnalysisResult`` of class ``mai:{kind}``.

    ``about`` lists the IRIs concerned (structures, filières, NAF activities, territories);
    ``values`` holds other ``mai:`` properties (``int``/``float``/``bool``/``str``/:class:`Iri`
    or lists of them); ``evidence`` is written as a JSON literal; ``not_computed`` says why a
    metric is missing when it could not be computed.
    """

    kind: str
    key: str
    label_fr: str
    label_en: str
    score: float | None = None
    rank: int | None = None
    about: list[str] = field(default_factory=list)
    territory: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    not_computed: str | None = None


@dataclass
class AnalysisOutput:
    """Everything one analysis run produced."""

    name: str
    run_id: str
    started: str
    ended: str
    parameters: dict[str, str]
    queries: list[str]
    results: list[Result]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0


def run_id(name: str, started: str) -> str:
    """The run id of an analysis started at ``started`` (ISO 8601, UTC)."""
    when = _dt.datetime.fromisoformat(started).astimezone(_dt.UTC)
    return f"{name}-{when:%Y%m%dT%H%M%SZ}"


@dataclass
class AnalysisContext:
    """The store, the common parameters and a cache of query frames shared by the analyses.

    ``level`` is the territorial unit of co-location (``commune`` or ``epci``); ``territory``
    restricts the actors to one territory (an INSEE code, an EPCI SIREN or an IRI);
    ``scope`` is ``specifique`` (default: an actor counts in a filière reached only through a
    NAF code of *large* scope, such as 94.99Z → AMAP, is left out) or ``large`` (every
    materialised filière counts); ``options`` holds per-analysis parameters
    (``{"synergies": {"top_k": 3}}``).
    """

    store: MaillageStore
    settings: Settings
    level: str = "commune"
    territory: str | None = None
    seed: int = 1
    scope: str = "specifique"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    _frames: dict[tuple, pd.DataFrame] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _used: list[str] = field(default_factory=list, repr=False)
    query_seconds: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise QueryError(
                f"unknown territorial level {self.level!r}", hint="use --level commune or epci"
            )
        if self.scope not in SCOPES:
            raise QueryError(f"unknown scope {self.scope!r}", hint="use --scope specifique or large")

    @property
    def iris(self) -> Iris:
        return Iris(self.settings.base_iri)

    def frame(self, query_id: str, **params: str) -> pd.DataFrame:
        """The results of a named query as a DataFrame (cached; the id is recorded as used)."""
        if query_id not in self._used:
            self._used.append(query_id)
        key = (query_id, tuple(sorted(params.items())))
        if key not in self._frames:
            t0 = time.perf_counter()
            self._frames[key] = query_dataframe(self.store, query_id, **params)
            self.query_seconds[query_id] = (self.query_seconds.get(query_id, 0.0)
                                            + time.perf_counter() - t0)
        return self._frames[key].copy()

    def derived(self, name: str, queries: list[str], build: Any) -> Any:
        """A value computed once from named queries and shared by several analyses."""
        for q in queries:
            if q not in self._used:
                self._used.append(q)
        if name not in self._derived:
            self._derived[name] = build()
        return self._derived[name]

    def option(self, analysis: str, name: str, default: Any) -> Any:
        """A per-analysis parameter, or its default."""
        return self.options.get(analysis, {}).get(name, default)

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """Record the query ids used inside the block (the list is filled when it ends)."""
        used: list[str] = []
        saved, self._used = self._used, []
        try:
            yield used
        finally:
            used.extend(self._used)
            self._used = saved + [q for q in self._used if q not in saved]


def run_analysis(ctx: AnalysisContext, name: str, compute: Any) -> AnalysisOutput:
    """Run ``compute(ctx) -> (parameters, results, tables, notes)`` and wrap it with PROV facts."""
    started = now_iso()
    t0 = time.perf_counter()
    with ctx.recording() as used:
        parameters, results, tables, notes = compute(ctx)
    common = {"level": ctx.level, "seed": str(ctx.seed), "territory": ctx.territory or "",
              "scope": ctx.scope}
    return AnalysisOutput(
        name=name,
        run_id=run_id(name, started),
        started=started,
        ended=now_iso(),
        parameters={**common, **{k: str(v) for k, v in parameters.items()}},
        queries=list(used),
        results=results,
        tables=tables,
        notes=notes,
        seconds=time.perf_counter() - t0,
    )
