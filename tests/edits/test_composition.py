"""Composition ops (crop_thirds, crop_centre, rotate, aspect): geometry as documented."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from redaes.edits import create_edit
from redaes.edits.composition import inscribed_scale, salient_point, thirds_distance
from redaes.errors import EditError

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _blob(cx: float, cy: float, h: int = 96, w: int = 128) -> torch.Tensor:
    """A bright Gaussian blob (the subject) on a gentle horizontal gradient."""
    yy, xx = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    blob = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 4.0**2))
    base = 0.3 + 0.1 * xx / w
    return (base + 0.6 * blob).clamp(0, 1).expand(3, h, w).clone()


def _brightest(x: torch.Tensor) -> tuple[int, int]:
    idx = int(torch.argmax(x[0]))
    y, xpos = divmod(idx, int(x.shape[-1]))
    return xpos, y


@pytest.mark.parametrize("centre", [(64, 48), (20, 80), (100, 20)])
def test_salient_point_finds_the_subject(centre: tuple[int, int]) -> None:
    px, py = salient_point(_blob(*centre))
    assert math.hypot(px - centre[0], py - centre[1]) <= 3.0


def test_crop_thirds_moves_subject_toward_a_thirds_point_monotonically() -> None:
    op = create_edit("crop_thirds")
    x = _blob(64, 48)  # dead centre: far from every thirds point
    dists = []
    for s in STRENGTHS:
        out = op(x, s)
        dists.append(thirds_distance(_brightest(out), out.shape[-1], out.shape[-2]))
    assert all(b < a for a, b in itertools.pairwise(dists)), dists
    assert dists[-1] < 0.25 * dists[0]


@pytest.mark.parametrize("centre", [(50, 40), (90, 60), (20, 80), (5, 5)])
def test_crop_thirds_never_moves_subject_away(centre: tuple[int, int]) -> None:
    op = create_edit("crop_thirds")
    x = _blob(*centre)
    before = thirds_distance(centre, 128, 96)
    for s in STRENGTHS[1:]:
        out = op(x, s)
        after = thirds_distance(_brightest(out), out.shape[-1], out.shape[-2])
        assert after <= before + 0.01, (s, before, after)


def test_crop_thirds_is_per_image_within_a_batch() -> None:
    op = create_edit("crop_thirds")
    batch = torch.stack([_blob(64, 48), _blob(30, 70)])
    out = op(batch, 0.8)
    for i in range(2):
        torch.testing.assert_close(out[i], op(batch[i], 0.8), atol=0, rtol=0)


@pytest.mark.parametrize("name", ["crop_thirds", "crop_centre"])
def test_crop_area_fraction_matches_strength(name: str) -> None:
    op = create_edit(name)
    x = torch.rand(3, 120, 160, generator=torch.Generator().manual_seed(0))
    removed = []
    for s in STRENGTHS:
        out = op(x, s)
        h, w = out.shape[-2:]
        assert w / h == pytest.approx(160 / 120, rel=0.03)  # aspect ratio kept
        removed.append(1.0 - h * w / (120 * 160))
        assert removed[-1] == pytest.approx(op.physical(s) / 100.0, abs=0.02)
    assert all(b > a for a, b in itertools.pairwise(removed))


def test_crop_centre_is_centred() -> None:
    x = _blob(64, 48)
    out = create_edit("crop_centre")(x, 1.0)
    bx, by = _brightest(out)
    assert abs(bx - (out.shape[-1] - 1) / 2) <= 1 and abs(by - (out.shape[-2] - 1) / 2) <= 1


def test_aspect_wider_and_taller_monotonic() -> None:
    op = create_edit("aspect")
    x = torch.rand(3, 90, 120, generator=torch.Generator().manual_seed(1))
    ratios = []
    for s in (-1.0, -0.5, 0.0, 0.5, 1.0):
        out = op(x, s)
        ratio = out.shape[-1] / out.shape[-2]
        ratios.append(ratio)
        assert ratio / (120 / 90) == pytest.approx(op.physical(s), rel=0.03)
        assert out.shape[-1] <= 120 and out.shape[-2] <= 90  # a crop, never a pad
    assert all(b > a for a, b in itertools.pairwise(ratios))
    assert "wider" in op.describe(0.5) and "taller" in op.describe(-0.5)


def test_rotate_leaves_no_black_border_and_shrinks_with_angle() -> None:
    op = create_edit("rotate")
    x = torch.full((3, 96, 128), 0.8)
    areas = []
    for s in (0.0, 0.3, 0.6, 1.0):
        for sign in (1.0, -1.0):
            out = op(x, sign * s)
            assert float(out.min()) > 0.79  # no fill colour anywhere, corners included
            assert out.shape[-1] / out.shape[-2] == pytest.approx(128 / 96, rel=0.03)
        areas.append(out.shape[-1] * out.shape[-2])
    assert all(b < a for a, b in itertools.pairwise(areas))
    k = inscribed_scale(128, 96, 10.0)
    assert areas[-1] == pytest.approx(k * k * 128 * 96, rel=0.04)


@pytest.mark.parametrize("strength", [0.5, -0.5])
def test_rotate_positive_is_counter_clockwise(strength: float) -> None:
    x = torch.full((3, 96, 128), 0.2)
    x[:, 46:50, :] = 0.9  # a horizontal bar through the centre
    out = create_edit("rotate")(x, strength)
    bar = (out[0] > 0.5).float()
    rows = torch.arange(out.shape[-2]).float()[:, None]
    w = out.shape[-1]
    left = float((bar[:, : w // 4] * rows).sum() / bar[:, : w // 4].sum())
    right = float((bar[:, -w // 4 :] * rows).sum() / bar[:, -w // 4 :].sum())
    # counter-clockwise on screen: the right end goes up (smaller row index)
    slope_degrees = math.degrees(math.atan2(left - right, 0.75 * w))
    assert slope_degrees == pytest.approx(strength * 10.0, abs=1.0)


def test_rotate_gradient_wrt_angle() -> None:
    x = torch.full((1, 3, 48, 64), 0.2)
    x[:, :, 22:26, :] = 0.9
    s = torch.tensor([0.4], requires_grad=True)
    out = create_edit("rotate")(x, s)
    out[..., :8].mean().backward()  # left strip
    assert s.grad is not None and float(s.grad.abs()) > 0


def test_size_changing_ops_need_one_strength() -> None:
    with pytest.raises(EditError, match="one strength"):
        create_edit("crop_centre")(torch.rand(2, 3, 32, 32), torch.tensor([0.1, 0.5]))
