"""Artefact edit ops: Gaussian noise, shot (Poisson) noise, JPEG compression, down/up-scaling.

All four are one-directional (``signed=False``): strength 0 is the clean input, 1 the strongest
artefact. A denoising counterpart was left out on purpose: OpenCV's non-local means costs about
0.5 s per 512 px image, far too slow for the edit engine.

The noise ops are differentiable (``out = x + sigma(x, s) * n`` with ``n`` drawn from the image's
own seed); JPEG and resampling go through OpenCV one image at a time and fade in from the input
near strength 0 (mixed with it), so every op is continuous at 0.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from redaes.edits.base import EditOp, OpInfo, register_op, seeded_generator
from redaes.errors import EditError


def _noise(x: torch.Tensor, seeds: list[int]) -> torch.Tensor:
    """Standard normal noise shaped like ``x``; image ``i`` uses only ``seeds[i]``."""
    noise = [
        torch.randn(tuple(x.shape[1:]), generator=seeded_generator(seed), dtype=torch.float32)
        for seed in seeds
    ]
    return torch.stack(noise).to(device=x.device, dtype=x.dtype)


def _to_uint8(img: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float tensor -> ``H x W x 3`` RGB ``uint8`` array (rounded like PIL saving)."""
    arr = (img.detach().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return np.ascontiguousarray(arr.permute(1, 2, 0).cpu().numpy())


def _from_uint8(arr: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(arr).permute(2, 0, 1).to(device=like.device, dtype=like.dtype) / 255.0


@register_op
class GaussianNoise(EditOp):
    """Additive white Gaussian noise, independent per pixel and channel, sigma up to 25/255."""

    info = OpInfo(
        name="gaussian_noise",
        family="artefact",
        unit="/255 sigma",
        description="additive Gaussian sensor noise, sigma up to 25/255 (8-bit levels)",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=25.0,
        template="added Gaussian noise ({abs_amount:.1f}{unit})",
        verbs=("added", "added"),
        differentiable=True,
        stochastic=True,
        signed=False,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        sigma = (s * self.info.at_plus_one / 255.0).view(-1, 1, 1, 1)
        return x + sigma * _noise(x, seeds)


@register_op
class PoissonNoise(EditOp):
    """Photon shot noise: variance ``x / photons`` at level ``x`` (Gaussian approximation).

    The physical amount is the noise sigma at full level (``x = 1``) in 8-bit steps; the photon
    count per unit level is ``photons = (255 / amount) ** 2`` (about 64 photons at ``+1``,
    sigma 32/255 at white and 22.6/255 at mid-grey). Noise is applied to the encoded sRGB values;
    the normal approximation of the Poisson law keeps the op differentiable.
    """

    info = OpInfo(
        name="poisson_noise",
        family="artefact",
        unit="/255 sigma at white",
        description="photon shot noise, signal-dependent; +1 = sigma 32/255 at white (~64 photons)",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=32.0,
        template="added photon shot noise ({abs_amount:.1f}{unit})",
        verbs=("added", "added"),
        differentiable=True,
        stochastic=True,
        signed=False,
    )

    def photons(self, strength: float) -> float:
        """Photons per unit level at ``strength`` (``inf`` at 0)."""
        amount = self.physical(strength)
        return math.inf if amount <= 0 else (255.0 / amount) ** 2

    def describe(self, strength: float) -> str:
        text = super().describe(strength)
        n = self.photons(strength)
        return text if math.isinf(n) else f"{text}, about {n:.0f} photons per unit level"

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        sigma_white = (s * self.info.at_plus_one / 255.0).view(-1, 1, 1, 1)
        return x + sigma_white * torch.sqrt(x.clamp_min(1e-6)) * _noise(x, seeds)


@register_op
class Jpeg(EditOp):
    """JPEG compression (OpenCV/libjpeg, 4:2:0 chroma): quality 100 at ``0+`` down to 5 at ``+1``.

    Continuous at 0: even quality 100 changes pixels (chroma subsampling, rounding), so below
    ``s = 0.1`` (quality ~90) the decoded JPEG is mixed with the input by the weight ``10 s``
    (``out = x + 10 s (jpeg(x) - x)``); from ``s = 0.1`` on the output is the decoded JPEG.
    Strength exactly 0 returns the input unchanged.
    """

    info = OpInfo(
        name="jpeg",
        family="artefact",
        unit="JPEG quality",
        description="JPEG compression, quality 100 (s>0) down to 5 (s=1); faded in below s=0.1",
        identity=100.0,
        at_minus_one=100.0,
        at_plus_one=5.0,
        template="compressed the image as JPEG at quality {value:.0f}",
        verbs=("compressed", "compressed"),
        signed=False,
    )

    fade_until = 0.1

    def quality(self, strength: float) -> int:
        """The integer JPEG quality used at ``strength``."""
        return round(self.physical(strength))

    def weight(self, strength: float) -> float:
        """Mixing weight of the decoded JPEG at ``strength`` (``10 s`` below 0.1, then 1)."""
        return min(1.0, max(0.0, float(strength)) / self.fade_until)

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        out = []
        for i in range(x.shape[0]):
            strength = float(s[i].detach())
            if strength == 0.0:
                out.append(x[i])
                continue
            bgr = cv2.cvtColor(_to_uint8(x[i]), cv2.COLOR_RGB2BGR)
            ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality(strength)])
            if not ok:  # pragma: no cover - libjpeg does not fail on valid uint8 images
                raise EditError(f"jpeg: OpenCV could not encode a {bgr.shape} image")
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            if decoded is None:  # pragma: no cover - we just encoded it
                raise EditError("jpeg: OpenCV could not decode its own JPEG")
            rgb = _from_uint8(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), x)
            w = self.weight(strength)
            out.append(rgb if w >= 1.0 else x[i] + w * (rgb - x[i]))
        return torch.stack(out)


@register_op
class Downscale(EditOp):
    """Resolution loss: shrink by a factor (area averaging), then enlarge back (bilinear).

    The factor ``f`` goes from 1 (identity) to 8 at ``+1``; the small size is rounded to whole
    pixels (at least 1 px). Continuous at 0: resampling by any factor near 1 already softens
    the image, so below factor 2 (``s < 1/7``) the resampled image is mixed with the input by
    the weight ``f - 1`` (``out = x + (f - 1) (resampled - x)``); from factor 2 on the output is
    the resampled image.
    """

    info = OpInfo(
        name="downscale",
        family="artefact",
        unit="x downscale factor",
        description="down- then up-scaling (lost resolution), factor 1 to 8; faded in below 2",
        identity=1.0,
        at_minus_one=1.0,
        at_plus_one=8.0,
        template="reduced the resolution by a factor of {value:.2f} and scaled it back up",
        verbs=("reduced", "reduced"),
        signed=False,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])
        out = []
        for i in range(x.shape[0]):
            factor = self.physical(float(s[i].detach()))
            small_w, small_h = max(1, round(w / factor)), max(1, round(h / factor))
            if (small_w, small_h) == (w, h):
                out.append(x[i])
                continue
            arr = x[i].detach().permute(1, 2, 0).contiguous().cpu().numpy()
            small = cv2.resize(arr, (small_w, small_h), interpolation=cv2.INTER_AREA)
            big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            if big.ndim == 2:  # pragma: no cover - OpenCV keeps 3 channels
                big = big[..., None]
            resampled = torch.from_numpy(big).permute(2, 0, 1).to(x.device, x.dtype)
            weight = min(1.0, factor - 1.0)
            out.append(resampled if weight >= 1.0 else x[i] + weight * (resampled - x[i]))
        return torch.stack(out)
