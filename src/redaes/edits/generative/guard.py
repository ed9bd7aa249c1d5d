"""The content-preservation guard: reject generative edits that changed the scene too much.

An instruction edit may repaint the whole photo (a new scene, a different subject), which makes
the pair meaningless as a *relative* judgement of the same photo. The guard compares the source
and the edited image by SSIM (:func:`skimage.metrics.structural_similarity`) on their luminance,
both downscaled to the same small grid (long side ``side`` px, 64 by default): at that size
colour grades, relighting and local removals keep the structure (high SSIM) while a replaced
scene does not. Pairs below ``min_ssim`` are dropped and counted (``dropped_guard`` in the build
summary and the dataset card).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from redaes.errors import ConfigError

_LUMA = (0.2126, 0.7152, 0.0722)


def _grid(h: int, w: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(h, w))
    return max(8, round(h * scale)), max(8, round(w * scale))


def _luma(x: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    img = x.detach().float().cpu()
    if img.ndim == 3:
        img = img.unsqueeze(0)
    img = F.interpolate(img, size=size, mode="bilinear", antialias=True, align_corners=False)
    weights = torch.tensor(_LUMA).view(1, 3, 1, 1)
    return (img * weights).sum(1)[0].clamp(0, 1).numpy().astype(np.float64)


def luminance_ssim(source: torch.Tensor, edited: torch.Tensor, side: int = 64) -> float:
    """SSIM of the luminance of ``source`` and ``edited`` (``(3, H, W)`` in ``[0, 1]``) on a grid
    of long side ``side`` taken from the source (the edited image is resized onto it)."""
    from skimage.metrics import structural_similarity

    h, w = int(source.shape[-2]), int(source.shape[-1])
    size = _grid(h, w, side)
    a, b = _luma(source, size), _luma(edited, size)
    win = min(7, *size)
    win -= 1 - win % 2  # odd
    return float(structural_similarity(a, b, data_range=1.0, win_size=win))


@dataclass(frozen=True)
class ContentGuard:
    """Accept an edit when ``luminance_ssim(source, edited, side) >= min_ssim``.

    ``min_ssim = -1`` accepts every edit (SSIM is in ``[-1, 1]``).
    """

    min_ssim: float = 0.35
    side: int = 64

    def __post_init__(self) -> None:
        if not -1.0 <= float(self.min_ssim) <= 1.0:
            raise ConfigError(f"guard_min_ssim must be in [-1, 1], got {self.min_ssim}")
        if int(self.side) < 8:
            raise ConfigError(f"guard_side must be >= 8 px, got {self.side}")

    def check(self, source: torch.Tensor, edited: torch.Tensor) -> tuple[bool, float]:
        """``(accepted, ssim)`` for one pair."""
        value = luminance_ssim(source, edited, self.side)
        return value >= float(self.min_ssim), value
