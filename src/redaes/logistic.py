"""The VQEG 4-parameter logistic that maps predictions onto the ground-truth scale.

Used by :mod:`redaes.metrics` for ``plcc_fitted`` / ``rmse_fitted``. The fit is bounded (so a
linear relation stays finite) with wide bounds (:func:`logistic_bounds`) so a convex or concave
segment is not cut short; :func:`params_at_bound` names a parameter that still ended on a bound.
No fit on fewer than :data:`MIN_FIT_N` samples: with 4 parameters a fit on n = 3 is exact and a
fitted PLCC of 1.0 would mean nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from redaes.errors import DataError

FloatArray = NDArray[np.float64]
MIN_FIT_N = 10
"""Fewest samples the 4-parameter logistic is fitted on (below: fitted metrics are NaN)."""
LOGISTIC_PARAMS = ("b1", "b2", "b3", "b4")


class MetricError(DataError):
    """Input a metric cannot be computed on (too few samples, mismatched lengths, NaN)."""


def _pair(pred: ArrayLike, gt: ArrayLike, min_n: int = 3) -> tuple[FloatArray, FloatArray]:
    """``pred``, ``gt`` as float arrays; :class:`MetricError` on bad lengths, n or NaN."""
    p = np.asarray(pred, dtype=np.float64).ravel()
    g = np.asarray(gt, dtype=np.float64).ravel()
    if p.shape != g.shape:
        raise MetricError(f"{p.size} predictions for {g.size} ground-truth scores")
    if p.size < min_n:
        raise MetricError(f"need at least {min_n} samples for correlation metrics, got {p.size}")
    if not (np.isfinite(p).all() and np.isfinite(g).all()):
        raise MetricError("predictions and ground truth must be finite (found NaN or inf)")
    return p, g


def logistic4(x: ArrayLike, b1: float, b2: float, b3: float, b4: float) -> FloatArray:
    """VQEG 4-parameter logistic ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``."""
    z = -(np.asarray(x, dtype=np.float64) - b3) / max(abs(b4), 1e-12)
    return np.asarray((b1 - b2) / (1.0 + np.exp(np.clip(z, -500, 500))) + b2, dtype=np.float64)


def logistic_bounds(p: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Bounds of the logistic fit: ``b1, b2`` within the ground-truth range widened by 20 spans,
    ``b3`` within the prediction range widened by 10 spans, ``b4`` in ``[1e-3, 100]`` prediction
    spans. Wide enough that convex data (e.g. ``exp(3x)``) is fitted to within 1e-5 of the
    unbounded optimum; finite so a linear relation does not run off to infinity.
    """
    span_g, span_p = float(np.ptp(g)), float(np.ptp(p))
    lo = np.array(
        [g.min() - 20 * span_g, g.min() - 20 * span_g, p.min() - 10 * span_p, 1e-3 * span_p]
    )
    hi = np.array(
        [g.max() + 20 * span_g, g.max() + 20 * span_g, p.max() + 10 * span_p, 100 * span_p]
    )
    return lo, hi


def fit_logistic(
    pred: ArrayLike, gt: ArrayLike, p0: Sequence[float] | None = None
) -> tuple[float, float, float, float] | None:
    """Least-squares fit of :func:`logistic4` mapping ``pred`` to ``gt``; None if it fails.

    None also when fewer than :data:`MIN_FIT_N` samples are given or an input is constant.
    Bounds: :func:`logistic_bounds`. ``p0`` warm-starts the fit.
    """
    p, g = _pair(pred, gt)
    if p.size < MIN_FIT_N or np.ptp(p) == 0 or np.ptp(g) == 0:
        return None
    lo, hi = logistic_bounds(p, g)
    if p0 is None:
        rising = stats.pearsonr(p, g).statistic >= 0
        b1, b2 = (g.max(), g.min()) if rising else (g.min(), g.max())
        p0 = [float(b1), float(b2), float(np.mean(p)), float(np.std(p))]
    start = np.array(p0, dtype=np.float64)
    start[3] = abs(start[3])
    start = np.clip(start, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = optimize.curve_fit(
                logistic4, p, g, p0=start, bounds=(lo, hi), max_nfev=5000
            )
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        return None
    if not np.isfinite(params).all():
        return None
    return float(params[0]), float(params[1]), float(params[2]), float(params[3])


def params_at_bound(pred: ArrayLike, gt: ArrayLike, params: Sequence[float] | None) -> list[str]:
    """Names (``b1``..``b4``) of fitted parameters that ended on a bound of the fit.

    A parameter on a bound means the best curve lies outside the bounds (typically a strongly
    convex or concave relation); the fitted metrics then describe the best curve *within* them.
    """
    if params is None:
        return []
    p, g = _pair(pred, gt)
    lo, hi = logistic_bounds(p, g)
    tol = 1e-6 * (hi - lo)
    x = np.asarray(params, dtype=np.float64)
    x[3] = abs(x[3])
    hit = (np.abs(x - lo) <= tol) | (np.abs(x - hi) <= tol)
    return [name for name, h in zip(LOGISTIC_PARAMS, hit, strict=True) if h]
