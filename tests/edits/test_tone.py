"""Behaviour of the tone ops: each moves its statistic monotonically and hits its physical units."""

from __future__ import annotations

import pytest
import torch
from kornia.color import rgb_to_linear_rgb

from redaes.edits import create_edit
from redaes.edits.tone import luma, physical_amount
from redaes.stats import measure
from tests.conftest import natural_like
from tests.edits.helpers import STRENGTHS, strictly_increasing, sweep


def mean_luma(x: torch.Tensor) -> float:
    return measure(x).luminance


def rms_contrast(x: torch.Tensor) -> float:
    return measure(x).contrast


def ramp(n: int = 64) -> torch.Tensor:
    """A grey ramp from 0 to 1 as a (3, 8, n) image."""
    return torch.linspace(0.0, 1.0, n).expand(3, 8, n).contiguous()


@pytest.mark.parametrize(
    "name", ["exposure", "gamma", "shadows", "highlights", "black_point", "contrast"]
)
def test_monotonic_statistic(name: str, photo_tensor: torch.Tensor) -> None:
    stat = rms_contrast if name == "contrast" else mean_luma
    values = sweep(name, photo_tensor, stat)
    assert strictly_increasing(values), values


def test_exposure_one_stop_doubles_linear_light() -> None:
    x = natural_like(seed=4)
    out = create_edit("exposure")(x, 0.5)  # +1 EV
    lin_in, lin_out = rgb_to_linear_rgb(x), rgb_to_linear_rgb(out)
    unclipped = lin_in < 0.45
    assert unclipped.float().mean() > 0.3
    torch.testing.assert_close(lin_out[unclipped], 2.0 * lin_in[unclipped], atol=2e-3, rtol=1e-3)


def test_contrast_is_a_slope_about_mid_grey() -> None:
    x = ramp()
    out = create_edit("contrast")(x, 0.6)  # +30 %: slope 1.3
    inside = ((x - 0.5).abs() < 0.35).expand_as(x)
    torch.testing.assert_close(out[inside], 0.5 + 1.3 * (x[inside] - 0.5), atol=1e-5, rtol=0)
    assert out[0, 0, 0] == 0.0 and out[0, 0, -1] == 1.0  # the ends clip
    flat = create_edit("contrast")(x, -1.0)  # -50 %: slope 0.5
    torch.testing.assert_close(flat, 0.5 + 0.5 * (x - 0.5), atol=1e-5, rtol=0)


@pytest.mark.parametrize(("name", "dark_untouched"), [("highlights", True), ("shadows", False)])
def test_luma_masks_leave_the_other_end_untouched(name: str, dark_untouched: bool) -> None:
    x = ramp()
    y = luma(x[None])[0, 0, 0]
    for s in (-1.0, 1.0):
        out = create_edit(name)(x, s)
        diff = (out - x).abs().amax(dim=(0, 1))
        untouched = y <= 0.5 if dark_untouched else y >= 0.5
        assert diff[untouched].max() < 1e-5
        assert diff[~untouched].max() > 0.03


def test_highlights_full_amount_on_white_and_shadows_on_black() -> None:
    near_white = torch.full((3, 4, 4), 0.999)
    out = create_edit("highlights")(near_white, -1.0)  # -1 EV where the mask is ~1
    ratio = rgb_to_linear_rgb(out) / rgb_to_linear_rgb(near_white)
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.5), atol=2e-3, rtol=0)
    deep = torch.full((3, 4, 4), 0.02)
    lifted = create_edit("shadows")(deep, 1.0)  # about +1.5 EV (mask 0.995 at luma 0.02)
    ratio = rgb_to_linear_rgb(lifted) / rgb_to_linear_rgb(deep)
    assert 2.7 < ratio.mean().item() < 2.83


@pytest.mark.parametrize(("s", "g"), [(1.0, 0.5), (0.5, 0.75), (-0.5, 1.5), (-1.0, 2.0)])
def test_gamma_exponent(s: float, g: float) -> None:
    x = ramp()
    out = create_edit("gamma")(x, s)
    torch.testing.assert_close(out, x.clamp_min(1e-6) ** g, atol=1e-5, rtol=0)
    assert create_edit("gamma").physical(s) == pytest.approx(g)


def test_black_point_levels() -> None:
    op = create_edit("black_point")
    x = torch.tensor([0.0, 16 / 255, 32 / 255, 0.5, 1.0]).expand(3, 1, 5).contiguous()
    lifted = op(x, 1.0)[0, 0]
    assert lifted[0].item() == pytest.approx(32 / 255, abs=1e-6)
    assert lifted[-1].item() == pytest.approx(1.0, abs=1e-6)
    crushed = op(x, -1.0)[0, 0]
    assert crushed[:3].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert crushed[3].item() == pytest.approx((0.5 - 32 / 255) / (1 - 32 / 255), abs=1e-6)
    assert crushed[-1].item() == pytest.approx(1.0, abs=1e-6)
    half = op(x, -0.5)[0, 0]
    assert half[1].item() == pytest.approx(0.0, abs=1e-6) and half[2].item() > 0.05


def test_describe_reads_well() -> None:
    assert create_edit("contrast").describe(0.6) == "raised the contrast by 30 %"
    assert create_edit("shadows").describe(-1.0) == "deepened the shadows by 1.50 EV"
    assert create_edit("highlights").describe(-0.5) == "recovered the highlights by 0.50 EV"
    assert "exponent 0.75" in create_edit("gamma").describe(0.5)
    op = create_edit("black_point")
    assert op.describe(0.5) == "set the black level to 16/255"
    assert op.describe(-1.0) == "crushed to black the tones below 32/255"  # not "lowered by"
    assert op.describe(0.0) == "set the black level to 0/255"  # not "raised by 0/255"


@pytest.mark.parametrize(
    "name", ["exposure", "contrast", "highlights", "shadows", "gamma", "black_point"]
)
def test_physical_amount_matches_op_physical(name: str) -> None:
    op = create_edit(name)
    s = torch.tensor(STRENGTHS, requires_grad=True)
    amount = physical_amount(op.info, s)
    assert amount.tolist() == pytest.approx([op.physical(v) for v in STRENGTHS], abs=1e-5)
    amount.sum().backward()
    assert s.grad is not None and bool((s.grad != 0).all())


def test_srgb_curves_match_kornia_and_invert() -> None:
    from kornia.color import linear_rgb_to_rgb

    from redaes.edits.tone import linear_to_srgb, srgb_to_linear

    v = torch.linspace(0.0, 1.0, 4097, dtype=torch.float64).expand(1, 3, 1, -1)
    torch.testing.assert_close(srgb_to_linear(v), rgb_to_linear_rgb(v), atol=1e-8, rtol=0)
    torch.testing.assert_close(linear_to_srgb(v), linear_rgb_to_rgb(v), atol=1e-7, rtol=0)
    torch.testing.assert_close(linear_to_srgb(srgb_to_linear(v)), v, atol=1e-9, rtol=0)


def test_scale_linear_light_fast_path_is_bit_identical_and_differentiable() -> None:
    from redaes.edits.tone import scale_linear_light

    x = torch.stack([natural_like(seed=5), natural_like(seed=6) ** 3])  # includes deep shadows
    gain = torch.tensor([0.3, 3.0]).view(2, 1, 1, 1)
    fast = scale_linear_light(x, gain)
    with_grad = scale_linear_light(x.clone().requires_grad_(True), gain).detach()
    assert torch.equal(fast, with_grad)
    xd = torch.rand(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    gd = torch.tensor([[0.4], [2.5]], dtype=torch.float64, requires_grad=True)

    def fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return scale_linear_light(a, b.view(2, 1, 1, 1))

    assert torch.autograd.gradcheck(fn, (xd, gd))
