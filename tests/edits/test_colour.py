"""Behaviour of the colour ops: saturation, vibrance, temperature, tint and hue."""

from __future__ import annotations

import math

import pytest
import torch
from kornia.color import rgb_to_hsv, rgb_to_linear_rgb
from scipy.optimize import minimize_scalar

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
    assert shifts[-1] == pytest.approx(60.0, abs=1.0) and shifts[0] == pytest.approx(-60.0, abs=1.0)


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


# sRGB (D65) linear RGB -> CIE XYZ, IEC 61966-2-1.
_RGB_TO_XYZ = torch.tensor(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=torch.float64,
)


def _krystek_uv(kelvin: float) -> tuple[float, float]:
    """Planckian locus in CIE 1960 uv, Krystek (1985) rational fit (1000-15000 K)."""
    t = kelvin
    u = (0.860117757 + 1.54118254e-4 * t + 1.28641212e-7 * t * t) / (
        1 + 8.42420235e-4 * t + 7.08145163e-7 * t * t
    )
    v = (0.317398726 + 4.22806245e-5 * t + 4.20481691e-8 * t * t) / (
        1 - 2.89741816e-5 * t + 1.61456053e-7 * t * t
    )
    return u, v


def measured_mired(srgb: torch.Tensor) -> float:
    """CCT in mired of a uniform sRGB patch: the nearest Krystek locus point in uv."""
    rgb = rgb_to_linear_rgb(srgb[None].double())[0].mean(dim=(1, 2))
    x, y, z = (_RGB_TO_XYZ @ rgb).tolist()
    d = x + 15 * y + 3 * z
    u, v = 4 * x / d, 6 * y / d

    def dist(m: float) -> float:
        lu, lv = _krystek_uv(1e6 / m)
        return (lu - u) ** 2 + (lv - v) ** 2

    return float(minimize_scalar(dist, bounds=(66.7, 500.0), method="bounded").x)


def test_grey_is_d65_by_the_independent_estimate() -> None:
    assert 1e6 / measured_mired(torch.full((3, 4, 4), 0.5)) == pytest.approx(6504, abs=5)


@pytest.mark.parametrize("s", [-0.8, -0.5, -0.3, -0.1, 0.1, 0.3, 0.6, 1.0])
@pytest.mark.parametrize("level", [0.25, 0.6])
def test_temperature_moves_the_white_by_its_documented_mired(s: float, level: float) -> None:
    """A grey patch's CCT moves by the op's mired (it used to reach 88-94 of a requested 100)."""
    grey = torch.full((3, 4, 4), level)
    op = create_edit("temperature")
    shift = measured_mired(op(grey, s)) - measured_mired(grey)
    assert shift == pytest.approx(op.physical(s), rel=0.03, abs=0.5)


def _hsv_hue_deg(x: torch.Tensor) -> torch.Tensor:
    return torch.rad2deg(rgb_to_hsv(x[None])[0, 0])


@pytest.mark.parametrize("s", [-1.0, -0.5, 0.25, 0.5, 1.0])
def test_hue_degrees_are_hsv_hue_degrees_on_saturated_patches(s: float) -> None:
    """Every saturated patch turns by the op's degrees of ordinary (HSV) hue, luma kept."""
    hues = torch.arange(0.0, 360.0, 15.0)
    hsv = torch.stack(
        [torch.deg2rad(hues), torch.full_like(hues, 0.85), torch.full_like(hues, 0.8)]
    )
    patches = kornia_hsv_to_rgb(hsv[:, :, None].expand(3, 24, 4))
    op = create_edit("hue")
    out = op(patches, s)
    turned = torch.remainder(_hsv_hue_deg(out) - _hsv_hue_deg(patches) + 180.0, 360.0) - 180.0
    assert turned.sub(op.physical(s)).abs().max().item() < 2.0
    torch.testing.assert_close(luma(out[None]), luma(patches[None]), atol=1e-4, rtol=0)
    assert out.min() >= 0.0 and out.max() <= 1.0


def kornia_hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    from kornia.color import hsv_to_rgb

    return hsv_to_rgb(hsv[None])[0]
