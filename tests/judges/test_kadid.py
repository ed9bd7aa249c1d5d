"""KADID calibration distortions: allow-list, determinism, size/mode, monotone strength, ops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain, create_edit
from redaes.errors import EditError, UnknownNameError
from redaes.judges import kadid
from redaes.judges.kadid import CALIBRATION_TYPES, distort, nearest_op


@pytest.fixture(scope="module")
def ref(photo: Image.Image) -> Image.Image:
    return photo.resize((128, 96), Image.Resampling.LANCZOS)


def _mse(a: Image.Image, b: Image.Image) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(((x - y) ** 2).mean())


def test_exactly_the_ten_calibration_types() -> None:
    assert len(CALIBRATION_TYPES) == 10 == len(set(CALIBRATION_TYPES))
    assert set(kadid.LEVELS) == set(CALIBRATION_TYPES) == set(kadid.TYPE_NUMBERS)
    assert all(len(v) == 5 for v in kadid.LEVELS.values())


@pytest.mark.parametrize("name", ["gblur", "Gaussian", "Lens", "", "JPEG2000", "Saturation"])
def test_allow_list_rejects_other_names(ref: Image.Image, name: str) -> None:
    with pytest.raises(UnknownNameError, match="KADID calibration type"):
        distort(ref, name, 1)
    with pytest.raises(UnknownNameError):
        nearest_op(name, 1)


@pytest.mark.parametrize("level", [0, 6, -1, 2.5, True])
def test_levels_are_one_to_five(ref: Image.Image, level: object) -> None:
    with pytest.raises(EditError, match=r"1\.\.5"):
        distort(ref, "GBLUR", level)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", CALIBRATION_TYPES)
def test_deterministic_same_size_and_mode(ref: Image.Image, kind: str) -> None:
    a = distort(ref, kind, 4, seed=3)
    b = distort(ref, kind, 4, seed=3)
    assert a.size == ref.size and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "kind", ["AWGN", "Multiplicative_Noise", "Impulse_Noise", "Color_Block", "Jitter"]
)
def test_random_types_depend_on_the_seed(ref: Image.Image, kind: str) -> None:
    a, b = distort(ref, kind, 5, seed=0), distort(ref, kind, 5, seed=1)
    assert not np.array_equal(np.asarray(a), np.asarray(b))


def test_non_rgb_input_is_converted(ref: Image.Image) -> None:
    out = distort(ref.convert("L"), "AWGN", 2)
    assert out.mode == "RGB" and out.size == ref.size


@pytest.mark.parametrize("kind", CALIBRATION_TYPES)
@pytest.mark.parametrize("seed", [0, 7])
def test_stronger_level_is_a_larger_distortion(ref: Image.Image, kind: str, seed: int) -> None:
    """MSE to the reference (PSNR falling) strictly increases with the level, for every type."""
    mse = [_mse(ref, distort(ref, kind, level, seed=seed)) for level in range(1, 6)]
    assert all(b > a for a, b in itertools.pairwise(mse)), mse
    assert mse[-1] > 20.0  # level 5 is clearly visible (PSNR < 35 dB)


def test_published_parameters_show_in_pixels(ref: Image.Image) -> None:
    """Spot checks of the physical amounts: noise variance, impulse density, block count."""
    flat = Image.new("RGB", (200, 150), (128, 128, 128))
    noisy = np.asarray(distort(flat, "AWGN", 5), dtype=np.float64) / 255.0
    assert noisy.std() == pytest.approx(0.1, rel=0.05)  # variance 0.01
    mult = np.asarray(distort(flat, "Multiplicative_Noise", 5), dtype=np.float64) / 255.0
    assert mult.std() == pytest.approx(128 / 255 * np.sqrt(0.05), rel=0.05)
    imp = np.asarray(distort(flat, "Impulse_Noise", 5))
    hit = (imp == 0) | (imp == 255)
    assert hit.mean() == pytest.approx(0.03, rel=0.1)  # density 0.03 per channel value
    blocks = np.asarray(distort(flat, "Color_Block", 1)).astype(int)
    changed = (np.abs(blocks - 128).sum(axis=2) > 3).sum()
    assert 0 < changed <= 2 * 32 * 32
    grey = np.asarray(distort(flat, "Saturation_Dist._Lab", 5))
    assert np.abs(grey.astype(int) - 128).max() <= 1  # no chroma to scale on grey


def test_jpeg_matches_pillow_quality(ref: Image.Image) -> None:
    import io

    buf = io.BytesIO()
    ref.save(buf, format="JPEG", quality=4)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        expected = np.asarray(im.convert("RGB"))
    assert np.array_equal(np.asarray(distort(ref, "JPEG", 5)), expected)


def test_nearest_op_strengths_follow_the_parameter() -> None:
    assert nearest_op("GBLUR", 4) == [
        {"op": "gaussian_blur", "strength": pytest.approx(2.0 / 6.0, abs=1e-5)}
    ]
    jpeg = nearest_op("JPEG", 1)
    assert jpeg is not None and create_edit("jpeg").physical(jpeg[0]["strength"]) == (
        pytest.approx(43, abs=0.01)
    )
    awgn = nearest_op("AWGN", 2)
    assert awgn is not None
    assert create_edit("gaussian_noise").physical(awgn[0]["strength"]) == pytest.approx(
        np.sqrt(0.002) * 255, rel=1e-4
    )
    for kind in ("Impulse_Noise", "Color_Block", "Jitter"):
        assert all(nearest_op(kind, lv) is None for lv in range(1, 6))


@pytest.mark.parametrize("kind", [k for k in CALIBRATION_TYPES if nearest_op(k, 1) is not None])
def test_nearest_op_is_a_valid_non_decreasing_chain(kind: str) -> None:
    strengths = []
    for level in range(1, 6):
        chain = nearest_op(kind, level)
        assert chain is not None and len(chain) == 1
        EditChain(chain)  # the op exists and the strength is in range
        strengths.append(chain[0]["strength"])
    assert all(0.0 <= s <= 1.0 for s in strengths)
    assert strengths == sorted(strengths) and strengths[-1] > strengths[0]
