"""Metrics against scipy, the logistic fit, bootstrap intervals and degenerate input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from redaes import metrics as M


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, 2.0 * x + rng.normal(size=n)


def test_correlations_match_scipy() -> None:
    for seed in range(3):
        p, g = _data(80, seed)
        assert M.srcc(p, g) == pytest.approx(stats.spearmanr(p, g).statistic, abs=1e-12)
        assert M.plcc(p, g) == pytest.approx(stats.pearsonr(p, g).statistic, abs=1e-12)
        assert M.krcc(p, g) == pytest.approx(stats.kendalltau(p, g).statistic, abs=1e-12)


def _brute_pairwise(p: np.ndarray, g: np.ndarray) -> float:
    good = total = 0.0
    for i, j in itertools.combinations(range(len(p)), 2):
        if g[i] == g[j]:
            continue
        total += 1
        d = (p[i] - p[j]) * (g[i] - g[j])
        good += 1.0 if d > 0 else 0.5 if d == 0 else 0.0
    return good / total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_accuracy_matches_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 5, 50).astype(float)
    p = g + rng.integers(-2, 3, 50)  # many ties in both
    assert M.pairwise_accuracy(p, g) == pytest.approx(_brute_pairwise(p, g), abs=1e-12)
    assert M.pairwise_accuracy(g, g) == pytest.approx(1.0)
    assert M.pairwise_accuracy(-g, g) == pytest.approx(0.0)
    assert M.pairwise_accuracy(np.ones(50), g) == pytest.approx(0.5)


def test_logistic_fit_recovers_known_curve() -> None:
    x = np.linspace(-3, 3, 200)
    true = (8.0, 2.0, 0.5, 0.7)
    y = M.logistic4(x, *true) + np.random.default_rng(0).normal(0, 0.01, x.size)
    params = M.fit_logistic(x, y)
    assert params is not None
    b1, b2, b3, b4 = params
    assert (b1, b2, b3, abs(b4)) == pytest.approx(true, abs=0.05)
    assert M.plcc_fitted(x, y) > 0.999
    assert M.rmse_fitted(x, y) < 0.02
    assert M.plcc(x, y) < M.plcc_fitted(x, y)  # a non-linear relation: the fit helps


def test_binary_accuracy_and_threshold_mapping() -> None:
    assert M.map_threshold(5.0, (1.0, 10.0), (0.0, 10.0)) == pytest.approx(40 / 9)
    assert M.map_threshold(0.5, (0.0, 1.0), (0.0, 10.0)) == pytest.approx(5.0)
    gt = np.array([2.0, 4.0, 6.0, 8.0])
    pred = np.array([1.0, 6.0, 7.0, 3.0])  # second and fourth wrong at threshold 5
    assert M.binary_accuracy(pred, gt, 5.0, 5.0) == pytest.approx(0.5)


def test_bootstrap_ci_contains_point_and_shrinks_with_n() -> None:
    widths = []
    for n in (40, 400):
        p, g = _data(n)
        res = M.compute_metrics(p, g, 0.0, 0.0, n_resamples=200, seed=1)
        assert set(res) == set(M.METRIC_NAMES)
        for name, v in res.items():
            assert v.ci_low <= v.value <= v.ci_high, name
        widths.append(res["srcc"].ci_high - res["srcc"].ci_low)
    assert widths[1] < widths[0] / 2
    again = M.compute_metrics(*_data(40), 0.0, 0.0, n_resamples=200, seed=1)
    first = M.compute_metrics(*_data(40), 0.0, 0.0, n_resamples=200, seed=1)
    assert again == first  # seeded: deterministic


def test_degenerate_inputs() -> None:
    with pytest.raises(M.MetricError, match="at least 3"):
        M.compute_metrics([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(M.MetricError, match="predictions"):
        M.srcc([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(M.MetricError, match="finite"):
        M.plcc([1.0, math.nan, 3.0], [1.0, 2.0, 3.0])
    res = M.compute_metrics([5.0] * 10, list(range(10)), n_resamples=20)
    for name in ("srcc", "plcc", "krcc", "plcc_fitted", "rmse_fitted"):
        assert math.isnan(res[name].value), name
    assert res["pairwise"].value == pytest.approx(0.5)
    assert math.isnan(res["accuracy"].value)  # no thresholds given


def test_red_metrics() -> None:
    true = np.array([1.0, -1.0, 2.0, -2.0, 0.5, 0.0])
    pred = np.array([0.5, -0.2, 1.0, 0.3, 0.0, 0.7])
    # non-zero pairs: +,+,+,-(wrong),0(half) -> (3 + 0.5) / 5
    assert M.direction_accuracy(pred, true) == pytest.approx(0.7)
    chains = ["a", "a", "a", "b", "b", None]
    edited = np.array([3.0, 1.0, 5.0, 2.0, 1.0, 9.0])
    mean, per = M.chain_srcc(edited, true, chains)
    # chain a: deltas 1,-1,2 vs scores 3,1,5 -> 1; chain b: -2,0.5 vs 2,1 -> -1
    assert per == pytest.approx([1.0, -1.0]) and mean == pytest.approx(0.0)
    res = M.red_metrics(pred, true, edited, chains, n_resamples=50)
    assert set(res) == {"direction_accuracy", "delta_srcc", "delta_plcc", "chain_srcc"}
    assert res["delta_srcc"].value == pytest.approx(stats.spearmanr(pred, true).statistic)
