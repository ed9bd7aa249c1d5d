"""The ``iqa`` judge: classical no-reference quality (BRISQUE or NIQE) as an aesthetic proxy.

``delta = mapped(edited) - mapped(source)`` where ``mapped`` is the assessor's documented 0-10
mapping (see :mod:`redaes.assessors.classical`). Quality models see artefacts (blur, noise, JPEG)
but not composition or colour taste, hence the modest default confidence.
"""

from __future__ import annotations

from redaes.errors import ConfigError
from redaes.judges.base import JUDGES
from redaes.judges.model import ModelJudge

METRICS = ("brisque", "niqe")


@JUDGES.register("iqa")
class IqaJudge(ModelJudge):
    """BRISQUE/NIQE score difference.

    Args:
        metric: ``"brisque"`` (default) or ``"niqe"``.
        max_side: downscale both images to this long side before scoring (``None``: native).
        confidence: reported confidence (default 0.4 for BRISQUE, 0.3 for NIQE).
    """

    def __init__(
        self, metric: str = "brisque", max_side: int | None = None, confidence: float | None = None
    ) -> None:
        if metric not in METRICS:
            raise ConfigError(
                f"iqa judge: metric must be one of {', '.join(METRICS)}, got {metric!r}"
            )
        default_conf = 0.4 if metric == "brisque" else 0.3
        super().__init__(
            metric,
            confidence=default_conf if confidence is None else confidence,
            max_side=max_side,
        )
        self.name = f"iqa:{metric}"
