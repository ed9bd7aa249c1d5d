"""The ``model`` judge: the score difference of any registered assessor.

``create_judge("model:NAME")`` (or ``create_judge("model", assessor="NAME")``) scores the source and
the edited image with the assessor ``NAME`` and returns ``delta = score(edited) - score(source)``
on the 0-10 scale. The assessor may also be an import path (``"pkg.mod:obj"``) or an instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from redaes.assessors import Assessor, create_assessor
from redaes.errors import RedaesError
from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext

Pair = tuple[Image.Image, Image.Image, PairContext]


@JUDGES.register("model")
class ModelJudge(Judge):
    """Difference of an assessor's scores.

    Args:
        assessor: registry name, import path or :class:`~redaes.assessors.Assessor` instance.
        confidence: the confidence reported with every verdict (the assessor gives none).
        batch_size: images per ``assessor.score`` call in :meth:`judge_batch`.
        **assessor_options: passed to :func:`~redaes.assessors.create_assessor`.
    """

    def __init__(
        self,
        assessor: str | Assessor = "brisque",
        confidence: float = 0.5,
        batch_size: int = 32,
        **assessor_options: Any,
    ) -> None:
        if isinstance(assessor, Assessor):
            self.assessor = assessor
        else:
            self.assessor = create_assessor(assessor, **assessor_options)
        label = assessor if isinstance(assessor, str) else self.assessor.name
        self.name = f"model:{label}"
        self.confidence = float(confidence)
        self.batch_size = max(2, int(batch_size))

    def _verdict(self, src_score: float, edit_score: float) -> JudgeResult:
        delta = edit_score - src_score
        return JudgeResult(
            judge=self.name,
            delta=delta,
            confidence=self.confidence,
            rationale=(
                f"{self.assessor.name} scores the source {src_score:.2f} and the edit "
                f"{edit_score:.2f} (0-10): {delta:+.2f}"
            ),
            source_score=src_score,
            edited_score=edit_score,
        )

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        """Score both images and return their difference (a failure if the assessor refuses)."""
        try:
            src_score, edit_score = self.assessor.score([source, edited])
        except RedaesError as exc:
            return JudgeResult.failure(self.name, str(exc))
        return self._verdict(src_score, edit_score)

    def judge_batch(self, pairs: Sequence[Pair]) -> list[JudgeResult]:
        """Score the pairs in chunks of ``batch_size`` images (falls back to one pair at a time)."""
        out: list[JudgeResult] = []
        per_chunk = max(1, self.batch_size // 2)
        for i in range(0, len(pairs), per_chunk):
            chunk = pairs[i : i + per_chunk]
            images = [im for s, e, _ in chunk for im in (s, e)]
            try:
                scores = self.assessor.score(images)
            except RedaesError:
                out.extend(self.judge(s, e, c) for s, e, c in chunk)
                continue
            out.extend(self._verdict(scores[2 * k], scores[2 * k + 1]) for k in range(len(chunk)))
        return out
