"""Behaviour of the style ops: vignette, film grain, haze / dehaze and clarity."""

from __future__ import annotations

import pytest
import torch
from kornia.color import rgb_to_linear_rgb

from redaes.edits import create_edit
from redaes.edits.style import local_mean
from redaes.edits.tone import luma
from redaes.stats import measure
from tests.conftest import natural_like
from tests.edits.helpers import strictly_monotonic, sweep


def corner_centre_ratio(x: torch.Tensor) -> float:
    y = luma(x[None])[0, 0]
    h, w = y.shape
    corners = torch.stack([y[:4, :4], y[:4, -4:], y[-4:, :4], y[-4:, -4:]]).mean()
    centre = y[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2].mean()
    return float(corners / centre)


def test_vignette_corner_ratio_monotonic() -> None:
    flat = torch.full((3, 48, 64), 0.4)
    values = sweep("vignette", flat, corner_centre_ratio)
    assert strictly_monotonic(values, increasing=False, margin=0.01), values
    assert values[2] == pytest.approx(1.0)


def test_vignette_stops_at_the_corner() -> None:
    flat = torch.full((3, 33, 41), 0.4)
    out = create_edit("vignette")(flat, 1.0)  # corners 1.5 stops darker
    ratio = rgb_to_linear_rgb(out) / rgb_to_linear_rgb(flat)
    assert ratio[:, 0, 0].tolist() == pytest.approx([2**-1.5] * 3, rel=1e-3)
    assert ratio[:, 16, 20].tolist() == pytest.approx([1.0] * 3, abs=1e-5)  # exact centre
    assert ratio[:, 16, 0].tolist() == pytest.approx([2**-0.75] * 3, rel=1e-3)  # edge midpoint
    brighter = create_edit("vignette")(flat, -0.5)
    up = rgb_to_linear_rgb(brighter)[:, -1, -1] / rgb_to_linear_rgb(flat)[:, -1, -1]
    assert up.tolist() == pytest.approx([2**0.75] * 3, rel=1e-3)


def test_grain_noise_estimate_monotonic(photo_tensor: torch.Tensor) -> None:
    values = sweep(
        "film_grain", photo_tensor, lambda t: measure(t).noise, (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    assert strictly_monotonic(values, margin=0.2), values


def test_grain_rms_monochrome_and_seeded() -> None:
    grey = torch.full((3, 96, 96), 0.5)
    op = create_edit("film_grain")
    out = op(grey, 1.0, seed=7)
    noise = out - grey
    assert noise.std().item() * 255 == pytest.approx(16.0, rel=0.08)  # 16/255 RMS at mid-grey
    torch.testing.assert_close(noise[0], noise[1], atol=0, rtol=0)  # luminance grain only
    torch.testing.assert_close(noise[0], noise[2], atol=0, rtol=0)
    assert not torch.equal(op(grey, 1.0, seed=8), out)
    half = op(grey, 0.5, seed=7) - grey
    torch.testing.assert_close(half, noise / 2, atol=1e-6, rtol=0)  # linear in strength
    # grain is correlated over ~1 px: neighbours are positively correlated (not white noise)
    a, b = noise[0, :, :-1].flatten(), noise[0, :, 1:].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.2


def mean_dark_channel(x: torch.Tensor) -> float:
    return float(x.amin(dim=0).mean())


def test_haze_dark_channel_and_contrast_monotonic(photo_tensor: torch.Tensor) -> None:
    dark = sweep("haze", photo_tensor, mean_dark_channel)
    assert strictly_monotonic(dark, margin=1e-3), dark
    contrast = sweep("haze", photo_tensor, lambda t: measure(t).contrast, (0.0, 0.5, 1.0))
    assert strictly_monotonic(contrast, increasing=False), contrast


def test_haze_veil_formula() -> None:
    x = natural_like(seed=2)
    out = create_edit("haze")(x, 1.0)  # 50 % veil of the airlight
    airlight = torch.tensor([0.86, 0.89, 0.93])[:, None, None]
    torch.testing.assert_close(out, 0.5 * x + 0.5 * airlight, atol=1e-6, rtol=0)


def test_dehaze_recovers_a_hazed_image(photo_tensor: torch.Tensor) -> None:
    op = create_edit("haze")
    hazy = op(photo_tensor, 0.6)  # 30 % veil
    restored = op(hazy, -0.8)  # dark channel prior, omega 0.72
    err_hazy = (hazy - photo_tensor).abs().mean()
    err_restored = (restored - photo_tensor).abs().mean()
    assert err_restored < 0.6 * err_hazy
    assert measure(restored).contrast > measure(hazy).contrast * 1.08


def test_clarity_monotonic(photo_tensor: torch.Tensor) -> None:
    rms = sweep("clarity", photo_tensor, lambda t: measure(t).contrast)
    assert strictly_monotonic(rms), rms

    def local_contrast(t: torch.Tensor) -> float:
        y = luma(t[None])
        return float((y - local_mean(y, max(t.shape[1:]) / 50.0)).std())

    local = sweep("clarity", photo_tensor, local_contrast)
    assert strictly_monotonic(local, margin=1e-3), local
    assert local[0] < 0.8 * local[2] and local[4] > 1.3 * local[2]


def test_clarity_leaves_flat_areas_and_extremes() -> None:
    flat = torch.full((3, 40, 40), 0.45)
    torch.testing.assert_close(create_edit("clarity")(flat, 1.0), flat, atol=1e-6, rtol=0)
    black_white = torch.zeros(3, 40, 40)
    black_white[:, :, 20:] = 1.0  # pure black and white have zero midtone weight
    out = create_edit("clarity")(black_white, 1.0)
    torch.testing.assert_close(out, black_white, atol=1e-6, rtol=0)


def test_local_mean_is_a_smooth_blur() -> None:
    y = natural_like(h=96, w=128, seed=3)[:1][None]
    blurred = local_mean(y, 128 / 50.0)
    assert blurred.shape == y.shape
    assert blurred.std() < y.std()
    assert (blurred.mean() - y.mean()).abs() < 0.01


def test_describe_reads_well() -> None:
    assert create_edit("vignette").describe(0.5) == "darkened the corners by 0.75 stops (vignette)"
    assert create_edit("film_grain").describe(1.0) == "added film grain of 16.0/255 RMS"
    assert create_edit("haze").describe(-0.5) == "removed haze (45 %)"
    assert create_edit("clarity").describe(-0.2) == "lowered the clarity (local contrast) by 20 %"
