"""The judge interface and registry.

A judge looks at a (source, edited) pair plus the edit metadata and returns the *signed aesthetic
difference* ``delta = score(edited) - score(source)`` in points of the 0-10 aesthetic scale, a
confidence in ``[0, 1]`` and a rationale. A judge that cannot answer returns ``ok=False`` with an
``error``; it never invents a number.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from PIL import Image

from redaes.edits.chain import EditChain
from redaes.registry import Registry


@dataclass
class JudgeResult:
    """One judge's verdict on one pair.

    Attributes:
        judge: the judge's name (``"prior"``, ``"iqa:brisque"``, ``"vlm:qwen2.5-vl-72b"``...).
        delta: edited minus source on the 0-10 scale; ``None`` when ``ok`` is False.
        confidence: in ``[0, 1]``.
        rationale: the judge's reasoning (may be empty).
        source_score: absolute score of the source, when the judge gives one.
        edited_score: absolute score of the edited image, when the judge gives one.
        ok: False when the judge failed (see ``error``).
        error: why it failed.
        extra: judge-specific details (raw answer, measured statistics...).
    """

    judge: str
    delta: float | None
    confidence: float = 1.0
    rationale: str = ""
    source_score: float | None = None
    edited_score: float | None = None
    ok: bool = True
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, judge: str, error: str, **extra: Any) -> JudgeResult:
        """A failed verdict (no number is invented)."""
        return cls(
            judge=judge, delta=None, confidence=0.0, ok=False, error=error, extra=dict(extra)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PairContext:
    """What a judge may know about a pair besides the pixels."""

    edits: EditChain
    source_id: str = ""
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class Judge(ABC):
    """Base class of judges."""

    name: str = "judge"

    @abstractmethod
    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        """Judge one pair."""

    def judge_batch(
        self, pairs: Sequence[tuple[Image.Image, Image.Image, PairContext]]
    ) -> list[JudgeResult]:
        """Judge several pairs (override for batching or concurrency)."""
        return [self.judge(s, e, c) for s, e, c in pairs]


JUDGES: Registry[Judge] = Registry("judge")


def create_judge(name: str, **overrides: Any) -> Judge:
    """Create a judge by name. ``"model:NAME"`` wraps the assessor ``NAME``."""
    if name.startswith("model:"):
        return JUDGES.create("model", assessor=name.split(":", 1)[1], **overrides)
    return JUDGES.create(name, **overrides)
