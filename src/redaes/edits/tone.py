"""Tone edit ops: exposure, contrast, highlights, shadows, gamma, black point."""

from __future__ import annotations

import torch
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb

from redaes.edits.base import EditOp, OpInfo, per_sample, register_op


@register_op
class Exposure(EditOp):
    """Exposure in photographic stops, applied in linear light: ``+1`` = +2 EV."""

    info = OpInfo(
        name="exposure",
        family="tone",
        unit="EV",
        description="exposure compensation in linear light (+1 = +2 EV, -1 = -2 EV)",
        identity=0.0,
        at_minus_one=-2.0,
        at_plus_one=2.0,
        template="{direction} the exposure by {abs_amount:.2f} {unit}",
        verbs=("brightened", "darkened"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        ev = per_sample(s) * self.info.at_plus_one
        linear = rgb_to_linear_rgb(x) * torch.pow(2.0, ev)
        return linear_rgb_to_rgb(linear.clamp(0.0, 1.0))
