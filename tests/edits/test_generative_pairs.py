"""Mixed parametric + generative pair builds: rows record what re-renders them, the guard counts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from redaes.edits import EDIT_OPS
from redaes.edits.generative import configure_generative, rerender_row, weights_id
from redaes.errors import ConfigError
from redaes.imageio import pil_to_tensor
from redaes.pairs import build
from redaes.pairs.plan import PairPlan, Planner, Source
from redaes.pairs.storage import COLUMNS, pair_schema, read_table
from tests.edits.test_generative_support import (  # noqa: F401  (fixtures)
    gen_registry,
    ip2p_folder,
)
from tests.pairs.conftest import PLUGIN, fast_plan, make_photos

GEN = {
    "generative_ops": {"gen:golden_hour": 1.0, "gen:remove_clutter": 1.0, "gen:rim_light": 1.0},
    "generative_mapping": {"steps": [1, 2]},
    "generative_share": 0.5,
    "image_format": "PNG",
    "max_side": 32,
    "chain_length": 0,
    "restore_prob": 0.0,
    "multi_op_prob": 0.0,
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photos(tmp_path_factory.mktemp("gen-photos"), n=3)


def _rows(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted((out / "data").glob("*.parquet")):
        rows += read_table(f).to_pylist()
    return rows


def _decode(data: bytes) -> torch.Tensor:
    with Image.open(io.BytesIO(data)) as im:
        return pil_to_tensor(im.convert("RGB"))


def test_default_plans_are_unchanged() -> None:
    plain = PairPlan()
    assert PairPlan(guard_min_ssim=0.9, generative_share=0.1).fingerprint() == plain.fingerprint()
    assert PairPlan(generative_pipeline="/x").fingerprint() != plain.fingerprint()
    assert [f.name for f in pair_schema()] == [n for n, _ in COLUMNS]
    assert "generative" in pair_schema(generative=True).names


def test_planner_mixes_ops_with_the_generative_share(ip2p_folder: Path) -> None:  # noqa: F811
    sources = [Source(f"p{i}.jpg", f"{i:064x}") for i in range(4)]
    plan = fast_plan(generative_pipeline=str(ip2p_folder), **dict(GEN, generative_share=0.4))
    planner = Planner(plan, sources, seed=0)
    ops = [op for u in range(600) for pp in planner.plan_unit(u) for op, _ in pp.steps]
    gen = [op for op in ops if op.startswith("gen:")]
    assert set(gen) == {"gen:golden_hour", "gen:remove_clutter", "gen:rim_light"}
    assert 0.33 < len(gen) / len(ops) < 0.47
    negative = {
        op for u in range(600) for pp in planner.plan_unit(u) for op, s in pp.steps if s < 0
    }
    assert "gen:golden_hour" in negative and "gen:rim_light" not in negative  # unsigned op
    # planning does not register anything or load a pipeline
    assert not [n for n in EDIT_OPS.names() if n.startswith("gen:")]
    with pytest.raises(ConfigError, match="not in the library"):
        Planner(fast_plan(generative_pipeline="/x", generative_ops={"gen:nope": 1}), sources, 0)


def test_rows_record_and_rerender_exactly(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
) -> None:
    plan = fast_plan(generative_pipeline=str(ip2p_folder), guard_min_ssim=-1.0, **GEN)
    out = tmp_path / "red"
    summary = build(photos, out, 8, plan, seed=1, plugins=[PLUGIN])
    rows = _rows(out)
    assert len(rows) == 8 and summary["dropped_guard"] == 0
    gen_rows = [r for r in rows if r["generative"]]
    assert summary["generative_pairs"] == len(gen_rows) >= 2
    assert len(gen_rows) < len(rows)  # parametric and generative ops together
    folder_hash = weights_id(ip2p_folder)
    for row in gen_rows:
        (rec,) = row["generative"]
        assert rec["op"] == row["edits"][0]["op"] and rec["step"] == 0
        assert rec["pipeline_class"] == "StableDiffusionInstructPix2PixPipeline"
        assert rec["weights_id"] == folder_hash and rec["seed"] == row["seed"]
        assert rec["instruction"] and rec["library_version"] == "1.0"
        assert '"steps"' in rec["controls"] and -1.0 <= row["guard_ssim"] <= 1.0
    for row in [r for r in rows if not r["generative"]]:
        assert row["guard_ssim"] is None
    card = (out / "README.md").read_text()
    assert "Generative edits" in card and "dropped 0 edits" in card and "guard_ssim" in card
    # re-render in a fresh configuration: from the stored source, and from the original photo
    configure_generative(ip2p_folder, None)
    for row in gen_rows:
        stored = _decode(row["edited_image"]["bytes"])
        again = rerender_row(row)
        assert torch.equal((again * 255).round(), (stored * 255).round()), row["pair_id"]
        from_photo = rerender_row(row, images_root=photos, max_side=32)
        assert torch.equal((from_photo * 255).round(), (stored * 255).round())


def test_rerender_refuses_other_weights(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
) -> None:
    plan = fast_plan(
        generative_pipeline=str(ip2p_folder),
        guard_min_ssim=-1.0,
        **dict(GEN, generative_share=1.0),
    )
    build(photos, tmp_path / "red", 2, plan, seed=2, plugins=[PLUGIN])
    row = _rows(tmp_path / "red")[0]
    row["generative"][0]["weights_id"] = "sha256:0000"
    configure_generative(ip2p_folder)
    with pytest.raises(Exception, match="was rendered with weights sha256:0000"):
        rerender_row(row)


def test_guard_rejects_and_is_counted(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
) -> None:
    plan = fast_plan(generative_pipeline=str(ip2p_folder), guard_min_ssim=0.99, **GEN)
    out = tmp_path / "red"
    summary = build(photos, out, 6, plan, seed=1, plugins=[PLUGIN])
    assert summary["dropped_guard"] >= 2  # random tiny weights repaint the whole scene
    assert summary["generative_pairs"] == 0
    assert all(not r["generative"] for r in _rows(out))
    assert f"dropped {summary['dropped_guard']} edits" in (out / "README.md").read_text()


def test_missing_pipeline_folder_fails_before_writing(photos: Path, tmp_path: Path) -> None:
    plan = fast_plan(generative_pipeline=str(tmp_path / "nope"), **GEN)
    with pytest.raises(ConfigError, match=r"generative pipeline folder .* not found"):
        build(photos, tmp_path / "red", 4, plan, plugins=[PLUGIN])
    assert not (tmp_path / "red").exists()


def test_worker_processes_publish_identical_shards(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
) -> None:
    """Spawned workers (1 torch thread) render the same bytes as the main process."""
    plan = fast_plan(
        generative_pipeline=str(ip2p_folder),
        guard_min_ssim=-1.0,
        **dict(GEN, generative_share=0.7),
    )
    build(photos, tmp_path / "one", 5, plan, seed=4, workers=1, plugins=[PLUGIN])
    build(photos, tmp_path / "two", 5, plan, seed=4, workers=2, plugins=[PLUGIN])
    one = sorted((tmp_path / "one" / "data").glob("*.parquet"))
    two = sorted((tmp_path / "two" / "data").glob("*.parquet"))
    assert [f.name for f in one] == [f.name for f in two]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, two, strict=True))
    assert any(r["generative"] for r in _rows(tmp_path / "one"))


def test_cli_builds_a_mixed_plan_and_refuses_a_missing_folder(
    photos: Path,
    tmp_path: Path,
    ip2p_folder: Path,  # noqa: F811
    gen_registry: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    import yaml

    from redaes.cli import main

    plan = dict(GEN, ops={"exposure": 1.0}, generative_pipeline=str(ip2p_folder))
    plan |= {"guard_min_ssim": -1.0, "judges": ["test:brightness"], "block_size": 2}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    out = tmp_path / "ds"
    argv = ["pairs", "build", "--images", str(photos), "--out", str(out), "--pairs", "4"]
    assert main([*argv, "--plan", str(path), "--plugin", PLUGIN]) == 0
    capsys.readouterr()
    assert main(["pairs", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pairs"] == 4 and info["generative_pairs"] >= 1 and info["dropped_guard"] == 0
    assert set(info["ops"]) <= {
        "exposure",
        "gen:golden_hour",
        "gen:remove_clutter",
        "gen:rim_light",
    }
    path.write_text(yaml.safe_dump(plan | {"generative_pipeline": str(tmp_path / "gone")}))
    argv[argv.index(str(out))] = str(tmp_path / "ds2")
    assert main([*argv, "--plan", str(path), "--plugin", PLUGIN]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gone" in err[0] and "not found" in err[0]
