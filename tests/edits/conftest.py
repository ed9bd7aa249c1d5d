"""Fixtures of the edit tests."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from redaes.imageio import pil_to_tensor


@pytest.fixture
def photo_tensor(small_photo: Image.Image) -> torch.Tensor:
    """The small bundled photo as a (3, H, W) tensor."""
    return pil_to_tensor(small_photo)
