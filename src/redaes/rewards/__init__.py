"""Relative ranking consistency rewards, shared by the compact assessor and the MLLM RL stage.

No heavy imports: this package needs only the standard library (``torch_loss`` imports torch
lazily, inside its function).

>>> r = fidelity_reward([[6.0, 7.0], [3.0, 4.0]], targets=[1.0, 0.0])  # right order: ~1
>>> [[round(v, 2) for v in row] for row in r]
[[1.0, 1.0], [1.0, 1.0]]
>>> r = create_reward("fidelity")([[6.0, 7.0], [3.0, 4.0]], targets=[0.0, 1.0])  # wrong order: low
>>> [[round(v, 2) for v in row] for row in r]
[[0.08, 0.02], [0.02, 0.08]]
"""

from __future__ import annotations

from redaes.rewards.fidelity import (
    delta_weighted_reward,
    fidelity_reward,
    normal_cdf,
    pair_fidelity,
    soft_target,
)
from redaes.rewards.ranking import REWARDS, RankingReward, create_reward, listwise_fidelity

__all__ = [
    "REWARDS",
    "RankingReward",
    "create_reward",
    "delta_weighted_reward",
    "fidelity_reward",
    "listwise_fidelity",
    "normal_cdf",
    "pair_fidelity",
    "soft_target",
]
