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


class CalibratedScores:
    """``score``, ``score_with_std``, ``raw_score_with_std`` and ``score_details`` of a compact
    model from the subclass's ``_predict(images, clamp)`` (uncalibrated ``(score, std)`` per
    image, anchored 0-10 scale) and its optional ``calibration`` (isotonic map of the weights
    file): one definition for the torch/ONNX assessor and the torch-free cached-ONNX one."""

    calibration: Any = None

    def _predict(self, images: Sequence[ImageInput], clamp: bool) -> list[tuple[float, float]]:
        raise NotImplementedError

    def _calibrated(self, raw: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if self.calibration is None or not raw:
            return raw
        import numpy as np

        s, sd = np.array([r[0] for r in raw]), np.array([r[1] for r in raw])
        mapped = self.calibration.apply(s), self.calibration.apply_std(s, sd)
        return [(float(a), float(b)) for a, b in zip(*mapped, strict=True)]

    def raw_score_with_std(self, images: Sequence[ImageInput]) -> list[tuple[float, float]]:
        """Uncalibrated ``(score, std)`` on the 0-10 scale (clamped); batched == single."""
        return self._predict(images, clamp=True)

    def score_with_std(self, images: Sequence[ImageInput]) -> list[tuple[float, float]]:
        """``(score, std)`` per image, in the calibrated scale when the model has one."""
        return self._calibrated(self.raw_score_with_std(images))

    def score_details(self, images: Sequence[ImageInput]) -> list[dict[str, float]]:
        """``{"score", "std", "raw_score"}`` per image in one forward pass.

        ``score`` and ``std`` are those of :meth:`score_with_std` (0-10, calibrated when the
        model has a calibration); ``raw_score`` is the network's anchored score before the
        calibration and the clamp to [0, 10] (it can be below 0 or above 10).
        """
        unclamped = self._predict(images, clamp=False)
        clamped = [(min(10.0, max(0.0, s)), sd) for s, sd in unclamped]
        return [
            {"score": s, "std": sd, "raw_score": raw}
            for (s, sd), (raw, _) in zip(self._calibrated(clamped), unclamped, strict=True)
        ]

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        """Scores on 0-10 (calibrated when the model has a calibration)."""
        return [s for s, _ in self.score_with_std(images)]


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
