"""Colour edit ops: saturation, vibrance, temperature (white balance), tint and hue rotation.

Saturation-type ops scale the chroma of each pixel about its Rec.709 luma (so luma is kept where
nothing clips); white-balance ops multiply linear light by per-channel gains whose luminance is
normalised to 1; hue rotation turns the (Cb, Cr) chroma plane about the grey axis. Every op is a
vectorised per-pixel transform, differentiable w.r.t. the image and the strength.
"""

from __future__ import annotations

import math

import torch

from redaes.edits.base import EditOp, OpInfo, per_sample, register_op
from redaes.edits.tone import _REC709, luma, physical_amount, scale_linear_light

# CIE XYZ (D65) -> linear sRGB.
_XYZ_TO_RGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)
_REFERENCE_KELVIN = 6500.0


def _apply_linear_gains(x: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """Multiply linear light by gains ``(N, 3)`` normalised to unit Rec.709 luminance."""
    w = gains.new_tensor(_REC709)
    gains = gains / (gains * w).sum(dim=1, keepdim=True)
    return scale_linear_light(x, gains[:, :, None, None])


def planckian_rgb(kelvin: torch.Tensor) -> torch.Tensor:
    """Linear sRGB (``Y = 1``) of a black body at ``kelvin`` (N,), Kim et al. (2002) cubic fit.

    Valid (and clamped to) 1667-25000 K; differentiable w.r.t. the temperature.
    """
    t = kelvin.clamp(1667.0, 25000.0)
    i1, i2, i3 = 1e3 / t, (1e3 / t) ** 2, (1e3 / t) ** 3
    xc = torch.where(
        t <= 4000.0,
        -0.2661239 * i3 - 0.2343589 * i2 + 0.8776956 * i1 + 0.179910,
        -3.0258469 * i3 + 2.1070379 * i2 + 0.2226347 * i1 + 0.240390,
    )
    x2, x3 = xc**2, xc**3
    yc = torch.where(
        t <= 2222.0,
        -1.1063814 * x3 - 1.34811020 * x2 + 2.18555832 * xc - 0.20219683,
        torch.where(
            t <= 4000.0,
            -0.9549476 * x3 - 1.37418593 * x2 + 2.09137015 * xc - 0.16748867,
            3.0817580 * x3 - 5.87338670 * x2 + 3.75112997 * xc - 0.37001483,
        ),
    )
    xyz = torch.stack([xc / yc, torch.ones_like(xc), (1.0 - xc - yc) / yc], dim=-1)
    return xyz @ xyz.new_tensor(_XYZ_TO_RGB).T


def _chroma_scale(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Scale each pixel's distance from its luma by ``factor`` (broadcast to (N, 1, H, W))."""
    y = luma(x)
    return torch.addcmul(y, x - y, factor)


def apply_colour_matrix(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Apply one 3x3 matrix per image (``(N, 3, 3)``) to every pixel of ``x`` (N, 3, H, W)."""
    return torch.einsum("nij,njhw->nihw", matrix, x)


@register_op
class Saturation(EditOp):
    """Global saturation: chroma about the pixel's luma scaled by ``1 + amount / 100``.

    ``+1`` = +100 % (chroma doubled), ``-1`` = -100 % (greyscale).
    """

    info = OpInfo(
        name="saturation",
        family="colour",
        unit="%",
        description="saturation: chroma about luma scaled by 1 + %/100 (-1 = greyscale)",
        identity=0.0,
        at_minus_one=-100.0,
        at_plus_one=100.0,
        template="{direction} the saturation by {abs_amount:.0f} {unit}",
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        f = (1.0 + physical_amount(self.info, s) / 100.0)[:, None, None]
        to_grey = x.new_tensor(_REC709).expand(3, 3)  # every row: luma weights
        eye = torch.eye(3, dtype=x.dtype, device=x.device)
        return apply_colour_matrix(x, f * eye + (1.0 - f) * to_grey)


@register_op
class Vibrance(EditOp):
    """Saturation weighted toward muted colours: factor ``1 + (amount / 100) (1 - S)``.

    ``S`` is the pixel's HSV saturation, so grey and muted pixels get the full amount and fully
    saturated ones are left alone. ``+1`` = +100 % on neutral pixels, ``-1`` = -100 % (muted
    colours go grey, vivid ones keep part of their colour).
    """

    info = OpInfo(
        name="vibrance",
        family="colour",
        unit="%",
        description="vibrance: saturation change weighted by (1 - HSV saturation), +-100 %",
        identity=0.0,
        at_minus_one=-100.0,
        at_plus_one=100.0,
        template="{direction} the vibrance by {abs_amount:.0f} {unit}",
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        mx = x.amax(dim=1, keepdim=True)
        sat = (mx - x.amin(dim=1, keepdim=True)) / mx.clamp_min(1e-6)
        amount = per_sample(physical_amount(self.info, s)) / 100.0
        return _chroma_scale(x, 1.0 + amount * (1.0 - sat))


@register_op
class Temperature(EditOp):
    """White balance along the Planckian locus, in mired (micro reciprocal degrees).

    A shift of ``m`` mired recolours the image as if lit by a black body at
    ``1e6 / (1e6 / 6500 + m)`` kelvin instead of 6500 K (von Kries gains in linear light,
    luminance kept). As with photographic conversion filters, ``+`` is warmer (an 85B filter is
    about +130 mired): ``+1`` = +100 mired (about 3900 K), ``-1`` = -100 mired (about 18600 K).
    """

    info = OpInfo(
        name="temperature",
        family="colour",
        unit="mired",
        description="white balance on the Planckian locus (+1 = +100 mired warmer, -1 cooler)",
        identity=0.0,
        at_minus_one=-100.0,
        at_plus_one=100.0,
        template="{direction} the white balance by {abs_amount:.0f} {unit}",
        verbs=("warmed", "cooled"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        mired = physical_amount(self.info, s)
        ref = planckian_rgb(x.new_full((1,), _REFERENCE_KELVIN))
        kelvin = 1e6 / (1e6 / _REFERENCE_KELVIN + mired)
        return _apply_linear_gains(x, planckian_rgb(kelvin) / ref)


@register_op
class Tint(EditOp):
    """Green-magenta balance as a colour-compensating (CC) filter in linear light.

    ``+`` is magenta: a CCnnM filter (density ``nn / 100``) passes ``10 ** -(nn / 100)`` of the
    green; ``-`` is green: a CCnnG filter attenuates red and blue the same way. Luminance is
    renormalised. ``+1`` = CC20M, ``-1`` = CC20G.
    """

    info = OpInfo(
        name="tint",
        family="colour",
        unit="CC",
        description="tint as a CC filter in linear light (+1 = CC20 magenta, -1 = CC20 green)",
        identity=0.0,
        at_minus_one=-20.0,
        at_plus_one=20.0,
        template="shifted the tint toward {direction} by {abs_amount:.0f} {unit}",
        verbs=("magenta", "green"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        density = physical_amount(self.info, s) / 100.0
        red_blue = torch.pow(10.0, -torch.relu(-density))
        green = torch.pow(10.0, -torch.relu(density))
        return _apply_linear_gains(x, torch.stack([red_blue, green, red_blue], dim=1))


@register_op
class Hue(EditOp):
    """Hue rotation in degrees: the Rec.709 (Cb, Cr) chroma plane turns about the grey axis.

    Luma and chroma magnitude are kept (up to clipping); ``+`` turns red toward yellow and green
    (increasing HSV hue), ``+1`` = +60 degrees, ``-1`` = -60 degrees.
    """

    info = OpInfo(
        name="hue",
        family="colour",
        unit="degrees",
        description="hue rotation about the grey axis in YCbCr (+1 = +60 degrees, red->yellow)",
        identity=0.0,
        at_minus_one=-60.0,
        at_plus_one=60.0,
        template="rotated the hue by {amount:+.0f} {unit}",
        verbs=("rotated", "rotated"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        theta = physical_amount(self.info, s) * (math.pi / 180.0)
        kr, kg, kb = _REC709
        to_ycc = x.new_tensor(
            [
                [kr, kg, kb],
                [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
                [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
            ]
        )
        cos, sin = torch.cos(theta), torch.sin(theta)
        one, zero = torch.ones_like(cos), torch.zeros_like(cos)
        rot = torch.stack(
            [
                torch.stack([one, zero, zero], dim=-1),
                torch.stack([zero, cos, -sin], dim=-1),
                torch.stack([zero, sin, cos], dim=-1),
            ],
            dim=-2,
        )
        return apply_colour_matrix(x, torch.linalg.inv(to_ycc) @ rot @ to_ycc)
