"""Cached-trunk training (``model.cache_trunk``): same training as fixed-view pixels, cheaper."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from redaes.errors import ConfigError
from redaes.models.backbones import create_backbone
from redaes.train import inputs as inputs_mod
from redaes.train import load_config, train_compact
from redaes.train.config import AugmentConfig
from redaes.train.inputs import WHOLE, apply_box, view_boxes
from redaes.train.report import read_log
from tests.train.conftest import CONFIG, tiny_sets

FIXED_VIEWS = ["augment.views=4", "model.train_last_blocks=2", "model.freeze_bn=true"]


def _cfg(red, out, cache: bool, extra: tuple[str, ...] = ()):
    sets = tiny_sets(red, out, dropout=0.0) + FIXED_VIEWS + [f"model.cache_trunk={cache}"]
    return load_config(CONFIG, sets + list(extra))


@pytest.mark.parametrize("name", ["tiny-cnn", "efficientnet-lite0"])
def test_tail_of_trunk_is_the_forward_pass(name):
    torch.manual_seed(0)
    kw = {"input_size": 32} if name == "tiny-cnn" else {"pretrained": True}
    net = create_backbone(name, **kw).eval()
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        full = net(x)
        for n_tail in (1, 2, len(net.blocks())):
            assert torch.allclose(net.tail(net.trunk(x, n_tail), n_tail), full, atol=1e-6)
    with pytest.raises(ConfigError, match="tail must be"):
        net.trunk(x, 0)


def test_view_boxes_fixed_whole_mirror_then_crops():
    aug = AugmentConfig(crop_min=0.8, hflip=True, views=6)
    boxes = view_boxes(6, aug, seed=0)
    assert boxes[0] == WHOLE and boxes[1] == (1.0, 0.0, 0.0, True) and len(boxes) == 6
    assert boxes == view_boxes(6, aug, seed=0) and boxes != view_boxes(6, aug, seed=1)
    for side, top, left, _ in boxes[2:]:
        assert 0.8 <= side <= 1.0 and 0 <= top <= 1 - side and 0 <= left <= 1 - side
    no_flip = view_boxes(3, AugmentConfig(hflip=False), seed=0)
    assert not any(flip for *_, flip in no_flip) and no_flip[1] != WHOLE
    # one box for every image of a pair: identical images stay identical
    img = torch.randint(0, 255, (1, 3, 40, 40), dtype=torch.uint8)
    pair = apply_box(img.repeat(2, 1, 1, 1), boxes[3], 32)
    assert pair.shape == (2, 3, 32, 32) and torch.equal(pair[0], pair[1])
    assert torch.allclose(apply_box(img, boxes[1], 40)[0], img[0].float().flip(-1) / 255)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_cached_trunk_trains_like_fixed_view_pixels(tiny_red, tmp_path, monkeypatch, dtype):
    monkeypatch.setattr(inputs_mod, "CACHE_DTYPE", dtype)
    pixel = train_compact(_cfg(tiny_red, tmp_path / "pixel", cache=False), stages=[1, 2, 3])
    cached = train_compact(_cfg(tiny_red, tmp_path / "cached", cache=True), stages=[1, 2, 3])
    # float32 features: the same training up to float summation order; float16: close
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 0.2, "atol": 0.05}
    for stage in (1, 2, 3):
        logs = [
            [
                r["loss"]
                for r in read_log(tmp_path / run / f"stage{stage}" / "log.jsonl")
                if "loss" in r
            ]
            for run in ("pixel", "cached")
        ]
        assert len(logs[0]) == len(logs[1]) > 0
        np.testing.assert_allclose(logs[1], logs[0], **tol)
    wa, wb = load_file(str(pixel)), load_file(str(cached))
    w1 = load_file(str(tmp_path / "pixel" / "stage1" / "model.safetensors"))
    assert any(not torch.equal(wa[k], w1[k]) for k in wa)  # the later stages trained
    for k in wa:
        if dtype == torch.float32:
            torch.testing.assert_close(wb[k], wa[k], **tol)
        else:  # float16 rounding moves single weights a little; the whole tensor stays put
            assert float((wb[k] - wa[k]).norm()) <= 0.15 * float(wa[k].norm()) + 1e-4
    assert list((tmp_path / "cached" / "trunk_cache").glob("*.pt"))


def test_trunk_cache_is_reused_and_keyed_by_the_views(tiny_red, tmp_path, monkeypatch):
    train_compact(_cfg(tiny_red, tmp_path / "run", cache=True), stages=[1])
    calls = {"n": 0}
    real = inputs_mod.CachedInputs._compute

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(inputs_mod.CachedInputs, "_compute", counting)
    train_compact(_cfg(tiny_red, tmp_path / "run2", cache=True), stages=[1])
    assert calls["n"] == 2  # a new out_dir computes train + validation again
    calls["n"] = 0
    (tmp_path / "run2" / "stage1" / "ckpt.pt").unlink()
    train_compact(_cfg(tiny_red, tmp_path / "run2", cache=True), stages=[1])
    assert calls["n"] == 0  # same data, views and trunk: read from disk
    train_compact(
        _cfg(tiny_red, tmp_path / "run3", cache=True, extra=("augment.views=2",)), stages=[1]
    )
    assert calls["n"] == 2


def test_cache_trunk_needs_a_frozen_fixed_view_trunk(tiny_red, tmp_path):
    base = [*tiny_sets(tiny_red, tmp_path / "x"), "model.cache_trunk=true"]
    with pytest.raises(ConfigError, match="cache_trunk needs"):
        load_config(CONFIG, [*base, "augment.views=0", "model.train_last_blocks=2"])
    with pytest.raises(ConfigError, match="cache_trunk needs"):
        load_config(CONFIG, [*base, "augment.views=4", "model.train_last_blocks=null"])
    with pytest.raises(ConfigError, match="views must be"):
        load_config(CONFIG, [*tiny_sets(tiny_red, tmp_path / "x"), "augment.views=-1"])
