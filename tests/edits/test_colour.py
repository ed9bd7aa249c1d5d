"""Behaviour of the colour ops: saturation, vibrance, temperature, tint and hue."""

from __future__ import annotations

import math

import pytest
import torch
from kornia.color import rgb_to_hsv, rgb_to_linear_rgb

from redaes.edits import create_edit
from redaes.edits.colour import planckian_rgb
from redaes.edits.tone import luma
from redaes.stats import measure
from tests.conftest import natural_like
from tests.edits.helpers import STRENGTHS, strictly_monotonic, sweep


@pytest.mark.parametrize(
    ("name", "stat", "increasing"),
    [
        ("saturation", "saturation", True),
        ("vibrance", "saturation", True),
        ("temperature", "warmth", True),
        ("tint", "tint", False),  # + is magenta: the green-minus-magenta balance falls
    ],
)
def test_monotonic_statistic(
    name: str, stat: str, increasing: bool, photo_tensor: torch.Tensor
) -> None:
    values = sweep(name, photo_tensor, lambda t: float(getattr(measure(t), stat)))
    assert strictly_monotonic(values, increasing), values


def test_saturation_minus_one_is_greyscale_and_keeps_luma() -> None:
    x = natural_like(seed=1)
    grey = create_edit("saturation")(x, -1.0)
    assert (grey.amax(dim=0) - grey.amin(dim=0)).max() < 1e-6
    half = create_edit("saturation")(x, -0.5)
    torch.testing.assert_close(luma(half[None]), luma(x[None]), atol=1e-5, rtol=0)


def test_vibrance_favours_muted_colours() -> None:
    muted = torch.tensor([0.55, 0.5, 0.45])
    vivid = torch.tensor([0.9, 0.2, 0.1])
    x = torch.stack([muted, vivid], dim=1)[:, :, None].expand(3, 2, 4).contiguous()

    def sat(t: torch.Tensor) -> torch.Tensor:
        return (t.amax(dim=0) - t.amin(dim=0)) / t.amax(dim=0)

    before = sat(x)[:, 0]
    vib = create_edit("vibrance")(x, 0.6)
    glob = create_edit("saturation")(x, 0.6)
    gain_vib = sat(vib)[:, 0] / before
    gain_sat = sat(glob)[:, 0] / before
    assert gain_vib[0] > gain_vib[1] > 1.0  # muted gains more than vivid
    assert gain_sat[1] > gain_vib[1]  # vivid colours are protected relative to saturation
    pure = torch.tensor([1.0, 0.0, 0.0])[:, None, None].expand(3, 4, 4)
    torch.testing.assert_close(create_edit("vibrance")(pure, 1.0), pure, atol=1e-6, rtol=0)


def test_planckian_locus_orders_colours() -> None:
    rgb = planckian_rgb(torch.tensor([2500.0, 4000.0, 6500.0, 10000.0, 20000.0]))
    red_over_blue = (rgb[:, 0] / rgb[:, 2]).tolist()
    assert strictly_monotonic(red_over_blue, increasing=False)
    assert rgb[2].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=0.06)  # 6500 K ~ D65 white


def test_temperature_warms_grey_and_keeps_luminance() -> None:
    grey = torch.full((3, 4, 4), 0.5)
    warm = create_edit("temperature")(grey, 1.0)[:, 0, 0]
    cool = create_edit("temperature")(grey, -1.0)[:, 0, 0]
    assert warm[0] > warm[1] > warm[2]
    assert cool[2] > cool[1] > cool[0]
    weights = torch.tensor([0.2126, 0.7152, 0.0722])[:, None, None]
    grey_lum = (rgb_to_linear_rgb(grey) * weights).sum(dim=0)[0, 0]
    for s in (-1.0, 1.0):
        out = create_edit("temperature")(grey, s)
        lum = (rgb_to_linear_rgb(out) * weights).sum(dim=0)[0, 0]
        assert lum.item() == pytest.approx(grey_lum.item(), rel=1e-3)


@pytest.mark.parametrize(("s", "magenta"), [(1.0, True), (-1.0, False), (0.5, True)])
def test_tint_is_a_cc_filter(s: float, magenta: bool) -> None:
    grey = torch.full((3, 4, 4), 0.4)
    out = rgb_to_linear_rgb(create_edit("tint")(grey, s))[:, 0, 0]
    density = abs(s) * 0.20
    assert out[0].item() == pytest.approx(out[2].item(), rel=1e-5)
    ratio = out[1] / out[0]  # green over red in linear light
    expected = 10.0**-density if magenta else 10.0**density
    assert ratio.item() == pytest.approx(expected, rel=1e-3)


def mean_hue_shift(before: torch.Tensor, after: torch.Tensor) -> float:
    """Mean circular HSV hue change in degrees over clearly coloured pixels."""
    hsv0, hsv1 = rgb_to_hsv(before[None])[0], rgb_to_hsv(after[None])[0]
    mask = (hsv0[1] > 0.25) & (hsv1[1] > 0.25)
    delta = torch.remainder(hsv1[0] - hsv0[0] + math.pi, 2 * math.pi) - math.pi
    return math.degrees(delta[mask].mean().item())


def test_hue_rotates_monotonically_by_about_the_angle() -> None:
    g = torch.Generator().manual_seed(0)
    x = (0.3 + 0.4 * torch.rand(3, 32, 32, generator=g)).clamp(0, 1)  # unclipped colours
    shifts = [mean_hue_shift(x, create_edit("hue")(x, s)) for s in STRENGTHS]
    assert strictly_monotonic(shifts, margin=5.0), shifts
    assert shifts[2] == pytest.approx(0.0, abs=1e-3)
    assert shifts[-1] == pytest.approx(60.0, abs=6.0) and shifts[0] == pytest.approx(-60.0, abs=6.0)


def test_hue_keeps_luma_and_grey_and_inverts() -> None:
    g = torch.Generator().manual_seed(1)
    x = 0.35 + 0.3 * torch.rand(3, 16, 16, generator=g)
    op = create_edit("hue")
    out = op(x, 0.5)
    torch.testing.assert_close(luma(out[None]), luma(x[None]), atol=1e-5, rtol=0)
    grey = torch.full((3, 4, 4), 0.3)
    torch.testing.assert_close(op(grey, 1.0), grey, atol=1e-5, rtol=0)
    back = op(op(x, 0.25), -0.25)
    torch.testing.assert_close(back, x, atol=1e-4, rtol=0)
    red = torch.tensor([0.7, 0.3, 0.3])[:, None, None].expand(3, 4, 4)
    towards_yellow = op(red, 0.5)[:, 0, 0]
    assert towards_yellow[1] > red[1, 0, 0] and towards_yellow[2] < red[2, 0, 0]


def test_describe_reads_well() -> None:
    assert create_edit("saturation").describe(0.3) == "raised the saturation by 30 %"
    assert create_edit("temperature").describe(-0.5) == "cooled the white balance by 50 mired"
    assert create_edit("tint").describe(0.5) == "shifted the tint toward magenta by 10 CC"
    assert create_edit("tint").describe(-0.5) == "shifted the tint toward green by 10 CC"
    assert create_edit("hue").describe(-0.5) == "rotated the hue by -30 degrees"
