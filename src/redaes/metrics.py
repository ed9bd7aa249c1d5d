"""Evaluation metrics of image aesthetic assessment, with bootstrap confidence intervals.

Conventions (documented once, used by every report):

* ``srcc``, ``krcc``: Spearman / Kendall (tau-b) rank correlations (:mod:`scipy.stats`).
* ``plcc``: Pearson correlation of the *raw* predictions; ``plcc_fitted`` and ``rmse_fitted``
  are computed after mapping the predictions through the standard 4-parameter logistic of VQEG
  (:func:`logistic4`), fitted by least squares with :func:`scipy.optimize.curve_fit`. When the
  fit does not converge, or fewer than :data:`MIN_FIT_N` samples are given (with 4 parameters a
  fit on n = 3 is exact: fitted PLCC 1.0 means nothing), the fitted metrics are NaN.
  ``plcc_fitted`` keeps the sign of the relation: an inverted model (falling logistic,
  ``b1 < b2``) gets a negative fitted PLCC, like its raw PLCC and SRCC. The fit is bounded (so a
  linear relation stays finite) with wide bounds (:func:`logistic_bounds`) so a convex or concave
  segment is not cut short; :func:`params_at_bound` says which parameter still ended on a bound.
* ``accuracy``: binary accuracy. Ground truth is "good" when ``gt > gt_threshold`` (AVA convention:
  mean score 5 on the 1-10 scale); a prediction is "good" when ``pred > pred_threshold``. A model on
  the 0-10 scale evaluated on labels on ``[lo, hi]`` uses, unless given, the linear mapping
  ``pred_threshold = (gt_threshold - lo) / (hi - lo) * 10`` (AVA 5 on 1-10 -> 4.44 on 0-10), see
  :func:`map_threshold`.
* ``pairwise``: pairwise ranking accuracy over all pairs whose ground truth differs (pairs tied in
  the ground truth are left out); a pair tied in the prediction counts as half correct. Computed in
  O(n log n) from Kendall's tau-b and the tie counts.
* Degenerate input: fewer than 3 samples, or mismatched lengths, raise :class:`MetricError`;
  constant predictions or constant ground truth give NaN correlations (never an exception).
* Confidence intervals: percentile bootstrap (``numpy.random.default_rng(seed)``), the same
  resampled indices for every metric so the intervals are comparable (``scipy.stats.bootstrap``
  would redraw per metric). The fitted metrics' intervals keep the logistic fitted on all the
  data (the fit's own uncertainty, small at benchmark sizes, is not included): refitting per
  resample costs ~0.3 s at n = 20k.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from redaes.logistic import LOGISTIC_PARAMS as LOGISTIC_PARAMS  # re-exported
from redaes.logistic import MIN_FIT_N as MIN_FIT_N
from redaes.logistic import MetricError as MetricError
from redaes.logistic import _pair
from redaes.logistic import fit_logistic as fit_logistic
from redaes.logistic import logistic4 as logistic4
from redaes.logistic import logistic_bounds as logistic_bounds
from redaes.logistic import params_at_bound as params_at_bound

FloatArray = NDArray[np.float64]
METRIC_NAMES = (
    "srcc",
    "plcc",
    "krcc",
    "plcc_fitted",
    "rmse_fitted",
    "accuracy",
    "pairwise",
)
"""Metrics computed by :func:`compute_metrics`, in report order."""


@dataclass(frozen=True)
class MetricValue:
    """A point estimate with its bootstrap percentile confidence interval."""

    value: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _quiet(fn: Callable[[], Any]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(fn())
        except (ValueError, FloatingPointError):
            return math.nan
    return value


def _constant(x: FloatArray) -> bool:
    return bool(np.ptp(x) == 0.0)


def _spearman(a: FloatArray, b: FloatArray) -> float:
    return _quiet(lambda: stats.spearmanr(a, b).statistic)


def srcc(pred: ArrayLike, gt: ArrayLike) -> float:
    """Spearman rank correlation (NaN when either input is constant)."""
    p, g = _pair(pred, gt)
    if _constant(p) or _constant(g):
        return math.nan
    return _spearman(p, g)


def plcc(pred: ArrayLike, gt: ArrayLike) -> float:
    """Pearson linear correlation of the raw predictions (NaN when an input is constant)."""
    p, g = _pair(pred, gt)
    if _constant(p) or _constant(g):
        return math.nan
    return _quiet(lambda: stats.pearsonr(p, g).statistic)


def krcc(pred: ArrayLike, gt: ArrayLike) -> float:
    """Kendall tau-b rank correlation (NaN when an input is constant)."""
    p, g = _pair(pred, gt)
    if _constant(p) or _constant(g):
        return math.nan
    return _quiet(lambda: stats.kendalltau(p, g).statistic)


def _signed_fitted_plcc(fitted: FloatArray, g: FloatArray, params: Sequence[float]) -> float:
    if _constant(fitted) or _constant(g):
        return math.nan
    r = _quiet(lambda: stats.pearsonr(fitted, g).statistic)
    return r if params[0] >= params[1] else -r  # a falling curve: an inverted model


def plcc_fitted(pred: ArrayLike, gt: ArrayLike) -> float:
    """Pearson correlation after the 4-parameter logistic fit, signed by the curve's direction
    (negative for an inverted model); NaN if the fit fails or n < :data:`MIN_FIT_N`."""
    return point_metrics(pred, gt)["plcc_fitted"]


def rmse_fitted(pred: ArrayLike, gt: ArrayLike) -> float:
    """Root-mean-square error after the 4-parameter logistic fit, in ground-truth units."""
    return point_metrics(pred, gt)["rmse_fitted"]


def map_threshold(
    gt_threshold: float, gt_range: tuple[float, float], model_range: tuple[float, float]
) -> float:
    """Map a ground-truth threshold linearly from ``gt_range`` onto ``model_range``."""
    lo, hi = gt_range
    mlo, mhi = model_range
    if hi <= lo:
        raise MetricError(f"invalid score range {gt_range}")
    return mlo + (gt_threshold - lo) / (hi - lo) * (mhi - mlo)


def binary_accuracy(
    pred: ArrayLike, gt: ArrayLike, gt_threshold: float, pred_threshold: float
) -> float:
    """Fraction where ``pred > pred_threshold`` agrees with ``gt > gt_threshold``."""
    p, g = _pair(pred, gt, min_n=1)
    return float(np.mean((p > pred_threshold) == (g > gt_threshold)))


def _tie_pairs(x: NDArray[Any]) -> int:
    _, counts = np.unique(x, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pairwise_accuracy(pred: ArrayLike, gt: ArrayLike, tau_b: float | None = None) -> float:
    """Fraction of pairs with different ground truth that ``pred`` orders the same way.

    Pairs tied in the prediction (but not in the ground truth) count as half correct. NaN when
    every ground-truth score is equal. ``tau_b`` reuses an already computed Kendall tau-b.
    """
    p, g = _pair(pred, gt, min_n=2)
    n0 = p.size * (p.size - 1) // 2
    n1, n2 = _tie_pairs(p), _tie_pairs(g)
    n3 = _tie_pairs(p + 1j * g)  # pairs tied in both (complex numbers sort lexicographically)
    comparable = n0 - n2
    if comparable == 0:
        return math.nan
    pred_only_ties = n1 - n3
    if n1 == n0:  # constant predictions: every comparable pair is a tie
        return 0.5
    tau = _quiet(lambda: stats.kendalltau(p, g).statistic) if tau_b is None else tau_b
    c_plus_d = n0 - n1 - n2 + n3
    c_minus_d = tau * math.sqrt((n0 - n1) * (n0 - n2))
    concordant = (c_plus_d + c_minus_d) / 2.0
    return float((concordant + 0.5 * pred_only_ties) / comparable)


def point_metrics(
    pred: ArrayLike,
    gt: ArrayLike,
    gt_threshold: float | None = None,
    pred_threshold: float | None = None,
    logistic: Sequence[float] | str | None = "fit",
) -> dict[str, float]:
    """Every metric of :data:`METRIC_NAMES` (accuracy is NaN without thresholds).

    ``logistic``: ``"fit"`` fits :func:`logistic4` on ``pred``/``gt``; parameters of an already
    fitted curve are used as they are (the bootstrap keeps the full-data fit); None: no curve,
    the fitted metrics are NaN.
    """
    p, g = _pair(pred, gt)
    params = fit_logistic(p, g) if isinstance(logistic, str) else logistic
    fitted = logistic4(p, *params) if params is not None else None
    tau = krcc(p, g)
    out = {
        "srcc": srcc(p, g),
        "plcc": plcc(p, g),
        "krcc": tau,
        "plcc_fitted": (
            math.nan if fitted is None or params is None else _signed_fitted_plcc(fitted, g, params)
        ),
        "rmse_fitted": math.nan if fitted is None else float(np.sqrt(np.mean((fitted - g) ** 2))),
        "accuracy": math.nan,
        "pairwise": pairwise_accuracy(p, g, None if math.isnan(tau) else tau),
    }
    if gt_threshold is not None and pred_threshold is not None:
        out["accuracy"] = binary_accuracy(p, g, gt_threshold, pred_threshold)
    return out


def bootstrap_ci(
    statistic: Callable[[FloatArray, FloatArray], dict[str, float]],
    pred: ArrayLike,
    gt: ArrayLike,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of every value ``statistic(pred, gt)`` returns.

    Samples are resampled in pairs with ``numpy.random.default_rng(seed)``; resamples where a
    metric is NaN are ignored for that metric (an interval is NaN if all of them are).
    """
    p, g = _pair(pred, gt)
    if n_resamples < 1:
        raise MetricError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_resamples):
        idx = rng.integers(0, p.size, p.size)
        for key, value in statistic(p[idx], g[idx]).items():
            draws.setdefault(key, []).append(value)
    alpha = (1.0 - confidence) / 2.0 * 100.0
    out: dict[str, tuple[float, float]] = {}
    for key, values in draws.items():
        arr = np.asarray(values, dtype=np.float64)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            out[key] = (math.nan, math.nan)
        else:
            lo, hi = np.percentile(arr, [alpha, 100.0 - alpha])
            out[key] = (float(lo), float(hi))
    return out


def compute_metrics(
    pred: Sequence[float] | ArrayLike,
    gt: Sequence[float] | ArrayLike,
    gt_threshold: float | None = None,
    pred_threshold: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    logistic: Sequence[float] | str | None = "fit",
) -> dict[str, MetricValue]:
    """All metrics of :data:`METRIC_NAMES` with bootstrap confidence intervals.

    Args:
        pred: model scores.
        gt: ground-truth scores (any scale; higher is better).
        gt_threshold, pred_threshold: thresholds of binary accuracy (NaN if either is None).
        n_resamples: bootstrap resamples (0 gives NaN intervals, no resampling).
        seed: seed of the bootstrap draw.
        confidence: confidence level of the percentile interval.
        logistic: ``"fit"`` fits :func:`logistic4` once here; or parameters the caller already
            fitted with :func:`fit_logistic` on the same data (``None``: the fit failed).
    """
    p, g = _pair(pred, gt)
    params = fit_logistic(p, g) if isinstance(logistic, str) else logistic
    point = point_metrics(p, g, gt_threshold, pred_threshold, params)

    def stat(a: FloatArray, b: FloatArray) -> dict[str, float]:
        return point_metrics(a, b, gt_threshold, pred_threshold, params)

    cis = (
        bootstrap_ci(stat, p, g, n_resamples, seed, confidence)
        if n_resamples > 0
        else {k: (math.nan, math.nan) for k in point}
    )
    return {k: MetricValue(point[k], *cis[k]) for k in METRIC_NAMES}


def direction_accuracy(pred_delta: ArrayLike, true_delta: ArrayLike) -> float:
    """Fraction of pairs whose predicted difference has the recorded sign.

    Pairs with a recorded delta of exactly 0 are left out; a predicted difference of 0 on a
    non-zero pair counts as half correct. NaN when no pair has a non-zero delta.
    """
    p, g = _pair(pred_delta, true_delta, min_n=1)
    keep = g != 0
    if not keep.any():
        return math.nan
    agree = np.sign(p[keep]) * np.sign(g[keep])
    return float(np.mean(np.where(agree == 0, 0.5, agree > 0)))


def chain_srcc(
    edited_scores: ArrayLike, deltas: ArrayLike, chain_ids: Sequence[str | None]
) -> tuple[float, list[float]]:
    """Mean over chains of the SRCC between the edited images' scores and the recorded deltas.

    Pairs without a chain are ignored; chains with fewer than 2 members or constant deltas or
    constant scores (undefined SRCC) are skipped. Returns ``(mean, per-chain values)``; the
    mean is NaN when no chain qualifies.
    """
    s = np.asarray(edited_scores, dtype=np.float64)
    d = np.asarray(deltas, dtype=np.float64)
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(chain_ids):
        if c is not None:
            groups.setdefault(c, []).append(i)
    values = []
    for idx in groups.values():
        if len(idx) < 2 or _constant(d[idx]) or _constant(s[idx]):
            continue
        values.append(_spearman(s[idx], d[idx]))
    finite = [v for v in values if math.isfinite(v)]
    return (float(np.mean(finite)) if finite else math.nan), finite


def red_metrics(
    pred_delta: ArrayLike,
    true_delta: ArrayLike,
    edited_scores: ArrayLike,
    chain_ids: Sequence[str | None],
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, MetricValue]:
    """RED benchmark metrics with bootstrap CIs (pairs resampled; chains resampled for chains).

    ``direction_accuracy``, ``delta_srcc``, ``delta_plcc`` over pairs, and ``chain_srcc`` (mean
    within-chain SRCC, see :func:`chain_srcc`).
    """
    p, g = _pair(pred_delta, true_delta)

    def stat(a: FloatArray, b: FloatArray) -> dict[str, float]:
        return {
            "direction_accuracy": direction_accuracy(a, b),
            "delta_srcc": srcc(a, b),
            "delta_plcc": plcc(a, b),
        }

    point = stat(p, g)
    cis = bootstrap_ci(stat, p, g, n_resamples, seed, confidence) if n_resamples > 0 else {}
    out = {k: MetricValue(v, *cis.get(k, (math.nan, math.nan))) for k, v in point.items()}
    mean, per_chain = chain_srcc(edited_scores, g, chain_ids)
    lo = hi = math.nan
    if len(per_chain) >= 2 and n_resamples > 0:
        arr = np.asarray(per_chain)
        rng = np.random.default_rng(seed)
        means = arr[rng.integers(0, arr.size, (n_resamples, arr.size))].mean(axis=1)
        alpha = (1.0 - confidence) / 2.0 * 100.0
        lo, hi = (float(x) for x in np.percentile(means, [alpha, 100.0 - alpha]))
    out["chain_srcc"] = MetricValue(mean, lo, hi)
    return out
