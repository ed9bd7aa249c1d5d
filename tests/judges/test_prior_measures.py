"""Measurements that mean what they say: grain is not lost detail, white balance is not colour,
chroma speckle is not colour, and the teacher's content rules (high key, warm white balance,
like-with-like tilts) decide the verdicts they are documented to decide."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain, create_edit
from redaes.judges import PairContext
from redaes.judges.prior import PriorJudge
from redaes.judges.prior.terms import CHROMA_FLOOR, cast_excess, tilt_pair
from redaes.scene import SceneInfo
from redaes.stats import LOG_NOISE_GAIN, measure
from tests.conftest import natural_like

_J = PriorJudge(perturb=False)


def _judge(src: Image.Image, steps: list[str]) -> float:
    chain = EditChain(steps)
    res = _J.judge(src, chain.apply_pil(src, seed=0), PairContext(chain, seed=0))
    assert res.ok and res.delta is not None
    return float(res.delta)


def _pil(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def medium(photo: Image.Image) -> Image.Image:
    return photo.resize((256, 256), Image.Resampling.LANCZOS)


def test_log_noise_gain_is_the_measured_gain_of_the_detail_filter() -> None:
    noise = np.random.default_rng(0).normal(size=(512, 512)).astype(np.float32)
    log = cv2.Laplacian(cv2.GaussianBlur(noise, (0, 0), 1.0), cv2.CV_32F)
    assert float(log.var()) == pytest.approx(LOG_NOISE_GAIN, rel=0.05)


def test_added_grain_is_not_read_as_lost_detail(medium: Image.Image) -> None:
    noisy = create_edit("gaussian_noise").apply_pil(medium, 0.3, seed=0)
    clean, grainy = measure(medium), measure(noisy)
    assert grainy.noise > clean.noise + 3.0
    assert grainy.detail == pytest.approx(clean.detail, rel=0.15)
    res = _J.judge(medium, noisy, PairContext(EditChain(["gaussian_noise=0.3"])))
    sharp = next(t for t in res.extra["terms"] if t["name"] == "sharpness")
    assert abs(sharp["contribution"]) < 0.3  # the noise term carries the verdict, once


def test_grain_adds_no_colour(medium: Image.Image) -> None:
    noisy = create_edit("gaussian_noise").apply_pil(medium, 0.3, seed=0)
    assert measure(noisy).chroma_rel == pytest.approx(measure(medium).chroma_rel, rel=0.1)
    assert measure(noisy).chroma > measure(medium).chroma  # raw chroma does see the speckle


@pytest.mark.parametrize("strength", [-0.4, 0.4])
def test_white_balance_shift_is_not_colour(medium: Image.Image, strength: float) -> None:
    shifted = create_edit("temperature").apply_pil(medium, strength, seed=0)
    before, after = measure(medium), measure(shifted)
    assert abs(after.cast_b - before.cast_b) > 3.0  # the cast estimate sees the shift
    assert after.chroma_rel == pytest.approx(before.chroma_rel, rel=0.12)


def test_warming_a_grey_scene_buys_no_saturation() -> None:
    x = natural_like(96, 128, seed=1).permute(1, 2, 0).numpy()
    grey = _pil(np.repeat((0.2 + 0.5 * x).mean(axis=2, keepdims=True), 3, axis=2))
    warm = create_edit("temperature").apply_pil(grey, 0.6, seed=0)
    assert measure(warm).chroma_rel < CHROMA_FLOOR
    res = _J.judge(grey, warm, PairContext(EditChain(["temperature=0.6"])))
    sat = next(t for t in res.extra["terms"] if t["name"] == "saturation")
    assert sat["contribution"] == pytest.approx(0.0, abs=0.02)
    assert float(res.delta or 0.0) < 0


def test_cooling_a_mildly_warm_white_balance_is_not_an_improvement() -> None:
    x = natural_like(96, 128, seed=3).permute(1, 2, 0).numpy()
    grey = _pil(np.repeat((0.25 + 0.5 * x).mean(axis=2, keepdims=True), 3, axis=2))
    mildly_warm = create_edit("temperature").apply_pil(grey, 0.3, seed=0)
    assert 3.0 < measure(mildly_warm).cast_b < 8.0
    assert _judge(mildly_warm, ["temperature=-0.3"]) <= 0.05


def test_darkening_a_high_key_scene_is_not_an_improvement() -> None:
    x = natural_like(96, 128, seed=4).permute(1, 2, 0).numpy()
    bright = _pil(0.8 + 0.12 * (x - 0.5))  # light tones, soft contrast: a white interior
    assert measure(bright).luminance > 0.72
    assert _judge(bright, ["exposure=-0.4"]) < 0
    assert _judge(bright, ["gamma=-1.0"]) < 0


def _scene(horizon: float | None, verticals: float | None) -> SceneInfo:
    return SceneInfo(
        intent="neutral",
        intent_strength=0.0,
        horizon_deg=horizon,
        verticals_deg=verticals,
        faces=0,
        subject_box=None,
        saliency_centroid=(0.5, 0.5),
        neutral_fraction=0.0,
        neutral_ab=None,
    )


def test_tilts_are_compared_like_with_like() -> None:
    assert tilt_pair(_scene(0.5, None), _scene(3.5, 1.0)) == (0.5, 3.5)
    assert tilt_pair(_scene(None, 0.2), _scene(4.0, 2.2)) == (0.2, 2.2)
    # a horizon the edit lost is never compared with the edit's verticals
    assert tilt_pair(_scene(0.5, None), _scene(None, 4.0)) is None
    assert tilt_pair(_scene(None, None), _scene(1.0, 1.0)) is None


def test_smooth_flat_colour_is_not_a_pasted_block() -> None:
    # a flat orange wall with a gentle gradient at its edge: uniform windows, no hard rim
    arr = np.full((128, 160, 3), (0.78, 0.55, 0.38), np.float32)
    ramp = np.linspace(0.0, 0.06, 40, dtype=np.float32)[None, :, None]
    arr[:, 120:] += ramp
    wall = _pil(arr)
    assert measure(wall).colour_block == 0.0
    pasted = np.asarray(wall, np.float32) / 255.0
    pasted[40:72, 20:52] = (0.1, 0.2, 0.9)  # a 32 x 32 blue patch with a hard step
    assert measure(_pil(pasted)).colour_block > 0.02
    assert _judge(wall, ["gaussian_noise=0.2"]) < 0  # grain does not 'remove' the wall


def test_a_warm_intent_frees_the_warmth_from_neutral_to_the_sunset(medium: Image.Image) -> None:
    st = measure(medium)

    def excess(a: float, b: float, intent: str) -> float:
        return cast_excess(replace(st, cast_a=a, cast_b=b), intent, 1.0)

    for b in (0.0, 6.0, 14.0, 20.0):  # neutral to beyond the sunset's own warmth: all free
        assert excess(2.0, b, "sunset_warm") == 0.0
    assert excess(2.0, -8.0, "sunset_warm") > 0  # blue in evening light is still a cast
    assert excess(2.0, 14.0, "neutral") > 0  # without the intent the same warmth costs
    assert excess(0.0, -12.0, "blue_hour_cool") == 0.0
    assert excess(0.0, -12.0, "neutral") > 0
