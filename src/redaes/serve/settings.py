"""Service limits and the errors the service maps to HTTP status codes."""

from __future__ import annotations

import os
from dataclasses import dataclass

from redaes.errors import RedaesError


@dataclass(frozen=True)
class ServeSettings:
    """Limits of the HTTP service (laptop-safe defaults).

    Args:
        max_request_bytes: largest request body accepted (413 above it).
        max_pixels: decompression-bomb limit per image (400 above it).
        max_images: most images in one ``/v1/score`` request.
        timeout_s: per-request time limit (504 after it).
        queue_size: most requests waiting for the model (503 + ``Retry-After`` above it).
        max_batch: most images in one forward pass.
        batch_wait_ms: how long the batcher waits for more requests before a forward pass
            (only while other requests are being decoded).
        decode_threads: threads decoding uploads (0 = one per CPU core).
        edit_long_side: explain/suggest work on a copy downscaled to this long side (0 = off).
        preview_long_side: long side of the suggestion previews (JPEG data URLs).
        token: bearer token required on ``/v1/*`` when set.
    """

    max_request_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_images: int = 32
    timeout_s: float = 60.0
    queue_size: int = 64
    max_batch: int = 32
    batch_wait_ms: float = 5.0
    decode_threads: int = 0
    edit_long_side: int = 768
    preview_long_side: int = 512
    token: str | None = None

    @classmethod
    def with_env_token(cls, **kwargs: object) -> ServeSettings:
        """Settings whose token defaults to ``REDAES_TOKEN`` when not given."""
        if kwargs.get("token") is None:
            kwargs["token"] = os.environ.get("REDAES_TOKEN") or None
        return cls(**kwargs)  # type: ignore[arg-type]


class ServeError(RedaesError):
    """A request the service refuses; ``status`` is the HTTP status code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class BusyError(ServeError):
    """The model queue is full (503 with ``Retry-After``)."""

    status = 503
    code = "busy"


class TooLargeError(ServeError):
    """The request body exceeds ``max_request_bytes`` (413)."""

    status = 413
    code = "too_large"


class UnknownModelError(ServeError):
    """A ``model`` that this server did not load (404)."""

    status = 404
    code = "unknown_model"
