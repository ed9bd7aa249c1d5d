"""Consensus maths (checked against numpy), the sign filter and MultiJudge."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.errors import ConfigError
from redaes.judges import Judge, JudgeResult, MultiJudge, PairContext, aggregate
from redaes.judges.consensus import own_std


def _r(name: str, delta: float, conf: float = 1.0) -> JudgeResult:
    return JudgeResult(judge=name, delta=delta, confidence=conf)


def test_weighted_mean_and_std_match_numpy() -> None:
    rng = np.random.default_rng(0)
    deltas = rng.uniform(0.3, 3.0, 6)
    confs = rng.uniform(0.1, 1.0, 6)
    weights = rng.uniform(0.5, 2.0, 6)
    results = [
        _r(f"j{i}", float(d), float(c)) for i, (d, c) in enumerate(zip(deltas, confs, strict=True))
    ]
    cons = aggregate(results, weights=list(weights))
    w = confs * weights
    mean = np.average(deltas, weights=w)
    own = deltas * (1 - confs)  # judges without a reported spread: |delta| (1 - confidence)
    std = np.sqrt(np.average((deltas - mean) ** 2, weights=w) + np.average(own**2, weights=w))
    assert cons.delta == pytest.approx(mean) and cons.delta_std == pytest.approx(std)
    assert cons.n_ok == 6 and cons.agree and cons.kept


def test_weights_by_name_and_failures_ignored() -> None:
    results = [_r("a", 1.0), _r("b", 3.0), JudgeResult.failure("c", "boom")]
    cons = aggregate(results, weights={"b": 3.0})
    assert cons.delta == pytest.approx((1.0 + 9.0) / 4.0)
    assert cons.n_ok == 2
    with pytest.raises(ConfigError):
        aggregate(results, weights=[1.0])


def test_sign_disagreement_filter_and_neutral_band() -> None:
    results = [_r("a", 1.5), _r("b", -1.0)]
    dropped = aggregate(results)
    assert not dropped.agree and not dropped.kept and "sign" in dropped.reason
    kept = aggregate(results, drop_sign_disagreement=False)
    assert kept.kept and not kept.agree
    assert kept.delta == pytest.approx(0.25)
    neutral = aggregate([_r("a", 1.5), _r("b", -0.1)])
    assert neutral.agree and neutral.kept
    assert not aggregate([_r("a", 1.5), _r("b", -0.1)], eps=0.05).agree


def test_lone_judge_uncertainty_is_its_own_spread_and_min_judges() -> None:
    reported = JudgeResult(judge="prior", delta=2.0, confidence=0.6, extra={"delta_std": 0.37})
    assert aggregate([reported]).delta_std == pytest.approx(0.37)
    one = aggregate([_r("a", 2.0, conf=0.6)])  # no reported spread: |delta| (1 - confidence)
    assert one.delta == pytest.approx(2.0)
    assert one.delta_std == pytest.approx(own_std(_r("a", 2.0, 0.6))) == pytest.approx(0.8)
    assert aggregate([_r("a", 2.0, conf=1.0)]).delta_std == pytest.approx(0.0)
    # no constant per confidence: the same confidence gives different spreads
    assert aggregate([_r("a", 0.5, 0.6)]).delta_std != aggregate([_r("a", 3.0, 0.6)]).delta_std
    few = aggregate([_r("a", 2.0), JudgeResult.failure("b", "x")], min_judges=2)
    assert not few.kept and few.n_ok == 1
    none = aggregate([JudgeResult.failure("b", "x")])
    assert none.delta is None and none.n_ok == 0 and not none.kept


def test_between_and_within_judge_spreads_add() -> None:
    a = JudgeResult(judge="a", delta=1.0, confidence=1.0, extra={"delta_std": 0.3})
    b = JudgeResult(judge="b", delta=2.0, confidence=1.0, extra={"delta_std": 0.4})
    cons = aggregate([a, b])
    assert cons.delta == pytest.approx(1.5)
    assert cons.delta_std == pytest.approx(np.sqrt(0.25 + (0.09 + 0.16) / 2))


def test_zero_confidences_fall_back_to_equal_weights() -> None:
    cons = aggregate([_r("a", 1.0, 0.0), _r("b", 2.0, 0.0)])
    assert cons.delta == pytest.approx(1.5)


class _Broken(Judge):
    name = "broken"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        raise RuntimeError("model crashed")


def test_multijudge_runs_all_and_records_failures() -> None:
    rng = np.random.default_rng(1)
    src = Image.fromarray((rng.uniform(0.02, 0.25, (64, 80, 3)) * 255).astype(np.uint8))
    chain = EditChain(["exposure=0.5"])
    pair = (src, chain.apply_pil(src), PairContext(chain))
    multi = MultiJudge(["prior", _Broken()])
    verdicts = multi.judge(*pair)
    assert [v.judge for v in verdicts] == ["prior", "broken"]
    assert verdicts[0].ok and not verdicts[1].ok and verdicts[1].delta is None
    assert "model crashed" in (verdicts[1].error or "")
    (cons,) = multi.consensus([pair])
    assert cons.n_ok == 1 and cons.delta == pytest.approx(verdicts[0].delta)
    with pytest.raises(ConfigError):
        MultiJudge([])
