"""Strict parsing of ``<think>...</think><answer>...</answer>`` completions.

A completion that does not follow the format exactly gives ``None``: callers count such
failures and report them; they are never replaced by a default or random number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_FORMAT = re.compile(
    r"\s*<think>(?P<think>.*?)</think>\s*<answer>\s*(?P<answer>[^<]*?)\s*</answer>\s*",
    re.DOTALL,
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class Parsed:
    """A well-formed completion: its reasoning text and its numeric answer."""

    think: str
    value: float


def parse_completion(
    text: str, low: float | None = None, high: float | None = None
) -> Parsed | None:
    """The reasoning and number of ``text``, or None if it is not exactly one well-formed block.

    The answer must be one number (optionally signed); ``low``/``high`` bound it inclusively.
    """
    match = _FORMAT.fullmatch(text)
    if match is None or "<think>" in match["think"] or "<answer>" in match["think"]:
        return None
    answer = match["answer"]
    if _NUMBER.fullmatch(answer) is None:
        return None
    value = float(answer)
    if not math.isfinite(value):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return Parsed(think=match["think"].strip(), value=value)


def parse_score(text: str) -> float | None:
    """The 0-10 score answered in ``text``, or None on any format or range violation."""
    parsed = parse_completion(text, 0.0, 10.0)
    return None if parsed is None else parsed.value


def parse_delta(text: str) -> float | None:
    """The signed score difference (-10..10) answered in ``text``, or None on failure."""
    parsed = parse_completion(text, -10.0, 10.0)
    return None if parsed is None else parsed.value


def has_format(text: str) -> bool:
    """Whether ``text`` has the ``<think>..</think><answer>..</answer>`` shape (any answer)."""
    match = _FORMAT.fullmatch(text)
    return match is not None and "<think>" not in match["think"]
