"""Fixtures of the service tests: a tiny in-memory model and encoded photos (no weights)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from redaes.models import CompactAssessor, CompactNet, ModelConfig
from redaes.serve import ServeSettings, create_app


def tiny_net() -> CompactNet:
    """A tiny CNN with a random head (scores differ between images)."""
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", input_size=48, scaling="unit", dropout=0))
    with torch.no_grad():
        net.head.weight.normal_(0, 2.0)
    return net


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def assessor() -> CompactAssessor:
    return CompactAssessor(net=tiny_net(), runtime="torch")


@pytest.fixture(scope="session")
def crops(photo: Image.Image) -> list[bytes]:
    """Eight different small JPEG crops of the bundled photo."""
    return [
        jpeg(photo.crop((i * 40, i * 25, i * 40 + 200, i * 25 + 160)).resize((100, 80)))
        for i in range(8)
    ]


@pytest.fixture
def client(assessor: CompactAssessor) -> Iterator[TestClient]:
    app = create_app({"tiny": assessor}, ServeSettings(max_request_bytes=2_000_000))
    with TestClient(app) as c:
        yield c
