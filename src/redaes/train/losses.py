"""The three relative objectives of compact training. No absolute score appears anywhere.

For a pair (a = source, b = edited) the network predicts ``s_a, sd_a, s_b, sd_b``; the predicted
difference is ``d = s_b - s_a`` with variance ``v = sd_a² + sd_b²``.

1. :func:`delta_nll`: Gaussian NLL of the judged delta under ``N(d, v)``, weighted by the judges'
   confidence (edit-difference regression with predicted uncertainty).
2. :func:`bradley_terry`: ``softplus(-(y d - m))`` with ``y = sign(judged delta)`` and margin
   ``m = margin_scale * min(|delta|, margin_max)``; ties (``|delta| < tie_eps``) are skipped.
3. :func:`listwise_loss`: ``1 - reward``, the reward being
   :func:`redaes.rewards.listwise_fidelity` over groups (a source and its edits, targets 0
   and the judged deltas). Optionally plus ``nll_weight`` * :func:`group_delta_nll`, stage 1's
   NLL on the groups' (source, edit) pairs, so the predicted spread stays calibrated.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch
import torch.nn.functional as F

from redaes.rewards import listwise_fidelity


def _wmean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    total = weight.sum()
    if float(total) <= 0.0:
        return values.sum() * 0.0
    return (values * weight).sum() / total


def delta_nll(
    d: torch.Tensor, v: torch.Tensor, delta: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Confidence-weighted Gaussian NLL of the judged ``delta`` (constant term dropped)."""
    nll = F.gaussian_nll_loss(d, delta, v, reduction="none", eps=1e-6)
    return _wmean(nll, weight)


def bradley_terry(
    d: torch.Tensor,
    delta: torch.Tensor,
    weight: torch.Tensor,
    margin_scale: float = 0.5,
    margin_max: float = 2.0,
    tie_eps: float = 0.05,
) -> torch.Tensor:
    """Bradley-Terry preference loss on score differences with judged-delta margins."""
    y = torch.sign(delta)
    keep = (delta.abs() >= tie_eps).to(d.dtype)
    margin = margin_scale * delta.abs().clamp(max=margin_max)
    loss = F.softplus(-(y * d - margin))
    return _wmean(loss, weight * keep)


def listwise_loss(
    mu: torch.Tensor,
    var: torch.Tensor,
    targets: torch.Tensor,
    groups: Sequence[Hashable],
    target_std: torch.Tensor,
    form: str = "fidelity-delta",
    tie: float = 0.5,
) -> torch.Tensor:
    """``1 - ranking consistency`` of the predicted scores within their groups."""
    reward, _ = listwise_fidelity(mu, var, targets, groups, target_std, form=form, tie=tie)
    return 1.0 - reward


def group_delta_nll(
    mu: torch.Tensor,
    sd: torch.Tensor,
    targets: torch.Tensor,
    is_source: Sequence[bool],
    weight: torch.Tensor,
) -> torch.Tensor:
    """Stage 1's :func:`delta_nll` on the (source, edit) pairs of stage-3 groups.

    The elements come group by group, each group's source first (``is_source``), then its
    edits, whose ``targets`` are the judged deltas against that source; ``weight`` holds the
    edits' confidences (ignored for sources).
    """
    src_at, edt_at, current = [], [], -1
    for i, flag in enumerate(is_source):
        if flag:
            current = i
        elif current >= 0:
            src_at.append(current)
            edt_at.append(i)
    if not edt_at:
        return mu.sum() * 0.0
    a, b = torch.tensor(src_at), torch.tensor(edt_at)
    return delta_nll(mu[b] - mu[a], sd[a] ** 2 + sd[b] ** 2, targets[b], weight[b])


def pair_metrics(
    d: torch.Tensor, v: torch.Tensor, delta: torch.Tensor, tie_eps: float = 0.05
) -> dict[str, float]:
    """Validation metrics: direction accuracy, delta SRCC, NLL and 68%/95% interval coverage."""
    from scipy.stats import spearmanr

    keep = delta.abs() >= tie_eps
    acc = (
        float((torch.sign(d[keep]) == torch.sign(delta[keep])).float().mean())
        if keep.any()
        else float("nan")
    )
    srcc = float("nan")
    if d.numel() >= 3 and float(d.std()) > 0 and float(delta.std()) > 0:
        srcc = float(spearmanr(d.numpy(), delta.numpy()).statistic)
    z = (delta - d).abs() / v.sqrt()
    return {
        "direction_acc": acc,
        "delta_srcc": srcc,
        "nll": float(F.gaussian_nll_loss(d, delta, v, eps=1e-6)),
        "cover68": float((z <= 1.0).float().mean()),
        "cover95": float((z <= 1.96).float().mean()),
    }
