"""Tests of redaes.rewards: literal cases, a direct re-implementation, None handling, pickling."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.stats import norm

from redaes.errors import ConfigError, UnknownNameError
from redaes.rewards import (
    RankingReward,
    create_reward,
    delta_weighted_reward,
    fidelity_reward,
    listwise_fidelity,
)

EPS = 1e-6


def direct(samples, targets, groups=None, tie=0.5, eps=EPS):
    """The issue's formula written out with numpy/scipy, independently of the module."""
    n = len(samples)
    groups = [0] * n if groups is None else groups
    valid = [np.array([v for v in s if v is not None], dtype=float) for s in samples]
    mu = [v.mean() if v.size else None for v in valid]
    var = [v.var(ddof=1) if v.size > 1 else 0.0 for v in valid]
    out = []
    for i in range(n):
        js = [j for j in range(n) if j != i and groups[j] == groups[i] and mu[j] is not None]
        row = []
        for q in samples[i]:
            if q is None or mu[i] is None or not js:
                row.append(None)
                continue
            rs = []
            for j in js:
                p = norm.cdf((q - mu[j]) / np.sqrt(var[i] + var[j] + eps))
                g = 1.0 if targets[i] > targets[j] else 0.0 if targets[i] < targets[j] else tie
                rs.append(np.sqrt(p * g + eps) + np.sqrt((1 - p) * (1 - g) + eps))
            row.append(float(np.mean(rs)))
        out.append(row)
    return out


def assert_close(a, b, tol=1e-9):
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert len(ra) == len(rb)
        for x, y in zip(ra, rb, strict=True):
            assert (x is None) == (y is None)
            if x is not None:
                assert x == pytest.approx(y, abs=tol)


def test_literal_right_order_scores_near_one_wrong_near_zero():
    # image 0 is better (target 1) and its samples sit far above image 1's
    right = fidelity_reward([[9.0, 9.5], [1.0, 1.5]], targets=[1.0, 0.0])
    wrong = fidelity_reward([[1.0, 1.5], [9.0, 9.5]], targets=[1.0, 0.0])
    for r in right[0] + right[1]:
        assert r == pytest.approx(1.0 + math.sqrt(EPS), abs=1e-4)  # p=g=1
    for r in wrong[0] + wrong[1]:
        assert r == pytest.approx(2 * math.sqrt(EPS), abs=1e-4)  # p=1-g


def test_literal_tie_at_the_partner_mean():
    # q equal to mu_j -> p = 0.5; tie g = 0.5 -> r = 2*sqrt(0.25 + eps)
    out = fidelity_reward([[5.0, 5.0], [4.0, 6.0]], targets=[3.0, 3.0])
    assert out[0][0] == pytest.approx(2 * math.sqrt(0.25 + EPS))
    # tie=1 (Aes-R1 convention): r = sqrt(p + eps) + sqrt(eps)
    out1 = fidelity_reward([[5.0, 5.0], [4.0, 6.0]], targets=[3.0, 3.0], tie=1.0)
    assert out1[0][0] == pytest.approx(math.sqrt(0.5 + EPS) + math.sqrt(EPS))


@pytest.mark.parametrize("seed", range(5))
def test_equals_direct_implementation_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    n, k = 9, 4
    samples = [
        [float(v) if rng.random() > 0.1 else None for v in rng.normal(5, 2, k)] for _ in range(n)
    ]
    targets = [float(t) for t in rng.integers(0, 4, n)]  # integers: ties happen
    groups = [int(g) for g in rng.integers(0, 3, n)]
    assert_close(fidelity_reward(samples, targets, groups), direct(samples, targets, groups))
    assert_close(fidelity_reward(samples, targets), direct(samples, targets))
    assert_close(
        fidelity_reward(samples, targets, groups, tie=1.0), direct(samples, targets, groups, 1.0)
    )


def test_none_samples_and_singletons_get_none():
    samples = [[7.0, None, 6.0], [None, None], [3.0, 4.0], [5.0, 5.5]]
    out = fidelity_reward(samples, targets=[2, 1, 0, 9], groups=["a", "a", "a", "b"])
    assert out[0][1] is None and out[0][0] is not None
    assert out[1] == [None, None]  # no valid sample at all
    assert out[3] == [None, None]  # alone in group b
    # an image whose only partner has no valid sample is alone too
    lone = fidelity_reward([[1.0], [None]], targets=[0, 1])
    assert lone == [[None], [None]]


def test_bad_lengths_raise_config_error():
    with pytest.raises(ConfigError, match="targets"):
        fidelity_reward([[1.0], [2.0]], targets=[1.0])
    with pytest.raises(ConfigError, match="group"):
        fidelity_reward([[1.0], [2.0]], targets=[1.0, 0.0], groups=[1])


def test_delta_weighted_hard_limit_and_soft_targets():
    samples = [[6.0, 6.5], [5.0, 5.2], [2.0, 2.5]]
    targets = [2.0, 1.0, 0.0]
    # zero stds and no ties: identical to the plain fidelity reward
    assert_close(delta_weighted_reward(samples, targets), fidelity_reward(samples, targets))
    # large stds make the near pair nearly a coin flip: its weight falls, so the reward of
    # image 0 is dominated by the confident pair with image 2
    soft = delta_weighted_reward(samples, targets, target_std=[5.0, 5.0, 0.1])
    assert soft[0][0] is not None
    assert 0.0 < soft[0][0] <= 1.0 + 2 * math.sqrt(EPS)
    with pytest.raises(ConfigError):
        delta_weighted_reward(samples, targets, target_std=[-1.0, 0.0, 0.0])


def test_callable_class_pickles_and_registry():
    for name in ("fidelity", "fidelity-delta"):
        reward = create_reward(name, tie=0.5)
        back = pickle.loads(pickle.dumps(reward))
        assert back == reward and isinstance(back, RankingReward)
        args = ([[6.0, 7.0], [3.0, 4.0], [5.0]], [1.0, 0.0, 0.5])
        assert back(*args) == reward(*args)
    with pytest.raises(UnknownNameError, match="Did you mean"):
        create_reward("fidelty")
    with pytest.raises(ConfigError):
        RankingReward(form="nope")


@pytest.mark.parametrize("form", ["fidelity", "fidelity-delta"])
def test_listwise_tensor_form_equals_pure_reward(form):
    rng = np.random.default_rng(3)
    n = 8
    mu = torch.tensor(rng.normal(5, 2, n), dtype=torch.float64, requires_grad=True)
    targets = torch.tensor(rng.integers(0, 3, n), dtype=torch.float64)
    groups = [int(g) for g in rng.integers(0, 3, n)]
    groups[-1] = 99  # a singleton: excluded from the mean
    sd = torch.tensor(rng.uniform(0, 1, n), dtype=torch.float64)
    value, has = listwise_fidelity(
        mu, torch.zeros(n, dtype=torch.float64), targets, groups, sd, form=form
    )
    # one sample per image -> zero sample variance: the pure reward on [[mu_i]] is the same thing
    reward = create_reward(form)
    pure = reward([[float(m)] for m in mu.detach()], targets.tolist(), groups, sd.tolist())
    valid = [r[0] for r in pure if r[0] is not None]
    assert not bool(has[-1]) and int(has.sum()) == len(valid)
    assert float(value) == pytest.approx(float(np.mean(valid)), abs=1e-9)
    value.backward()
    assert mu.grad is not None and torch.isfinite(mu.grad).all()


def test_listwise_with_variances_matches_formula():
    mu = torch.tensor([3.0, 5.0, 4.0], dtype=torch.float64)
    var = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    targets = torch.tensor([0.0, 2.0, 1.0], dtype=torch.float64)
    value, _ = listwise_fidelity(mu, var, targets)
    expect = []
    for i in range(3):
        rs = []
        for j in range(3):
            if i == j:
                continue
            p = norm.cdf((mu[i] - mu[j]).item() / math.sqrt(var[i] + var[j] + EPS))
            g = float(targets[i] > targets[j])
            rs.append(math.sqrt(p * g + EPS) + math.sqrt((1 - p) * (1 - g) + EPS))
        expect.append(np.mean(rs))
    assert float(value) == pytest.approx(float(np.mean(expect)), abs=1e-9)


def test_import_is_light():
    code = "import sys, redaes.rewards; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
