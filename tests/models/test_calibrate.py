"""``redaes calibrate``: an isotonic map to a user's scale, stored with the weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from redaes.cli import main
from redaes.errors import ConfigError, DataError
from redaes.models import CompactAssessor, CompactNet, ModelConfig, load_weights, save_weights
from redaes.models.assessor import calibrate_model
from redaes.models.calibrate import Calibration, fit_calibration, read_labels


def _model(path: Path) -> Path:
    torch.manual_seed(0)
    net = CompactNet(
        ModelConfig(
            backbone="tiny-cnn", pretrained=False, input_size=32, scaling="unit", dropout=0.0
        )
    )
    torch.nn.init.normal_(net.head.weight, std=2.0)  # the head starts at zero: spread scores
    return save_weights(net, path)


def _photos(folder: Path, n: int = 6) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        arr = (rng.random((40, 40, 3)) * (40 + 35 * i)).astype(np.uint8)
        out.append(folder / f"p{i}.png")
        Image.fromarray(arr).save(out[-1])
    return out


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, list[Path], list[float]]:
    model = _model(tmp_path / "m.safetensors")
    photos = _photos(tmp_path / "photos")
    raw = [s for s, _ in CompactAssessor(weights=model).raw_score_with_std(photos)]
    assert len({round(s, 4) for s in raw}) == len(raw)  # distinct raw scores
    ratings = [float(r) for r in np.argsort(np.argsort(raw)) * 20 + 1]  # ranks -> 1..101
    return model, photos, ratings


def _csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("path,rating\n" + "".join(f"{p},{r}\n" for p, r in rows))
    return path


def test_calibration_maps_scores_to_user_scale(tmp_path, setup):
    model, photos, ratings = setup
    labels = _csv(
        tmp_path / "labels.csv",
        [(f"photos/{p.name}", str(r)) for p, r in zip(photos, ratings, strict=True)],
    )
    report = calibrate_model(model, labels, tmp_path / "m2.safetensors")
    assert report["spearman"] == pytest.approx(1.0) and report["kendall"] == pytest.approx(1.0)
    assert report["loo_mae"] > 0 and -1 <= report["loo_spearman"] <= 1
    cal = load_weights(tmp_path / "m2.safetensors").config.calibration
    assert cal is not None and cal["method"] == "isotonic" and cal["n"] == 6
    assert cal["range"] == [1.0, 101.0] and cal["fitted_on"].startswith("sha256:")
    m2 = CompactAssessor(weights=tmp_path / "m2.safetensors")
    scored = m2.score_with_std(photos)
    assert [s for s, _ in scored] == pytest.approx(ratings)  # monotone data: exact in-sample
    raw = m2.raw_score_with_std(photos)
    assert raw == CompactAssessor(weights=model).score_with_std(photos)
    assert all(sd >= 0 for _, sd in scored)
    # same tensors: only the config gained the calibration
    a, b = load_weights(model).state_dict(), load_weights(tmp_path / "m2.safetensors").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_map_is_monotone_clipped_and_std_follows_slope():
    cal = fit_calibration([1.0, 2.0, 3.0, 4.0], [10.0, 30.0, 20.0, 50.0])
    out = cal.apply([0.0, 1.0, 2.5, 4.0, 9.0])
    assert np.all(np.diff(out) >= 0) and out[0] == 10.0 and out[-1] == 50.0
    steep = Calibration((0.0, 1.0), (0.0, 10.0), 2, (0.0, 10.0), "")
    assert steep.apply_std([0.5], [0.1])[0] == pytest.approx(1.0)  # slope 10
    assert steep.apply_std([5.0], [0.1])[0] == 0.0  # clipped region: flat
    with pytest.raises(ConfigError, match="malformed calibration"):
        Calibration.from_dict(
            {"method": "isotonic", "x": [2, 1], "y": [0, 1], "n": 2, "range": [0, 1]}
        )


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([("p0.png", "1"), ("p1.png", "2")], "at least 3"),
        ([("p0.png", "1"), ("p1.png", "x"), ("p2.png", "3")], "not a number"),
        ([("p0.png", "1"), ("p1.png", "nan"), ("p2.png", "3")], "not finite"),
        ([("p0.png", "2"), ("p1.png", "2"), ("p2.png", "2")], "all ratings are equal"),
        ([("p0.png", "1"), ("missing.png", "2"), ("p2.png", "3")], "not found"),
    ],
)
def test_bad_labels_raise_clear_errors(tmp_path, rows, match):
    _photos(tmp_path)
    with pytest.raises(DataError, match=match):
        read_labels(_csv(tmp_path / "l.csv", rows))


def test_old_weights_without_calibration_load(tmp_path):
    model = _model(tmp_path / "m.safetensors")
    assert CompactAssessor(weights=model).calibration is None


def test_cli_reports_fit_and_one_line_errors(tmp_path, setup, capsys):
    model, photos, ratings = setup
    labels = _csv(
        tmp_path / "labels.csv", [(str(p), str(r)) for p, r in zip(photos, ratings, strict=True)]
    )
    out = tmp_path / "m2.safetensors"
    assert (
        main(
            [
                "calibrate",
                "--model",
                str(model),
                "--labels",
                str(labels),
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == str(out) and report["spearman"] == pytest.approx(1.0)
    assert (
        main(["calibrate", "--model", str(model), "--labels", str(labels), "--out", str(out)]) == 0
    )
    assert "leave-one-out isotonic: Spearman" in capsys.readouterr().err
    bad = _csv(tmp_path / "bad.csv", [(str(photos[0]), "1")])
    assert main(["calibrate", "--model", str(model), "--labels", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "at least 3" in err and len(err.splitlines()) == 1
