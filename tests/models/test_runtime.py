"""ONNX runtime engine and the JPEG draft loader (tiny-cnn, no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from redaes.errors import ConfigError
from redaes.imageio import load_image
from redaes.models import runtime
from redaes.models.assessor import CompactAssessor
from redaes.models.net import CompactNet, ModelConfig


def _net() -> CompactNet:
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", pretrained=False, input_size=64))
    torch.nn.init.normal_(net.head.weight, std=0.5)
    return net


def _images() -> list[Image.Image]:
    rng = np.random.RandomState(0)
    return [Image.fromarray(rng.randint(0, 255, (80, 100, 3), dtype=np.uint8)) for _ in range(4)]


def test_onnx_matches_torch_and_reuses_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDAES_CACHE", str(tmp_path))
    net = _net()
    ref = CompactAssessor(net=net, runtime="torch").raw_score_with_std(_images())
    got = CompactAssessor(net=net, runtime="onnx").raw_score_with_std(_images())
    np.testing.assert_allclose(np.array(got), np.array(ref), atol=1e-4)
    files = sorted((tmp_path / "onnx").glob("*"))
    assert [f.suffix for f in files] == [".onnx"]  # no temporary left behind
    mtime = files[0].stat().st_mtime_ns
    CompactAssessor(net=net, runtime="onnx").raw_score_with_std(_images()[:1])
    assert files[0].stat().st_mtime_ns == mtime  # reused, not re-exported


def test_missing_onnxruntime_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "onnx_available", lambda: False)
    assert runtime.resolve_runtime("auto") == "torch"
    with pytest.raises(ConfigError, match="redaes\\[fast\\]"):
        runtime.resolve_runtime("onnx")


def test_draft_loader_keeps_orientation(tmp_path: Path) -> None:
    img = Image.new("RGB", (1600, 800), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, 800, 800))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    path = tmp_path / "r.jpg"
    img.save(path, quality=90, exif=exif)
    slow, fast = load_image(path), load_image(path, draft=(64, 64))
    assert slow.size == (800, 1600)
    assert fast.size[0] >= 64 and fast.size[1] >= 64 and fast.size[1] > fast.size[0]
    assert fast.size[0] < slow.size[0]  # decoded downscaled
    top = np.asarray(fast)[2, fast.size[0] // 2]
    assert top[2] > top[0]  # blue half on top after the upright turn, as in the slow path
    assert np.asarray(slow)[2, 400][2] > np.asarray(slow)[2, 400][0]
