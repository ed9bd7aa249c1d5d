"""The ``weights:`` line: every command that loads a model names its weights file once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from redaes.cli import main
from redaes.models import CompactNet, ModelConfig, default_weights_path, save_weights
from redaes.models.weights import describe_weights, is_main_process


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(1)
    cfg = ModelConfig(
        backbone="tiny-cnn", input_size=48, scaling="unit", dropout=0, recipe={"stage": 3}
    )
    net = CompactNet(cfg)
    with torch.no_grad():
        net.head.weight.normal_(0, 2.0)
    return save_weights(net, tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.fixture(scope="module")
def img(tmp_path_factory: pytest.TempPathFactory, photo: Image.Image) -> Path:
    path = tmp_path_factory.mktemp("imgs") / "a.jpg"
    photo.resize((120, 96)).save(path, quality=92)
    return path


def _weights_lines(err: str) -> list[str]:
    return [x for x in err.splitlines() if x.startswith("weights:")]


def test_describe_weights_names_path_hash_and_versions(weights):
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    text = describe_weights(weights)
    assert text.startswith(str(weights))
    assert f"sha256 {sha}" in text and "redaes-compact v1" in text and "stage 3" in text


@pytest.mark.parametrize(
    "command",
    [["score", "--json"], ["score"], ["compare", "--json"], ["explain", "--json"]],
)
def test_weights_line_once_on_stderr_never_on_stdout(capsys, weights, img, command):
    args = [command[0], str(img), *([str(img)] if command[0] == "compare" else [])]
    code = main([*args, "--model", str(weights), *command[1:]])
    out = capsys.readouterr()
    assert code == 0
    assert _weights_lines(out.err) == [f"weights: {describe_weights(weights)}"]
    assert "weights:" not in out.out and "sha256" not in out.out
    if "--json" in command:
        json.loads(out.out)  # stdout is pure JSON


def test_no_weights_line_off_rank_zero_or_without_a_weights_file(capsys, weights, img, monkeypatch):
    assert main(["score", str(img), "--model", "brisque", "--json"]) == 0
    assert _weights_lines(capsys.readouterr().err) == []
    monkeypatch.setenv("RANK", "1")
    assert not is_main_process()
    assert main(["score", str(img), "--model", str(weights), "--json"]) == 0
    assert _weights_lines(capsys.readouterr().err) == []


def test_default_model_is_named(capsys, img):
    shipped = default_weights_path()
    assert shipped is not None
    assert main(["score", str(img), "--json", "--runtime", "torch"]) == 0
    (line,) = _weights_lines(capsys.readouterr().err)
    assert line.startswith(f"weights: {shipped} (sha256 ")
