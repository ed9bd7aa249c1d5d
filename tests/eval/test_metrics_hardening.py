"""Regression tests of issue 7, item 7: sign of the fitted PLCC, fit bounds, minimum n."""

from __future__ import annotations

import math

import numpy as np
import pytest

from redaes import metrics as M


def test_fitted_plcc_keeps_the_sign_of_an_inverted_model() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(1, 10, 200)
    pred = -gt + rng.normal(0, 0.05, 200)  # an inverted model
    point = M.point_metrics(pred, gt)
    assert point["plcc"] < -0.99
    assert point["plcc_fitted"] < -0.99  # was +0.999 beside a raw PLCC of -0.999
    assert M.plcc_fitted(-pred, gt) > 0.99
    res = M.compute_metrics(pred, gt, n_resamples=30)
    assert res["plcc_fitted"].ci_high < 0  # the bootstrap keeps the sign too


def test_logistic_fit_is_not_cut_short_on_convex_data() -> None:
    x = np.linspace(0, 1, 200)
    y = np.exp(3 * x) + np.random.default_rng(0).normal(0, 0.01, x.size)
    # the former bounds (b1 <= max + 2 spans) stopped at fitted PLCC 0.99973
    assert M.plcc_fitted(x, y) > 0.9999
    sq = x**2 + np.random.default_rng(1).normal(0, 0.01, x.size)
    params = M.fit_logistic(x, sq)
    assert M.params_at_bound(x, sq, params) == []  # an interior optimum exists and is found


def test_params_at_bound_names_the_parameter() -> None:
    x = np.linspace(0, 1, 50)
    y = 2 * x
    lo, hi = M.logistic_bounds(x, y)
    assert M.params_at_bound(x, y, [float(hi[0]), 0.0, 0.5, 0.2]) == ["b1"]
    assert M.params_at_bound(x, y, [1.0, float(lo[1]), float(hi[2]), 0.2]) == ["b2", "b3"]
    assert M.params_at_bound(x, y, None) == []


@pytest.mark.parametrize("n", [3, 5, M.MIN_FIT_N - 1])
def test_no_logistic_fit_below_the_minimum_n(n: int) -> None:
    rng = np.random.default_rng(n)
    pred, gt = rng.normal(size=n), rng.normal(size=n)
    assert M.fit_logistic(pred, gt) is None
    point = M.point_metrics(pred, gt)
    assert math.isnan(point["plcc_fitted"]) and math.isnan(point["rmse_fitted"])
    assert math.isfinite(point["srcc"])  # the rank metrics are still computed


def test_logistic_fit_at_the_minimum_n() -> None:
    x = np.linspace(0, 1, M.MIN_FIT_N)
    assert M.fit_logistic(x, 3 * x + 1) is not None
