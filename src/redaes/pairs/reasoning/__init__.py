"""Reasoning text of a pair: true, measured claims and a conclusion that carries the number.

A text is generated from structured facts only (:mod:`~redaes.pairs.reasoning.claims`): the
source's scene (:mod:`redaes.scene`), the measured changes between the two images
(:mod:`redaes.stats` via :mod:`~redaes.pairs.reasoning.observe`), the prior judge's terms when it
gave them (which change set the verdict), and the consensus ``delta``. Each sentence states a
measured fact with its numbers, or the rule that set the verdict; nothing names the op, its
strength, or how the source was made, so the text never gives the answer away. The conclusion
is always the consensus number, e.g. "Overall the edit lowers the aesthetic score by 0.80
points (uncertainty 0.30)." A generative step's recorded instruction is a fact of the pair too:
:mod:`~redaes.pairs.reasoning.instruction` states what was asked and whether the measurement
followed it, never whether it helped. :func:`~redaes.pairs.reasoning.check.check_reasoning`
re-measures the two images and verifies every claim of a text.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from redaes.pairs.reasoning.check import check_reasoning, check_row
from redaes.pairs.reasoning.claims import Claim, claims, decisive, uncited
from redaes.pairs.reasoning.instruction import instruction_part
from redaes.pairs.reasoning.observe import KINDS, STATS_SIDE, Observation, observe
from redaes.pairs.reasoning.text import claim_sentence, rule_sentence, scene_sentence

IMPROVE, DEGRADE, NEUTRAL = "improve", "degrade", "neutral"
MAX_CLAIMS = 4
SMALL_TERM = 0.02
"""When no change is visible but the verdict is not neutral, terms of this size are cited."""

__all__ = [
    "DEGRADE",
    "IMPROVE",
    "KINDS",
    "NEUTRAL",
    "STATS_SIDE",
    "Claim",
    "Observation",
    "check_reasoning",
    "check_row",
    "claims",
    "compose",
    "conclusion",
    "direction",
    "observe",
]


def direction(delta: float, neutral_threshold: float = 0.1) -> str:
    """``"improve"``, ``"degrade"`` or ``"neutral"`` (``|delta| < neutral_threshold``)."""
    if abs(delta) < neutral_threshold:
        return NEUTRAL
    return IMPROVE if delta > 0 else DEGRADE


def conclusion(delta: float, delta_std: float, neutral_threshold: float = 0.1) -> str:
    """The final sentence with the number; its verb follows :func:`direction`."""
    d = direction(delta, neutral_threshold)
    if d == NEUTRAL:
        return (
            f"Overall the edit barely changes the aesthetic score ({delta:+.2f} points, "
            f"uncertainty {delta_std:.2f})."
        )
    verb = "raises" if d == IMPROVE else "lowers"
    return (
        f"Overall the edit {verb} the aesthetic score by {abs(delta):.2f} points "
        f"(uncertainty {delta_std:.2f})."
    )


def compose(
    source: Observation,
    edited: Observation,
    delta: float,
    delta_std: float,
    seed: int = 0,
    terms: Iterable[Mapping[str, Any]] | None = None,
    neutral_threshold: float = 0.1,
    rationale: str | None = None,
    generative: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The full reasoning text of one pair.

    Args:
        source: :func:`observe` of the source image (with faces).
        edited: :func:`observe` of the edited image (faces not needed).
        delta: consensus difference (edited minus source, 0-10 points).
        delta_std: its uncertainty.
        seed: the pair's seed: picks the wording (deterministic).
        terms: the prior judge's ``extra["terms"]`` (name, before, after, unit, contribution);
            without them the claims are ordered by how visible they are.
        neutral_threshold: ``|delta|`` below which the text says "barely changes".
        rationale: a VLM judge's rationale; replaces the measured claims when given.
        generative: the row's ``generative`` records: each instruction is named, with whether
            the measured change followed it (see :mod:`~redaes.pairs.reasoning.instruction`).
    """
    rng = random.Random(zlib.crc32(f"reasoning:{seed}".encode()))
    parts: list[str] = []
    found = claims(source, edited, terms)
    if not found and abs(delta) >= neutral_threshold:  # a verdict from small terms: cite them
        found = claims(source, edited, terms, term_min=SMALL_TERM)
    geometry = any(c.kind in ("frame", "horizon", "subject_x", "subject_y") for c in found)
    opener = scene_sentence(source, rng, lines=geometry)
    if opener:
        parts.append(opener)
    asked, covered = instruction_part(generative, source, edited, seed)
    parts.extend(asked)
    if rationale and rationale.strip():
        parts.append(rationale.strip())
    else:
        main = decisive(found, delta, neutral_threshold, uncited(terms, delta))
        shown = [c for c in found if c.kind not in covered][:MAX_CLAIMS]
        if main is not None and main not in shown and main.kind not in covered:
            shown = [*shown[: MAX_CLAIMS - 1], main]
        parts.extend(claim_sentence(c, rng) for c in shown)
        d = direction(delta, neutral_threshold)
        sign = 0 if d == NEUTRAL else (1 if d == IMPROVE else -1)
        parts.append(rule_sentence(found, main, sign, rng))
    parts.append(conclusion(delta, delta_std, neutral_threshold))
    return " ".join(parts)
