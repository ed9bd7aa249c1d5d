"""Edit suggestions: on a photo degraded with a known op the search proposes the inverse."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from redaes.assessors import CallableAssessor
from redaes.edits import create_edit
from redaes.errors import EditError
from redaes.imageio import as_pil
from redaes.models import suggest


def closeness_to(reference: Image.Image) -> CallableAssessor:
    """An assessor that knows the undegraded photo: 10 - 40 x mean |pixel difference|."""
    ref = np.asarray(reference, dtype=np.float64) / 255.0

    def fn(images):
        return [
            10.0
            - 40.0 * float(np.abs(np.asarray(as_pil(im), dtype=np.float64) / 255.0 - ref).mean())
            for im in images
        ]

    return CallableAssessor(fn, name="closeness")


@pytest.mark.parametrize(
    ("op", "strength"), [("exposure", -0.3), ("saturation", -0.5), ("temperature", 0.5)]
)
def test_proposes_the_inverse_of_a_known_degradation(small_photo, op, strength, tmp_path):
    degraded = create_edit(op).apply_pil(small_photo, strength, seed=0)
    out = suggest(closeness_to(small_photo), degraded, top=3, out_dir=tmp_path)
    assert set(out) == {"path", "score", "suggestions"}
    best = out["suggestions"][0]
    assert set(best) == {"edits", "score", "gain", "preview"}
    first = {e["op"]: e["strength"] for e in best["edits"]}
    assert op in first and np.sign(first[op]) == -np.sign(strength)
    gains = [s["gain"] for s in out["suggestions"]]
    assert all(g > 0 for g in gains) and gains == sorted(gains, reverse=True)
    assert best["score"] == pytest.approx(out["score"] + best["gain"])
    assert all(len(s["edits"]) <= 2 for s in out["suggestions"])
    with Image.open(best["preview"]) as im:
        assert im.size == small_photo.size


def test_nothing_to_gain_gives_no_suggestions(small_photo):
    out = suggest(closeness_to(small_photo), small_photo, ops=["exposure", "contrast"])
    assert out["suggestions"] == []
    with pytest.raises(EditError):
        suggest(closeness_to(small_photo), small_photo, top=0)
