"""The prior judge: direction on constructed cases, bounds for every registered op."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from PIL import Image

from redaes.edits import EDIT_OPS, EditChain, create_edit
from redaes.judges import JUDGES, PairContext, create_judge
from redaes.judges.prior import RULES, StepEffect, combine, step_effect
from redaes.stats import measure
from tests.conftest import natural_like

TASK_OPS = (  # noqa: SIM905
    "exposure contrast highlights shadows gamma black_point saturation vibrance temperature tint "
    "hue vignette film_grain haze clarity sharpen gaussian_blur motion_blur defocus "
    "gaussian_noise poisson_noise jpeg downscale crop_thirds crop_centre rotate aspect"
).split()


def _pil(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _natural(scale: float, offset: float, h: int = 96, w: int = 128) -> Image.Image:
    x = natural_like(h, w, seed=1).permute(1, 2, 0).numpy()
    return _pil(offset + scale * x)


def _judge(src: Image.Image, steps: list[str], seed: int = 0) -> tuple[float, float, str]:
    chain = EditChain(steps)
    edited = chain.apply_pil(src, seed=seed)
    res = create_judge("prior").judge(src, edited, PairContext(chain, seed=seed))
    assert res.ok and res.delta is not None
    return res.delta, res.confidence, res.rationale


def test_registered() -> None:
    assert "prior" in JUDGES


def test_every_task_op_has_a_rule() -> None:
    assert set(TASK_OPS) <= set(RULES)


def test_dark_image_exposure_up_helps() -> None:
    dark = _natural(0.25, 0.02)
    assert measure(dark).luminance < 0.25
    delta, conf, rationale = _judge(dark, ["exposure=0.5"])
    assert delta > 0.5 and 0 < conf <= 1
    assert "luma" in rationale and "exposure" in rationale


def test_bright_image_exposure_up_to_clipping_hurts() -> None:
    bright = _natural(0.3, 0.62)
    assert measure(bright).luminance > 0.6
    delta, _, _ = _judge(bright, ["exposure=0.7"])
    assert delta < -0.5


def test_dark_image_exposure_down_hurts() -> None:
    delta, _, _ = _judge(_natural(0.25, 0.05), ["exposure=-0.5"])
    assert delta < 0


def test_blur_hurts_scaled_by_strength(photo: Image.Image) -> None:
    src = photo.resize((192, 192), Image.Resampling.LANCZOS)
    arr = np.asarray(src, dtype=np.float32) / 255.0
    before = measure(src)
    deltas = []
    for s in (0.2, 0.5, 1.0):
        blurred = cv2.GaussianBlur(arr, (0, 0), sigmaX=0.5 + 4.0 * s)
        deltas.append(step_effect("gaussian_blur", s, before, measure(_pil(blurred))).delta)
    assert all(d < 0 for d in deltas)
    assert deltas[0] > deltas[1] > deltas[2] >= -5.0


def test_noise_hurts_scaled_by_strength(photo: Image.Image) -> None:
    src = photo.resize((160, 160), Image.Resampling.LANCZOS)
    arr = np.asarray(src, dtype=np.float32) / 255.0
    rng = np.random.default_rng(0)
    before = measure(src)
    deltas = [
        step_effect(
            "gaussian_noise", s, before, measure(_pil(arr + rng.normal(0, 0.1 * s, arr.shape)))
        ).delta
        for s in (0.2, 0.6, 1.0)
    ]
    assert deltas[0] > deltas[1] > deltas[2] and deltas[0] < 0


def test_contrast_helps_flat_and_hurts_when_clipping() -> None:
    flat = np.asarray(_natural(0.15, 0.4), dtype=np.float32) / 255.0
    stretched = np.clip((flat - 0.47) * 2.0 + 0.47, 0, 1)
    up = step_effect("contrast", 0.5, measure(_pil(flat)), measure(_pil(stretched)))
    assert up.delta > 0
    punchy = np.asarray(_natural(0.9, 0.05), dtype=np.float32) / 255.0
    crushed = np.clip((punchy - 0.47) * 2.5 + 0.47, 0, 1)
    down = step_effect("contrast", 0.8, measure(_pil(punchy)), measure(_pil(crushed)))
    assert down.delta < 0


def test_white_balance_away_from_neutral_hurts() -> None:
    grey = np.asarray(_natural(0.5, 0.2), dtype=np.float32).mean(axis=2, keepdims=True) / 255.0
    neutral = np.repeat(grey, 3, axis=2)
    warm = neutral * np.array([1.25, 1.0, 0.7], dtype=np.float32)
    eff = step_effect("temperature", 0.6, measure(_pil(neutral)), measure(_pil(warm)))
    back = step_effect("temperature", -0.6, measure(_pil(warm)), measure(_pil(neutral)))
    assert eff.delta < 0 < back.delta


def test_unknown_op_gets_generic_low_confidence_rule() -> None:
    img = _natural(0.6, 0.2)
    eff = step_effect("mystery_op", 0.5, measure(img), measure(img))
    assert eff.confidence <= 0.25 and "no specific rule" in eff.reason
    assert eff.delta == pytest.approx(0.0, abs=1e-9)


def test_combine_has_diminishing_returns_and_bounds() -> None:
    effects = [StepEffect("exposure", 0.5, 4.0, 0.7, "") for _ in range(3)]
    total, conf = combine(effects)
    assert 4.0 < total < 5.0
    assert conf == pytest.approx(0.7 * 0.9**2)
    neg, _ = combine([StepEffect("jpeg", 1.0, -5.0, 0.8, "")] * 4)
    assert -5.0 < neg < -4.5


def test_multi_step_chain_uses_intermediate_stats() -> None:
    dark = _natural(0.2, 0.02)
    delta, conf, rationale = _judge(dark, ["exposure=0.3", "exposure=0.3"])
    assert delta > 0 and rationale.count("exposure") == 2
    bright_delta, _, _ = _judge(_natural(0.3, 0.6), ["exposure=0.4", "exposure=0.5"])
    assert bright_delta < 0
    assert 0 < conf < 0.7


@pytest.mark.parametrize("name", EDIT_OPS.names())
def test_every_registered_op_finite_and_bounded(name: str) -> None:
    op = create_edit(name)
    src = _natural(0.7, 0.1)
    strengths = (0.35, 1.0, -0.6) if op.info.signed else (0.35, 1.0)
    for s in strengths:
        delta, conf, rationale = _judge(src, [f"{name}={s}"], seed=3)
        assert math.isfinite(delta) and -5.0 <= delta <= 5.0
        assert 0.0 <= conf <= 1.0 and name in rationale


def test_identity_edit_is_neutral() -> None:
    src = _natural(0.7, 0.1)
    delta, _, _ = _judge(src, ["exposure=0.0"])
    assert abs(delta) < 0.05


def test_highlight_recovery_helps_blown_images_and_clipping_falls_count_less() -> None:
    blown = _natural(0.6, 0.55)
    before = measure(blown)
    assert before.clip_bright > 0.1
    darker = _pil(np.asarray(blown, dtype=np.float32) / 255.0 * 0.85)
    after = measure(darker)
    recover = step_effect("highlights", -0.8, before, after)
    plain = step_effect("exposure", -0.8, before, after)
    assert recover.delta > plain.delta
    # the same luma change in the other direction: clipping growth costs 4x its fall
    up, down = step_effect("gamma", 0.5, after, before), step_effect("gamma", -0.5, before, after)
    assert -up.delta > down.delta
