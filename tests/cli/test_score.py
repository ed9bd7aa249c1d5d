"""``redaes score`` and ``redaes compare``: JSON shapes, batched == single, bad files, --out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from redaes.cli import main
from redaes.models import CompactNet, ModelConfig, save_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", input_size=48, scaling="unit", dropout=0))
    with torch.no_grad():
        net.head.weight.normal_(0, 2.0)
    return save_weights(net, tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, photo: Image.Image) -> Path:
    root = tmp_path_factory.mktemp("imgs")
    (root / "sub").mkdir()
    for i in range(5):
        crop = photo.crop((i * 50, i * 30, i * 50 + 250, i * 30 + 200)).resize((120, 96))
        crop.save(root / ("sub" if i % 2 else ".") / f"im{i}.jpg", quality=92)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_score_json_shape_recursive(capsys, weights, folder):
    code, out, _ = run(capsys, "score", folder, "--model", weights, "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 5 and all(set(r) == {"path", "score", "std", "raw_score"} for r in rows)
    assert any("sub" in r["path"] for r in rows)
    assert all(0 <= r["score"] <= 10 and r["std"] > 0 for r in rows)


def test_batched_equals_single(capsys, weights, folder):
    _, out, _ = run(capsys, "score", folder, "--model", weights, "--json", "--batch-size", "4")
    batched = {r["path"]: r for r in json.loads(out)}
    for path, row in batched.items():
        _, one, _ = run(capsys, "score", path, "--model", weights, "--json", "--batch-size", "1")
        (single,) = json.loads(one)
        assert single["score"] == pytest.approx(row["score"], abs=1e-5)
        assert single["std"] == pytest.approx(row["std"], abs=1e-5)


def test_bad_files_reported_rest_scored(capsys, weights, folder, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    good = next(folder.glob("*.jpg"))
    code, out, err = run(
        capsys, "score", good, bad, tmp_path / "missing.png", "--model", weights, "--json"
    )
    assert code == 0
    assert [r["path"] for r in json.loads(out)] == [str(good)]
    assert "broken.jpg" in err and "missing.png" in err and "1 scored, 2 skipped" in err
    code, _, err = run(capsys, "score", bad, "--model", weights)
    assert code == 2 and "nothing to score" in err
    assert [x.split()[0] for x in err.strip().splitlines()] == ["weights:", "skipped", "error:"]


def test_out_csv_and_jsonl(capsys, weights, folder, tmp_path):
    run(capsys, "score", folder, "--model", weights, "--out", tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 5 and set(table[0]) == {"path", "score", "std", "raw_score"}
    run(capsys, "score", folder, "--model", weights, "--out", tmp_path / "s.jsonl")
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert [json.loads(x)["path"] for x in lines] == [r["path"] for r in table]
    code, _, err = run(capsys, "score", folder, "--model", weights, "--out", tmp_path / "s.xls")
    assert code == 2 and ".csv or .jsonl" in err


def test_compare_json_shape(capsys, weights, folder):
    a, b = sorted(folder.glob("*.jpg"))[:2]
    code, out, _ = run(capsys, "compare", a, b, "--model", weights, "--json")
    view = json.loads(out)
    assert code == 0
    assert set(view) == {"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}
    assert view["a"] == str(a) and view["delta"] == pytest.approx(view["score_b"] - view["score_a"])
    assert 0.0 <= view["p_b_better"] <= 1.0 and view["delta_std"] > 0


def test_model_errors_are_one_line(capsys, folder, tmp_path):
    img = next(folder.glob("*.jpg"))
    code, _, err = run(capsys, "score", img, "--model", tmp_path / "nope.safetensors")
    assert code == 2 and "weights file not found" in err and len(err.strip().splitlines()) == 1
    corrupt = tmp_path / "bad.safetensors"
    corrupt.write_bytes(b"garbage")
    code, _, err = run(capsys, "compare", img, img, "--model", corrupt)
    assert code == 2 and "bad.safetensors" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "compare", img, img, "--model", "brisque", "--json")
    assert code == 0 and json.loads(out)["delta"] == 0.0


def test_explain_json_shape(capsys, weights, folder):
    img = next(folder.glob("*.jpg"))
    code, out, _ = run(capsys, "explain", img, "--model", weights, "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == {"path", "score", "std", "effects", "text"}
    assert result["path"] == str(img) and len(result["effects"]) > 10
    assert all(set(e) == {"op", "strength", "delta", "delta_std"} for e in result["effects"])


def test_suggest_json_shape_and_previews(capsys, weights, folder, tmp_path):
    img = next(folder.glob("*.jpg"))
    code, out, _ = run(
        capsys,
        "suggest",
        img,
        "--model",
        weights,
        "--json",
        "--top",
        "2",
        "--out",
        tmp_path / "prev",
    )
    result = json.loads(out)
    assert code == 0 and set(result) == {"path", "score", "suggestions"}
    assert len(result["suggestions"]) <= 2
    for s in result["suggestions"]:
        assert set(s) == {"edits", "score", "gain", "preview"} and s["gain"] > 0
        assert Path(s["preview"]).is_file()
