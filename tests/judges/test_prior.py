"""The prior judge: direction on constructed cases, content awareness, the verdict's record."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EDIT_OPS, EditChain, create_edit
from redaes.judges import JUDGES, PairContext, create_judge
from redaes.judges.prior import PRIOR_VERSION, TERM_UNITS, PriorJudge
from redaes.stats import measure
from tests.conftest import natural_like


def _pil(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _natural(scale: float, offset: float, h: int = 96, w: int = 128) -> Image.Image:
    x = natural_like(h, w, seed=1).permute(1, 2, 0).numpy()
    return _pil(offset + scale * x)


_J = PriorJudge(perturb=False)


def _judge(src: Image.Image, steps: list[str], seed: int = 0) -> float:
    chain = EditChain(steps)
    res = _J.judge(src, chain.apply_pil(src, seed=seed), PairContext(chain, seed=seed))
    assert res.ok and res.delta is not None
    return float(res.delta)


@pytest.fixture(scope="module")
def small(photo: Image.Image) -> Image.Image:
    return photo.resize((160, 160), Image.Resampling.LANCZOS)


def test_registered_and_records_version_terms_scene_and_estimates(small: Image.Image) -> None:
    assert "prior" in JUDGES
    chain = EditChain(["exposure=0.4"])
    res = create_judge("prior").judge(small, chain.apply_pil(small), PairContext(chain))
    ex = res.extra
    assert ex["prior_version"] == PRIOR_VERSION and PRIOR_VERSION.startswith("2.")
    assert {t["name"] for t in ex["terms"]} <= set(TERM_UNITS)
    assert all(set(t) == {"name", "before", "after", "unit", "contribution"} for t in ex["terms"])
    total = sum(t["contribution"] for t in ex["terms"])
    assert res.delta == pytest.approx(5 * math.tanh(total / 5))
    assert ex["scene"]["intent"] and "source_stats" in ex and "edited_stats" in ex
    assert {"rule", "left", "right", "top", "bottom"} <= set(ex["estimates"])
    assert ex["delta_std"] > 0 and res.confidence == pytest.approx(1 / (1 + ex["delta_std"]))


def test_dark_image_exposure_up_helps_down_hurts() -> None:
    dark = _natural(0.25, 0.02)
    assert measure(dark).luminance < 0.25
    assert _judge(dark, ["exposure=0.5"]) > 0.5
    assert _judge(_natural(0.25, 0.05), ["exposure=-0.5"]) < 0


def test_bright_image_exposure_up_to_clipping_hurts() -> None:
    bright = _natural(0.3, 0.62)
    assert _judge(bright, ["exposure=0.7"]) < -0.5


@pytest.mark.parametrize("op", ["gaussian_blur", "gaussian_noise", "downscale", "jpeg"])
def test_damage_hurts_and_grows_with_strength(small: Image.Image, op: str) -> None:
    deltas = [_judge(small, [f"{op}={s}"], seed=1) for s in (0.3, 0.6, 1.0)]
    assert all(d < 0 for d in deltas), deltas
    assert deltas[0] > deltas[1] > deltas[2] >= -5.0, deltas


def test_contrast_helps_a_flat_image() -> None:
    assert _judge(_natural(0.15, 0.4), ["contrast=0.6"]) > 0


def test_white_balance_cast_on_a_neutral_scene_hurts_and_its_removal_helps() -> None:
    grey = np.asarray(_natural(0.5, 0.2), dtype=np.float32).mean(axis=2, keepdims=True) / 255.0
    neutral = _pil(np.repeat(grey, 3, axis=2))
    assert _judge(neutral, ["temperature=0.6"]) < -0.3
    warm = EditChain(["temperature=0.6"]).apply_pil(neutral)
    assert _judge(warm, ["temperature=-0.6"]) > 0.3


def test_draining_a_vivid_photo_is_not_an_improvement() -> None:
    x = natural_like(96, 128, seed=2).permute(1, 2, 0).numpy()
    vivid = _pil(np.clip(0.5 + 1.6 * (x - x.mean(axis=2, keepdims=True)), 0, 1) * 0.9 + 0.05)
    assert measure(vivid).chroma > 25
    assert _judge(vivid, ["saturation=-0.3"]) < 0
    assert _judge(vivid, ["saturation=-1.0"]) < 0


def test_rotating_a_texture_without_lines_is_not_punished_as_a_tilt() -> None:
    tex = _pil(np.random.default_rng(0).uniform(0.2, 0.8, (128, 128, 3)).astype(np.float32))
    chain = EditChain(["rotate=0.5"])
    res = _J.judge(tex, chain.apply_pil(tex), PairContext(chain))
    assert "horizon_tilt" not in {t["name"] for t in res.extra["terms"]}


def test_rotating_a_level_horizon_is_punished() -> None:
    arr = np.full((128, 192, 3), 0.75, np.float32)
    arr[64:] = 0.3  # sky over ground, a sharp level horizon
    arr += np.random.default_rng(1).normal(0, 0.01, arr.shape).astype(np.float32)
    src = _pil(arr)
    chain = EditChain(["rotate=0.6"])
    res = _J.judge(src, chain.apply_pil(src), PairContext(chain))
    tilt = [t for t in res.extra["terms"] if t["name"] == "horizon_tilt"]
    assert tilt and tilt[0]["contribution"] < 0 and abs(tilt[0]["after"]) > 3


@pytest.mark.parametrize("name", EDIT_OPS.names())
def test_every_registered_op_finite_and_bounded(name: str) -> None:
    op = create_edit(name)
    src = _natural(0.7, 0.1)
    for s in (0.35, 1.0, -0.6) if op.info.signed else (0.35, 1.0):
        delta = _judge(src, [f"{name}={s}"], seed=3)
        assert math.isfinite(delta) and -5.0 <= delta <= 5.0


def test_identity_edit_is_neutral() -> None:
    assert abs(_judge(_natural(0.7, 0.1), ["exposure=0.0"])) < 1e-6


def test_restoration_toward_the_original_is_positive_and_away_is_negative(
    small: Image.Image,
) -> None:
    deg = EditChain(["exposure=-0.6"]).apply_pil(small)
    rec = {"source_edits": [{"op": "exposure", "strength": -0.6}]}
    fix, worse = EditChain(["exposure=0.6"]), EditChain(["exposure=-0.3"])
    assert _J.judge(deg, fix.apply_pil(deg), PairContext(fix, meta=rec)).delta > 0.5
    assert _J.judge(deg, worse.apply_pil(deg), PairContext(worse, meta=rec)).delta < -0.3
