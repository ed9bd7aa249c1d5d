"""Detail ops (sharpen, gaussian_blur, motion_blur, defocus): they move sharpness as documented."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from redaes.edits import create_edit
from redaes.edits.detail import MotionBlur, disk_kernel, gaussian_blur, motion_kernel
from redaes.imageio import pil_to_tensor
from redaes.stats import measure


@pytest.fixture(scope="module")
def photo128(photo: Image.Image) -> torch.Tensor:
    return pil_to_tensor(photo.resize((128, 96), Image.Resampling.LANCZOS))


def _sharpness(x: torch.Tensor) -> float:
    return measure(x).sharpness


def _strictly_decreasing(values: list[float]) -> bool:
    return all(b < a for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("name", ["gaussian_blur", "motion_blur", "defocus"])
def test_blurs_lower_laplacian_variance_monotonically(name: str, photo128: torch.Tensor) -> None:
    op = create_edit(name)
    values = [_sharpness(op(photo128, s, seed=4)) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert _strictly_decreasing(values), values
    assert values[-1] < 0.5 * values[0]


def test_sharpen_is_monotonic_in_both_directions(photo128: torch.Tensor) -> None:
    op = create_edit("sharpen")
    values = [_sharpness(op(photo128, s)) for s in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    assert all(b > a for a, b in itertools.pairwise(values)), values


def test_sharpen_minus_one_equals_the_unsharp_blur(photo128: torch.Tensor) -> None:
    op = create_edit("sharpen")
    sigma = max(op.min_radius, op.radius * 128 / 512)  # type: ignore[attr-defined]
    blurred = gaussian_blur(photo128, torch.tensor(sigma))
    torch.testing.assert_close(op(photo128, -1.0), blurred.clamp(0, 1), atol=1e-5, rtol=0)


def test_gaussian_blur_matches_opencv_sigma_scaled_to_size(photo128: torch.Tensor) -> None:
    op = create_edit("gaussian_blur")
    sigma = op.physical(0.5) * 128 / 512  # 3 px at 512 -> 0.75 px at 128
    half = math.ceil(3 * sigma)
    arr = photo128.permute(1, 2, 0).numpy()
    ref = cv2.GaussianBlur(arr, (2 * half + 1, 2 * half + 1), sigma, cv2.BORDER_REFLECT_101)
    out = op(photo128, 0.5).permute(1, 2, 0).numpy()
    assert np.abs(out - ref).max() < 1e-4


def test_blur_look_is_resolution_independent(photo: Image.Image) -> None:
    """The same strength blurs a 2x larger image by a 2x larger sigma (same relative look)."""
    small = pil_to_tensor(photo.resize((64, 64), Image.Resampling.LANCZOS))
    large = pil_to_tensor(photo.resize((128, 128), Image.Resampling.LANCZOS))
    op = create_edit("gaussian_blur")
    blurred_large = op(large, 0.8)
    shrunk = torch.nn.functional.avg_pool2d(blurred_large[None], 2)[0]
    direct_small = op(small, 0.8)
    naive_small = gaussian_blur(small, torch.tensor(0.8 * 6.0 * 128 / 512))
    err_scaled = (shrunk - direct_small).abs().mean()
    err_naive = (shrunk - naive_small).abs().mean()
    assert err_scaled < err_naive


def test_gradient_through_blur_sigma(photo128: torch.Tensor) -> None:
    """The OpenCV and kornia paths agree; the kornia path gives a gradient w.r.t. sigma."""
    op = create_edit("gaussian_blur")
    s = torch.tensor([0.6], requires_grad=True)
    out = op(photo128[None], s)
    torch.testing.assert_close(out.detach(), op(photo128[None], 0.6), atol=1e-5, rtol=0)
    # more blur -> less squared Laplacian energy: the gradient must be negative
    lap = out[:, :, 1:-1, 1:-1] * 4 - out[:, :, :-2, 1:-1] - out[:, :, 2:, 1:-1]
    lap = lap - out[:, :, 1:-1, :-2] - out[:, :, 1:-1, 2:]
    (lap**2).mean().backward()
    assert s.grad is not None and float(s.grad[0]) < 0


def test_motion_blur_direction_comes_from_seed_and_is_deterministic() -> None:
    assert MotionBlur.angle_for(3) == MotionBlur.angle_for(3)
    angles = {round(MotionBlur.angle_for(seed), 3) for seed in range(8)}
    assert len(angles) == 8 and all(0 <= a < 180 for a in angles)


def test_motion_kernel_is_a_line_of_the_right_length() -> None:
    k = motion_kernel(torch.tensor(9.0), 0.0)
    assert k is not None
    assert float(k.sum()) == pytest.approx(1.0)
    row = k[k.shape[0] // 2]
    assert int((row > 0).sum()) == 9 and float(row.sum()) == pytest.approx(1.0)
    vertical = motion_kernel(torch.tensor(9.0), 90.0)
    assert vertical is not None
    torch.testing.assert_close(vertical, k.T, atol=1e-6, rtol=0)
    assert motion_kernel(torch.tensor(0.0), 45.0) is None


def test_horizontal_motion_blur_keeps_vertical_detail() -> None:
    """A horizontal streak blurs vertical stripes, not horizontal ones."""
    stripes = torch.zeros(3, 64, 64)
    stripes[:, :, ::4] = 1.0  # vertical stripes (vary along x)
    k = motion_kernel(torch.tensor(8.0), 0.0)
    assert k is not None
    from redaes.edits.detail import convolve

    along = convolve(stripes, k)
    across = convolve(stripes.transpose(1, 2).contiguous(), k)
    assert along.std() < 0.5 * across.std()


def test_defocus_kernel_is_a_disk() -> None:
    k = disk_kernel(torch.tensor(5.0))
    assert k is not None
    c = k.shape[0] // 2
    assert float(k[c, c]) == pytest.approx(float(k[c, c + 4]))  # flat inside the disk
    assert float(k[c, c + 6]) == 0.0 and float(k[0, 0]) == 0.0  # nothing outside
    assert disk_kernel(torch.tensor(0.4)) is None


def test_descriptions_name_the_physical_amount() -> None:
    assert "+150%" in create_edit("sharpen").describe(1.0)
    assert create_edit("sharpen").describe(-0.5).startswith("softened")
    assert "3.0 px" in create_edit("gaussian_blur").describe(0.5)
    assert "10.0 px" in create_edit("motion_blur").describe(0.5)
    assert "6.0 px" in create_edit("defocus").describe(0.5)
