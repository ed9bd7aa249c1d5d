"""The relative ranking consistency reward: the fidelity form of VisualQuality-R1, and a variant
weighted by the judged delta and its uncertainty.

Pure Python (``math`` only): the multimodal RL reward and the compact assessor's listwise stage
use these same functions. ``samples[i]`` are the K sampled scores of image *i* (``None`` for a
parse failure), ``targets[i]`` its known relative target (higher is better) and ``groups[i]`` its
group id (``None``: one group for all images). An image with no valid sample, or alone in its
group, gets ``None`` rewards.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from redaes.errors import ConfigError

Samples = Sequence[Sequence[float | None]]


def normal_cdf(z: float) -> float:
    """Standard normal CDF, ``Phi(z)``."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def pair_fidelity(p: Any, g: Any, eps: float = 1e-6) -> Any:
    """``sqrt(p*g + eps) + sqrt((1-p)*(1-g) + eps)``; works on floats and on tensors."""
    return (p * g + eps) ** 0.5 + ((1 - p) * (1 - g) + eps) ** 0.5


def _stats(values: Sequence[float | None]) -> tuple[float, float] | None:
    """Mean and unbiased variance of the valid values (variance 0 for a single value)."""
    valid = [float(v) for v in values if v is not None]
    if not valid:
        return None
    mu = sum(valid) / len(valid)
    var = sum((v - mu) ** 2 for v in valid) / (len(valid) - 1) if len(valid) > 1 else 0.0
    return mu, var


def _check(
    samples: Samples,
    targets: Sequence[float],
    groups: Sequence[Hashable] | None,
    extra: Sequence[float] | None = None,
) -> list[Hashable]:
    n = len(samples)
    if len(targets) != n:
        raise ConfigError(f"fidelity reward: {n} sample lists but {len(targets)} targets")
    if groups is not None and len(groups) != n:
        raise ConfigError(f"fidelity reward: {n} sample lists but {len(groups)} group ids")
    if extra is not None and len(extra) != n:
        raise ConfigError(f"fidelity reward: {n} sample lists but {len(extra)} target stds")
    return [None] * n if groups is None else list(groups)


def _members(gids: list[Hashable], stats: list[tuple[float, float] | None]) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for i, g in enumerate(gids):
        if stats[i] is not None:
            out.setdefault(g, []).append(i)
    return out


def fidelity_reward(
    samples: Samples,
    targets: Sequence[float],
    groups: Sequence[Hashable] | None = None,
    tie: float = 0.5,
    eps: float = 1e-6,
) -> list[list[float | None]]:
    """Fidelity ranking reward of every sample (VisualQuality-R1 form).

    For sample ``q`` of image *i* and every other image *j* of its group (with valid samples):
    ``p = Phi((q - mu_j) / sqrt(var_i + var_j + eps))``, ``g = 1 / 0 / tie`` as ``targets[i]``
    is higher / lower / equal to ``targets[j]``, ``r = sqrt(p*g + eps) + sqrt((1-p)*(1-g) + eps)``;
    the reward is the mean of ``r`` over those *j*.

    Returns:
        One list per image, one reward per sample; ``None`` for a ``None`` sample, and for every
        sample of an image without another valid image in its group.
    """
    gids = _check(samples, targets, groups)
    stats = [_stats(s) for s in samples]
    members = _members(gids, stats)
    out: list[list[float | None]] = []
    for i, row in enumerate(samples):
        st = stats[i]
        others = [j for j in members.get(gids[i], []) if j != i] if st is not None else []
        if st is None or not others:
            out.append([None] * len(row))
            continue
        var_i = st[1]
        rewards: list[float | None] = []
        for q in row:
            if q is None:
                rewards.append(None)
                continue
            total = 0.0
            for j in others:
                mu_j, var_j = stats[j]  # type: ignore[misc]
                p = normal_cdf((float(q) - mu_j) / math.sqrt(var_i + var_j + eps))
                ti, tj = float(targets[i]), float(targets[j])
                g = 1.0 if ti > tj else 0.0 if ti < tj else tie
                total += pair_fidelity(p, g, eps)
            rewards.append(total / len(others))
        out.append(rewards)
    return out


def soft_target(ti: float, tj: float, si: float, sj: float, tie: float = 0.5) -> float:
    """``P(i better than j)`` from judged targets and their stds: ``Phi((ti-tj)/sqrt(si²+sj²))``.

    With both stds zero this is the hard target (1 / 0 / ``tie``).
    """
    scale = math.sqrt(si * si + sj * sj)
    if scale <= 0.0:
        return 1.0 if ti > tj else 0.0 if ti < tj else tie
    return normal_cdf((ti - tj) / scale)


def delta_weighted_reward(
    samples: Samples,
    targets: Sequence[float],
    groups: Sequence[Hashable] | None = None,
    target_std: Sequence[float] | None = None,
    tie: float = 0.5,
    eps: float = 1e-6,
) -> list[list[float | None]]:
    """The fidelity reward with soft targets and confidence weights (redaes' variant).

    ``g_ij = soft_target(targets[i], targets[j], target_std[i], target_std[j])`` replaces the
    hard 1/0/tie target, and the mean over *j* is weighted by ``w_ij = |2 g_ij - 1|`` (how sure
    the judged delta is about the order), so near-ties barely count. A group whose weights are all
    zero (all ties) falls back to the plain mean. ``target_std=None`` means all zeros; then the
    result equals :func:`fidelity_reward` except that tied partners get weight 0.
    """
    gids = _check(samples, targets, groups, target_std)
    sds = [0.0] * len(samples) if target_std is None else [float(s) for s in target_std]
    if any(s < 0 or not math.isfinite(s) for s in sds):
        raise ConfigError("delta-weighted reward: target stds must be finite and >= 0")
    stats = [_stats(s) for s in samples]
    members = _members(gids, stats)
    out: list[list[float | None]] = []
    for i, row in enumerate(samples):
        st = stats[i]
        others = [j for j in members.get(gids[i], []) if j != i] if st is not None else []
        if st is None or not others:
            out.append([None] * len(row))
            continue
        ti = float(targets[i])
        gs = [soft_target(ti, float(targets[j]), sds[i], sds[j], tie) for j in others]
        ws = [abs(2.0 * g - 1.0) for g in gs]
        if sum(ws) <= eps:
            ws = [1.0] * len(others)
        rewards: list[float | None] = []
        for q in row:
            if q is None:
                rewards.append(None)
                continue
            num = 0.0
            for j, g, w in zip(others, gs, ws, strict=True):
                mu_j, var_j = stats[j]  # type: ignore[misc]
                p = normal_cdf((float(q) - mu_j) / math.sqrt(st[1] + var_j + eps))
                num += w * pair_fidelity(p, g, eps)
            rewards.append(num / sum(ws))
        out.append(rewards)
    return out
