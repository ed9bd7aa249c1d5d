"""The demo report: every photo with its score, explanation and suggestion previews; escaped."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from redaes.models import CompactAssessor, CompactNet, ModelConfig, save_weights
from redaes.models.report import render_html, write_report


def tiny_net() -> CompactNet:
    """A random tiny CNN whose score head is scaled up, so that edits move its score."""
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", pretrained=False, input_size=64))
    with torch.no_grad():
        net.head.weight.normal_(0.0, 2.0)
    return net


def tiny_model() -> CompactAssessor:
    return CompactAssessor(net=tiny_net())


@pytest.fixture()
def photos(tmp_path: Path) -> list[Path]:
    out = []
    for i, (name, colour) in enumerate(
        [("a<b>&.jpg", (200, 80, 40)), ("plain.jpg", (40, 90, 180))]
    ):
        img = Image.new("RGB", (96, 64), colour)
        for x in range(0, 96, 8):  # some structure, so edits change the image
            img.paste((255 - 60 * i, 250, 240), (x, 0, x + 3, 64))
        path = tmp_path / name
        img.save(path, quality=95)
        out.append(path)
    return out


def test_report_lists_every_photo_with_score_text_and_previews(tmp_path, photos):
    model = tiny_model()
    page = write_report(model, photos, tmp_path / "out", model_label="tiny", top=2)
    text = page.read_text(encoding="utf-8")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [p["name"] for p in data["photos"]] == [p.name for p in photos]
    n_previews = 0
    for p in data["photos"]:
        assert html.escape(p["name"]) in text
        assert f"score {p['score']:.2f}" in text
        assert html.escape(p["text"]) in text and p["text"].startswith("Score ")
        expected = model.score([Image.open(tmp_path / "out" / p["original"])])[0]
        assert p["score"] == pytest.approx(expected, abs=0.05)  # the original preview's score
        for s in p["suggestions"]:
            assert s["gain"] > 0 and s["preview"] is not None
            assert (tmp_path / "out" / s["preview"]).is_file()
            assert f'src="{s["preview"]}"' in text
            n_previews += 1
    assert n_previews > 0
    # every image link is relative and resolves inside the output folder
    for src in re.findall(r'src="([^"]+)"', text):
        assert not src.startswith(("/", "http")) and (tmp_path / "out" / src).is_file()
    assert "<b>" not in text  # the file name a<b>&.jpg is escaped


def test_render_escapes_all_text():
    photo = {
        "name": "<script>x</script>",
        "original": 'a"b.jpg',
        "score": 5.0,
        "std": 0.5,
        "text": "<i>t</i>",
        "effects": [{"op": "<op>", "strength": 0.25, "delta": 0.1, "delta_std": 0.2}],
        "suggestions": [],
    }
    page = render_html([photo], {"model": "<m>"})
    assert "<script>" not in page and "<i>" not in page and "<op>" not in page
    assert "&lt;script&gt;" in page and 'src="a&quot;b.jpg"' in page
    assert "No bounded edit raises" in page


def test_demo_command_writes_report_or_one_line(tmp_path, monkeypatch):
    import redaes.models
    from redaes.cli import app

    runner = CliRunner()
    monkeypatch.setattr("redaes.models.report.PREVIEW_SIDE", 64)  # fast: the flow, not the sizes
    monkeypatch.setattr(redaes.models, "default_weights_path", lambda: None)
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "a"), "--cell", "32"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a" / "contact_sheet.png").is_file()
    assert "report skipped: no default compact weights" in res.output
    assert not (tmp_path / "a" / "report.html").exists()

    weights = tmp_path / "tiny.safetensors"
    save_weights(tiny_net(), weights)
    res = runner.invoke(
        app, ["demo", "--out", str(tmp_path / "b"), "--cell", "32", "--model", str(weights)]
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "b" / "report.json").read_text())
    assert {p["name"] for p in data["photos"]} == {"astronaut.jpg", "chelsea.jpg", "coffee.jpg"}
    assert (tmp_path / "b" / "report.html").is_file()
