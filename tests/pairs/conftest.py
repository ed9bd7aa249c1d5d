"""Fixtures of the pair-engine tests: a folder of tiny photos and a fast plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import tests.pairs.judges_for_tests  # noqa: F401  (registers the test judges)
from redaes.pairs.plan import PairPlan

DATA = Path(__file__).resolve().parents[2] / "src" / "redaes" / "assets"
PLUGIN = "tests.pairs.judges_for_tests"
FAST_OPS = {
    "exposure": 1.0,
    "contrast": 1.0,
    "saturation": 1.0,
    "gaussian_blur": 1.0,
    "crop_thirds": 0.5,
}


def make_photos(folder: Path, n: int = 4) -> Path:
    """``n`` small distinct photos cut from the bundled astronaut (64-96 px)."""
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(DATA / "astronaut.jpg") as im:
        base = im.convert("RGB")
    sizes = [(96, 80), (80, 96), (64, 64), (96, 64), (72, 72), (88, 66)]
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        box = (i * 40, i * 25, i * 40 + 300, i * 25 + 300)
        base.crop(box).resize((w, h), Image.Resampling.LANCZOS).save(folder / f"p{i}.jpg")
    return folder


def fast_plan(**changes: object) -> PairPlan:
    """A plan over a few fast ops with the brightness test judge and small blocks."""
    kw: dict[str, object] = {
        "ops": dict(FAST_OPS),
        "judges": ["test:brightness"],
        "max_side": 96,
        "block_size": 3,
        "rows_per_shard": 5,
        "chain_length": 3,
        "chain_prob": 0.3,
        "split_ratios": {"train": 0.5, "validation": 0.25, "test": 0.25},
        # the global strength rules only (the default plan's per-op spans and signs are
        # tested in test_plan.py)
        "op_strength": {},
        "op_positive_prob": {},
        "multi_op_prob": 0.25,
    }
    kw.update(changes)
    return PairPlan(**kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photos(tmp_path_factory.mktemp("photos"), n=6)
