"""An app with a stand-in model, for writing and checking the OpenAPI schema without weights."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from redaes.assessors.base import Assessor
from redaes.imageio import ImageInput
from redaes.serve.app import create_app
from redaes.serve.settings import ServeSettings


class _Constant(Assessor):
    name = "constant"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        return [5.0 for _ in images]


def schema_app(settings: ServeSettings | None = None) -> FastAPI:
    """The service around a constant stand-in model (the schema does not depend on models)."""
    return create_app({"default": _Constant()}, settings)
