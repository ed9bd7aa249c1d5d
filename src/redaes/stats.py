"""Measurable image statistics shared by the prior judge, the reasoning text and the tests.

All statistics are computed on an RGB image in ``[0, 1]`` (PIL image or ``(3, H, W)`` tensor) after
downscaling to at most ``max_side`` pixels on the long side, so they are cheap and comparable
between a source and its edit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch

from redaes.imageio import ImageInput, as_pil


@dataclass(frozen=True)
class ImageStats:
    """Photographic statistics of one image.

    Attributes:
        luminance: mean Rec.709 luma of the sRGB values, 0-1.
        clip_dark: fraction of pixels with luma <= 2/255 (crushed shadows).
        clip_bright: fraction of pixels with any channel >= 253/255 (blown highlights).
        contrast: RMS contrast (standard deviation of luma).
        saturation: mean HSV saturation, 0-1.
        colourfulness: Hasler-Suesstrunk colourfulness (0 grey ... ~1.5 very colourful).
        warmth: mean(R - B), -1 (cool/blue) ... +1 (warm/orange).
        tint: mean(G - (R + B) / 2), positive = green cast, negative = magenta cast.
        sharpness: variance of the Laplacian of luma (on the 0-255 scale).
        noise: robust noise sigma estimate (Immerkaer), on the 0-255 scale.
        width: pixel width of the original image.
        height: pixel height of the original image.
    """

    luminance: float
    clip_dark: float
    clip_bright: float
    contrast: float
    saturation: float
    colourfulness: float
    warmth: float
    tint: float
    sharpness: float
    noise: float
    width: int
    height: int

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def _as_array(image: ImageInput | torch.Tensor, max_side: int) -> tuple[np.ndarray, int, int]:
    if isinstance(image, torch.Tensor):
        t = image.detach().float().clamp(0, 1)
        if t.ndim == 4:
            t = t[0]
        arr: np.ndarray = (t.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    else:
        arr = np.asarray(as_pil(image), dtype=np.uint8)
    h, w = arr.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:  # area averaging: fast and alias-free for statistics
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    return arr.astype(np.float32) / np.float32(255.0), w, h


def measure(image: ImageInput | torch.Tensor, max_side: int = 512) -> ImageStats:
    """Measure :class:`ImageStats` of ``image``."""
    rgb, w, h = _as_array(image, max_side)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mx, mn = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    sat = np.where(mx > 1e-6, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    luma255 = (luma * 255.0).astype(np.float32, copy=False)
    lap = cv2.Laplacian(luma255, cv2.CV_32F, ksize=3)
    hh, ww = luma.shape
    conv = cv2.filter2D(luma255, cv2.CV_32F, _IMMERKAER.astype(np.float32))
    noise = float(
        np.sqrt(np.pi / 2.0)
        / (6.0 * max(hh - 2, 1) * max(ww - 2, 1))
        * np.abs(conv[1:-1, 1:-1]).sum()
    )
    return ImageStats(
        luminance=float(luma.mean()),
        clip_dark=float((luma <= 2 / 255).mean()),
        clip_bright=float((mx >= 253 / 255).mean()),
        contrast=float(luma.std()),
        saturation=float(sat.mean()),
        colourfulness=colourfulness,
        warmth=float((r - b).mean()),
        tint=float((g - 0.5 * (r + b)).mean()),
        sharpness=float(lap.var()),
        noise=noise,
        width=w,
        height=h,
    )
