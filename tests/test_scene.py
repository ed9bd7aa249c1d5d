"""redaes.scene: intent, horizon/verticals, faces, saliency and neutrals on synthetic images."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from PIL import Image

from redaes.edits import create_edit
from redaes.scene import INTENTS, SceneInfo, analyse


def _horizon(deg: float, w: int = 384, h: int = 256) -> Image.Image:
    """Sky over ground with the horizon rotated ``deg`` counter-clockwise (cropped, no borders)."""
    img = np.zeros((2 * h, 2 * w, 3), np.uint8)
    img[:h] = (150, 180, 230)
    img[h:] = (60, 90, 50)
    rot = cv2.getRotationMatrix2D((w, h), deg, 1.0)  # OpenCV: positive = counter-clockwise
    big = cv2.warpAffine(img, rot, (2 * w, 2 * h), borderMode=cv2.BORDER_REFLECT)
    return Image.fromarray(big[h // 2 : h // 2 + h, w // 2 : w // 2 + w])


def _noise(seed: int = 0, size: tuple[int, int] = (256, 384)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((*size, 3)) * 255).astype(np.uint8))


@pytest.mark.parametrize("deg", [0.0, 2.0, -4.8, 9.0])
def test_tilted_horizon_within_one_degree(deg: float) -> None:
    got = analyse(_horizon(deg)).horizon_deg
    assert got is not None
    assert abs(got - deg) <= 1.0


def test_rotate_op_sign_matches_horizon_sign() -> None:
    op = create_edit("rotate")  # +1 = +10 degrees
    got = analyse(op.apply_pil(_horizon(0.0), 0.4)).horizon_deg
    assert got is not None and abs(got - 4.0) <= 1.0


def test_vertical_lines() -> None:
    img = np.full((256, 384, 3), 200, np.uint8)
    for x in (80, 190, 300):
        img[:, x : x + 6] = 30
    big = cv2.warpAffine(
        img,
        cv2.getRotationMatrix2D((192, 128), 3.0, 1.0),
        (384, 256),
        borderMode=cv2.BORDER_REFLECT,
    )
    info = analyse(Image.fromarray(big[40:216, 60:324]))
    assert info.verticals_deg is not None and abs(info.verticals_deg - 3.0) <= 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_noise_texture_has_no_lines(seed: int) -> None:
    info = analyse(_noise(seed))
    assert info.horizon_deg is None and info.verticals_deg is None


def test_face_free_images_have_no_faces() -> None:
    assert analyse(_horizon(3.0)).faces == 0
    assert analyse(_noise()).faces == 0


def test_bundled_portrait_has_one_face(small_photo: Image.Image) -> None:
    from redaes.imageio import load_image
    from tests.pairs.conftest import DATA

    assert analyse(load_image(DATA / "astronaut.jpg")).faces == 1


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    t = np.linspace(0, 1, 256)[:, None, None]
    arr = (1 - t) * np.array(top) + t * np.array(bottom)
    return Image.fromarray(np.broadcast_to(arr, (256, 384, 3)).astype(np.uint8))


def test_intents() -> None:
    sunset = analyse(_gradient((250, 170, 60), (170, 60, 20)))
    assert sunset.intent == "sunset_warm" and sunset.intent_strength > 0.5
    blue = analyse(_gradient((40, 70, 150), (10, 25, 70)))
    assert blue.intent == "blue_hour_cool"
    high = analyse(_gradient((245, 243, 240), (200, 198, 195)))
    assert high.intent == "high_key"
    low = np.full((256, 384, 3), 18, np.uint8)
    low[100:140, 170:220] = 230  # a lit subject in the dark
    assert analyse(Image.fromarray(low)).intent == "low_key"
    under = np.full((256, 384, 3), 25, np.uint8)  # merely underexposed: no highlight
    assert analyse(Image.fromarray(under)).intent == "neutral"
    grey = analyse(_gradient((160, 160, 160), (90, 90, 90)))
    assert grey.intent == "neutral" and grey.intent_strength == 0.0
    assert {sunset.intent, blue.intent, high.intent} <= set(INTENTS)


def test_subject_box_finds_an_object_off_centre() -> None:
    img = np.full((256, 384, 3), 120, np.uint8)
    img[30:90, 260:340] = (230, 40, 40)
    info = analyse(Image.fromarray(img))
    assert info.subject_box is not None
    x0, y0, x1, y1 = info.subject_box
    assert x0 <= 260 / 384 + 0.05 and x1 >= 340 / 384 - 0.05 and y0 <= 30 / 256 + 0.05
    assert x0 > 0.4 and y1 < 0.6  # it is a box around the object, not the frame
    cx, cy = info.saliency_centroid
    assert cx > 0.55 and cy < 0.45
    flat = analyse(Image.fromarray(np.full((64, 64, 3), 100, np.uint8)))
    assert flat.subject_box is None and flat.saliency_centroid == (0.5, 0.5)


def test_neutrals_and_cast() -> None:
    grey = analyse(Image.fromarray(np.full((64, 96, 3), 128, np.uint8)))
    assert grey.neutral_fraction == 1.0 and grey.neutral_ab is not None
    assert max(abs(v) for v in grey.neutral_ab) < 1.0
    warm = analyse(Image.fromarray(np.full((64, 96, 3), (140, 128, 112), np.uint8)))
    assert warm.neutral_ab is not None and warm.neutral_ab[1] > 3.0  # b* > 0: yellowish greys
    vivid = analyse(Image.fromarray(np.full((64, 96, 3), (20, 200, 40), np.uint8)))
    assert vivid.neutral_fraction == 0.0 and vivid.neutral_ab is None


def test_deterministic_round_trip_and_cheap(small_photo: Image.Image) -> None:
    img = _horizon(4.0).resize((512, 340))
    a, b = analyse(img), analyse(img)
    assert a == b
    d = a.to_dict()
    assert SceneInfo.from_dict(d) == a
    import json

    assert json.loads(json.dumps(d)) == d
    t0 = time.perf_counter()
    for _ in range(3):
        analyse(img)
    assert (time.perf_counter() - t0) / 3 < 0.25  # generous bound for a shared 2-core machine
