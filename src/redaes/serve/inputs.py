"""Uploaded images -> PIL images, through :func:`redaes.imageio.load_image` only.

Bytes are written to a private temporary file and decoded by ``load_image`` (EXIF, colour,
pixel limit); names sent by clients are labels only and are never opened on the server.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile

from PIL import Image

from redaes.errors import ImageLoadError
from redaes.imageio import encode_image, load_image, resize_long_side
from redaes.serve.settings import ServeError, ServeSettings


def decode_image(
    data: bytes, label: str, settings: ServeSettings, draft: int | None = None
) -> Image.Image:
    """Decode one uploaded image; raise :class:`ServeError` (400) naming ``label``.

    ``draft`` (a model's input side) decodes JPEGs DCT-downscaled to no less than
    ``draft`` x ``draft``, as ``redaes score`` does (:func:`redaes.imageio.load_image`).
    """
    if not data:
        raise ServeError(f"{label}: empty upload", code="bad_image")
    fd, tmp = tempfile.mkstemp(prefix="redaes-upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        size = (draft, draft) if draft else None
        return load_image(tmp, limit=settings.max_pixels, draft=size)
    except ImageLoadError as exc:
        raise ServeError(f"{label}: {exc.problem}", code="bad_image") from None
    finally:
        os.unlink(tmp)


def decode_base64(text: str, label: str) -> bytes:
    """Bytes of a base64 string or ``data:...;base64,`` URL; 400 when malformed."""
    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ServeError(f"{label}: malformed base64 data", code="bad_base64") from None


def working_copy(img: Image.Image, settings: ServeSettings) -> Image.Image:
    """The image explain/suggest work on (downscaled to ``edit_long_side`` when set)."""
    return resize_long_side(img, settings.edit_long_side) if settings.edit_long_side else img


def data_url(img: Image.Image, long_side: int) -> str:
    """A JPEG ``data:`` URL of ``img`` downscaled to ``long_side``."""
    small = resize_long_side(img, long_side) if long_side else img
    return "data:image/jpeg;base64," + base64.b64encode(
        encode_image(small, "JPEG", quality=88)
    ).decode("ascii")
