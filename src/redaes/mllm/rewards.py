"""TRL reward functions for the GRPO stages, on top of :mod:`redaes.rewards`.

Each is a picklable callable class with TRL's signature
``reward(prompts, completions, **columns) -> list[float | None]``; ``None`` marks a completion
that does not parse (TRL treats it as missing, never as a default number).

Batch layout: TRL's GRPOTrainer places the ``num_generations`` completions of one prompt
consecutively, so :class:`RankingConsistencyReward` takes consecutive rows with the same
``pair_id`` as the K samples of one image and compares images of the same ``group`` *within
the call*. Under several processes each process scores its own slice: an image whose group
has no other image in that slice gets ``None`` (documented limitation; keep groups together by
making ``per_device_train_batch_size`` a multiple of ``num_generations`` times the group size).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redaes.mllm.parse import has_format, parse_delta, parse_score
from redaes.rewards import RankingReward


def completion_text(completion: Any) -> str:
    """The text of a TRL completion (a string, or a list of chat messages)."""
    if isinstance(completion, str):
        return completion
    parts: list[str] = []
    for message in completion:
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(c.get("text", "") for c in content if c.get("type") == "text")
    return "".join(parts)


@dataclass(frozen=True)
class FormatReward:
    """1.0 for a ``<think>..</think><answer>..</answer>`` completion, else 0.0."""

    @property
    def __name__(self) -> str:  # TRL logs rewards under their function name
        return "format"

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        return [1.0 if has_format(completion_text(c)) else 0.0 for c in completions]


@dataclass(frozen=True)
class PairDeltaReward:
    """Stage 2: the predicted difference against the judged ``delta`` (column) and its std.

    ``sign_weight`` for the right sign (a tie counts when both are within ``delta_std``), plus
    ``(1 - sign_weight) * exp(-|pred - delta| / (delta_std + scale))`` for the size.
    """

    sign_weight: float = 0.5
    scale: float = 1.0

    @property
    def __name__(self) -> str:  # TRL logs rewards under their function name
        return "pair_delta"

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        delta: Sequence[float] = (),
        delta_std: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        out: list[float | None] = []
        for i, c in enumerate(completions):
            pred = parse_delta(completion_text(c))
            if pred is None:
                out.append(None)
                continue
            d, s = float(delta[i]), float(delta_std[i]) if delta_std is not None else 0.0
            same = (pred > 0) == (d > 0) if abs(d) > s else abs(pred) <= max(s, 1e-9)
            size = math.exp(-abs(pred - d) / (s + self.scale))
            out.append(self.sign_weight * float(same) + (1.0 - self.sign_weight) * size)
        return out


@dataclass(frozen=True)
class RankingConsistencyReward:
    """Stage 3: each sampled score's ranking consistency with the other images of its group.

    Uses ``target`` and ``group`` columns (and ``target_std`` for ``fidelity-delta``);
    ``pair_id`` + position identify an image's consecutive samples.
    """

    reward: RankingReward = field(default_factory=RankingReward)

    @property
    def __name__(self) -> str:  # TRL logs rewards under their function name
        return "ranking_consistency"

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        target: Sequence[float] = (),
        group: Sequence[Any] = (),
        target_std: Sequence[float] | None = None,
        pair_id: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        n = len(completions)
        keys = [
            (group[i], target[i], pair_id[i] if pair_id is not None else None) for i in range(n)
        ]
        images: list[list[int]] = []
        for i in range(n):
            if images and keys[images[-1][-1]] == keys[i]:
                images[-1].append(i)
            else:
                images.append([i])
        samples = [[parse_score(completion_text(completions[i])) for i in rows] for rows in images]
        targets = [float(target[rows[0]]) for rows in images]
        groups = [group[rows[0]] for rows in images]
        stds = None if target_std is None else [float(target_std[r[0]]) for r in images]
        if any(len(rows) < 2 for rows in images):
            return [None] * n  # fewer than 2 samples per image: no ranking consistency
        per_image = self.reward(samples, targets, groups, stds)
        out: list[float | None] = [None] * n
        for rows, rewards in zip(images, per_image, strict=True):
            for i, r in zip(rows, rewards, strict=True):
                out[i] = r
        return out
