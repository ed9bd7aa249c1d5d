"""Style edit ops: vignette, film grain, haze / dehaze and clarity.

These ops use spatial context (a radial falloff, blurred noise, a dark-channel haze estimate, a
large-radius blur) but stay batched: every image is processed by the same tensor ops, and the only
per-image Python work is drawing film-grain noise from each image's own seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d, get_gaussian_kernel2d, guided_blur

from redaes.edits.base import EditOp, OpInfo, per_sample, register_op, seeded_generator
from redaes.edits.tone import luma, physical_amount, scale_linear_light

_HAZE_AIRLIGHT = (0.86, 0.89, 0.93)  # a bright, slightly cool veil colour (sRGB)
_GRAIN_SIGMA_PX = 0.6  # grain size: white noise blurred by this Gaussian sigma


def _odd(v: float) -> int:
    k = max(3, round(v))
    return k if k % 2 else k + 1


def _radius2(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """Squared elliptical radius ``(1, 1, H, W)``: 0 at the centre, 1 in the corners."""
    v = torch.linspace(-1.0, 1.0, h, dtype=like.dtype, device=like.device)
    u = torch.linspace(-1.0, 1.0, w, dtype=like.dtype, device=like.device)
    return ((v[:, None] ** 2 + u[None, :] ** 2) / 2.0)[None, None]


@register_op
class Vignette(EditOp):
    """Radial exposure falloff in linear light; the unit is stops of darkening in the corners.

    The gain is ``2 ** (-stops * r**2)`` with ``r`` the elliptical radius (0 at the centre, 1 in
    the corners; the frame edge midpoints get half the stops). ``+1`` darkens the corners by
    1.5 stops, ``-1`` brightens them by 1.5 stops.
    """

    info = OpInfo(
        name="vignette",
        family="style",
        unit="stops",
        description="radial vignette in linear light (+1 = corners 1.5 stops darker, - lighter)",
        identity=0.0,
        at_minus_one=-1.5,
        at_plus_one=1.5,
        template="{direction} the corners by {abs_amount:.2f} {unit} (vignette)",
        verbs=("darkened", "brightened"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        stops = per_sample(physical_amount(self.info, s))
        return scale_linear_light(x, torch.exp2(-stops * _radius2(x.shape[2], x.shape[3], x)))


@register_op
class FilmGrain(EditOp):
    """Monochrome (luminance) film grain; the unit is the grain RMS at mid-grey, in /255 levels.

    Gaussian white noise from the image's own seed is blurred (sigma 0.6 px, fine grain) and
    renormalised to unit variance, then added equally to R, G, B with amplitude weighted by
    ``0.3 + 0.7 * 4 L (1 - L)`` (strongest in the midtones, lighter in deep shadows and whites).
    ``+1`` = 16/255 RMS at mid-grey. One-directional.
    """

    info = OpInfo(
        name="film_grain",
        family="style",
        unit="/255 RMS",
        description="luminance film grain (+1 = 16/255 RMS at mid-grey, fine 0.6 px grain)",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=16.0,
        template="added film grain of {abs_amount:.1f}{unit}",
        verbs=("added", "added"),
        differentiable=True,
        stochastic=True,
        signed=False,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        noise = torch.stack(
            [
                torch.randn(1, h, w, generator=seeded_generator(seed), dtype=x.dtype)
                for seed in seeds
            ]
        ).to(x.device)
        k = _odd(6 * _GRAIN_SIGMA_PX)
        kernel = get_gaussian_kernel2d((k, k), (_GRAIN_SIGMA_PX, _GRAIN_SIGMA_PX))
        noise = gaussian_blur2d(
            noise, (k, k), (_GRAIN_SIGMA_PX, _GRAIN_SIGMA_PX), border_type="reflect"
        )
        noise = noise / kernel.square().sum().sqrt().to(noise)
        y = luma(x)
        weight = 0.3 + 0.7 * 4.0 * y * (1.0 - y)
        sigma = per_sample(physical_amount(self.info, s)) / 255.0
        return x + sigma * weight * noise


@register_op
class Haze(EditOp):
    """Add an atmospheric veil (``+``) or remove haze with the dark channel prior (``-``); unit %.

    ``+a``: ``I = J (1 - a/100) + A (a/100)`` with a fixed bright, slightly cool airlight ``A``
    (uniform veil, lower contrast, raised blacks); ``+1`` = 50 % veil.
    ``-a``: He et al.'s dark channel prior dehaze with ``omega = a/100`` (``-1`` = 90 %): airlight
    from the brightest 0.1 % of the dark channel, transmission ``1 - omega * dark(I / A)`` from a
    min-filter (patch ~1/32 of the short side) on a block-averaged copy at up to 1/4
    resolution, refined by a fast guided filter on full-resolution luma, then
    ``J = (I - A) / max(t, 0.1) + A``.
    """

    info = OpInfo(
        name="haze",
        family="style",
        unit="%",
        description="+ adds a uniform haze veil (+1 = 50 %), - dark-channel dehaze (-1 = 90 %)",
        identity=0.0,
        at_minus_one=-90.0,
        at_plus_one=50.0,
        template="{direction} haze ({abs_amount:.0f} {unit})",
        verbs=("added", "removed"),
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        amount = per_sample(physical_amount(self.info, s)) / 100.0
        veil = x.new_tensor(_HAZE_AIRLIGHT).view(1, 3, 1, 1)
        if not bool((s < 0).any()):
            return torch.lerp(x, veil, amount)
        dehazed = self._dehaze(x, (-amount).clamp_min(0.0))
        if bool((s < 0).all()):
            return dehazed
        return torch.where(amount < 0, dehazed, torch.lerp(x, veil, amount.clamp_min(0.0)))

    @staticmethod
    def _dehaze(x: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        f = max(1, min(4, min(h, w) // 64))  # the haze estimate is computed at 1/f resolution
        patch = _odd(min(h, w) / 32 / f)

        def dark_channel(img: torch.Tensor) -> torch.Tensor:
            m = F.pad(img.amin(dim=1, keepdim=True), (patch // 2,) * 4, mode="replicate")
            return -F.max_pool2d(-m, patch, stride=1)

        small = F.avg_pool2d(x, f, ceil_mode=True) if f > 1 else x
        dark = dark_channel(small).flatten(1)
        top = max(1, dark.shape[1] // 1000)
        idx = dark.topk(top, dim=1).indices
        airlight = small.flatten(2).gather(2, idx[:, None, :].expand(n, 3, top)).mean(dim=2)
        airlight = airlight.clamp_min(0.05)[:, :, None, None]
        raw_t = 1.0 - omega * dark_channel(small / airlight)
        if f > 1:
            raw_t = F.interpolate(raw_t, size=(h, w), mode="nearest")
        k = _odd(4 * patch * f)
        t = guided_blur(luma(x), raw_t, k, 1e-3, subsample=f, separable=True).clamp(0.1, 1.0)
        return torch.addcmul(x, x - airlight, t.reciprocal() - 1.0)  # (x - A) / t + A


@register_op
class Clarity(EditOp):
    """Midtone local contrast: a large-radius unsharp mask on luma, weighted toward midtones.

    ``detail = L - blur(L)`` with a Gaussian of sigma ``long side / 50`` (computed at quarter
    resolution), added to R, G, B as ``(amount / 100) * 4 L (1 - L) * detail``. ``+1`` = +100 %
    (local contrast doubled in the midtones), ``-1`` = -100 % (midtone detail at that scale
    removed: a soft, glow-like look).
    """

    info = OpInfo(
        name="clarity",
        family="style",
        unit="%",
        description="midtone local contrast, large-radius unsharp mask (+1 = +100 %, - softens)",
        identity=0.0,
        at_minus_one=-100.0,
        at_plus_one=100.0,
        template="{direction} the clarity (local contrast) by {abs_amount:.0f} {unit}",
        differentiable=True,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        y = luma(x)
        detail = y - local_mean(y, max(x.shape[2], x.shape[3]) / 50.0)
        amount = per_sample(physical_amount(self.info, s)) / 100.0
        return x + amount * 4.0 * y * (1.0 - y) * detail


def local_mean(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(N, 1, H, W)`` by ``sigma`` px, computed at up to 4x lower resolution."""
    h, w = y.shape[2], y.shape[3]
    factor = max(1, min(4, int(sigma // 2), h // 8, w // 8))
    small = F.avg_pool2d(y, factor, ceil_mode=True) if factor > 1 else y
    sig = max(sigma / factor, 0.5)
    k = _odd(4 * sig)
    k = min(k, _odd(min(small.shape[2], small.shape[3]) - 2))
    blurred = gaussian_blur2d(small, (k, k), (sig, sig), border_type="reflect")
    if factor > 1:
        blurred = F.interpolate(blurred, size=(h, w), mode="bilinear", align_corners=False)
    return blurred
