"""Helpers of the evaluation tests: tiny images whose brightness encodes their score."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.eval import fakes


def write_image(path: Path, level: float, size: int = 24) -> Path:
    """A small image with mean brightness ``level`` in [0, 1] (texture keeps it natural)."""
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    base = np.clip(level * 255.0 + rng.normal(0, 3, (size, size, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(base, "RGB").save(path)
    return path


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    fakes.CALLS.clear()
