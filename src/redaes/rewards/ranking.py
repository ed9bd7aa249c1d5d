"""Reward objects by name, and the differentiable listwise form used by the compact assessor.

:class:`RankingReward` is a picklable callable (a dataclass of plain fields) so it can cross
process boundaries (``multiprocessing``, ``accelerate``); :func:`listwise_fidelity` evaluates the
same formula on tensors of predicted means and variances (one "sample" per image: its mean),
imports torch lazily and keeps gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redaes.errors import ConfigError
from redaes.registry import Registry
from redaes.rewards.fidelity import Samples, delta_weighted_reward, fidelity_reward, pair_fidelity

if TYPE_CHECKING:
    import torch

FORMS = ("fidelity", "fidelity-delta")


@dataclass(frozen=True)
class RankingReward:
    """``reward(samples, targets, groups=None, target_std=None) -> list[list[float | None]]``.

    Args:
        form: ``"fidelity"`` (VisualQuality-R1) or ``"fidelity-delta"`` (soft targets from the
            judged delta and its std, confidence-weighted).
        tie: target value of a tie in the hard form.
        eps: the formula's epsilon.
    """

    form: str = "fidelity"
    tie: float = 0.5
    eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"unknown reward form {self.form!r}; expected one of {FORMS}")
        if not 0.0 <= self.tie <= 1.0:
            raise ConfigError(f"reward tie value must be in [0, 1], got {self.tie}")

    def __call__(
        self,
        samples: Samples,
        targets: Sequence[float],
        groups: Sequence[Hashable] | None = None,
        target_std: Sequence[float] | None = None,
    ) -> list[list[float | None]]:
        if self.form == "fidelity":
            return fidelity_reward(samples, targets, groups, tie=self.tie, eps=self.eps)
        return delta_weighted_reward(
            samples, targets, groups, target_std, tie=self.tie, eps=self.eps
        )


REWARDS: Registry[RankingReward] = Registry("reward")


def _factory(form: str) -> Callable[..., RankingReward]:
    def make(**overrides: Any) -> RankingReward:
        return RankingReward(form=form, **overrides)

    return make


for _form in FORMS:
    REWARDS.add(_form, _factory(_form))


def create_reward(name: str, **overrides: Any) -> RankingReward:
    """Create a reward by name: ``fidelity`` or ``fidelity-delta`` (``tie=``, ``eps=``)."""
    return REWARDS.create(name, **overrides)


def listwise_fidelity(
    mu: torch.Tensor,
    var: torch.Tensor,
    targets: torch.Tensor,
    groups: Sequence[Hashable] | None = None,
    target_std: torch.Tensor | None = None,
    form: str = "fidelity",
    tie: float = 0.5,
    eps: float = 1e-6,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable ranking consistency of predicted scores within groups.

    Image *i* is one sample ``q = mu[i]`` with variance ``var[i]``; for every other image *j* of
    its group ``p = Phi((mu_i - mu_j) / sqrt(var_i + var_j + eps))`` and the reward is the
    (weighted) mean of :func:`pair_fidelity` over *j*, exactly as :func:`fidelity_reward` /
    :func:`delta_weighted_reward` compute it for that sample.

    Returns:
        ``(mean reward over images that have a partner, mask of those images)``; the mean is 0
        (with a gradient of 0) when no image has a partner.
    """
    import torch

    if form not in FORMS:
        raise ConfigError(f"unknown reward form {form!r}; expected one of {FORMS}")
    n = mu.shape[0]
    if groups is None:
        same = torch.ones(n, n, dtype=torch.bool, device=mu.device)
    else:
        codes: dict[Hashable, int] = {}
        ids = torch.tensor([codes.setdefault(g, len(codes)) for g in groups], device=mu.device)
        same = ids[:, None] == ids[None, :]
    mask = same & ~torch.eye(n, dtype=torch.bool, device=mu.device)
    diff = mu[:, None] - mu[None, :]
    p = torch.special.ndtr(diff / torch.sqrt(var[:, None] + var[None, :] + eps))
    t = targets.to(mu.dtype)
    hard = (t[:, None] > t[None, :]).to(mu.dtype) + tie * (t[:, None] == t[None, :]).to(mu.dtype)
    if form == "fidelity":
        g, w = hard, torch.ones_like(hard)
    else:
        sd = torch.zeros_like(t) if target_std is None else target_std.to(mu.dtype)
        scale = torch.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2)
        soft = torch.special.ndtr((t[:, None] - t[None, :]) / scale.clamp_min(1e-30))
        g = torch.where(scale > 0, soft, hard)
        w = (2 * g - 1).abs()
    m = mask.to(mu.dtype)
    wm = w * m
    total = wm.sum(1)
    wm = torch.where((total <= eps)[:, None], m, wm)  # all ties: plain mean
    r = pair_fidelity(p, g, eps)
    has = mask.any(1)
    per_image = (wm * r).sum(1) / wm.sum(1).clamp_min(1e-30)
    if not bool(has.any()):
        return mu.sum() * 0.0, has
    return per_image[has].mean(), has
