"""The claim checker catches the review's false texts and passes every text of a real build."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.errors import DataError
from redaes.imageio import pil_to_tensor, tensor_to_pil
from redaes.pairs.reasoning import KINDS, check_reasoning, compose, observe
from tests.pairs.conftest import fast_plan


def _edit(img: Image.Image, *ops: str, seed: int = 0) -> Image.Image:
    return tensor_to_pil(EditChain(list(ops))(pil_to_tensor(img), seed))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    from redaes.imageio import load_image, resize_long_side
    from tests.pairs.conftest import DATA

    return resize_long_side(load_image(DATA / "astronaut.jpg"), 256)


@pytest.fixture(scope="module")
def landscape() -> Image.Image:
    """A faceless sky-over-field picture with texture (no people anywhere)."""
    rng = np.random.default_rng(3)
    img = np.zeros((192, 288, 3), np.float32)
    img[:96] = (120, 160, 215)
    img[96:] = (70, 110, 50)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    img[120:180:6] += 25  # furrows
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def noise_pair(photo: Image.Image) -> tuple[Image.Image, Image.Image, str]:
    edited = _edit(photo, "gaussian_noise=0.8", seed=2)
    text = compose(observe(photo), observe(edited, faces=False), -1.4, 0.3, seed=9)
    return photo, edited, text


def _with(text: str, sentence: str) -> str:
    """``sentence`` inserted before the conclusion."""
    head, tail = text.rsplit(" Overall the edit", 1)
    return f"{head} {sentence} Overall the edit{tail}"


def test_generated_noise_text_passes(noise_pair: tuple[Image.Image, Image.Image, str]) -> None:
    src, ed, text = noise_pair
    assert check_reasoning(text, src, ed, -1.4) == []


def test_crisper_edges_on_a_noise_pair_fail(
    noise_pair: tuple[Image.Image, Image.Image, str],
) -> None:
    src, ed, text = noise_pair
    bad = check_reasoning(_with(text, "Edges look crisper."), src, ed, -1.4)
    assert any("crisper" in b for b in bad), bad


def test_cleaner_flat_areas_on_a_blur_pair_fail(photo: Image.Image) -> None:
    ed = _edit(photo, "gaussian_blur=0.8")
    text = compose(observe(photo), observe(ed, faces=False), -2.0, 0.3, seed=1)
    assert check_reasoning(text, photo, ed, -2.0) == []
    bad = check_reasoning(_with(text, "Flat areas are cleaner."), photo, ed, -2.0)
    assert any("cleaner" in b for b in bad), bad


def test_skin_tones_on_a_faceless_photo_fail(landscape: Image.Image) -> None:
    ed = _edit(landscape, "temperature=0.6")
    text = compose(observe(landscape), observe(ed, faces=False), -0.5, 0.2, seed=0)
    assert check_reasoning(text, landscape, ed, -0.5) == []
    bad = check_reasoning(_with(text, "The skin tones turn orange."), landscape, ed, -0.5)
    assert any("face" in b for b in bad), bad


def test_face_count_is_checked(photo: Image.Image, landscape: Image.Image) -> None:
    ed = _edit(photo, "saturation=0.4")
    text = compose(observe(photo), observe(ed, faces=False), 0.3, 0.2, seed=0)
    assert "one face" in text and check_reasoning(text, photo, ed, 0.3) == []
    bad = check_reasoning(text.replace("one face", "two faces"), photo, ed, 0.3)
    assert any("2 faces" in b for b in bad), bad


def test_a_wrong_number_fails(photo: Image.Image) -> None:
    ed = _edit(photo, "exposure=-0.5")
    src, out = observe(photo), observe(ed, faces=False)
    text = compose(src, out, -1.0, 0.3, seed=0)
    k = KINDS["brightness"]
    a, b = k.read(src), k.read(out)
    assert a is not None and b is not None
    right = f"from {k.fmt(a)} to {k.fmt(b)}"
    assert right in text and check_reasoning(text, photo, ed, -1.0) == []
    wrong = text.replace(right, f"from {k.fmt(a)} to {k.fmt(b - 15)}")
    assert any("brightness" in x for x in check_reasoning(wrong, photo, ed, -1.0))
    flipped = re.sub(r"\b(darker|dimmer)\b", "brighter", text)
    assert flipped != text
    assert any("direction" in x for x in check_reasoning(flipped, photo, ed, -1.0))


def test_leaks_fail(photo: Image.Image) -> None:
    ed = _edit(photo, "exposure=0.3")
    text = compose(observe(photo), observe(ed, faces=False), 0.6, 0.2, seed=0)
    for leak in (
        "The source is a degraded copy of the original photo.",
        "The edit restores the exposure.",
        "The gaussian_blur is too strong.",
        "A mild edit at strength 0.3.",
    ):
        bad = check_reasoning(leak + " " + text, photo, ed, 0.6)
        assert any("gives the answer away" in b for b in bad), (leak, bad)


def test_conclusion_must_agree_with_delta(photo: Image.Image) -> None:
    ed = _edit(photo, "contrast=0.4")
    text = compose(observe(photo), observe(ed, faces=False), -0.8, 0.3, seed=0)
    assert check_reasoning(text, photo, ed, -0.8) == []
    assert any("conclusion" in b for b in check_reasoning(text, photo, ed, 0.8))
    assert any("conclusion" in b for b in check_reasoning(text, photo, ed, -0.5))
    assert any("conclusion" in b for b in check_reasoning(text, photo, ed, 0.02))


def test_rule_must_agree_with_the_conclusion_and_the_kind(
    noise_pair: tuple[Image.Image, Image.Image, str],
) -> None:
    src, ed, text = noise_pair
    gain = re.sub(r"[^.]*\b(loss|against it|costs the picture most)\b[^.]*\.", "", text)
    gain = _with(gain, "The main gain is the extra grain.")
    bad = check_reasoning(gain, src, ed, -1.4)
    assert any("contradicts the conclusion" in b for b in bad), bad
    up = gain.replace("lowers", "raises")
    assert any("can only count against" in b for b in check_reasoning(up, src, ed, 1.4))


def test_claim_without_its_measurement_fails(photo: Image.Image) -> None:
    ed = _edit(photo, "exposure=0.3")
    text = compose(observe(photo), observe(ed, faces=False), 0.6, 0.2, seed=0)
    bad = check_reasoning(_with(text, "The extra grain hurts."), photo, ed, 0.6)
    assert any("without its measurement" in b for b in bad), bad


def test_nothing_changed_on_visible_grain_fails(
    noise_pair: tuple[Image.Image, Image.Image, str],
) -> None:
    src, ed, text = noise_pair
    bad = check_reasoning(_with(text, "No measured attribute changed noticeably."), src, ed, -1.4)
    assert any("nothing changed" in b for b in bad), bad


def test_scene_claims_are_checked(landscape: Image.Image) -> None:
    import cv2

    arr = np.asarray(landscape)
    big = cv2.resize(arr, (576, 384))
    rot = cv2.warpAffine(
        big,
        cv2.getRotationMatrix2D((288, 192), 4.0, 1.0),
        (576, 384),
        borderMode=cv2.BORDER_REFLECT,
    )
    tilted = Image.fromarray(rot[96:288, 144:432])
    src = observe(tilted)
    assert src.scene.horizon_deg is not None
    ed = _edit(tilted, "saturation=0.3")
    text = compose(src, observe(ed, faces=False), 0.2, 0.1, seed=0)
    assert "horizontal lines tilted" in text and check_reasoning(text, tilted, ed, 0.2) == []
    wrong = re.sub(r"lines tilted \d+\.\d", "lines tilted 9.0", text)
    assert any("horizontal" in b for b in check_reasoning(wrong, tilted, ed, 0.2))
    warm = check_reasoning("This is a warm-toned scene. " + text, tilted, ed, 0.2)
    assert any("intent" in b for b in warm)


def test_every_pair_of_a_prior_build_passes(photos: Path, tmp_path: Path) -> None:
    """A real build with the prior judge: every text is backed by its re-measured images."""
    from redaes.pairs import build

    plan = fast_plan(
        judges=["prior"],
        ops={
            "exposure": 1.0,
            "contrast": 1.0,
            "saturation": 1.0,
            "gaussian_blur": 1.0,
            "gaussian_noise": 1.0,
            "temperature": 1.0,
            "crop_thirds": 0.5,
            "rotate": 0.5,
        },
        max_side=128,
    )
    out = tmp_path / "red"
    build(photos, out, 24, plan, seed=11)
    import pyarrow.parquet as pq

    shards = sorted((out / "data").glob("*.parquet"))
    rows = [r for f in shards for r in pq.read_table(f).to_pylist()]
    assert len(rows) == 24
    for row in rows:  # a row is checked as it is stored: text, delta and both encoded images
        bad = check_reasoning(row)
        assert bad == [], (row["edits"], row["reasoning"], bad)
        assert "degraded" not in row["reasoning"]
    with pytest.raises(DataError, match="edited_image"):
        check_reasoning({k: v for k, v in rows[0].items() if k != "edited_image"})
