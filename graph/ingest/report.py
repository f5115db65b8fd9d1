"""Row accounting for imports: every input row is loaded, filtered (with the filter) or
quarantined (with the reason), and ``read == loaded + filtered + quarantined``.

>>> r = ImportReport(source="x.csv")
>>> r.read(3); r.loaded(1); r.filtered("not ESS"); r.quarantine(4, "bad SIRET", "123")
>>> r.counts()
{'read': 3, 'loaded': 1, 'filtered': 1, 'quarantined': 1}
>>> r.balanced()
True
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MaillageError


@dataclass
class Quarantined:
    line: int
    reason: str
    value: str = ""
    file: str = ""


@dataclass
class ImportReport:
    """The accounting of one input file (or one pair of SIRENE files: one report each)."""

    source: str
    n_read: int = 0
    n_loaded: int = 0
    filters: Counter = field(default_factory=Counter)
    quarantine_reasons: Counter = field(default_factory=Counter)
    quarantined_rows: list[Quarantined] = field(default_factory=list)
    warnings: Counter = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)
    max_kept_rows: int = 100_000

    def read(self, n: int = 1) -> None:
        self.n_read += n

    def loaded(self, n: int = 1) -> None:
        self.n_loaded += n

    def filtered(self, reason: str, n: int = 1) -> None:
        self.filters[reason] += n

    def quarantine(self, line: int, reason: str, value: str = "", n: int = 1) -> None:
        self.quarantine_reasons[reason] += n
        if len(self.quarantined_rows) < self.max_kept_rows:
            self.quarantined_rows.append(Quarantined(line, reason, value, self.source))

    def warn(self, what: str, n: int = 1) -> None:
        """Something worth reporting that did not stop the row from loading."""
        self.warnings[what] += n

    @property
    def n_filtered(self) -> int:
        return sum(self.filters.values())

    @property
    def n_quarantined(self) -> int:
        return sum(self.quarantine_reasons.values())

    def counts(self) -> dict[str, int]:
        return {
            "read": self.n_read,
            "loaded": self.n_loaded,
            "filtered": self.n_filtered,
            "quarantined": self.n_quarantined,
        }

    def balanced(self) -> bool:
        return self.n_read == self.n_loaded + self.n_filtered + self.n_quarantined

    def check_balanced(self) -> None:
        if not self.balanced():
            c = self.counts()
            raise MaillageError(
                f"import accounting of {self.source} does not balance: {c} — this is a bug in "
                "Maillage, please report it with the input file"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.counts(),
            "filters": dict(self.filters),
            "quarantine": dict(self.quarantine_reasons),
            "warnings": dict(self.warnings),
            **self.extra,
        }

    def summary(self) -> str:
        c = self.counts()
        lines = [
            f"{self.source}: read {c['read']} = loaded {c['loaded']} + filtered {c['filtered']}"
            f" + quarantined {c['quarantined']}"
        ]
        lines += [f"  filtered  {n:>9}  {why}" for why, n in self.filters.most_common()]
        lines += [f"  quarantined {n:>7}  {why}" for why, n in self.quarantine_reasons.most_common()]
        lines += [f"  warning   {n:>9}  {why}" for why, n in self.warnings.most_common()]
        return "\n".join(lines)


def write_reports(reports: list[ImportReport], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``{stem}-report.json`` (counts) and ``{stem}-quarantine.csv`` (one line a row)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / f"{stem}-report.json"
    js.write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    qc = out_dir / f"{stem}-quarantine.csv"
    with qc.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "line", "reason", "value"])
        for r in reports:
            for q in r.quarantined_rows:
                w.writerow([q.file or r.source, q.line, q.reason, q.value])
    return js, qc
