"""Tone intent apart from colour intent, and artefact costs shaped like people's: a deliberately
dark photo is not 'fixed' by brightening, one pasted block or the first impulse specks already
cost, and more of the same adds less."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain, create_edit
from redaes.judges import PairContext
from redaes.judges.kadid import distort
from redaes.judges.prior import PriorJudge
from redaes.judges.prior.judge import damage_visibility, load_weights
from redaes.judges.prior.terms import (
    pair_terms,
    shared_tone,
    u_colour_block,
    u_impulse,
    u_pixelation,
)
from redaes.scene import SceneInfo, analyse
from redaes.stats import measure
from tests.conftest import natural_like

_J = PriorJudge(perturb=False)


def _pil(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _low_key() -> Image.Image:
    """A dark, warm-lit room: dark textured ground, one lamp-lit area reaching near white."""
    x = natural_like(192, 256, seed=7).permute(1, 2, 0).numpy()
    arr = 0.12 + 0.12 * x * np.array([1.0, 0.8, 0.6], np.float32)
    yy, xx = np.mgrid[0:192, 0:256]
    lamp = np.exp(-(((yy - 70) / 28.0) ** 2 + ((xx - 170) / 34.0) ** 2))[..., None]
    arr = arr + lamp * np.array([0.85, 0.75, 0.6], np.float32)
    return _pil(arr)


def _scene(tone: str, strength: float) -> SceneInfo:
    return SceneInfo("neutral", 0.0, None, None, 0, None, (0.5, 0.5), 0.0, None, tone, strength)


def test_low_key_is_a_tone_intent_of_its_own() -> None:
    sc = analyse(_low_key())
    assert sc.tone_intent == "low_key" and sc.tone_strength > 0.5
    # darkening an ordinary photo by a stop pulls its highlights down: not a low key
    x = natural_like(192, 256, seed=3).permute(1, 2, 0).numpy()
    plain = _pil(0.05 + 0.9 * x)
    dark = _pil((0.05 + 0.9 * x) * 0.55)
    assert analyse(plain).tone_strength < 0.2
    assert analyse(dark).tone_strength < 0.5


def test_pair_tone_vote_is_symmetric_and_takes_the_larger_vote() -> None:
    a, b = _scene("low_key", 0.9), _scene("neutral", 0.0)
    assert shared_tone(a, b) == shared_tone(b, a) == ("low_key", pytest.approx(0.9))
    hk = _scene("high_key", 0.8)
    assert shared_tone(hk, b) == ("high_key", pytest.approx(0.8))
    assert shared_tone(b, b) == ("neutral", 0.0)


def test_brightening_a_low_key_photo_earns_nothing_for_exposure() -> None:
    src = _low_key()
    bright = distort(src, "Brighten", 3)  # KADID's mid-tone lift
    res = _J.judge(src, bright, PairContext(EditChain([]), meta={"kadid": "Brighten"}))
    expo = next(t for t in res.extra["terms"] if t["name"] == "exposure")
    assert measure(bright).luminance > measure(src).luminance + 0.05
    assert expo["contribution"] < 0.3
    # the tone vote is what decides: without it the same lift would be paid as a fix
    sc, se = analyse(src), analyse(bright)
    flat = replace(sc, tone_intent="neutral", tone_strength=0.0)
    flat_e = replace(se, tone_intent="neutral", tone_strength=0.0)
    w = load_weights()["terms"]
    paid = next(
        t
        for t in pair_terms(measure(src), measure(bright), flat, flat_e, w)
        if t.name == "exposure"
    )
    assert paid.contribution > expo["contribution"] + 0.5


def test_artefact_costs_are_steep_at_first_and_flatten() -> None:
    for u, first, more in (
        (u_colour_block, 0.007, 0.023),
        (u_impulse, 0.0023, 0.06),
        (u_pixelation, 0.014, 0.31),
    ):

        def cost(x: float, u=u, name=u.__name__[2:]) -> float:
            key = {"colour_block": "colour_block", "impulse": "impulse", "pixelation": "flat"}
            st = replace(measure(_pil(np.full((8, 8, 3), 0.5, np.float32))), **{key[name]: x})
            return -u(st)

        assert cost(0.0) == 0.0
        assert 0.0 < cost(first) < cost(more)
        assert cost(first) / first > cost(more) / more  # concave: the first artefact costs most


def test_one_pasted_block_costs_points(photo: Image.Image) -> None:
    src = photo.resize((512, 384), Image.Resampling.LANCZOS)
    blocked = distort(src, "Color_Block", 1)
    res = _J.judge(src, blocked, PairContext(EditChain([]), meta={"kadid": "Color_Block"}))
    assert res.delta is not None and res.delta < -1.0


def test_restoration_pays_by_how_visible_the_damage_is(photo: Image.Image) -> None:
    colourful = photo.resize((256, 192), Image.Resampling.LANCZOS)
    grey = colourful.convert("L").convert("RGB")
    nearly_grey = Image.blend(grey, colourful, 0.15)
    gains = {}
    for name, original in (("colourful", colourful), ("nearly_grey", nearly_grey)):
        src = create_edit("saturation").apply_pil(original, -0.6, seed=0)
        chain = EditChain(["saturation=0.6"])
        vis = damage_visibility(src, chain.apply_pil(src, seed=0), "saturation", 0.6)
        ctx = PairContext(chain, meta={"source_edits": [{"op": "saturation", "strength": -0.6}]})
        res = _J.judge(src, chain.apply_pil(src, seed=0), ctx)
        assert res.extra["restoration_visibility"] == {"saturation": pytest.approx(vis)}
        gains[name] = (vis, float(res.delta or 0.0))
    assert gains["colourful"][0] > 0.5 > gains["nearly_grey"][0]
    assert gains["colourful"][1] > gains["nearly_grey"][1] + 0.3 > 0.3  # both still repairs
    assert damage_visibility(colourful, grey, "rotate", 0.5) == 1.0
    assert damage_visibility(colourful, grey, "saturation", 0.6) == damage_visibility(
        grey, colourful, "saturation", -0.6
    )
