"""Small statistics for co-occurrence: lift, PMI, the exact hypergeometric test, FDR control.

scipy is not a dependency: the hypergeometric upper tail is summed exactly from log-binomials
(``math.lgamma``), which is exact to floating-point precision for the sizes at hand (tens of
thousands of territories).

>>> round(lift(6, 6, 6, 12), 2), round(pmi(6, 6, 6, 12), 2)
(2.0, 1.0)
>>> round(hypergeom_sf(6, 12, 6, 6), 6)  # all 6 co-occurrences: 1 / C(12, 6)
0.001082
>>> hypergeom_sf(0, 12, 6, 6)
1.0
>>> [round(q, 3) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.5])]
[0.04, 0.053, 0.053, 0.5]
>>> round(smoothed_ratio(9, 2), 2)
3.33
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def lift(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    """Observed co-occurrences over those expected if A and B were placed independently."""
    if n_a == 0 or n_b == 0 or n == 0:
        return float("nan")
    return n_ab * n / (n_a * n_b)


def pmi(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    """Pointwise mutual information, base 2 (``-inf`` when A and B never co-occur)."""
    value = lift(n_ab, n_a, n_b, n)
    if math.isnan(value):
        return value
    return math.log2(value) if value > 0 else float("-inf")


_LOG_FACTORIALS = np.zeros(1)


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n (a table grown on demand)."""
    global _LOG_FACTORIALS
    if len(_LOG_FACTORIALS) <= n:
        size = max(n + 1, 2 * len(_LOG_FACTORIALS))
        _LOG_FACTORIALS = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, size)))))
    return _LOG_FACTORIALS


def _log_comb(n: int, k: np.ndarray) -> np.ndarray:
    lf = _log_factorials(n)
    return lf[n] - lf[k] - lf[n - k]


def hypergeom_sf(k: int, n: int, n_a: int, n_b: int) -> float:
    """P(X ≥ k) for X the overlap of random subsets of sizes ``n_a`` and ``n_b`` among ``n``.

    The one-sided p-value of observing at least ``k`` territories with both A and B.
    """
    lo = max(k, 0, n_a + n_b - n)
    hi = min(n_a, n_b)
    if k <= max(0, n_a + n_b - n):
        return 1.0
    if lo > hi:
        return 0.0
    x = np.arange(lo, hi + 1)
    log_p = _log_comb(n_a, x) + _log_comb(n - n_a, n_b - x) - _log_comb(n, np.array([n_b]))[0]
    return float(min(1.0, np.exp(log_p).sum()))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()


def smoothed_ratio(recent: float, previous: float, alpha: float = 1.0) -> float:
    """(recent + alpha) / (previous + alpha): a growth ratio that stays finite for small counts."""
    return (recent + alpha) / (previous + alpha)


def cooccurrence_table(presence_a: np.ndarray, presence_b: np.ndarray) -> np.ndarray:
    """Co-occurrence counts of the columns of two boolean unit × item matrices.

    >>> a = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> cooccurrence_table(a, a).tolist()
    [[2, 1], [1, 2]]
    """
    return presence_a.astype(np.int64).T @ presence_b.astype(np.int64)
