"""Tone edit ops: exposure, contrast, highlights, shadows, gamma, black point.

All tone ops are per-pixel curves (no spatial context), fully vectorised over the batch and
differentiable w.r.t. the image and the strength. The small helpers at the top
(:func:`physical_amount`, :func:`luma`, :func:`smoothstep`) are shared with the colour and style
families.
"""

from __future__ import annotations

import math

import torch

from redaes.edits.base import EditOp, OpInfo, per_sample, register_op

_REC709 = (0.2126, 0.7152, 0.0722)


def physical_amount(info: OpInfo, s: torch.Tensor) -> torch.Tensor:
    """Differentiable :meth:`EditOp.physical` for a strength tensor (linear on each side)."""
    plus = info.identity + s * (info.at_plus_one - info.identity)
    minus = info.identity - s * (info.at_minus_one - info.identity)
    return torch.where(s >= 0, plus, minus)


def luma(x: torch.Tensor) -> torch.Tensor:
    """Rec.709 luma of sRGB values, ``(N, 3, H, W)`` -> ``(N, 1, H, W)``."""
    return torch.nn.functional.conv2d(x, x.new_tensor(_REC709).view(1, 3, 1, 1))


def smoothstep(edge0: float, edge1: float, v: torch.Tensor) -> torch.Tensor:
    """Hermite smoothstep: 0 below ``edge0``, 1 above ``edge1``, smooth in between."""
    t = ((v - edge0) / (edge1 - edge0)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


_A = 0.055  # sRGB transfer-function offset
_T_SRGB = 0.04045  # sRGB value where the linear toe ends
_T_LINEAR = _T_SRGB / 12.92  # the same point in linear light
_LOG_SCALE_DEC = -2.4 * math.log(1 + _A)  # ((v + a) / (1 + a)) ** 2.4 = exp(2.4 log(v + a) + this)
_LOG_SCALE_ENC = math.log(1 + _A)


def srgb_to_linear(v: torch.Tensor) -> torch.Tensor:
    """The exact sRGB decoding curve, elementwise and differentiable.

    Written with ``exp``/``log`` and no branch (about twice as fast on CPU as ``torch.pow`` with
    ``torch.where``): the linear toe below 0.04045 is added as ``(v - max(v, 0.04045)) / 12.92``.
    """
    u = v.clamp_min(_T_SRGB)
    toe = v - u
    power = ((u + _A).log() * 2.4 + _LOG_SCALE_DEC).exp()
    return power.add(toe, alpha=1 / 12.92)


def linear_to_srgb(v: torch.Tensor) -> torch.Tensor:
    """The exact sRGB encoding curve (inverse of :func:`srgb_to_linear`), same technique."""
    toe = v.clamp_max(_T_LINEAR) - _T_LINEAR
    power = (v.clamp_min(_T_LINEAR).log() * (1 / 2.4) + _LOG_SCALE_ENC).exp()
    return power.add(toe, alpha=12.92) - _A


def scale_linear_light(x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """Scale linear light: ``linear_to_srgb(min(gain * srgb_to_linear(x), 1))``.

    ``gain`` broadcasts against ``x``: ``(N, 1, 1, 1)`` exposure, ``(N, 3, 1, 1)`` white balance
    gains or a ``(N, 1, H, W)`` map. Differentiable w.r.t. ``x`` and ``gain``. Without autograd
    it runs the same arithmetic in place on two buffers (on CPU, allocating fresh image-sized
    tensors costs more than the arithmetic), with bit-identical results.
    """
    if torch.is_grad_enabled() and (x.requires_grad or gain.requires_grad):
        return linear_to_srgb((srgb_to_linear(x) * gain).clamp_max(1.0))
    buf = x.clamp_min(_T_SRGB)
    toe = torch.sub(x, buf)
    buf.add_(_A).log_().mul_(2.4).add_(_LOG_SCALE_DEC).exp_().add_(toe, alpha=1 / 12.92)
    buf.mul_(gain).clamp_max_(1.0)
    toe.copy_(buf).clamp_max_(_T_LINEAR).sub_(_T_LINEAR)
    buf.clamp_min_(_T_LINEAR).log_().mul_(1 / 2.4).add_(_LOG_SCALE_ENC).exp_()
    return buf.add_(toe, alpha=12.92).sub_(_A)


def _masked_exposure(x: torch.Tensor, ev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Scale linear light by ``2 ** (ev * mask)`` (``ev`` (N,1,1,1), ``mask`` (N,1,H,W))."""
    return scale_linear_light(x, torch.exp2(ev * mask))


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
        return scale_linear_light(x, torch.exp2(per_sample(s) * self.info.at_plus_one))


@register_op
class Contrast(EditOp):
    """Linear contrast about mid-grey in sRGB: ``y = 0.5 + (1 + c / 100) (x - 0.5)``.

    ``c`` is the contrast change in percent: ``+1`` = +50 % (slope 1.5), ``-1`` = -50 % (slope
    0.5, a flat, faded look). Applied to each channel, values leaving ``[0, 1]`` clip.
    """

    info = OpInfo(
        name="contrast",
        family="tone",
        unit="%",
        description="linear contrast about mid-grey (+1 = +50 % slope, -1 = -50 %)",
        identity=0.0,
        at_minus_one=-50.0,
        at_plus_one=50.0,
        template="{direction} the contrast by {abs_amount:.0f} {unit}",
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        slope = 1.0 + per_sample(physical_amount(self.info, s)) / 100.0
        return torch.addcmul(0.5 * (1.0 - slope), x, slope)


@register_op
class Highlights(EditOp):
    """Brighten or recover the highlights: exposure in linear light weighted by a luma mask.

    The mask is ``smoothstep(0.5, 1.0, luma)`` of the input, so midtones and shadows are untouched
    and the full amount applies to (near-)white pixels: ``+1`` = +1 EV on the brightest tones,
    ``-1`` = -1 EV (highlight recovery; clipped whites turn light grey).
    """

    info = OpInfo(
        name="highlights",
        family="tone",
        unit="EV",
        description="exposure of the highlights only (luma mask above mid-grey; +1 = +1 EV)",
        identity=0.0,
        at_minus_one=-1.0,
        at_plus_one=1.0,
        template="{direction} the highlights by {abs_amount:.2f} {unit}",
        verbs=("brightened", "recovered"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        mask = smoothstep(0.5, 1.0, luma(x))
        return _masked_exposure(x, per_sample(physical_amount(self.info, s)), mask)


@register_op
class Shadows(EditOp):
    """Lift or crush the shadows: exposure in linear light weighted by a dark-tone luma mask.

    The mask is ``1 - smoothstep(0.0, 0.5, luma)`` of the input: the full amount applies to the
    darkest tones, none above mid-grey. ``+1`` = +1.5 EV in the deep shadows (lifted),
    ``-1`` = -1.5 EV (crushed).
    """

    info = OpInfo(
        name="shadows",
        family="tone",
        unit="EV",
        description="exposure of the shadows only (luma mask below mid-grey; +1 = +1.5 EV)",
        identity=0.0,
        at_minus_one=-1.5,
        at_plus_one=1.5,
        template="{direction} the shadows by {abs_amount:.2f} {unit}",
        verbs=("lifted", "deepened"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        mask = 1.0 - smoothstep(0.0, 0.5, luma(x))
        return _masked_exposure(x, per_sample(physical_amount(self.info, s)), mask)


@register_op
class Gamma(EditOp):
    """Power-law tone curve ``y = x ** g`` on sRGB values (endpoints 0 and 1 stay fixed).

    The unit is the exponent ``g``: ``+1`` = ``g 0.5`` (brighter midtones), ``0`` = ``g 1``,
    ``-1`` = ``g 2.0`` (darker midtones); linear in ``g`` on each side.
    """

    info = OpInfo(
        name="gamma",
        family="tone",
        unit="gamma exponent",
        description="midtone power curve y = x^g (+1 = g 0.5 brighter, -1 = g 2.0 darker)",
        identity=1.0,
        at_minus_one=2.0,
        at_plus_one=0.5,
        template="{direction} the midtones with a gamma curve (exponent {value:.2f})",
        verbs=("brightened", "darkened"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        g = per_sample(physical_amount(self.info, s))
        return torch.exp(torch.log(x.clamp_min(1e-6)) * g)


@register_op
class BlackPoint(EditOp):
    """Move the black level (a levels adjustment on sRGB values), unit: level out of 255.

    ``+`` raises the output black level to ``b`` (``y = b + (1 - b) x``: lifted, faded blacks),
    ``-`` sets the input black point to ``b`` (``y = (x - b) / (1 - b)``: levels below ``b``
    crush to black). ``+1`` = +32/255, ``-1`` = -32/255. White stays white.
    """

    info = OpInfo(
        name="black_point",
        family="tone",
        unit="/255",
        description="black level: + lifts output blacks to N/255, - crushes input below N/255",
        identity=0.0,
        at_minus_one=-32.0,
        at_plus_one=32.0,
        template="{direction} {abs_amount:.0f}{unit}",
        verbs=("set the black level to", "crushed to black the tones below"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        level = per_sample(physical_amount(self.info, s)) / 255.0
        slope = torch.where(level >= 0, 1.0 - level, 1.0 / (1.0 + level))
        offset = torch.where(level >= 0, level, level / (1.0 + level))
        return torch.addcmul(offset, x, slope)
