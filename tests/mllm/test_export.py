"""``redaes mllm export``: stage layouts from a tiny RED build."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.pairs.conftest import fast_plan, make_photos
from typer.testing import CliRunner

from redaes.cli import app, main
from redaes.data import load_red
from redaes.mllm.parse import parse_delta
from redaes.pairs import build


@pytest.fixture(scope="module")
def red(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("red_mllm")
    out = root / "red"
    build(make_photos(root / "photos", n=6), out, 16, fast_plan(chain_prob=0.5), seed=3)
    return out


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_export_stage_layouts(red: Path, tmp_path: Path, stage: int) -> None:
    import datasets

    out = tmp_path / f"s{stage}"
    result = CliRunner().invoke(app, ["mllm", "export", "--stage", str(stage), str(red), str(out)])
    assert result.exit_code == 0, result.output
    ds = datasets.load_from_disk(str(out))
    pairs = list(load_red(red, split="train"))
    if stage in (1, 2):
        assert len(ds) == len(pairs)
        assert len(ds[0]["images"]) == 2 and ds[0]["images"][0].mode == "RGB"
        assert ds["delta"] == pytest.approx([p.delta for p in pairs])
    if stage == 1:
        answers = [m[-1]["content"][0]["text"] for m in ds["messages"]]
        assert [parse_delta(a) for a in answers] == pytest.approx(
            [round(p.delta, 2) for p in pairs], abs=1e-9
        )
    if stage == 2:
        assert ds[0]["prompt"][-1]["role"] == "user" and "delta_std" in ds.column_names
    if stage == 3:
        groups = {p.chain_id or p.source_id for p in pairs}
        assert len(ds) == len(pairs) + len(groups)
        assert set(ds["group"]) == groups
        for g in groups:  # every group holds exactly one source row with target 0
            rows = [r for r in ds.select_columns(["group", "target_std"]) if r["group"] == g]
            assert sum(r["target_std"] == 0.0 for r in rows) >= 1


def test_export_bad_stage_is_one_line(
    red: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["mllm", "export", "--stage", "4", str(red), str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown MLLM training stage 4" in err and "Traceback" not in err
