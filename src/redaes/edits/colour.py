"""Colour edit ops: saturation, vibrance, temperature (white balance), tint and hue rotation.

Saturation-type ops scale the chroma of each pixel about its Rec.709 luma (so luma is kept where
nothing clips); white-balance ops multiply linear light by per-channel gains whose luminance is
normalised to 1 (temperature moves the white point's correlated colour temperature by exactly the
requested mired); hue rotation turns the HSV hue by the requested degrees and keeps the Rec.709
luma. Every op is a vectorised per-pixel transform, differentiable w.r.t. the image and the
strength.
"""

from __future__ import annotations

import math

import kornia
import torch

from redaes.edits.base import EditOp, OpInfo, per_sample, register_op
from redaes.edits.tone import _REC709, luma, physical_amount, scale_linear_light

# CIE XYZ (D65) -> linear sRGB.
_XYZ_TO_RGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)


def _apply_linear_gains(x: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """Multiply linear light by gains ``(N, 3)`` normalised to unit Rec.709 luminance."""
    w = gains.new_tensor(_REC709)
    gains = gains / (gains * w).sum(dim=1, keepdim=True)
    return scale_linear_light(x, gains[:, :, None, None])


def planckian_xy(kelvin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CIE 1931 ``(x, y)`` of a black body at ``kelvin`` (N,), Kim et al. (2002) cubic fit.

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
    return xc, yc


def _xy_to_rgb(xc: torch.Tensor, yc: torch.Tensor) -> torch.Tensor:
    """Linear sRGB (``Y = 1``) of chromaticities ``(x, y)``, shape ``(N, 3)``."""
    xyz = torch.stack([xc / yc, torch.ones_like(xc), (1.0 - xc - yc) / yc], dim=-1)
    return xyz @ xyz.new_tensor(_XYZ_TO_RGB).T


def planckian_rgb(kelvin: torch.Tensor) -> torch.Tensor:
    """Linear sRGB (``Y = 1``) of a black body at ``kelvin`` (N,) (see :func:`planckian_xy`)."""
    return _xy_to_rgb(*planckian_xy(kelvin))


def _uv_of_xy(xc: torch.Tensor, yc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CIE 1960 ``(u, v)`` of CIE 1931 ``(x, y)``."""
    d = -2.0 * xc + 12.0 * yc + 3.0
    return 4.0 * xc / d, 6.0 * yc / d


def _xy_of_uv(u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = 2.0 * u - 8.0 * v + 4.0
    return 3.0 * u / d, 2.0 * v / d


def _locus_uv(mired: torch.Tensor) -> torch.Tensor:
    """``(N, 2)`` CIE 1960 uv of the Planckian locus at ``mired`` (1e6 / kelvin)."""
    return torch.stack(_uv_of_xy(*planckian_xy(1e6 / mired)), dim=-1)


def _locus_normal(mired: torch.Tensor) -> torch.Tensor:
    """Unit normal of the locus in uv at ``mired`` (the tangent turned by +90 degrees)."""
    tangent = _locus_uv(mired + 0.5) - _locus_uv(mired - 0.5)
    normal = torch.stack([-tangent[..., 1], tangent[..., 0]], dim=-1)
    return normal / normal.norm(dim=-1, keepdim=True)


def _white_point() -> tuple[float, float]:
    """Correlated colour temperature (mired) and signed Duv of the sRGB white (D65).

    The CCT is the nearest point of the locus in CIE 1960 uv (a coarse then fine search in mired,
    to 1e-4 mired: a 70,001-point grid cost 0.16 s of every start-up), Duv the
    signed distance along the locus normal there.
    """
    xyz = torch.linalg.inv(torch.tensor(_XYZ_TO_RGB, dtype=torch.float64)) @ torch.ones(
        3, dtype=torch.float64
    )
    white = torch.stack(_uv_of_xy(xyz[0] / xyz.sum(), xyz[1] / xyz.sum()))

    def nearest(grid: torch.Tensor) -> torch.Tensor:
        return grid[((_locus_uv(grid) - white) ** 2).sum(dim=-1).argmin()]

    mired = nearest(torch.linspace(120.0, 190.0, 701, dtype=torch.float64))  # 0.1 mired steps
    mired = nearest(mired + torch.linspace(-0.1, 0.1, 2001, dtype=torch.float64))  # then 1e-4
    m = mired.reshape(1)
    duv = ((white - _locus_uv(m)[0]) * _locus_normal(m)[0]).sum()
    return float(mired), float(duv)


WHITE_MIRED, WHITE_DUV = _white_point()
"""CCT of the sRGB/D65 white in mired (about 153.8, i.e. 6504 K) and its distance to the locus."""


def white_balance_gains(mired_shift: torch.Tensor) -> torch.Tensor:
    """Linear-light gains ``(N, 3)`` that move the white's CCT by ``mired_shift`` (N,) mired.

    The new white lies at ``WHITE_MIRED + shift`` on the Planckian locus, at the white's own
    distance from it (Duv), so a grey patch measures exactly the requested mired shift; the
    gains are relative to the unshifted white (exactly 1 at shift 0).
    """
    m = torch.cat([mired_shift.to(torch.float64).reshape(-1), mired_shift.new_zeros(1).double()])
    target = _locus_uv(WHITE_MIRED + m) + WHITE_DUV * _locus_normal(WHITE_MIRED + m)
    rgb = _xy_to_rgb(*_xy_of_uv(target[:, 0], target[:, 1]))
    return (rgb[:-1] / rgb[-1:]).to(mired_shift.dtype)


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

    A shift of ``m`` mired moves the white point's correlated colour temperature (CCT, nearest
    locus point in CIE 1960 uv) from D65's 153.8 mired (6504 K) to ``153.8 + m`` mired, keeping
    its distance to the locus (von Kries gains in linear light, luminance kept): a grey patch
    measures exactly ``m``. As with photographic conversion filters, ``+`` is warmer (an 85B
    filter is about +130 mired): ``+1`` = +100 mired (about 3940 K), ``-1`` = -100 mired (about
    18600 K).
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
        return _apply_linear_gains(x, white_balance_gains(physical_amount(self.info, s)))


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
    """Hue rotation in ordinary (HSV) hue degrees, keeping each pixel's Rec.709 luma.

    Each pixel's HSV hue turns by the amount (``+`` turns red toward yellow and green); the
    turned colour is then moved back to the pixel's original luma by mixing it with grey (which
    keeps its HSV hue), and its chroma is reduced only where it would leave the sRGB gamut.
    Greys stay grey. ``+1`` = +60 degrees, ``-1`` = -60 degrees.
    """

    info = OpInfo(
        name="hue",
        family="colour",
        unit="degrees",
        description="HSV hue rotation at constant luma (+1 = +60 degrees, red->yellow)",
        identity=0.0,
        at_minus_one=-60.0,
        at_plus_one=60.0,
        template="rotated the hue by {amount:+.0f} {unit}",
        verbs=("rotated", "rotated"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        theta = per_sample(physical_amount(self.info, s) * (math.pi / 180.0))
        hsv = kornia.color.rgb_to_hsv(x)
        hue = torch.remainder(hsv[:, :1] + theta, 2.0 * math.pi)
        turned = kornia.color.hsv_to_rgb(torch.cat([hue, hsv[:, 1:]], dim=1))
        y0 = luma(x).clamp(0.0, 1.0)
        chroma = turned - luma(turned)  # zero-luma offset from grey, same HSV hue as `turned`
        top, bottom = chroma.amax(dim=1, keepdim=True), chroma.amin(dim=1, keepdim=True)
        one = torch.ones_like(y0)
        fit_top = torch.where(top > 1e-6, (1.0 - y0) / top.clamp_min(1e-6), one)
        fit_bottom = torch.where(bottom < -1e-6, y0 / (-bottom).clamp_min(1e-6), one)
        k = torch.minimum(one, torch.minimum(fit_top, fit_bottom))
        return y0 + k * chroma
