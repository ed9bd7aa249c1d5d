"""CompactNet, the pair view, weights files and load_assessor (tiny CNN, no training)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from PIL import Image

import redaes
from redaes.assessors import create_assessor
from redaes.errors import ConfigError
from redaes.models import (
    CompactAssessor,
    CompactNet,
    ModelConfig,
    load_assessor,
    load_weights,
    pair_view,
    read_config,
    save_weights,
)


def tiny_net(seed: int = 0) -> CompactNet:
    torch.manual_seed(seed)
    net = CompactNet(
        ModelConfig(
            backbone="tiny-cnn",
            input_size=64,
            scaling="unit",
            dropout=0.0,
            recipe={"test": True},
            data={"pairs": 0},
        )
    )
    with torch.no_grad():  # a non-trivial head so scores differ between images
        net.head.weight.normal_(0, 2.0)
    return net.eval()


@pytest.fixture
def images(photo: Image.Image) -> list[Image.Image]:
    return [photo.crop((i * 60, i * 40, i * 60 + 300, i * 40 + 260)) for i in range(5)]


def test_scores_and_stds_in_range(images):
    net = tiny_net()
    s, sd = net.scores(torch.stack([net.preprocess(im) for im in images]))
    assert all(0.0 <= v <= 10.0 for v in s) and len(set(s)) > 1
    assert all(v >= net.config.min_std for v in sd)


def test_batched_equals_single(images):
    a = CompactAssessor(net=tiny_net(), batch_size=8)
    b = CompactAssessor(net=tiny_net(), batch_size=1)
    batched = a.score_with_std(images)
    single = b.score_with_std(images)
    for (s1, d1), (s2, d2) in zip(batched, single, strict=True):
        assert s1 == pytest.approx(s2, abs=1e-5) and d1 == pytest.approx(d2, abs=1e-5)


def test_pair_view_formula():
    v = pair_view(4.0, 0.3, 5.0, 0.4)
    assert v["delta"] == pytest.approx(1.0) and v["delta_std"] == pytest.approx(0.5)
    assert v["p_b_better"] == pytest.approx(0.5 * (1 + math.erf(2.0 / math.sqrt(2))))
    assert pair_view(5.0, 0.0, 5.0, 0.0)["p_b_better"] == 0.5
    assert pair_view(5.0, 0.0, 4.0, 0.0)["p_b_better"] == 0.0


def test_compare_shape(images):
    out = CompactAssessor(net=tiny_net()).compare(images[0], images[1])
    assert set(out) == {"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}
    assert out["delta"] == pytest.approx(out["score_b"] - out["score_a"])


def test_weights_round_trip_carries_config(tmp_path, images):
    net = tiny_net(3)
    net.config.anchor = {"method": "median_of_sources", "value": 5.0, "offset": 4.2}
    path = save_weights(net, tmp_path / "m.safetensors")
    cfg = read_config(path)
    assert cfg["format"] == "redaes-compact" and cfg["backbone"] == "tiny-cnn"
    assert cfg["anchor"]["offset"] == 4.2 and cfg["recipe"] == {"test": True}
    assert cfg["redaes"] == redaes.__version__
    back = load_weights(path)
    x = torch.stack([net.preprocess(im) for im in images])
    assert net.scores(x) == back.scores(x)
    via = load_assessor(path)
    assert isinstance(via, CompactAssessor)
    assert via.score(images) == CompactAssessor(net=net).score(images)
    assert "weights_sha256" in via.fingerprint()
    made = create_assessor("compact", weights=str(path))
    assert made.score(images[:1]) == via.score(images[:1])


def test_bad_weights_files_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_assessor(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00\x01 not safetensors at all")
    with pytest.raises(ConfigError, match=r"junk\.safetensors"):
        load_assessor(junk)
    # a valid safetensors file without a redaes config
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ConfigError, match="not a redaes model"):
        load_assessor(foreign)
    # truncated weights
    good = save_weights(tiny_net(), tmp_path / "good.safetensors")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ConfigError, match=r"cut\.safetensors"):
        load_assessor(cut)
    # a config naming a different architecture than the tensors
    cfg = read_config(good)
    cfg["backbone"] = "efficientnet-lite0"
    mismatched = tmp_path / "mismatch.safetensors"
    from safetensors.torch import load_file

    save_file(load_file(str(good)), str(mismatched), metadata={"redaes_config": json.dumps(cfg)})
    with pytest.raises(ConfigError, match="do not match"):
        load_assessor(mismatched)


def test_load_assessor_names_and_the_shipped_default(monkeypatch):
    import redaes.models.assessor as assessor_mod
    from redaes.models import default_weights_path, read_config

    assert load_assessor("brisque").name == "brisque"
    shipped = default_weights_path()
    assert shipped is not None and shipped.stat().st_size < 25 * 2**20
    cfg = read_config(shipped)
    assert cfg["backbone"] == "efficientnet-lite0" and cfg["recipe"]["stage"] == 3
    assert cfg["anchor"]["method"] == "median_of_train_sources" and cfg["data"]["train"]["pairs"]
    model = load_assessor()
    assert isinstance(model, CompactAssessor)
    # without shipped weights the error says what to do
    monkeypatch.setattr(assessor_mod, "default_weights_path", lambda: None)
    with pytest.raises(ConfigError, match="redaes train compact"):
        load_assessor()


def test_weights_file_has_the_usual_mode(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = save_weights(tiny_net(), tmp_path / "mode.safetensors")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
