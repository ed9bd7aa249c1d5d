"""``raw_score``: the model's score before calibration and the clamp to 0-10."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from redaes.cli import main
from redaes.models import CompactAssessor, CompactNet, ModelConfig, save_weights
from redaes.models.calibrate import Calibration
from redaes.models.runtime import onnx_available
from redaes.models.scoring import score_details

RUNTIMES = ["torch", *(["onnx"] if onnx_available() else [])]


def _net(offset: float, spread: float = 0.0) -> CompactNet:
    """A tiny model whose raw scores are ``offset`` (+ a feature-dependent part)."""
    torch.manual_seed(2)
    anchor = {"method": "none", "value": 5.0, "offset": offset}
    net = CompactNet(
        ModelConfig(backbone="tiny-cnn", input_size=48, scaling="unit", dropout=0, anchor=anchor)
    )
    with torch.no_grad():
        net.head.weight.normal_(0, spread)
    return net


@pytest.fixture(scope="module")
def imgs(tmp_path_factory: pytest.TempPathFactory, photo: Image.Image) -> list[Path]:
    root = tmp_path_factory.mktemp("raw")
    paths = []
    for i in range(3):
        p = root / f"im{i}.jpg"
        photo.crop((i * 40, i * 20, i * 40 + 250, i * 20 + 200)).resize((96, 80)).save(p)
        paths.append(p)
    return paths


def _score(capsys, net: CompactNet, imgs: list[Path], tmp: Path, runtime: str) -> list[dict]:
    weights = save_weights(net, tmp / f"m{net.offset}.safetensors")
    args = ["score", *map(str, imgs), "--model", str(weights), "--json", "--runtime", runtime]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_raw_score_is_unclamped_score_is_clamped(capsys, imgs, tmp_path, runtime, monkeypatch):
    monkeypatch.setenv("REDAES_CACHE", str(tmp_path / "cache"))
    low = _score(capsys, _net(-3.0), imgs, tmp_path, runtime)
    assert all(set(r) == {"path", "score", "std", "raw_score"} for r in low)
    assert all(r["score"] == 0.0 and r["raw_score"] == pytest.approx(-3.0) for r in low)
    high = _score(capsys, _net(13.5), imgs, tmp_path, runtime)
    assert all(r["score"] == 10.0 and r["raw_score"] == pytest.approx(13.5) for r in high)
    mid = _score(capsys, _net(5.0, spread=0.5), imgs, tmp_path, runtime)
    assert len({round(r["raw_score"], 4) for r in mid}) == 3  # depends on the image
    assert all(0 < r["score"] < 10 and r["score"] == r["raw_score"] for r in mid)


def test_calibrated_score_keeps_the_raw_score(imgs):
    net = _net(4.0, spread=0.5)
    plain = CompactAssessor(net=net, runtime="torch")
    net.config.calibration = Calibration(
        x=(0.0, 10.0), y=(1.0, 2.0), n=3, range=(1.0, 2.0), fitted_on="test"
    ).to_dict()
    calibrated = CompactAssessor(net=net, runtime="torch")
    raw, cal = score_details(plain, imgs), score_details(calibrated, imgs)
    for r, c in zip(raw, cal, strict=True):
        assert c["raw_score"] == r["raw_score"] == r["score"]
        assert c["score"] == pytest.approx(1.0 + r["raw_score"] / 10.0)
    assert [c["score"] for c in cal] == pytest.approx(
        [s for s, _ in calibrated.score_with_std(imgs)]
    )


def test_batched_raw_equals_single_and_csv_column(capsys, imgs, tmp_path):
    weights = save_weights(_net(-1.0, spread=2.0), tmp_path / "w.safetensors")
    base = ["--model", str(weights), "--json", "--runtime", "torch"]
    assert main(["score", *map(str, imgs), *base, "--batch-size", "3"]) == 0
    batched = json.loads(capsys.readouterr().out)
    for row in batched:
        assert main(["score", row["path"], *base, "--batch-size", "1"]) == 0
        (one,) = json.loads(capsys.readouterr().out)
        assert one["raw_score"] == pytest.approx(row["raw_score"], abs=1e-5)
    out = tmp_path / "s.csv"
    assert main(["score", *map(str, imgs), *base, "--out", str(out)]) == 0
    with out.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["path", "score", "std", "raw_score"]
    assert [float(t["raw_score"]) for t in table] == pytest.approx(
        [r["raw_score"] for r in batched]
    )


def test_assessors_without_raw_scores_report_the_score(imgs):
    import redaes.assessors.classical  # noqa: F401
    from redaes.assessors import create_assessor

    rows = score_details(create_assessor("brisque"), imgs[:1])
    assert rows[0]["raw_score"] == rows[0]["score"] and rows[0]["std"] == 0.0
