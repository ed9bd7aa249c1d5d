"""Restoration units of the pair plan: a base degradation and the edits that undo it.

A restoration unit degrades the original photo with one signed op of ``restore_ops`` (strength
drawn from :data:`RESTORE_RANGES`); the pair's source is that degraded copy and its edit is the
same op with the opposite sign, ``|s| = f k |base|`` with ``f`` uniform in
:data:`RESTORE_FRACTION` (partial undo ... overshoot) and ``k`` from :data:`RESTORE_SCALE`,
clipped to ``[min_abs_strength, 1]``.
With ``grid`` sampling the correction is a grid strength of the opposite sign. See
:mod:`redaes.pairs.plan` for how units are planned.

This module is the home of the restoration rules: it imports nothing from
:mod:`redaes.pairs.plan` (which imports it), the plan fields it reads are described by
:class:`RestoreSettings`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from redaes.errors import ConfigError

RESTORE_STREAM = 0x2E57
RESTORE_FRACTION = (0.4, 1.4)
"""Correcting strength as a fraction of the base degradation's ``|strength|`` (> 1 overshoots)."""
RESTORE_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "exposure": ((-0.8, -0.3), (0.4, 0.8)),
    "gamma": ((-0.8, -0.3), (0.3, 0.8)),
    "contrast": ((-0.8, -0.4),),
    "saturation": ((-0.8, -0.4),),
    "vibrance": ((-0.8, -0.4),),
    "temperature": ((-0.8, -0.4), (0.4, 0.8)),
    "tint": ((-0.8, -0.4), (0.4, 0.8)),
    "shadows": ((-0.8, -0.4),),
    "highlights": ((0.4, 0.8),),
    "haze": ((0.4, 0.8),),
    "vignette": ((0.5, 1.0),),
    "rotate": ((-0.8, -0.3), (0.3, 0.8)),
}
"""Signed strength intervals of the base degradation per op (one interval is drawn uniformly).
Ops not listed use ``DEFAULT_RESTORE_RANGE``."""
DEFAULT_RESTORE_RANGE: tuple[tuple[float, float], ...] = ((-0.8, -0.4), (0.4, 0.8))
RESTORE_SCALE: dict[str, float] = {"haze": 50.0 / 90.0}
"""Correction strength per unit of base strength for ops whose two signs differ in physical
size (haze: +1 adds a 50 % veil, -1 removes 90 %); 1 for the others."""


class RestoreSettings(Protocol):
    """The plan fields a restoration draw reads (:class:`redaes.pairs.plan.PairPlan` has them)."""

    chain_length: int
    chain_prob: float
    strength_sampling: str
    strength_grid: list[float]
    min_abs_strength: float


def restore_ops(
    names: list[str], op_info: dict[str, bool], weights: dict[str, float]
) -> tuple[list[str], np.ndarray]:
    """The usable restoration ops (sorted) and their sampling probabilities.

    ``names`` are checked (unknown -> :class:`UnknownNameError` with a suggestion; unsigned or
    stochastic -> :class:`ConfigError`); only ops with a positive weight in ``weights`` (the
    plan's op weights) are kept, so an empty result means "no restoration units".
    """
    from redaes.edits import EDIT_OPS, list_edits

    stochastic = {i.name for i in list_edits() if i.stochastic}
    for name in names:
        if name not in op_info:
            EDIT_OPS.get(name)  # UnknownNameError with "did you mean"
        if not op_info.get(name, False):
            raise ConfigError(
                f"plan field 'restore_ops': {name!r} is not a signed op (nothing undoes it)"
            )
        if name in stochastic:
            raise ConfigError(f"plan field 'restore_ops': {name!r} is stochastic")
    kept = sorted(n for n in set(names) if weights.get(n, 0.0) > 0)
    w = np.array([weights[n] for n in kept], dtype=np.float64)
    return kept, (w / w.sum() if kept else w)


def draw_restoration(
    rng: np.random.Generator, plan: RestoreSettings, names: list[str], probs: np.ndarray
) -> tuple[str, float, list[float]]:
    """Draw ``(op, base strength, sorted correcting strengths)`` of one restoration unit.

    One correcting strength, or ``plan.chain_length`` distinct ones with probability
    ``plan.chain_prob`` (a restoration chain).
    """
    op = names[int(rng.choice(len(names), p=probs))]
    ranges = RESTORE_RANGES.get(op, DEFAULT_RESTORE_RANGE)
    lo, hi = ranges[int(rng.integers(len(ranges)))]
    base = round(float(rng.uniform(lo, hi)), 4)
    k = plan.chain_length if plan.chain_length >= 2 and rng.random() < plan.chain_prob else 1
    grid = [g for g in plan.strength_grid if g * base < 0]

    def fix() -> float:
        if plan.strength_sampling == "grid" and grid:
            return float(grid[int(rng.integers(len(grid)))])
        mag = abs(base) * RESTORE_SCALE.get(op, 1.0) * float(rng.uniform(*RESTORE_FRACTION))
        mag = min(1.0, max(plan.min_abs_strength, mag))
        return round(-mag if base > 0 else mag, 4)

    values: set[float] = set()
    for _ in range(1000):
        values.add(fix())
        if len(values) == k:
            break
    return op, base, sorted(values)
