"""Reasoning text: measured evidence and a conclusion that agrees with the number."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from redaes.edits import EditChain
from redaes.imageio import pil_to_tensor, tensor_to_pil
from redaes.pairs import reasoning
from redaes.stats import measure


@pytest.mark.parametrize(
    ("delta", "word"),
    [(-0.8, "lowers"), (1.3, "raises"), (0.04, "barely changes"), (-0.09, "barely changes")],
)
def test_conclusion_follows_sign(delta: float, word: str) -> None:
    text = reasoning.conclusion(delta, 0.3, neutral_threshold=0.1)
    assert word in text
    assert f"{abs(delta):.2f}" in text
    assert "0.30" in text


def test_darkening_is_explained_from_measurements(small_photo: Image.Image) -> None:
    chain = EditChain(["exposure=-0.6"])
    edited = tensor_to_pil(chain(pil_to_tensor(small_photo)))
    src, out = measure(small_photo), measure(edited)
    text = reasoning.compose(chain.describe(), src, out, -1.2, 0.4)
    assert chain.describe()[0] in text
    assert "darker" in text
    assert f"{src.luminance:.2f} to {out.luminance:.2f}" in text
    assert text.endswith("lowers the aesthetic score by 1.20 points (uncertainty 0.40).")


def test_blur_and_crop_evidence(small_photo: Image.Image) -> None:
    blurred = tensor_to_pil(EditChain(["gaussian_blur=0.8"])(pil_to_tensor(small_photo)))
    text = " ".join(reasoning.evidence(measure(small_photo), measure(blurred)))
    assert "softer" in text
    cropped = small_photo.crop((0, 0, 60, 50))
    text = " ".join(reasoning.evidence(measure(small_photo), measure(cropped)))
    assert "96x80 to 60x50" in text


def test_identity_has_no_evidence(small_photo: Image.Image) -> None:
    s = measure(small_photo)
    text = reasoning.compose([], s, s, 0.0, 0.0)
    assert "No measured attribute changed" in text and "barely changes" in text


def test_rationale_replaces_evidence_but_not_the_number() -> None:
    s = measure(torch.full((3, 32, 32), 0.5))
    text = reasoning.compose(["x"], s, s, 0.7, 0.2, rationale="Judge says nicer light.")
    assert "Judge says nicer light." in text and "raises" in text and "0.70" in text
