"""The shipped default model (``compact-default``): what it must get right on the bundled photos.

These assert behaviour of the trained weights, so they fail when a retrained default gets worse:
obvious damage must lower the score, and the pair view must agree with the scores.
"""

from __future__ import annotations

from importlib import resources

import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.models import load_assessor

PHOTOS = ["chelsea.jpg", "coffee.jpg"]
DAMAGE = ["gaussian_blur=0.8", "poisson_noise=0.8", "jpeg=0.9", "downscale=0.8"]


@pytest.fixture(scope="module")
def model():
    return load_assessor()


def _photo(name: str) -> Image.Image:
    with resources.as_file(resources.files("redaes.assets") / name) as path:
        return Image.open(path).convert("RGB")


@pytest.mark.parametrize("name", PHOTOS)
def test_default_model_punishes_obvious_damage(model, name):
    photo = _photo(name)
    base = model.score([photo])[0]
    for step in DAMAGE:
        damaged = EditChain([step]).apply_pil(photo, seed=0)
        assert model.score([damaged])[0] < base - 0.1, step


def test_default_model_scores_in_range_and_pairs_agree(model):
    a, b = _photo("chelsea.jpg"), _photo("coffee.jpg")
    (sa, sda), (sb, sdb) = model.score_with_std([a, b])
    assert 0.0 <= sa <= 10.0 and 0.0 <= sb <= 10.0 and sda > 0 and sdb > 0
    view = model.compare(a, b)
    assert view["delta"] == pytest.approx(sb - sa, abs=1e-4)
    assert (view["p_b_better"] > 0.5) == (sb > sa)
