"""Artefact ops (gaussian_noise, poisson_noise, jpeg, downscale): physical amounts hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PIL import Image

from redaes.edits import create_edit
from redaes.imageio import pil_to_tensor
from redaes.stats import measure


@pytest.fixture(scope="module")
def photo128(photo: Image.Image) -> torch.Tensor:
    return pil_to_tensor(photo.resize((128, 96), Image.Resampling.LANCZOS))


def _flat(level: float, size: int = 128) -> torch.Tensor:
    return torch.full((3, size, size), level)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return 10.0 * float(np.log10(1.0 / max(mse, 1e-12)))


def _increasing(values: list[float]) -> bool:
    return all(b > a for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("strength", [0.2, 0.6, 1.0])
def test_gaussian_noise_sigma_is_the_documented_amount(strength: float) -> None:
    op = create_edit("gaussian_noise")
    out = op(_flat(0.5), strength, seed=7)
    expected = op.physical(strength) / 255.0
    assert float((out - 0.5).std()) == pytest.approx(expected, rel=0.05)
    assert abs(float((out - 0.5).mean())) < 0.1 * expected  # zero-mean noise


@pytest.mark.parametrize("name", ["gaussian_noise", "poisson_noise"])
def test_noise_estimate_rises_monotonically(name: str, photo128: torch.Tensor) -> None:
    op = create_edit(name)
    values = [measure(op(photo128, s, seed=3)).noise for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert _increasing(values), values


def test_noise_depends_on_seed_only_per_image() -> None:
    op = create_edit("gaussian_noise")
    x = _flat(0.5, 32)
    a, b = op(x, 0.5, seed=1), op(x, 0.5, seed=2)
    assert not torch.equal(a, b)
    torch.testing.assert_close(op(x, 0.5, seed=1), a, atol=0, rtol=0)


def test_poisson_noise_is_signal_dependent_with_the_documented_photons() -> None:
    op = create_edit("poisson_noise")
    photons = op.photons(1.0)  # type: ignore[attr-defined]
    assert photons == pytest.approx((255.0 / 32.0) ** 2)
    stds = []
    for level in (0.1, 0.4, 0.8):
        out = op(_flat(level), 1.0, seed=5)
        std = float((out - level).std())
        assert std == pytest.approx(np.sqrt(level / photons), rel=0.06)
        stds.append(std)
    assert _increasing(stds)
    assert "photons" in op.describe(0.5)


def test_jpeg_quality_mapping_and_exact_identity(photo128: torch.Tensor) -> None:
    op = create_edit("jpeg")
    assert op.quality(0.0) == 100 and op.quality(1.0) == 5  # type: ignore[attr-defined]
    assert op.quality(0.5) == 52  # type: ignore[attr-defined]
    assert torch.equal(op(photo128, 0.0), photo128)
    assert not torch.equal(op(photo128, 0.01), photo128)


def test_jpeg_fidelity_drops_monotonically(photo128: torch.Tensor) -> None:
    op = create_edit("jpeg")
    psnr = [_psnr(op(photo128, s), photo128) for s in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert all(b < a for a, b in itertools.pairwise(psnr)), psnr


def _blockiness(x: torch.Tensor) -> float:
    """Mean jump across 8-px block borders divided by the mean jump inside blocks (columns)."""
    grey = x.mean(0)
    diff = (grey[:, 1:] - grey[:, :-1]).abs().mean(0)  # jump between column j and j+1
    border = diff[7::8].mean()
    inside = torch.cat([diff[k::8] for k in range(7)]).mean()
    return float(border / inside)


def test_jpeg_at_low_quality_is_blocky(photo128: torch.Tensor) -> None:
    op = create_edit("jpeg")
    assert _blockiness(photo128) < 1.2
    assert _blockiness(op(photo128, 1.0)) > 1.5 * _blockiness(op(photo128, 0.05))


def test_downscale_removes_high_frequencies_monotonically(photo128: torch.Tensor) -> None:
    op = create_edit("downscale")
    values = [measure(op(photo128, s)).sharpness for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(b < a for a, b in itertools.pairwise(values)), values


def test_downscale_keeps_low_frequencies(photo128: torch.Tensor) -> None:
    """Factor 2 (strength 1/7) keeps the 8x8 block means: only fine detail is lost."""
    op = create_edit("downscale")
    assert op.physical(1 / 7) == pytest.approx(2.0)
    out = op(photo128, 1 / 7)
    pooled_in = torch.nn.functional.avg_pool2d(photo128[None], 8)
    pooled_out = torch.nn.functional.avg_pool2d(out[None], 8)
    assert float((pooled_in - pooled_out).abs().max()) < 0.05


def test_unsigned_artefact_ops_reject_negative_strengths() -> None:
    from redaes.errors import EditError

    for name in ("gaussian_noise", "poisson_noise", "jpeg", "downscale"):
        with pytest.raises(EditError, match="one-directional"):
            create_edit(name)(_flat(0.5, 16), -0.2)


@pytest.mark.parametrize("name", ["jpeg", "downscale"])
def test_jpeg_and_downscale_are_continuous_at_zero(name: str, photo128: torch.Tensor) -> None:
    """The change vanishes with the strength (it used to jump at 0+: quality 100, factor ~1)."""
    op = create_edit(name)
    diffs = [float((op(photo128, s) - photo128).abs().mean()) for s in (1e-4, 1e-3, 1e-2, 0.1)]
    assert all(b > a for a, b in itertools.pairwise(diffs[1:])), diffs
    assert diffs[0] <= diffs[1] < 0.05 / 255  # s = 0.001: invisible
    assert float((op(photo128, 1e-3) - photo128).abs().max()) < 1 / 255  # below one 8-bit step
    assert diffs[1] < 0.3 * diffs[2]  # roughly proportional to s near 0


def test_jpeg_fades_in_below_quality_90(photo128: torch.Tensor) -> None:
    import cv2

    op = create_edit("jpeg")
    arr = (photo128.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    ok, buf = cv2.imencode(
        ".jpg",
        cv2.cvtColor(arr, cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, op.quality(0.05)],  # type: ignore[attr-defined]
    )
    assert ok
    decoded = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    full = torch.from_numpy(decoded).permute(2, 0, 1).float() / 255.0
    torch.testing.assert_close(op(photo128, 0.05), photo128 + 0.5 * (full - photo128))
    assert op.weight(0.05) == 0.5 and op.weight(0.1) == op.weight(0.7) == 1.0  # type: ignore[attr-defined]


def test_downscale_fades_in_below_factor_two(photo128: torch.Tensor) -> None:
    op = create_edit("downscale")
    at_two = op(photo128, 1 / 7)
    assert float((at_two - photo128).abs().mean()) > 2 / 255  # pure resampling from factor 2
    sharp = [measure(op(photo128, s)).sharpness for s in (0.0, 0.005, 0.02, 0.07, 1 / 7)]
    assert all(b < a for a, b in itertools.pairwise(sharp)), sharp
    assert sharp[1] > 0.9 * sharp[0]  # no jump at 0+ (was about half the sharpness)
