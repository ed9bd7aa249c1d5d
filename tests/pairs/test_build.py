"""Building a RED dataset: exact N, determinism, splits, storage, reasoning, bad inputs."""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from redaes.data import RedPair, load_red
from redaes.errors import ConfigError, DataError
from redaes.pairs import COLUMNS, build
from redaes.pairs.reasoning import direction
from tests.pairs.conftest import PLUGIN, fast_plan, make_photos

N = 14


def _digest(folder: Path) -> dict[str, str]:
    files = [*sorted((folder / "data").glob("*.parquet")), folder / "README.md"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture(scope="module")
def built(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ds") / "red"
    summary = build(photos, out, N, fast_plan(), seed=7)
    return out, summary


def test_exact_n_unique_and_schema(built: tuple[Path, dict]) -> None:
    out, summary = built
    ds = load_red(out)
    assert len(ds) == N == summary["pairs"]
    ids = ds.table.column("pair_id").to_pylist()
    assert len(set(ids)) == N
    schema = pq.read_schema(next((out / "data").glob("*.parquet")))
    assert schema.names == [n for n, _ in COLUMNS]
    assert b"huggingface" in (schema.metadata or {})
    assert sum(summary["splits"].values()) == N
    assert (out / "plan.yaml").exists() and not (out / ".work").exists()
    assert summary["chain_pairs"] > 0 and summary["skipped_images"] == []


def test_shards_respect_rows_per_shard(built: tuple[Path, dict]) -> None:
    out, summary = built
    for split, n in summary["splits"].items():
        shards = sorted((out / "data").glob(f"{split}-*.parquet"))
        assert len(shards) == -(-n // 5)
        assert all(pq.read_metadata(f).num_rows <= 5 for f in shards)


def test_no_source_in_two_splits(built: tuple[Path, dict]) -> None:
    t = load_red(built[0]).table
    by_source: dict[str, set[str]] = {}
    ids, splits = t.column("source_id").to_pylist(), t.column("split").to_pylist()
    for sid, split in zip(ids, splits, strict=True):
        by_source.setdefault(sid, set()).add(split)
    assert all(len(s) == 1 for s in by_source.values())
    assert len({s for v in by_source.values() for s in v}) >= 2  # 6 photos, 3 splits


def test_reasoning_agrees_with_delta_on_every_pair(built: tuple[Path, dict]) -> None:
    words = {"improve": "raises", "degrade": "lowers", "neutral": "barely changes"}
    for pair in load_red(built[0]):
        expected = words[direction(pair.delta, 0.1)]
        assert f"Overall the edit {expected}" in pair.reasoning, pair.reasoning
        others = set(words.values()) - {expected}
        assert not any(f"Overall the edit {w}" in pair.reasoning for w in others)


def test_informative_column_and_card_provenance(built: tuple[Path, dict]) -> None:
    from redaes.pairs.storage import judge_versions, prior_version

    out, summary = built
    t = load_red(out).table
    flags = t.column("informative").to_pylist()
    deltas, stds = t.column("delta").to_pylist(), t.column("delta_std").to_pylist()
    assert flags == [abs(d) >= s for d, s in zip(deltas, stds, strict=True)]
    assert summary["informative_pairs"] == sum(flags)
    card = (out / "README.md").read_text()
    assert f"Informative pairs (`|delta| >= delta_std`): {sum(flags)} of {N}." in card
    import yaml

    header = yaml.safe_load(card.split("---\n")[1])
    assert header["redaes"]["prior_version"] == prior_version()
    assert header["redaes"]["judge_versions"] == judge_versions(["test:brightness"])
    for judge, version in judge_versions(["test:brightness"]).items():
        assert f"- `{judge}`: {version}" in card


def test_datasets_without_the_informative_column_still_load(
    built: tuple[Path, dict], tmp_path: Path
) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(built[0], old)
    for f in (old / "data").glob("*.parquet"):
        t = pq.read_table(f)
        pq.write_table(t.drop_columns(["informative"]), f)
    pairs = list(load_red(old))
    assert len(pairs) == N
    assert [p.informative for p in pairs] == [abs(p.delta) >= p.delta_std for p in pairs]
    assert [p.informative for p in pairs] == [p.informative for p in load_red(built[0])]


def test_rows_rerender_exactly(built: tuple[Path, dict], photos: Path) -> None:
    """original -> source_edits (seed 0, 8 bit) -> source; source -> edits (seed) -> edited."""
    import numpy as np

    from redaes.edits import EditChain
    from redaes.imageio import load_image, pil_to_tensor, resize_long_side, tensor_to_pil

    pairs = list(load_red(built[0]))
    plain = next(p for p in pairs if p.chain_id is None and not p.source_edits)
    restored = next(p for p in pairs if p.source_edits)  # the default plan has restorations
    for pair in (plain, restored):
        original = photos / pair.source_path
        assert hashlib.sha256(original.read_bytes()).hexdigest() == pair.source_id
        src = resize_long_side(load_image(original), 96)
        if pair.source_edits:
            src = tensor_to_pil(EditChain(pair.source_edits)(pil_to_tensor(src), 0))
        assert src.size == pair.source_image.size
        sdiff = np.abs(np.asarray(src, float) - np.asarray(pair.source_image, float)).mean()
        assert sdiff < 3.0  # only the JPEG q95 rounding
        again = tensor_to_pil(EditChain(pair.edits)(pil_to_tensor(src), pair.seed))
        assert again.size == pair.edited_image.size == (pair.width, pair.height)
        diff = np.abs(np.asarray(again, float) - np.asarray(pair.edited_image, float)).mean()
        assert diff < 3.0  # only the JPEG q95 rounding


def test_chains_are_ordered(built: tuple[Path, dict]) -> None:
    chains: dict[str, list[RedPair]] = {}
    for p in load_red(built[0]):
        if p.chain_id is not None:
            chains.setdefault(p.chain_id, []).append(p)
    assert chains
    for members in chains.values():
        members.sort(key=lambda p: p.chain_rank or 0)
        strengths = [p.edits[0]["strength"] for p in members]
        assert strengths == sorted(strengths)
        assert len({p.edits[0]["op"] for p in members}) == 1


def test_datasets_reads_pil_images(built: tuple[Path, dict]) -> None:
    import datasets  # the 'train' extra; `make test` installs every extra

    out, summary = built
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "train-*.parquet"))
    row = ds["train"][0]
    assert isinstance(row["source_image"], Image.Image)
    assert isinstance(row["edited_image"], Image.Image)
    assert row["edited_image"].size == (row["width"], row["height"])
    assert isinstance(row["edits"], list) and "op" in row["edits"][0]
    whole = datasets.load_dataset(str(out))  # README configs: one split per Parquet pattern
    assert {k: len(v) for k, v in whole.items()} == summary["splits"]


def test_card_split_entries_complete(built: tuple[Path, dict]) -> None:
    """`datasets` ignores a card whose split entries lack name/num_bytes/num_examples."""
    import yaml

    out, summary = built
    header = (out / "README.md").read_text().split("---\n")[1]
    splits = yaml.safe_load(header)["dataset_info"]["splits"]
    assert {s["name"]: s["num_examples"] for s in splits} == summary["splits"]
    for s in splits:
        on_disk = sum(f.stat().st_size for f in (out / "data").glob(f"{s['name']}-*.parquet"))
        assert s["num_bytes"] == on_disk > 0


def test_load_red_split_and_lazy_images(built: tuple[Path, dict]) -> None:
    out, summary = built
    split, n = next(iter(summary["splits"].items()))
    ds = load_red(out, split=split)
    assert len(ds) == n and ds.splits() == {split: n}
    pair = ds[0]
    assert isinstance(pair.source_image, Image.Image) and pair.source_image.mode == "RGB"
    with pytest.raises(DataError, match="no shards for split"):
        load_red(out, split="holdout")


def test_load_red_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=str(tmp_path / "nope")):
        load_red(tmp_path / "nope")
    (tmp_path / "bad" / "data").mkdir(parents=True)
    (tmp_path / "bad" / "data" / "train-00000-of-00001.parquet").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"train-00000-of-00001\.parquet"):
        load_red(tmp_path / "bad")


def test_two_builds_byte_identical_across_workers(
    built: tuple[Path, dict], photos: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    build(photos, again, N, fast_plan(), seed=7, workers=2, plugins=[PLUGIN])
    assert _digest(again) == _digest(built[0])
    other = tmp_path / "other"
    build(photos, other, N, fast_plan(), seed=8)
    assert _digest(other) != _digest(built[0])


def test_a_changed_teacher_is_never_resumed(
    built: tuple[Path, dict], photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = built
    before = _digest(out)
    build_mod = importlib.import_module("redaes.pairs.build")  # the package exports build()
    monkeypatch.setattr(
        build_mod, "judge_versions", lambda judges: dict.fromkeys(judges, "rules 9.9")
    )
    with pytest.raises(ConfigError, match="--overwrite"):
        build(photos, out, N, fast_plan(), seed=7)  # same plan, new judge: not "resumed"
    assert _digest(out) == before


def test_rebuild_is_noop_and_other_settings_refused(built: tuple[Path, dict], photos: Path) -> None:
    out, summary = built
    before = _digest(out)
    again = build(photos, out, N, fast_plan(), seed=7)
    assert again.pop("resumed_pairs") == N and summary["resumed_pairs"] == 0
    assert again == {k: v for k, v in summary.items() if k != "resumed_pairs"}
    assert _digest(out) == before
    with pytest.raises(ConfigError, match="--overwrite"):
        build(photos, out, N + 1, fast_plan(), seed=7)


def test_sign_filter_keeps_exact_n(photos: Path, tmp_path: Path) -> None:
    plan = fast_plan(judges=["test:brightness", "test:contrary"], chain_length=0)
    summary = build(photos, tmp_path / "f", 10, plan, seed=1)
    ds = load_red(tmp_path / "f")
    assert len(ds) == 10 and summary["dropped_disagree"] > 0
    assert summary["judge_agreement"] < 1.0
    for p in ds:
        signs = {j["delta"] > 0 for j in p.judges if abs(j["delta"]) >= 0.25}
        assert len(signs) <= 1
        assert len(p.judges) == 2


def test_vlm_rationale_used(photos: Path, tmp_path: Path) -> None:
    build(photos, tmp_path / "v", 3, fast_plan(judges=["vlm:test"], chain_length=0))
    for p in load_red(tmp_path / "v"):
        assert "The VLM looked closely at the light." in p.reasoning


def test_bad_images_skipped_and_counted(tmp_path: Path) -> None:
    folder = make_photos(tmp_path / "imgs", n=3)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_bytes(b"not an image at all")
    good = (folder / "p0.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 3])
    summary = build(folder, tmp_path / "out", 8, fast_plan(chain_length=0), seed=0)
    assert summary["pairs"] == 8
    assert {"empty.jpg", "text.png"} <= set(summary["skipped_images"])
    paths = set(load_red(tmp_path / "out").table.column("source_path").to_pylist())
    assert paths <= {"p0.jpg", "p1.jpg", "p2.jpg"}
    state = json.loads((tmp_path / "out" / "build_state.json").read_text())
    assert state["complete"] and state["summary"]["pairs"] == 8


def test_truncated_source_skipped_at_scan(tmp_path: Path) -> None:
    """A truncated JPEG is found when scanning (issue 7 item 13), not after rendering."""
    folder = make_photos(tmp_path / "imgs", n=2)
    data = (folder / "p1.jpg").read_bytes()
    (folder / "p1.jpg").write_bytes(data[: len(data) // 2])
    summary = build(folder, tmp_path / "out", 4, fast_plan(chain_length=0), seed=0)
    assert summary["pairs"] == 4 and summary["sources"] == 1
    assert summary["render_failures"] == 0 and summary["skipped_images"] == ["p1.jpg"]


def test_no_usable_images(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "x.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="no usable images"):
        build(tmp_path / "imgs", tmp_path / "out", 3, fast_plan())
    with pytest.raises(DataError, match="not found"):
        build(tmp_path / "missing", tmp_path / "out", 3, fast_plan())


def test_raising_judge_is_recorded_not_fatal(photos: Path, tmp_path: Path) -> None:
    plan = fast_plan(judges=["test:brightness", "test:broken"], chain_length=0)
    build(photos, tmp_path / "b", 4, plan)
    for p in load_red(tmp_path / "b"):
        broken = next(j for j in p.judges if j["judge"] == "test:broken")
        assert broken["ok"] is False and "endpoint unreachable" in broken["error"]
    strict = fast_plan(judges=["test:brightness", "test:broken"], chain_length=0, min_judges=2)
    with pytest.raises(DataError, match="only 0 of 2 pairs survived"):
        build(photos, tmp_path / "s", 2, strict)


def test_max_side_respected_in_one_process(photos: Path, tmp_path: Path) -> None:
    for side in (48, 96):
        build(photos, tmp_path / str(side), 3, fast_plan(max_side=side, chain_length=0), seed=2)
        for p in load_red(tmp_path / str(side)):
            with Image.open(photos / p.source_path) as original:
                assert max(p.source_image.size) == min(side, max(original.size))
            assert max(p.width, p.height) <= side


def test_prior_judge_dataset_reasoning(photos: Path, tmp_path: Path) -> None:
    """The default judge end to end: measured evidence from its statistics, sign-consistent."""
    plan = fast_plan(judges=["prior"], ops={})  # every registered op
    summary = build(photos, tmp_path / "p", 10, plan, seed=3)
    assert summary["judges"] == ["prior"] and summary["pairs"] == 10
    words = {"improve": "raises", "degrade": "lowers", "neutral": "barely changes"}
    for p in load_red(tmp_path / "p"):
        assert p.judges[0]["ok"] and p.delta == pytest.approx(p.judges[0]["delta"])
        assert f"Overall the edit {words[direction(p.delta, 0.1)]}" in p.reasoning
        assert p.delta_std > 0  # a lone judge reports its confidence floor
