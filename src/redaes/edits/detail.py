"""Detail edit ops: sharpen / soften, Gaussian blur, motion blur and defocus (lens) blur.

Blur sizes are given in pixels *at a 512-pixel long side* and scaled with the image, so the look
does not depend on the resolution (``gaussian_blur=1`` is a 6 px sigma on a 512 px image and a
22.5 px sigma on a 1920 px one).

Every op builds its kernel from the strength tensor with differentiable torch code, then filters:

* with OpenCV (``cv2.sepFilter2D`` / ``cv2.filter2D``, fast on CPU) when no gradient is needed;
* with kornia (``filter2d_separable`` / ``filter2d``) when the image or the strength requires
  gradients, so gradients flow to both.

Both paths use the same kernel and the same border (reflect-101), so they agree to float rounding.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
from kornia.filters import filter2d, filter2d_separable

from redaes.edits.base import EditOp, OpInfo, register_op, seeded_generator

REFERENCE_SIDE = 512.0
"""Long side (pixels) at which the documented blur sizes hold; they scale linearly with it."""


def resolution_scale(x: torch.Tensor) -> float:
    """Factor from the 512-px reference to the long side of ``x`` (``(..., H, W)``)."""
    return max(int(x.shape[-2]), int(x.shape[-1])) / REFERENCE_SIDE


def needs_grad(*tensors: torch.Tensor) -> bool:
    """True when autograd is on and any of ``tensors`` requires a gradient."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _max_half(x: torch.Tensor) -> int:
    """Largest kernel half-width a reflect-101 border supports for image ``x``."""
    return max(0, min(int(x.shape[-2]), int(x.shape[-1])) - 1)


def gaussian_kernel1d(sigma: torch.Tensor, half: int) -> torch.Tensor:
    """Normalised 1-D Gaussian of width ``2 * half + 1`` (differentiable in ``sigma``)."""
    t = torch.arange(-half, half + 1, dtype=sigma.dtype, device=sigma.device)
    k = torch.exp(-(t**2) / (2.0 * sigma.clamp_min(1e-6) ** 2))
    return k / k.sum()


def convolve(
    img: torch.Tensor, kernel: torch.Tensor, kernel_y: torch.Tensor | None = None
) -> torch.Tensor:
    """Correlate one image ``(3, H, W)`` with a 2-D kernel, or a separable pair of 1-D kernels.

    Uses OpenCV when nothing needs a gradient, kornia otherwise; the border is reflect-101.
    """
    if needs_grad(img, kernel) or (kernel_y is not None and kernel_y.requires_grad):
        x = img.unsqueeze(0)
        if kernel_y is None:
            return filter2d(x, kernel.unsqueeze(0), border_type="reflect")[0]
        return filter2d_separable(
            x, kernel.unsqueeze(0), kernel_y.unsqueeze(0), border_type="reflect"
        )[0]
    arr = img.detach().permute(1, 2, 0).contiguous().cpu().numpy()
    k = kernel.detach().cpu().numpy().astype(np.float32)
    if kernel_y is None:
        out = cv2.filter2D(arr, -1, k, borderType=cv2.BORDER_REFLECT_101)
    else:
        ky = kernel_y.detach().cpu().numpy().astype(np.float32)
        out = cv2.sepFilter2D(arr, -1, k, ky, borderType=cv2.BORDER_REFLECT_101)
    return torch.from_numpy(out).permute(2, 0, 1).to(device=img.device, dtype=img.dtype)


def gaussian_blur(img: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Gaussian blur of one image ``(3, H, W)`` with ``sigma`` pixels (a 0-d tensor)."""
    sig = float(sigma.detach())
    if sig <= 1e-3:
        return img
    half = min(math.ceil(3.0 * sig), _max_half(img))
    if half == 0:
        return img
    k = gaussian_kernel1d(sigma, half)
    return convolve(img, k, k)


def _filter_each(x: torch.Tensor, kernels: list[torch.Tensor | None]) -> torch.Tensor:
    """Apply the 2-D kernel ``kernels[i]`` to image ``i`` (``None`` = unchanged)."""
    return torch.stack([x[i] if k is None else convolve(x[i], k) for i, k in enumerate(kernels)])


@register_op
class Sharpen(EditOp):
    """Unsharp mask: ``out = x + a (x - blur(x))``; ``a`` = +150 % at ``+1``, -100 % at ``-1``.

    At ``-1`` the image is replaced by its blurred version (soften). The mask radius is a Gaussian
    sigma of 1 px at a 512 px long side (at least 0.7 px, so small images are still affected).
    """

    info = OpInfo(
        name="sharpen",
        family="detail",
        unit="% unsharp amount",
        description="unsharp-mask sharpening (+1 = +150 %), negative softens (-1 = full blur)",
        identity=0.0,
        at_minus_one=-100.0,
        at_plus_one=150.0,
        template="{direction} the image (unsharp mask amount {amount:+.0f}%)",
        verbs=("sharpened", "softened"),
        differentiable=True,
    )
    radius = 1.0
    min_radius = 0.7

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        sigma = torch.tensor(
            max(self.min_radius, self.radius * resolution_scale(x)), device=x.device, dtype=x.dtype
        )
        pos, neg = self.info.at_plus_one / 100.0, -self.info.at_minus_one / 100.0
        amount = torch.where(s >= 0, s * pos, s * neg)
        out = []
        for i in range(x.shape[0]):
            if float(s[i].detach()) == 0.0:
                out.append(x[i])
                continue
            blurred = gaussian_blur(x[i], sigma)
            out.append(x[i] + amount[i] * (x[i] - blurred))
        return torch.stack(out)


@register_op
class GaussianBlur(EditOp):
    """Gaussian blur, sigma 0 → 6 px at a 512 px long side (one-directional; see ``sharpen``)."""

    info = OpInfo(
        name="gaussian_blur",
        family="detail",
        unit="px sigma at 512 px",
        description="Gaussian blur, sigma up to 6 px at a 512 px long side (scales with size)",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=6.0,
        template="blurred the image with a Gaussian ({abs_amount:.1f} {unit})",
        verbs=("blurred", "blurred"),
        differentiable=True,
        signed=False,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        sigma = s * self.info.at_plus_one * resolution_scale(x)
        return torch.stack([gaussian_blur(x[i], sigma[i]) for i in range(x.shape[0])])


def motion_kernel(length: torch.Tensor, angle_deg: float) -> torch.Tensor | None:
    """Line kernel of ``length`` px at ``angle_deg`` (anti-aliased, differentiable in length).

    The along-line weight is a box of ``length`` convolved with the pixel footprint, the
    across-line weight a 1-px tent. ``None`` when the kernel is the identity.
    """
    ln = float(length.detach())
    if ln <= 1e-3:
        return None
    half = math.ceil(ln / 2.0 + 1.0)
    r = torch.arange(-half, half + 1, dtype=length.dtype, device=length.device)
    v, u = torch.meshgrid(r, r, indexing="ij")
    th = math.radians(angle_deg)
    along = u * math.cos(th) - v * math.sin(th)
    across = u * math.sin(th) + v * math.cos(th)
    w = (length / 2.0 + 0.5 - along.abs()).clamp(0.0, 1.0) * (1.0 - across.abs()).clamp(min=0.0)
    return w / w.sum()


@register_op
class MotionBlur(EditOp):
    """Linear motion blur up to 20 px long at 512 px; the direction is drawn from the seed."""

    info = OpInfo(
        name="motion_blur",
        family="detail",
        unit="px length at 512 px",
        description="camera-shake motion blur up to 20 px at 512 px, direction from the seed",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=20.0,
        template="added motion blur ({abs_amount:.1f} {unit})",
        verbs=("added", "added"),
        differentiable=True,
        stochastic=True,
        signed=False,
    )

    @staticmethod
    def angle_for(seed: int) -> float:
        """Blur direction in degrees (0-180, counter-clockwise from horizontal) for ``seed``."""
        return float(torch.rand(1, generator=seeded_generator(seed))) * 180.0

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        length = s * self.info.at_plus_one * resolution_scale(x)
        limit = 2.0 * (_max_half(x) - 1)
        kernels = [
            motion_kernel(length[i].clamp(max=max(limit, 0.0)), self.angle_for(seeds[i]))
            for i in range(x.shape[0])
        ]
        return _filter_each(x, kernels)


def disk_kernel(radius: torch.Tensor) -> torch.Tensor | None:
    """Anti-aliased disk (bokeh) kernel of ``radius`` px; ``None`` when it is the identity."""
    rad = float(radius.detach())
    if rad <= 0.5:
        return None
    half = math.ceil(rad + 0.5)
    r = torch.arange(-half, half + 1, dtype=radius.dtype, device=radius.device)
    v, u = torch.meshgrid(r, r, indexing="ij")
    w = (radius + 0.5 - torch.sqrt(u**2 + v**2)).clamp(0.0, 1.0)
    return w / w.sum()


@register_op
class Defocus(EditOp):
    """Lens defocus: a disk (bokeh) kernel of radius up to 12 px at a 512 px long side."""

    info = OpInfo(
        name="defocus",
        family="detail",
        unit="px disk radius at 512 px",
        description="out-of-focus lens blur, disk radius up to 12 px at 512 px",
        identity=0.0,
        at_minus_one=0.0,
        at_plus_one=12.0,
        template="defocused the image like an out-of-focus lens ({abs_amount:.1f} {unit})",
        verbs=("defocused", "defocused"),
        differentiable=True,
        signed=False,
    )

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        radius = (s * self.info.at_plus_one * resolution_scale(x)).clamp(max=_max_half(x) - 0.5)
        return _filter_each(x, [disk_kernel(radius[i]) for i in range(x.shape[0])])
