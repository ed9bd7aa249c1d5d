"""Reasoning text: measured claims with their numbers, varied wording, the number at the end."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.imageio import pil_to_tensor, tensor_to_pil
from redaes.pairs import reasoning
from redaes.pairs.reasoning import KINDS, check_reasoning, claims, compose, observe


def _edit(img: Image.Image, *ops: str, seed: int = 0) -> Image.Image:
    return tensor_to_pil(EditChain(list(ops))(pil_to_tensor(img), seed))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    from redaes.imageio import load_image, resize_long_side
    from tests.pairs.conftest import DATA

    return resize_long_side(load_image(DATA / "astronaut.jpg"), 256)


@pytest.mark.parametrize(
    ("delta", "word"),
    [(-0.8, "lowers"), (1.3, "raises"), (0.04, "barely changes"), (-0.09, "barely changes")],
)
def test_conclusion_follows_sign(delta: float, word: str) -> None:
    text = reasoning.conclusion(delta, 0.3, neutral_threshold=0.1)
    assert word in text
    assert f"{abs(delta):.2f}" in text
    assert "0.30" in text


def test_darkening_states_the_measured_numbers(photo: Image.Image) -> None:
    chain = EditChain(["exposure=-0.6"])
    edited = _edit(photo, "exposure=-0.6")
    src, out = observe(photo), observe(edited, faces=False)
    text = compose(src, out, -1.2, 0.4, seed=3)
    b = KINDS["brightness"]
    a0, a1 = b.read(src), b.read(out)
    assert a0 is not None and a1 is not None
    assert f"from {b.fmt(a0)} to {b.fmt(a1)}" in text
    assert re.search(r"darker|dimmer", text) and "brighter" not in text
    assert chain.describe()[0] not in text  # the op's own sentence is not a claim
    assert text.endswith("lowers the aesthetic score by 1.20 points (uncertainty 0.40).")
    assert check_reasoning(text, photo, edited, -1.2) == []


def test_noise_is_grain_never_crisper(photo: Image.Image) -> None:
    edited = _edit(photo, "gaussian_noise=0.8", seed=5)
    src, out = observe(photo), observe(edited, faces=False)
    kinds = [c.kind for c in claims(src, out)]
    assert "noise" in kinds and "detail" not in kinds
    for seed in range(6):
        text = compose(src, out, -1.5, 0.3, seed=seed)
        assert not re.search(r"crisp|sharper", text), text
        assert re.search(r"grain", text), text
        assert check_reasoning(text, photo, edited, -1.5) == []


def test_blur_is_softer_never_cleaner(photo: Image.Image) -> None:
    edited = _edit(photo, "gaussian_blur=0.8")
    src, out = observe(photo), observe(edited, faces=False)
    for seed in range(6):
        text = compose(src, out, -2.0, 0.3, seed=seed)
        assert "cleaner" not in text, text
        assert re.search(r"softer|blurrier", text), text
        assert check_reasoning(text, photo, edited, -2.0) == []


def test_crop_states_the_frame_and_the_subject(photo: Image.Image) -> None:
    cropped = photo.crop((0, 0, 170, 200))
    src, out = observe(photo), observe(cropped, faces=False)
    text = compose(src, out, -0.4, 0.3, seed=1)
    assert f"from {photo.width}x{photo.height} px to 170x200 px" in text
    assert check_reasoning(text, photo, cropped, -0.4) == []


def test_identity_says_nothing_changed(photo: Image.Image) -> None:
    s = observe(photo)
    text = compose(s, s, 0.0, 0.0, seed=0)
    assert re.search(r"measure almost the same|Nothing measured differs", text)
    assert "barely changes" in text
    assert check_reasoning(text, photo, photo, 0.0) == []


def test_scene_named_when_detected(photo: Image.Image) -> None:
    src = observe(photo)
    assert src.scene.faces == 1
    text = compose(src, observe(_edit(photo, "saturation=0.6"), faces=False), 0.5, 0.2)
    assert "one face" in text


def test_wording_varies_with_the_seed_and_is_deterministic(photo: Image.Image) -> None:
    edited = _edit(photo, "contrast=0.5")
    src, out = observe(photo), observe(edited, faces=False)
    texts = {compose(src, out, -0.6, 0.2, seed=s) for s in range(8)}
    assert len(texts) >= 4
    assert compose(src, out, -0.6, 0.2, seed=2) == compose(src, out, -0.6, 0.2, seed=2)


def test_terms_choose_the_decisive_claim(photo: Image.Image) -> None:
    edited = _edit(photo, "exposure=0.3", "gaussian_noise=0.6", seed=1)
    src, out = observe(photo), observe(edited, faces=False)
    terms = [
        {"name": "exposure", "before": 0, "after": 0, "unit": "luma", "contribution": 0.4},
        {"name": "noise", "before": 0, "after": 0, "unit": "sigma", "contribution": -1.3},
        {"name": "restoration", "before": 0, "after": 0, "unit": "op", "contribution": 0.9},
    ]
    down = compose(src, out, -0.9, 0.3, seed=4, terms=terms)
    rule = r"(loss|against it|costs the picture most)[^.]*grain|grain is what costs"
    assert re.search(rule, down)
    assert check_reasoning(down, photo, edited, -0.9) == []
    up = compose(src, out, 0.5, 0.3, seed=4, terms=terms)  # noise cannot be the gain, and
    assert "On balance the result looks stronger." in up  # the uncited term outweighs exposure
    assert "restoration" not in up and check_reasoning(up, photo, edited, 0.5) == []
    terms[2]["contribution"] = 0.2
    up = compose(src, out, 0.5, 0.3, seed=4, terms=terms)
    assert re.search(r"brighter exposure", up) and check_reasoning(up, photo, edited, 0.5) == []


def test_rationale_replaces_claims_but_not_the_number(photo: Image.Image) -> None:
    s = observe(photo)
    text = compose(s, s, 0.7, 0.2, rationale="Judge says nicer light.")
    assert "Judge says nicer light." in text and "raises" in text and "0.70" in text
