"""``redaes pairs build --generative PIPELINE_DIR``: generative ops mixed in without a plan file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from redaes.cli import main
from tests.edits.test_generative_support import (  # noqa: F401  (fixtures)
    gen_registry,
    ip2p_folder,
)
from tests.pairs.conftest import PLUGIN, make_photos


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photos(tmp_path_factory.mktemp("gen-cli-photos"), n=3)


def _argv(photos: Path, out: Path, *extra: str) -> list[str]:
    return [
        "pairs",
        "build",
        "--images",
        str(photos),
        "--out",
        str(out),
        "--pairs",
        "4",
        "--judge",
        "test:brightness",
        "--plugin",
        PLUGIN,
        "--max-side",
        "32",
        "--chains",
        "0",
        "--restore-prob",
        "0",
        "--quiet",
        *extra,
    ]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_generative_flag_mixes_ops_without_a_plan_file(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "ds"
    flags = ["--generative", str(ip2p_folder), "--generative-share", "0.6"]
    flags += ["--generative-op", "gen:golden_hour", "--generative-op", "rim_light=2"]
    assert main(_argv(photos, out, *flags, "--guard-min-ssim", "-1")) == 0
    plan = yaml.safe_load((out / "plan.yaml").read_text())
    assert plan["generative_pipeline"] == str(ip2p_folder)
    assert plan["generative_share"] == 0.6 and plan["guard_min_ssim"] == -1.0
    assert plan["generative_ops"] == {"gen:golden_hour": 1.0, "rim_light": 2.0}
    capsys.readouterr()
    assert main(["pairs", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pairs"] == 4 and info["generative_pairs"] >= 1 and info["dropped_guard"] == 0
    gen_ops = {op for op in info["ops"] if op.startswith("gen:")}
    assert gen_ops and gen_ops <= {"gen:golden_hour", "gen:rim_light"}
    assert len(gen_ops) < len(info["ops"])  # parametric ops in the same build


def test_not_a_pipeline_folder_is_one_line(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos-not-a-pipeline"
    folder.mkdir()
    (folder / "readme.txt").write_text("not a pipeline")
    out = tmp_path / "ds"
    assert main(_argv(photos, out, "--generative", str(folder))) == 2
    line = _one_line_error(capsys)
    assert "not a diffusers pipeline folder" in line and str(folder) in line
    assert main(_argv(photos, out, "--generative", str(tmp_path / "gone"))) == 2
    line = _one_line_error(capsys)
    assert "gone" in line and "not found" in line and "--generative" in line
    assert not out.exists()


def test_missing_diffusers_is_one_line(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # `import diffusers` now fails
    out = tmp_path / "ds"
    assert main(_argv(photos, out, "--generative", str(ip2p_folder))) == 2
    assert "pip install 'redaes[generative]'" in _one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--generative-share", "0.5"], "--generative-share needs --generative"),
        (["--guard-min-ssim", "0.2"], "--guard-min-ssim needs --generative"),
        (["--generative-op", "golden_hour"], "--generative-op needs --generative"),
        (["--generative-op", "golden_hour=lots"], "expected ID or ID=WEIGHT"),
        (["--generative-op", "golden_hour=-1"], "expected ID or ID=WEIGHT"),
        (["--generative-op", "gen:nope"], "not in the library"),
        (["--generative-share", "1.5"], "generative_share"),
        (["--generative-mapping", "step=1,2"], "Did you mean 'steps'"),
        (["--generative-mapping", "text_guidanse=2,4"], "Did you mean 'text_guidance'"),
        (["--generative-mapping", "steps=1"], "expected CONTROL=LOW,HIGH"),
        (["--generative-mapping", "steps=0,4"], "whole numbers >= 1"),
        (["--generative-mapping", "denoise=0.2,1.5"], "must be in [0, 1]"),
        (["--generative-option", "ofload=true"], "Did you mean 'offload'"),
        (["--generative-option", "dtype=float61"], "Did you mean 'float16'"),
        (["--generative-option", "adapter=pix2pix"], "Did you mean 'instruct-pix2pix'"),
        (["--generative-option", "batch_size=0"], "whole number >= 1"),
        (["--generative-option", "offload=maybe"], "must be true or false"),
        (["--generative-option", "device"], "expected KEY=VALUE"),
        (["--guard-side", "4"], "--guard-side must be >= 8"),
    ],
)
def test_flag_errors_are_one_line_before_writing(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    pipeline = [] if "needs" in message else ["--generative", str(ip2p_folder)]
    out = tmp_path / "ds"
    assert main(_argv(photos, out, *pipeline, *flags)) == 2
    assert message in _one_line_error(capsys)
    assert not out.exists()
