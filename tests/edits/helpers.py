"""Helpers shared by the per-family edit tests: strength sweeps and monotonicity checks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch

from redaes.edits import create_edit

STRENGTHS = (-1.0, -0.5, 0.0, 0.5, 1.0)


def sweep(
    name: str,
    x: torch.Tensor,
    stat: Callable[[torch.Tensor], float],
    strengths: Sequence[float] = STRENGTHS,
) -> list[float]:
    """``stat`` of ``x`` edited by ``name`` at each strength (seed 0)."""
    op = create_edit(name)
    return [stat(op(x, s, seed=0)) for s in strengths]


def strictly_monotonic(values: list[float], increasing: bool = True, margin: float = 1e-4) -> bool:
    """Each value differs from the previous one by more than ``margin`` in one direction."""
    sign = 1.0 if increasing else -1.0
    return all(sign * (b - a) > margin for a, b in itertools.pairwise(values))


def strictly_increasing(values: list[float], margin: float = 1e-4) -> bool:
    return strictly_monotonic(values, True, margin)
