"""The ``red`` benchmark on a RED dataset built by the real builder (``redaes pairs build``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redaes.cli import main
from redaes.data import load_red
from redaes.errors import DataError
from redaes.evaluation import Target, evaluate
from redaes.metrics import chain_srcc, direction_accuracy
from tests.eval import fakes
from tests.pairs.conftest import make_photos

PAIRS = 12


@pytest.fixture(scope="module")
def red_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("red")
    images = make_photos(base / "imgs", n=4)
    plan = base / "plan.yaml"
    plan.write_text(
        "ops: {exposure: 1.0, contrast: 1.0, saturation: 1.0}\nblock_size: 4\n"
        "chain_length: 3\nsplit_ratios: {train: 0.0, validation: 0.0, test: 1.0}\n"
    )
    out = base / "ds"
    argv = ["pairs", "build", "--images", str(images), "--out", str(out), "--pairs", str(PAIRS)]
    opts = ["--chains", "2", "--judge", "prior", "--max-side", "64", "--plan", str(plan)]
    assert main([*argv, *opts, "--quiet"]) == 0
    return out


def test_red_metrics_match_a_direct_computation(red_dir: Path, tmp_path: Path) -> None:
    (res,) = evaluate(
        "tests.eval.fakes:counting_brightness",
        [Target("red", red_dir)],
        tmp_path / "o",
        batch_size=4,
        n_resamples=30,
    )
    pairs = list(load_red(red_dir, split="test"))
    # each distinct source image (the photo, or a degraded copy of it) scored once
    sources = {(p.source_id, json.dumps(p.source_edits, sort_keys=True)) for p in pairs}
    assert sum(fakes.CALLS) == len(sources) + len(pairs)
    src = fakes.brightness([p.source_image for p in pairs])
    edited = fakes.brightness([p.edited_image for p in pairs])
    pred = np.array(edited) - np.array(src)
    true = np.array([p.delta for p in pairs])
    m = res.summary["metrics"]
    assert set(m) == {"direction_accuracy", "delta_srcc", "delta_plcc", "chain_srcc"}
    by_id = dict(zip([p.pair_id for p in pairs], range(len(pairs)), strict=True))
    order = [by_id[k] for k in sorted(by_id)]
    assert res.summary["n_scored"] == PAIRS
    assert m["direction_accuracy"]["value"] == pytest.approx(
        direction_accuracy(pred[order], true[order])
    )
    chain_mean, _ = chain_srcc(edited, true, [p.chain_id for p in pairs])
    got = m["chain_srcc"]["value"]
    assert (got is None and np.isnan(chain_mean)) or got == pytest.approx(chain_mean)
    prov = res.summary["provenance"]
    assert prov["n_pairs"] == PAIRS and prov["label_files"][0]["path"].endswith(".parquet")
    fakes.CALLS.clear()
    evaluate(
        "tests.eval.fakes:counting_brightness",
        [Target("red", red_dir)],
        tmp_path / "o",
        n_resamples=5,
    )
    assert fakes.CALLS == []  # resumed from the cache


def test_red_on_the_cli(red_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    argv = [
        "eval",
        "-m",
        "tests.eval.fakes:brightness",
        "-b",
        "red",
        "-r",
        str(red_dir),
        "-o",
        str(out),
        "--bootstrap",
        "20",
        "--no-progress",
    ]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    (b,) = report["benchmarks"]
    assert b["kind"] == "pairs" and (out / b["plot"]).is_file()
    assert "direction_accuracy" in (out / "report.md").read_text()


def test_red_missing_split_is_a_data_error(red_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no shards for split 'train'"):
        evaluate(
            "tests.eval.fakes:brightness", [Target("red", red_dir)], tmp_path / "o", split="train"
        )


def test_degraded_sources_get_their_own_cache_key() -> None:
    """A restoration pair's source is a degraded copy: it must not share the photo's key."""
    from redaes.benchmarks.red import RedItem

    plain = RedItem("p1", "photo", 0.5, None, None, None)
    copy_a = RedItem("p2", "photo", 0.5, None, None, None, '[{"op": "exposure"}]')
    copy_b = RedItem("p3", "photo", 0.5, None, None, None, '[{"op": "haze"}]')
    keys = {plain.source_key, copy_a.source_key, copy_b.source_key}
    assert len(keys) == 3 and plain.source_key == "source/photo"
