"""``redaes score`` with a cached ONNX export never imports torch, and scores as before.

The numpy preprocessing equals the torch one, the torch-free assessor equals
``CompactAssessor(runtime="onnx")`` (calibrated too, batched == single), and a subprocess
driving the CLI proves ``torch`` stays out of ``sys.modules`` once the export is cached (and is
imported when it is not, so the check can fail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from redaes.models import CompactAssessor, CompactNet, ModelConfig, save_weights
from redaes.models.calibrate import fit_calibration
from redaes.models.runtime import CachedOnnxAssessor, preprocess_array

pytest.importorskip("onnxruntime")

DRIVER = """
import json, sys
from redaes.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules}))
"""


@pytest.fixture(scope="module")
def net() -> CompactNet:
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", input_size=48, scaling="unit", dropout=0))
    with torch.no_grad():
        net.head.weight.normal_(0, 2.0)
    return net.eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory, net: CompactNet) -> Path:
    return save_weights(net, tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, photo: Image.Image) -> Path:
    root = tmp_path_factory.mktemp("imgs")
    for i in range(4):
        crop = photo.crop((i * 50, i * 30, i * 50 + 250 + i, i * 30 + 199)).resize((121 + i, 97))
        crop.save(root / f"im{i}.jpg", quality=92)
    return root


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REDAES_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_numpy_preprocessing_equals_torch(net: CompactNet, photo: Image.Image) -> None:
    inputs = [
        photo,
        photo.resize((48, 48)),
        np.asarray(photo.resize((65, 31))),
        photo.crop((1, 2, 99, 300)),
    ]
    for im in inputs:
        expected = net.preprocess(im).numpy()
        got = preprocess_array(im, 48)
        assert got.dtype == np.float32 and got.shape == expected.shape == (3, 48, 48)
        assert np.abs(got - expected).max() <= 1e-6
        assert np.array_equal(got, expected)  # in fact bit for bit


def test_cached_assessor_equals_compact(weights: Path, folder: Path, cache: Path) -> None:
    files = sorted(str(p) for p in folder.iterdir())
    assert CachedOnnxAssessor.from_cache(weights, "onnx") is None  # nothing cached yet
    expected = CompactAssessor(weights=weights, runtime="onnx").score_details(files)  # exports
    assert CachedOnnxAssessor.from_cache(weights, "torch") is None
    fast = CachedOnnxAssessor.from_cache(weights, "auto")
    assert fast is not None and fast.input_size == 48
    assert fast.score_details(files) == expected  # same engine, same batches: bit for bit
    small = CachedOnnxAssessor.from_cache(weights, "onnx", batch_size=3)
    assert small is not None
    single = [d for f in files for d in fast.score_details([f])]
    for rows in (small.score_details(files), single):  # batched == single
        for one, row in zip(rows, expected, strict=True):
            assert one == pytest.approx(row, abs=1e-5)


def test_cached_assessor_applies_calibration(
    net: CompactNet, weights: Path, folder: Path, cache: Path
) -> None:
    files = sorted(str(p) for p in folder.iterdir())
    raw = [s for s, _ in CompactAssessor(weights=weights).raw_score_with_std(files)]
    cal = fit_calibration(raw, [1.0, 2.0, 2.5, 4.0][: len(raw)])
    net.config.calibration = cal.to_dict()
    try:
        calibrated = save_weights(net, weights.with_name("cal.safetensors"))
    finally:
        net.config.calibration = None
    expected = CompactAssessor(weights=calibrated, runtime="onnx").score_with_std(files)
    fast = CachedOnnxAssessor.from_cache(calibrated, "onnx")
    assert fast is not None and fast.calibration is not None
    assert fast.score_with_std(files) == expected
    assert fast.score([files[0]]) != [s for s in raw[:1]]  # the map is applied


def _score_subprocess(weights: Path, folder: Path, cache: Path) -> tuple[dict, list]:
    env = {**os.environ, "REDAES_CACHE": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "score", str(folder), "--model", str(weights), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    *rows_text, status = proc.stdout.strip().splitlines()
    return json.loads(status), json.loads("\n".join(rows_text))


def test_score_subprocess_imports_no_torch_once_cached(
    weights: Path, folder: Path, cache: Path
) -> None:
    cold, cold_rows = _score_subprocess(weights, folder, cache)  # exports: needs torch
    assert cold == {"code": 0, "torch": True}
    warm, warm_rows = _score_subprocess(weights, folder, cache)
    assert warm == {"code": 0, "torch": False}
    assert warm_rows == cold_rows and len(warm_rows) == 4
