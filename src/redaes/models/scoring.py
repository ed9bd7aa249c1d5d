"""Scores with uncertainty from any assessor, and the pair view of two images under it.

Assessors that predict an uncertainty expose ``score_with_std(images)``; the others report a
std of 0 (then ``P(b better)`` is 1, 0 or 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redaes.assessors.base import Assessor
from redaes.imageio import ImageInput


def image_label(image: ImageInput) -> str:
    """A path as given, else ``<TypeName>``."""
    return str(image) if isinstance(image, (str, Path)) else f"<{type(image).__name__}>"


def scores_with_std(assessor: Assessor, images: Sequence[ImageInput]) -> list[tuple[float, float]]:
    """``(score, std)`` from any assessor; assessors without uncertainty report std 0."""
    with_std = getattr(assessor, "score_with_std", None)
    if callable(with_std):
        return [(float(s), float(sd)) for s, sd in with_std(images)]
    return [(float(s), 0.0) for s in assessor.score(images)]


def score_details(assessor: Assessor, images: Sequence[ImageInput]) -> list[dict[str, float]]:
    """``{"score", "std", "raw_score"}`` per image from any assessor.

    ``raw_score`` is the model's score before calibration and the clamp to [0, 10] for
    assessors that expose it (``score_details``, as :class:`CompactAssessor`); for the others
    it equals ``score``.
    """
    details = getattr(assessor, "score_details", None)
    if callable(details):
        return [
            {"score": float(d["score"]), "std": float(d["std"]), "raw_score": float(d["raw_score"])}
            for d in details(images)
        ]
    return [{"score": s, "std": sd, "raw_score": s} for s, sd in scores_with_std(assessor, images)]


def compare(assessor: Assessor, a: ImageInput, b: ImageInput) -> dict[str, Any]:
    """``{"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}`` under any
    assessor (std 0 when it has none)."""
    from redaes.models.net import pair_view  # torch: `redaes score` never needs the pair view

    (sa, da), (sb, db) = scores_with_std(assessor, [a, b])
    return {
        "a": image_label(a),
        "b": image_label(b),
        "score_a": sa,
        "score_b": sb,
        **pair_view(sa, da, sb, db),
    }
