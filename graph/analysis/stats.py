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
>>> round(poisson_sf(3, 1.0), 4), poisson_sf(0, 2.0)
(0.0803, 1.0)
>>> presence_probability(np.array([[2, 0], [0, 1]]), 1).round(3).tolist()
[[0.889, 0.556], [0.667, 0.333]]
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


def poisson_sf(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam): a conservative tail for a sum of independent Bernoullis."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    lf = _log_factorials(k + int(10 * lam) + 50)
    if k <= lam:
        i = np.arange(0, k)
        return float(max(0.0, 1.0 - np.exp(-lam + i * math.log(lam) - lf[i]).sum()))
    i = np.arange(k, len(lf))
    return float(min(1.0, np.exp(-lam + i * math.log(lam) - lf[i]).sum()))


def presence_probability(counts: np.ndarray, min_count: int) -> np.ndarray:
    """P(item present in unit) if each unit's actors took items at their overall shares.

    ``counts`` is a unit × item matrix of actor counts; unit u has m_u = its row sum and item f
    a share π_f of all counts; "present" means at least ``min_count`` actors, so the probability
    is the binomial tail P(Bin(m_u, π_f) ≥ min_count).
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1, keepdims=True)
    share = counts.sum(axis=0, keepdims=True) / max(counts.sum(), 1.0)
    below = np.zeros(np.broadcast_shapes(m.shape, share.shape))
    lf = _log_factorials(int(m.max()) if m.size else 0)
    for i in range(min_count):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_c = lf[m.astype(int)] - lf[i] - lf[np.maximum(m.astype(int) - i, 0)]
            term = np.exp(log_c + i * np.log(share) + (m - i) * np.log1p(-share))
        below += np.where(m >= i, np.nan_to_num(term), 0.0)
    return np.clip(1.0 - below, 0.0, 1.0)


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
