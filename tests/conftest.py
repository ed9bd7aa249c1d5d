"""Shared fixtures: small deterministic photos (no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
torch.set_num_threads(min(2, os.cpu_count() or 1))

DATA = Path(__file__).resolve().parents[1] / "src" / "redaes" / "assets"


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """The bundled astronaut photo (512x512 RGB)."""
    with Image.open(DATA / "astronaut.jpg") as im:
        return im.convert("RGB")


@pytest.fixture(scope="session")
def small_photo(photo: Image.Image) -> Image.Image:
    """A 96x80 crop-resize of the bundled photo (fast tests)."""
    return photo.resize((96, 80), Image.Resampling.LANCZOS)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def natural_like(h: int = 64, w: int = 80, seed: int = 0) -> torch.Tensor:
    """A smooth random colour image with texture, as a (3, H, W) float tensor in [0.1, 0.9]."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(3, h // 8 + 1, w // 8 + 1, generator=g)
    x = torch.nn.functional.interpolate(
        base[None], size=(h, w), mode="bicubic", align_corners=False
    )[0]
    x = x + 0.05 * torch.rand(3, h, w, generator=g)
    return (0.1 + 0.8 * (x - x.min()) / (x.max() - x.min())).clamp(0, 1)


@pytest.fixture
def image_batch() -> torch.Tensor:
    """Three different natural-like images, (3, 3, 64, 80)."""
    return torch.stack([natural_like(seed=s) for s in range(3)])
