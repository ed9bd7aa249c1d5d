"""``redaes pairs build`` flags for the settings that used to need a plan file, and the reasoning
of a real generative build (tiny random InstructPix2Pix pipeline, CPU, no downloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from redaes.cli import main
from redaes.edits.generative.options import parse_mapping_flags, parse_option_flags
from redaes.errors import ConfigError
from redaes.pairs.reasoning import check_row
from redaes.pairs.reasoning.instruction import CONTRARY, FLAT, FOLLOWED, MIXED
from redaes.pairs.storage import read_table
from tests.edits.test_generative_support import (  # noqa: F401  (fixtures)
    gen_registry,
    ip2p_folder,
)
from tests.pairs.conftest import PLUGIN, make_photos


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photos(tmp_path_factory.mktemp("gen-flag-photos"), n=3)


def _argv(photos: Path, out: Path, *extra: str, pairs: int = 4) -> list[str]:
    return [
        *("pairs", "build", "--images", str(photos), "--out", str(out), "--pairs", str(pairs)),
        *("--judge", "test:brightness", "--plugin", PLUGIN, "--max-side", "32"),
        *("--chains", "0", "--restore-prob", "0", "--quiet", *extra),
    ]


def _rows(out: Path) -> list[dict[str, Any]]:
    return [r for f in sorted((out / "data").glob("*.parquet")) for r in read_table(f).to_pylist()]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_flags_reach_the_plan_and_the_rows(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
) -> None:
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        yaml.safe_dump(
            {
                "generative_mapping": {"denoise": [0.2, 0.5], "steps": [5, 9]},
                "generative_options": {"dtype": "float32"},
                "image_format": "PNG",
                "multi_op_prob": 0.0,
            }
        )
    )
    out = tmp_path / "ds"
    flags = ["--plan", str(plan_file), "--generative", str(ip2p_folder)]
    flags += ["--generative-share", "0.7", "--guard-min-ssim", "-1", "--guard-side", "32"]
    flags += ["--generative-op", "golden_hour", "--generative-op", "cool_grade"]
    flags += ["--generative-mapping", "steps=1,2", "--generative-mapping", "text_guidance=2,4"]
    flags += ["--generative-option", "batch_size=2", "--generative-option", "offload=no"]
    assert main(_argv(photos, out, *flags, pairs=6)) == 0
    plan = yaml.safe_load((out / "plan.yaml").read_text())
    # flags win key by key; the plan file's other keys stay
    assert plan["generative_mapping"] == {
        "denoise": [0.2, 0.5],
        "steps": [1, 2],
        "text_guidance": [2.0, 4.0],
    }
    assert plan["generative_options"] == {"dtype": "float32", "batch_size": 2, "offload": False}
    assert plan["guard_side"] == 32
    rows = _rows(out)
    gen = [r for r in rows if r["generative"]]
    assert gen, "no generative pair in the build"
    for row in gen:
        controls = json.loads(row["generative"][0]["controls"])
        assert controls["steps"] in (1, 2)  # the flag's mapping rendered the edit
        assert 2.0 <= controls["guidance_scale"] <= 4.0
        assert 0.2 <= controls["denoise"] <= 0.5
    # every text of the build passes the checker; generative ones name their instruction
    for row in rows:
        assert check_row(row) == [], row["reasoning"]
    for row in gen:
        (rec,) = row["generative"]
        text = row["reasoning"]
        assert f'"{rec["instruction"]}"' in text, text
        # every side of both ops (golden hour / harsh midday, cool / warm grade) expects a kind
        assert any(m in text for m in (FOLLOWED, CONTRARY, FLAT, MIXED)), text
        # the same text without its record is refused: the instruction is only backed by it
        assert any("do not hold" in b for b in check_row(dict(row, generative=[])))
    for row in rows:
        if not row["generative"]:
            assert "instruction" not in row["reasoning"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--generative-mapping", "steps=1,2"],
        ["--generative-option", "offload=true"],
        ["--guard-side", "32"],
    ],
)
def test_companions_need_a_pipeline(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    assert main(_argv(photos, tmp_path / "ds", *flags)) == 2
    assert f"{flags[0]} needs --generative PIPELINE_DIR" in _one_line_error(capsys)


def test_plan_file_options_are_checked_too(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad, message in (
        ({"generative_options": {"devise": "cpu"}}, "Did you mean 'device'"),
        ({"generative_mapping": {"stepz": [1, 2]}}, "Did you mean 'steps'"),
        ({"generative_mapping": {"steps": ["a", 2]}}, "need two numbers"),
    ):
        plan_file = tmp_path / "plan.yaml"
        plan_file.write_text(yaml.safe_dump(dict(bad, generative_pipeline=str(ip2p_folder))))
        assert main(_argv(photos, tmp_path / "ds", "--plan", str(plan_file))) == 2
        assert message in _one_line_error(capsys), bad
        assert not (tmp_path / "ds").exists()


def test_flag_parsers() -> None:
    assert parse_mapping_flags(["steps=10,30", "image_guidance=1.8,1.1"]) == {
        "steps": [10, 30],
        "image_guidance": [1.8, 1.1],
    }
    assert parse_option_flags(["offload=true", "cpu_threads=2", "device=cpu"]) == {
        "offload": True,
        "cpu_threads": 2,
        "device": "cpu",
    }
    with pytest.raises(ConfigError, match="whole numbers"):
        parse_mapping_flags(["steps=1.5,3"])
    with pytest.raises(ConfigError, match="Known: image_guidance, text_guidance, steps, denoise"):
        parse_mapping_flags(["zzz=1,2"])
