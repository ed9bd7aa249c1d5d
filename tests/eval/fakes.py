"""Tiny assessors for the evaluation tests, passed to the runner by import path."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from redaes.imageio import ImageInput, as_pil

CALLS: list[int] = []
"""Batch sizes seen by :func:`counting_brightness` (tests reset it)."""


def brightness(images: Sequence[ImageInput]) -> list[float]:
    """Mean brightness times 10: a 0-10 score that is monotone in the pixel level."""
    return [float(np.asarray(as_pil(im), dtype=np.float64).mean() / 255.0 * 10.0) for im in images]


def counting_brightness(images: Sequence[ImageInput]) -> list[float]:
    """:func:`brightness` that records how many images each call scored."""
    CALLS.append(len(images))
    return brightness(images)


def constant(images: Sequence[ImageInput]) -> list[float]:
    """The same score for every image (degenerate predictions)."""
    return [5.0 for _ in images]
