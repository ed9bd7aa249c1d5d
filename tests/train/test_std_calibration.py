"""Post-training std calibration: the fit, validation-only data, old weights, scores kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from redaes.models import CompactAssessor
from redaes.models.net import CompactNet, ModelConfig
from redaes.models.weights import META_KEY, load_weights, read_config, save_weights
from redaes.train import train_compact
from redaes.train.data import load_pairs
from redaes.train.evaluate import calibrate_std, coverage, fit_std_scale
from tests.train.conftest import tiny_config


def test_fit_recovers_a_known_scale() -> None:
    rng = np.random.default_rng(0)
    sd = rng.uniform(0.1, 1.5, 40_000)  # heteroscedastic predicted stds
    for k in (0.5, 1.0, 1.8):
        r = rng.normal(0.0, k * sd)
        assert fit_std_scale(r, sd**2) == pytest.approx(k, rel=0.02)
        cov = coverage(r, fit_std_scale(r, sd**2) * sd)
        assert cov["coverage_68"] == pytest.approx(0.683, abs=0.01)
        assert cov["coverage_95"] == pytest.approx(0.95, abs=0.01)
    # degenerate input: nothing to fit
    assert fit_std_scale([], []) == 1.0
    assert fit_std_scale([0.0, 0.0], [1.0, 1.0]) == 1.0


@pytest.fixture(scope="module")
def trained(tiny_red: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calib") / "run"
    train_compact(tiny_config(tiny_red, out))
    return out


def test_calibration_uses_validation_rows_only(trained: Path, tiny_red: Path) -> None:
    cfg = tiny_config(tiny_red, trained)
    record = json.loads((trained / "std_calibration.json").read_text())
    val = load_pairs(tiny_red, "validation", cfg.model.input_size)
    assert record["pairs"] == len(val.delta)
    # refit by hand on the validation split: same value, the one stored in the weights
    net = load_weights(trained / "stage3" / "model.safetensors")
    again = calibrate_std(net, val, cfg)
    assert again["std_scale"] == pytest.approx(record["std_scale"], rel=1e-9)
    assert read_config(trained / "model.safetensors")["std_scale"] == record["std_scale"]
    # the test split (or the training split) would give another value: it is not what was used
    test = load_pairs(tiny_red, "test", cfg.model.input_size)
    other = calibrate_std(load_weights(trained / "stage3" / "model.safetensors"), test, cfg)
    assert other["std_scale"] != pytest.approx(record["std_scale"], rel=1e-6)
    # labels of the validation rows drive the fit
    val.delta = val.delta + 1.0
    shifted = calibrate_std(load_weights(trained / "stage3" / "model.safetensors"), val, cfg)
    assert shifted["std_scale"] > record["std_scale"]
    assert record["after"]["coverage_68"] >= 0.0 and record["before"]["coverage_95"] <= 1.0


def test_scores_unchanged_only_std_scaled(trained: Path, tiny_red: Path) -> None:
    k = read_config(trained / "model.safetensors")["std_scale"]
    assert k != 1.0
    assert read_config(trained / "stage3" / "model.safetensors")["std_scale"] == 1.0
    plain = CompactAssessor(trained / "stage3" / "model.safetensors", runtime="torch")
    calib = CompactAssessor(trained / "model.safetensors", runtime="torch", batch_size=4)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (40, 48, 3), dtype=np.uint8) for _ in range(6)]
    a, b = plain.score_with_std(images), calib.score_with_std(images)
    assert [s for s, _ in a] == [s for s, _ in b]
    assert np.allclose([sd * k for _, sd in a], [sd for _, sd in b], rtol=1e-6)
    # batched == single
    single = [calib.score_with_std([im])[0] for im in images]
    assert np.allclose(single, b, rtol=0, atol=1e-6)
    pair = calib.compare(images[0], images[1])
    ref = plain.compare(images[0], images[1])
    assert pair["delta"] == pytest.approx(ref["delta"], abs=1e-9)
    assert pair["delta_std"] == pytest.approx(k * ref["delta_std"], rel=1e-6)


def test_onnx_path_scales_std(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redaes.models.runtime import onnx_available

    if not onnx_available():
        pytest.fail("onnxruntime and onnx are part of the dev environment")
    monkeypatch.setenv("REDAES_CACHE", str(tmp_path))
    k = read_config(trained / "model.safetensors")["std_scale"]
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(3)]
    eager = CompactAssessor(trained / "model.safetensors", runtime="torch").score_with_std(images)
    onnx = CompactAssessor(trained / "model.safetensors", runtime="onnx").score_with_std(images)
    plain = CompactAssessor(trained / "stage3" / "model.safetensors", runtime="onnx")
    assert np.allclose(onnx, eager, atol=1e-4)
    assert np.allclose(
        [sd for _, sd in onnx], [k * sd for _, sd in plain.score_with_std(images)], rtol=1e-5
    )


def test_weights_without_the_field_load_with_scale_one(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(backbone="tiny-cnn", input_size=32, scaling="unit", pretrained=False)
    net = CompactNet(cfg)
    path = save_weights(net, tmp_path / "new.safetensors")
    stored = read_config(path)
    del stored["std_scale"]  # as written before the field existed
    old = tmp_path / "old.safetensors"
    save_file(load_file(str(path)), str(old), metadata={META_KEY: json.dumps(stored)})
    loaded = load_weights(old)
    assert loaded.config.std_scale == 1.0
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x)[1], net.eval()(x)[1])
