"""Combine several judges' verdicts on one pair into one consensus difference.

:func:`aggregate` takes the ok verdicts, weights each by ``confidence x weight`` and returns the
weighted mean delta, its uncertainty and whether the judges agree on the sign. Deltas with
``|delta| < eps`` count as neutral: they never disagree with anyone.

The uncertainty combines two real disagreements, never a constant:
``delta_std = sqrt(between + within)``, where ``between`` is the weighted variance of the judges'
deltas around the mean and ``within`` is the weighted mean of each judge's own variance, read
from ``extra["delta_std"]`` (the prior reports the spread of its independent estimates, see
:mod:`redaes.judges.prior.uncertainty`). A judge that reports no spread contributes
``(|delta| (1 - confidence))^2``: its own confidence read as a relative error of its verdict.

:class:`MultiJudge` runs several judges on the same pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

from redaes.errors import ConfigError
from redaes.judges.base import Judge, JudgeResult, PairContext, create_judge

NEUTRAL_EPS = 0.25


@dataclass(frozen=True)
class Consensus:
    """The consensus of several judges on one pair.

    Attributes:
        delta: weighted mean difference (edited minus source, 0-10 points); ``None`` if no judge
            answered.
        delta_std: ``sqrt(between-judge variance + mean within-judge variance)`` (module doc).
        n_ok: number of judges that answered.
        agree: no two non-neutral deltas have opposite signs.
        kept: the pair passes the filters (enough judges, and sign agreement if required).
        reason: one sentence explaining ``kept``.
    """

    delta: float | None
    delta_std: float | None
    n_ok: int
    agree: bool
    kept: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _weights(
    results: Sequence[JudgeResult], weights: Mapping[str, float] | Sequence[float] | None
) -> list[float]:
    if weights is None:
        return [1.0] * len(results)
    if isinstance(weights, Mapping):
        return [float(weights.get(r.judge, 1.0)) for r in results]
    if len(weights) != len(results):
        raise ConfigError(f"got {len(weights)} weights for {len(results)} judge results")
    return [float(w) for w in weights]


def own_std(result: JudgeResult) -> float:
    """A judge's own uncertainty of its verdict: ``extra["delta_std"]`` when it reports one,
    else ``|delta| (1 - confidence)``."""
    reported = result.extra.get("delta_std") if result.extra else None
    if isinstance(reported, int | float) and math.isfinite(reported) and reported >= 0:
        return float(reported)
    conf = min(1.0, max(0.0, result.confidence))
    return abs(float(result.delta or 0.0)) * (1.0 - conf)


def aggregate(
    results: Sequence[JudgeResult],
    min_judges: int = 1,
    drop_sign_disagreement: bool = True,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    eps: float = NEUTRAL_EPS,
) -> Consensus:
    """Confidence-weighted consensus of ``results`` (see the module docstring).

    Args:
        results: verdicts on one pair (failed ones are ignored).
        min_judges: fewer ok verdicts than this -> ``kept=False``.
        drop_sign_disagreement: judges disagreeing on the sign -> ``kept=False``.
        weights: per-judge weights, by judge name (mapping) or aligned with ``results``.
        eps: deltas smaller than this in magnitude count as neutral for the sign test.
    """
    all_w = _weights(results, weights)
    pairs = [
        (r, w)
        for r, w in zip(results, all_w, strict=True)
        if r.ok and r.delta is not None and math.isfinite(r.delta)
    ]
    n_ok = len(pairs)
    if n_ok == 0:
        return Consensus(None, None, 0, True, False, "no judge answered")
    deltas = [float(r.delta) for r, _ in pairs if r.delta is not None]
    confs = [min(1.0, max(0.0, r.confidence)) for r, _ in pairs]
    w = [c * max(0.0, wt) for c, (_, wt) in zip(confs, pairs, strict=True)]
    if sum(w) <= 0:
        w = [1.0] * n_ok
    total = sum(w)
    mean = sum(wi * d for wi, d in zip(w, deltas, strict=True)) / total
    between = sum(wi * (d - mean) ** 2 for wi, d in zip(w, deltas, strict=True)) / total
    within = sum(wi * own_std(r) ** 2 for wi, (r, _) in zip(w, pairs, strict=True)) / total
    std = math.sqrt(between + within)
    signs = {1 if d > 0 else -1 for d in deltas if abs(d) >= eps}
    agree = len(signs) <= 1
    if n_ok < min_judges:
        kept, reason = False, f"only {n_ok} of the required {min_judges} judges answered"
    elif not agree and drop_sign_disagreement:
        kept, reason = False, "judges disagree on the sign of the difference"
    else:
        kept = True
        reason = f"{n_ok} judge(s) answered" + ("" if agree else " (signs disagree, kept)")
    return Consensus(mean, std, n_ok, agree, kept, reason)


class MultiJudge:
    """Runs several judges on the same pairs.

    Args:
        judges: judge instances or registry names (``"prior"``, ``"iqa"``, ``"model:NAME"``).
    """

    def __init__(self, judges: Sequence[Judge | str]) -> None:
        if not judges:
            raise ConfigError("MultiJudge needs at least one judge")
        self.judges = [create_judge(j) if isinstance(j, str) else j for j in judges]

    def _run(
        self, judge: Judge, pairs: Sequence[tuple[Image.Image, Image.Image, PairContext]]
    ) -> list[JudgeResult]:
        try:
            return judge.judge_batch(pairs)
        except Exception as exc:  # one broken judge must not sink the others: record it
            return [JudgeResult.failure(judge.name, f"{type(exc).__name__}: {exc}") for _ in pairs]

    def judge(
        self, source: Image.Image, edited: Image.Image, ctx: PairContext
    ) -> list[JudgeResult]:
        """Every judge's verdict on one pair."""
        return self.judge_batch([(source, edited, ctx)])[0]

    def judge_batch(
        self, pairs: Sequence[tuple[Image.Image, Image.Image, PairContext]]
    ) -> list[list[JudgeResult]]:
        """Verdicts per pair (one list per pair, judges in order)."""
        per_judge = [self._run(j, pairs) for j in self.judges]
        return [[res[i] for res in per_judge] for i in range(len(pairs))]

    def consensus(
        self, pairs: Sequence[tuple[Image.Image, Image.Image, PairContext]], **options: Any
    ) -> list[Consensus]:
        """:func:`aggregate` of every pair's verdicts (``options`` go to :func:`aggregate`)."""
        return [aggregate(r, **options) for r in self.judge_batch(pairs)]
